"""What the README shows a user must be true of the commands and the config."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import yaml

from bidopt.cli import cli
from bidopt.config import check_strategies, parse_config
from bidopt.plugins import build_registry, get_plugin_manager

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def _options(command: click.Command) -> set[str]:
    return {name for param in command.params for name in getattr(param, "opts", [])}


def test_every_option_the_readme_shows_exists():
    shown = 0
    for block in _blocks("bash"):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if not line.startswith("bidopt "):
                continue
            words = [w.strip("[]") for w in shlex.split(line)[1:]]
            command: click.Command = cli
            while isinstance(command, click.Group) and words and words[0] in command.commands:
                command = command.commands[words.pop(0)]
            assert not isinstance(command, click.Group), line
            for word in words:
                if word.startswith("-"):
                    assert word in _options(command), f"{word} is no option of: {line}"
                    shown += 1
    assert shown > 10


def test_the_readme_config_is_valid():
    registry = build_registry(get_plugin_manager(entry_points=False))
    blocks = _blocks("yaml")
    assert blocks, "the README shows a config"
    for block in blocks:
        config = parse_config(yaml.safe_load(block))
        check_strategies(config, registry.strategies)


def test_quiet_says_that_the_notes_are_printed():
    """`run --quiet` prints the run's notes (stale or short reports, settings in force): its
    help said errors, warnings and the path only."""
    quiet = next(p for p in cli.commands["run"].params if "--quiet" in p.opts)
    assert "notes" in quiet.help


def test_run_help_does_not_promise_nothing_written_on_an_interrupt():
    """An interrupt once the new plan is in place (while the summary prints) exits 130 with
    "interrupted after writing ..." (README, exit codes): run's epilog said "nothing
    written" unconditionally. Commands that write no plan keep the plain line."""
    def line_130(command: str) -> str:
        text = cli.commands[command].epilog
        return next(line for line in text.splitlines() if line.split()[:1] == ["130"])

    assert line_130("run").endswith("nothing written unless the message says so")
    assert line_130("validate").endswith("nothing written")
    assert line_130("factors").endswith("nothing written")


def test_applied_help_lists_no_plugin_exit_code(tmp_path, monkeypatch):
    """`bidopt applied` loads no plugin, so it never exits 5: its epilog listed 5."""
    from click.testing import CliRunner

    import bidopt.plugins

    def broken(*args, **kwargs):
        raise AssertionError("applied loaded the plugins")

    monkeypatch.setattr(bidopt.plugins, "get_plugin_manager", broken)
    config = tmp_path / "shop.yaml"
    config.write_text("constraints: {roi_floor: 2.0}\n", encoding="utf-8")
    plan = tmp_path / "plan.csv"
    plan.write_text("date,campaign,item,keyword,crowd,region,platform,hour,action,current,"
                    "proposed,change_pct,strategy,reason\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["applied", "--config", str(config), str(plan)])
    assert result.exit_code == 0, result.output
    codes = [line.split()[0] for line in cli.commands["applied"].epilog.splitlines()
             if line.strip() and line.split()[0].isdigit()]
    assert "5" not in codes and "7" in codes


def test_the_readme_s_factors_step_names_the_phases_of_ordinary_days():
    """configs/double11.yaml's first phase (exposure, September to 10-20) holds the ordinary
    days before the season: the README's factors step without --ordinary measured every
    phase against the days after the season only."""
    text = README.read_text(encoding="utf-8")
    start = text.index("measured in last year's")
    assert "--ordinary exposure" in text[start:start + 600]
    assert "--ordinary" in _options(cli.commands["factors"])
