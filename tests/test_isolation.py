"""Fault isolation: a misbehaving plugin never crashes the run or corrupts the output.

Every fault is a real plugin: a class with ``@hookimpl`` methods registered on the plugin
manager (through ``bidopt.testing``), or a module installed as a real entry point (a
``.dist-info`` with ``entry_points.txt`` on ``sys.path``, which ``importlib.metadata``
finds like any installed package).
"""

from __future__ import annotations

import math
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from bidopt import PluginError, Strategy, hookimpl
from bidopt.cli import cli
from bidopt.errors import ExitCode, OutputError
from bidopt.testing import make_config, run_night
from conftest import NIGHT

LAST_GOOD = "last good recommendations\n"


def strategy_plugin(name: str, propose) -> type:
    """A plugin class registering one strategy ``name`` (a new class per call)."""

    class Plugin:
        @hookimpl
        def bidopt_register_strategies(self, register):
            register(Strategy(name=name, propose=propose))

    Plugin.__name__ = f"{name}_plugin"
    return Plugin


def one_bid(ctx, **changes) -> pd.DataFrame:
    """A well-formed set_bid proposal for the first keyword, then ``changes`` applied."""
    row = ctx.keywords.iloc[0]
    frame = pd.DataFrame([{
        "campaign": row["campaign"], "item": row["item"], "keyword": row["keyword"],
        "platform": row["platform"], "action": "set_bid", "current": row["bid"],
        "proposed": row["bid"] * 1.1, "reason": "test",
    }])
    for column, value in changes.items():
        if value is None:
            frame = frame.drop(columns=column)
        else:
            frame[column] = pd.Series([value], dtype=object)
    return frame


def run_with(shop_files, plugin, name: str, **config_sections):
    """Run the night with roi_rule and the plugin's strategy enabled."""
    config = make_config(shop_files, strategies={"roi_rule": {}, name: {}}, **config_sections)
    return run_night(config, plugins=[plugin])


def assert_dropped(result, name: str, *needles: str) -> None:
    """The run went on: one failure naming strategy and plugin, no proposals from it."""
    assert result.partial
    assert len(result.plugin_failures) == 1, result.plugin_failures
    message = result.plugin_failures[0]
    assert f"strategy '{name}' (plugin '{name}_plugin') failed" in message
    for needle in needles:
        assert needle in message, (needle, message)
    proposals = result.decision.proposals
    assert name not in set(proposals["strategy"])
    assert "roi_rule" in set(proposals["strategy"]), "the other strategies still ran"
    assert len(result.recommendations) > 0


def test_a_strategy_that_raises_is_dropped_and_named(shop_files):
    def propose(ctx, params):
        raise ZeroDivisionError("model blew up")

    result = run_with(shop_files, strategy_plugin("crashy", propose), "crashy")
    assert_dropped(result, "crashy", "ZeroDivisionError", "model blew up")
    # where it raised, for the plugin's author
    line = propose.__code__.co_firstlineno + 1
    assert f"(at test_isolation.py:{line} in propose)" in result.plugin_failures[0]


def test_a_strategy_calling_sys_exit_does_not_end_the_run(shop_files):
    def propose(ctx, params):
        sys.exit(3)

    result = run_with(shop_files, strategy_plugin("quitter", propose), "quitter")
    assert_dropped(result, "quitter", "SystemExit")


def test_a_strategy_that_hangs_past_the_limit_is_abandoned(shop_files):
    release = threading.Event()

    def propose(ctx, params):
        release.wait(30)
        return one_bid(ctx)

    try:
        started = time.monotonic()
        result = run_with(shop_files, strategy_plugin("sleepy", propose), "sleepy",
                          plugins={"timeout_seconds": 0.3})
        elapsed = time.monotonic() - started
    finally:
        release.set()  # let the abandoned thread finish
    assert_dropped(result, "sleepy", "still running after 0.3 s", "timeout_seconds")
    assert elapsed < 15, "the run must not wait for the hung strategy"


def test_a_slow_strategy_within_the_limit_is_kept(shop_files):
    def propose(ctx, params):
        time.sleep(0.05)
        return one_bid(ctx)

    result = run_with(shop_files, strategy_plugin("steady", propose), "steady",
                      plugins={"timeout_seconds": 20})
    assert not result.plugin_failures
    assert "steady" in set(result.decision.proposals["strategy"])


MALFORMED = {
    "wrong_keys": (lambda ctx: one_bid(ctx).rename(columns={"proposed": "bid"}),
                   "lack the columns proposed"),
    "missing_action_key": (lambda ctx: one_bid(ctx, keyword=None), "'set_bid' proposals lack"),
    "nan_bid": (lambda ctx: one_bid(ctx, proposed=math.nan), "not a finite number"),
    "infinite_bid": (lambda ctx: one_bid(ctx, proposed=math.inf), "not a finite number"),
    "unknown_action": (lambda ctx: one_bid(ctx, action="set_bids"), "unknown actions ['set_bids']"),
    "bid_above_max": (lambda ctx: one_bid(ctx, proposed=1000.0), "bid out of bounds"),
    "bid_below_min": (lambda ctx: one_bid(ctx, proposed=0.01), "bid out of bounds"),
    "bid_as_text": (lambda ctx: one_bid(ctx, proposed="1.20"), "'proposed' is not numeric"),
    "campaign_not_text": (lambda ctx: one_bid(ctx, campaign=42), "'campaign' must be non-empty"),
    "bad_platform": (lambda ctx: one_bid(ctx, platform="tablet"), "'platform' must be one of"),
    "not_a_frame": (lambda ctx: one_bid(ctx).to_dict("records"), "returned list, not a DataFrame"),
    "nothing": (lambda ctx: None, "returned NoneType"),
    "hour_out_of_range": (
        lambda ctx: pd.DataFrame([{"campaign": ctx.keywords["campaign"].iloc[0], "hour": 24,
                                   "action": "set_hour_discount", "proposed": 120.0,
                                   "reason": "x"}]),
        "'hour' must be a whole number 0-23"),
    "discount_out_of_range": (
        lambda ctx: pd.DataFrame([{"campaign": ctx.keywords["campaign"].iloc[0], "hour": 3,
                                   "action": "set_hour_discount", "proposed": 400.0,
                                   "reason": "x"}]),
        "hour discount out of range"),
    "negative_forecast": (
        lambda ctx: pd.DataFrame([{"campaign": ctx.keywords["campaign"].iloc[0], "hour": 3,
                                   "action": "set_hour_discount", "proposed": 120.0,
                                   "reason": "x", "base_cost": 10.0, "exp_cost": -5.0}]),
        "'exp_cost' is negative"),
}


@pytest.fixture(scope="module")
def malformed_night(shop_files):
    """One night with every malformed strategy enabled, each from its own plugin."""
    plugins = [strategy_plugin(f"bad_{case}", lambda ctx, params, make=make: make(ctx))
               for case, (make, _) in MALFORMED.items()]
    strategies = {"roi_rule": {}, **{f"bad_{case}": {} for case in MALFORMED}}
    return run_night(make_config(shop_files, strategies=strategies), plugins=plugins)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_proposals_are_dropped_with_the_reason(malformed_night, case):
    name, reason = f"bad_{case}", MALFORMED[case][1]
    assert len(malformed_night.plugin_failures) == len(MALFORMED)
    message = next(m for m in malformed_night.plugin_failures if f"strategy '{name}'" in m)
    assert f"strategy '{name}' (plugin '{name}_plugin') failed" in message
    assert reason in message, (reason, message)
    assert name not in set(malformed_night.decision.proposals["strategy"])


def test_well_formed_proposals_survive_next_to_malformed_ones(malformed_night):
    assert set(malformed_night.decision.proposals["strategy"]) == {"roi_rule"}
    assert len(malformed_night.recommendations) > 0


def test_an_empty_frame_proposes_nothing_and_is_not_a_failure(shop_files):
    result = run_with(shop_files, strategy_plugin("idle", lambda ctx, p: pd.DataFrame()), "idle")
    assert not result.partial


def test_strict_turns_a_failure_into_an_error(shop_files):
    def propose(ctx, params):
        raise ValueError("nope")

    config = make_config(shop_files, strategies={"roi_rule": {}, "picky": {}})
    with pytest.raises(PluginError, match="strategy 'picky' .plugin 'picky_plugin'. failed.*nope"):
        run_night(config, plugins=[strategy_plugin("picky", propose)], strict=True)


# -- writers ---------------------------------------------------------------------------


class HalfWriter:
    """Writes half a file, then fails: the last good file must survive untouched."""

    @hookimpl
    def bidopt_output_formats(self):
        return ["half"]

    @hookimpl
    def bidopt_write_output(self, recommendations, path, format, options):
        if format != "half":
            return None
        Path(path).write_text("campaign,bid\npartial row", encoding="utf-8")
        raise RuntimeError("disk on fire")


def test_a_writer_that_raises_leaves_no_half_file(shop_files, tmp_path):
    out = tmp_path / "recs.half"
    out.write_text(LAST_GOOD, encoding="utf-8")
    config = make_config(shop_files, output={"format": "half"})
    with pytest.raises(OutputError,
                       match="writer for 'half' .*HalfWriter.*RuntimeError: disk on fire"):
        run_night(config, plugins=[HalfWriter], out=out)
    assert out.read_text(encoding="utf-8") == LAST_GOOD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recs.half"], "no temporary file left"

    fresh = tmp_path / "new.half"
    with pytest.raises(OutputError):
        run_night(config, plugins=[HalfWriter], out=fresh)
    assert not fresh.exists()


class SilentWriter:
    """Says it wrote its format, or declines it, and writes nothing."""

    @hookimpl
    def bidopt_output_formats(self):
        return ["silent", "shy"]

    @hookimpl
    def bidopt_write_output(self, recommendations, path, format, options):
        return True if format == "silent" else None


@pytest.mark.parametrize(("fmt", "says"), [
    ("silent", "the writer for 'silent' (plugin 'SilentWriter') wrote nothing; the last plan "
               "is kept"),
    ("shy", "no plugin wrote the output format 'shy': the writer for 'shy' (plugin "
            "'SilentWriter') declined it"),
])
def test_a_writer_that_writes_nothing_keeps_the_last_plan(shop_files, tmp_path, fmt, says):
    """An empty file is never a plan: it replaced the last good one, with exit 0."""
    out = tmp_path / f"recs.{fmt}"
    out.write_text(LAST_GOOD, encoding="utf-8")
    config = make_config(shop_files, output={"format": fmt})
    with pytest.raises(OutputError) as caught:
        run_night(config, plugins=[SilentWriter], out=out)
    assert says in str(caught.value)
    assert out.read_text(encoding="utf-8") == LAST_GOOD
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name], "no temporary file left"


# -- entry points ----------------------------------------------------------------------


CRASHING_PLUGIN = """
    import bidopt

    BIDOPT_HOOK_VERSION = bidopt.HOOK_VERSION

    def propose(context, params):
        raise KeyError("hour_report")

    @bidopt.hookimpl
    def bidopt_register_strategies(register):
        register(bidopt.Strategy(name="acme_crash", propose=propose))
"""


def cli_run(config_path: Path, out: Path, *extra: str):
    return CliRunner().invoke(cli, ["run", "--config", str(config_path), "--date", NIGHT,
                                    "--out", str(out), "--quiet", *extra])


def crash_config(shop_files, folder: Path) -> Path:
    config = make_config(shop_files, strategies={"roi_rule": {}, "acme_crash": {}})
    path = folder / "shop.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    return path


def test_cli_run_is_partial_when_an_installed_plugin_fails(shop_files, tmp_path, install):
    install("acme-crash", "acme_crash_plugin", CRASHING_PLUGIN)
    out = tmp_path / "recs.csv"
    result = cli_run(crash_config(shop_files, tmp_path), out)
    assert result.exit_code == ExitCode.PARTIAL, result.output
    assert "strategy 'acme_crash' (plugin 'acme-crash') failed" in result.output
    assert "KeyError" in result.output and "partial" in result.output
    recs = pd.read_csv(out, encoding="utf-8-sig")
    assert len(recs) > 0 and "acme_crash" not in set(recs["strategy"])


def test_cli_verbose_prints_a_failing_strategy_s_traceback(shop_files, tmp_path, install):
    """The one-line warning names the line; a plugin author debugging it wants the whole
    traceback, which --verbose prints (a cron log without it stays one line)."""
    install("acme-crash", "acme_crash_plugin", CRASHING_PLUGIN)
    config = crash_config(shop_files, tmp_path)
    quiet = cli_run(config, tmp_path / "a.csv")
    assert "Traceback" not in quiet.output
    loud = CliRunner().invoke(cli, ["run", "--config", str(config), "--date", NIGHT,
                                    "--out", str(tmp_path / "b.csv"), "--verbose"])
    assert loud.exit_code == ExitCode.PARTIAL, loud.output
    assert "Traceback (most recent call last)" in loud.output
    assert 'raise KeyError("hour_report")' in loud.output


def test_cli_strict_fails_and_writes_nothing(shop_files, tmp_path, install):
    install("acme-crash", "acme_crash_plugin", CRASHING_PLUGIN)
    out = tmp_path / "recs.csv"
    out.write_text(LAST_GOOD, encoding="utf-8")
    result = cli_run(crash_config(shop_files, tmp_path), out, "--strict")
    assert result.exit_code == ExitCode.PLUGIN_FAILURE, result.output
    assert "plugin error: strategy 'acme_crash' (plugin 'acme-crash') failed" in result.output
    assert out.read_text(encoding="utf-8") == LAST_GOOD


def test_an_installed_plugin_is_listed_with_its_version(install):
    install("acme-ok", "acme_ok_plugin", CRASHING_PLUGIN)
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    assert "acme-ok 1.2.3 (third-party)" in result.output
    assert "strategy acme_crash" in result.output


def test_a_plugin_for_another_hook_version_is_refused_at_load(install):
    install("acme-old", "acme_old_plugin", """
        import bidopt

        BIDOPT_HOOK_VERSION = 99

        @bidopt.hookimpl
        def bidopt_output_formats():
            return ["old"]
    """)
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == ExitCode.PLUGIN_FAILURE, result.output
    assert "plugin 'acme-old' was built for bidopt hook version 99" in result.output
    assert "upgrade bidopt" in result.output  # the plugin is the newer one


def test_a_plugin_that_fails_to_import_is_named(install):
    install("acme-broken", "acme_broken_plugin", "import a_module_that_is_not_there\n")
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == ExitCode.PLUGIN_FAILURE, result.output
    assert "plugin 'acme-broken' failed to load" in result.output
    assert "a_module_that_is_not_there" in result.output
