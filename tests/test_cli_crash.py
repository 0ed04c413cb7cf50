"""A bug (an exception that is neither bidopt's own error, nor click's, nor an interrupt)
ends a nightly run in one line naming a crash report, exit 70, and no output file touched.

The CLI runs in its own process, as cron runs it, with a bug put into bidopt's decision step
there (``BUG``); a plugin's failure (a plugin installed as pip would: a module and its
``.dist-info`` with a ``bidopt`` entry point, on ``PYTHONPATH``) is not a bug of bidopt and
stays a plugin failure naming the plugin."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from bidopt.cli import cli, main
from bidopt.errors import ExitCode
from conftest import NIGHT, write_config

LAST_GOOD = "date,campaign\n2026-11-24,last good plan\n"

BUG = """
import sys
import bidopt.loop
from bidopt.cli import main

def decide(context, proposals):  # the run is well under way: inputs read, the model fitted
    raise RuntimeError("planned a bid below zero\\nsecond line of the message")

bidopt.loop.decide = decide
sys.argv[0] = "bidopt"
main()
"""

BROKEN_READER = """
    import bidopt

    @bidopt.hookimpl(tryfirst=True)
    def bidopt_read_source(path, kind):
        if kind == "candidates":  # after the reports: the run is well under way
            return {}["no such column"]
"""

BROKEN_FORMATS = """
    import bidopt

    @bidopt.hookimpl
    def bidopt_output_formats():
        raise AttributeError("'NoneType' object has no attribute 'formats'")
"""

FAILING_STRATEGY = """
    import bidopt

    def propose(context, params):
        raise KeyError("hour_report")

    @bidopt.hookimpl
    def bidopt_register_strategies(register):
        register(bidopt.Strategy(name="acme_crash", propose=propose))
"""

ONE_LINE = re.compile(r"bidopt: internal error: RuntimeError: planned a bid below zero "
                      r"\(details: (?P<report>\S+)\); this is a bug, please report it with "
                      r"that file")


def _install(folder: Path, module: str, source: str) -> Path:
    """A one-module plugin distribution in ``folder/site``, found through its entry point."""
    site = folder / "site"
    info = site / f"{module}-0.1.dist-info"
    info.mkdir(parents=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[bidopt]\n{module} = {module}\n", encoding="utf-8")
    return site


def _bidopt(site: Path | None, *args: str, bug: bool = False,
            **env: str) -> subprocess.CompletedProcess:
    """``python -m bidopt.cli ARGS`` with the plugin in ``site`` installed, or with ``BUG``."""
    path = os.pathsep.join(p for p in (str(site or ""), os.environ.get("PYTHONPATH")) if p)
    environ = {k: v for k, v in os.environ.items() if k not in ("BIDOPT_DEBUG",
                                                                 "BIDOPT_DISABLE_PLUGINS")}
    command = ["-c", BUG] if bug else ["-m", "bidopt.cli"]
    return subprocess.run([sys.executable, *command, *args], capture_output=True,
                          text=True, timeout=300, env={**environ, "PYTHONPATH": path, **env})


@pytest.fixture
def crashing(shop_files, tmp_path):
    """A config, an empty folder for the plan and one for crash reports: ``crashing(*extra_args,
    **env)`` runs ``bidopt run`` on them with ``BUG`` in its decision step."""
    config = write_config(tmp_path, shop_files)
    plans, reports = tmp_path / "plans", tmp_path / "crashes"
    plans.mkdir()
    reports.mkdir()

    def run(*extra: str, **env: str) -> subprocess.CompletedProcess:
        env.setdefault("BIDOPT_CRASH_DIR", str(reports))
        return _bidopt(None, "run", "--config", str(config), "--date", NIGHT,
                       "--out", str(plans / "recs.csv"), *extra, bug=True, **env)

    run.plans, run.reports = plans, reports
    return run


def test_a_bug_ends_in_one_line_exit_70_and_a_crash_report(crashing):
    done = crashing("--quiet")
    assert done.returncode == ExitCode.INTERNAL_ERROR == 70, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and ONE_LINE.fullmatch(lines[0]), done.stderr
    report = Path(ONE_LINE.fullmatch(lines[0])["report"])
    assert report.parent == crashing.reports
    assert re.fullmatch(r"bidopt-crash-\d{8}-\d{6}-\d+\.txt", report.name)
    assert report.stat().st_mode & 0o077 == 0  # it names the shop's files: this user's only
    text = report.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: planned a bid below zero" in text
    assert text.rstrip().endswith("second line of the message")
    assert f"--out {crashing.plans / 'recs.csv'} --quiet" in text  # the command line
    for name in ("bidopt 0.1", "python: 3.", "platform: ", "pandas: ", "numpy: ", "pluggy: ",
                 "click: ", "pydantic: ", "third-party plugins: "):
        assert name in text
    # no plan, no temporary file, no lock: the run stopped before writing and cleaned up
    assert list(crashing.plans.iterdir()) == []


@pytest.mark.parametrize("flag, env", [("--verbose", {}), ("-v", {}),
                                       ("--quiet", {"BIDOPT_DEBUG": "1"})])
def test_verbose_prints_the_traceback_too_and_the_last_plan_stays(crashing, flag, env):
    (crashing.plans / "recs.csv").write_text(LAST_GOOD, encoding="utf-8")
    done = crashing(flag, **env)
    assert done.returncode == 70, done.stderr
    assert "Traceback (most recent call last)" in done.stderr
    assert "RuntimeError: planned a bid below zero" in done.stderr
    assert ONE_LINE.fullmatch(done.stderr.splitlines()[-1]), done.stderr
    assert [p.name for p in crashing.plans.iterdir()] == ["recs.csv"]
    assert (crashing.plans / "recs.csv").read_text(encoding="utf-8") == LAST_GOOD


def test_a_crash_report_that_cannot_be_written_leaves_the_traceback_on_stderr(crashing):
    not_a_folder = crashing.reports / "a-file"
    not_a_folder.write_text("", encoding="utf-8")
    done = crashing("--quiet", BIDOPT_CRASH_DIR=str(not_a_folder))
    assert done.returncode == 70, done.stderr
    assert "Traceback (most recent call last)" in done.stderr
    assert "RuntimeError: planned a bid below zero" in done.stderr
    last = done.stderr.splitlines()[-1]
    assert last.startswith("bidopt: internal error: RuntimeError: planned a bid below zero "
                           "(no crash report: ")
    assert str(not_a_folder) in last and last.endswith("please report it with the traceback "
                                                       "above")
    assert list(crashing.reports.iterdir()) == [not_a_folder]
    assert list(crashing.plans.iterdir()) == []


@pytest.mark.parametrize("flag, code", [("--quiet", ExitCode.PARTIAL),
                                        ("--strict", ExitCode.PLUGIN_FAILURE)])
def test_a_strategy_that_raises_is_still_a_plugin_failure_not_a_crash(shop_files, tmp_path,
                                                                      flag, code):
    """A plugin's strategy is run in isolation: its exception drops its proposals (exit 6) or
    fails a --strict run (exit 5); it is not a bug of bidopt and writes no crash report."""
    config = write_config(tmp_path, shop_files, strategies={"roi_rule": {}, "acme_crash": {}})
    site = _install(tmp_path, "acme_failing_strategy", FAILING_STRATEGY)
    reports = tmp_path / "crashes"
    reports.mkdir()
    done = _bidopt(site, "run", "--config", str(config), "--date", NIGHT, "--out",
                   str(tmp_path / "recs.csv"), flag, BIDOPT_CRASH_DIR=str(reports))
    assert done.returncode == code, done.stderr
    assert "strategy 'acme_crash' (plugin 'acme_failing_strategy') failed" in done.stderr
    assert "internal error" not in done.stderr and list(reports.iterdir()) == []


@pytest.fixture
def in_process(monkeypatch, tmp_path):
    """``bidopt.cli.main`` called here: the SIGTERM handler and warning format it installs
    are put back afterwards."""
    handler = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(warnings, "formatwarning", warnings.formatwarning)
    monkeypatch.setenv("BIDOPT_CRASH_DIR", str(tmp_path))
    monkeypatch.delenv("BIDOPT_DEBUG", raising=False)

    def call(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["bidopt", *args])
        with pytest.raises(SystemExit) as stopped:
            main()
        return stopped.value.code

    yield call
    signal.signal(signal.SIGTERM, handler)


def test_a_bug_once_the_plan_is_written_says_the_plan_is_in_place(
        shop_files, tmp_path, monkeypatch, capsys, in_process):
    """The new plan was renamed into place before the summary failed: the line must not let
    the user think the night's plan was not made (the last one has been replaced)."""
    import bidopt.summary

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(bidopt.summary, "format_summary", broken)
    config = write_config(tmp_path, shop_files)
    out = tmp_path / "recs.csv"
    out.write_text(LAST_GOOD, encoding="utf-8")
    assert in_process("run", "--config", str(config), "--date", NIGHT, "--out", str(out)) == 70
    line = capsys.readouterr().err.strip()
    assert line.startswith(f"bidopt: internal error after writing {out}: ZeroDivisionError: "
                           f"division by zero (details: {tmp_path}{os.sep}bidopt-crash-")
    assert len(pd.read_csv(out, encoding="utf-8-sig")) > 0  # the new plan, whole
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_exit_codes_listed_in_help_include_70():
    for command in (["run"], ["validate"], ["applied"], ["factors"]):
        text = CliRunner().invoke(cli, [*command, "--help"]).output
        codes = [line.split()[0] for line in text.split("Exit codes:")[1].splitlines()
                 if line.strip()]
        assert codes[-2:] == ["70", "130"] and codes == sorted(codes, key=int), (command, codes)


@pytest.mark.parametrize("module, source, message", [
    ("acme_broken_reader", BROKEN_READER,
     "the reader of plugin 'acme_broken_reader' failed on {candidates}: KeyError: "
     "'no such column'"),
    ("acme_broken_formats", BROKEN_FORMATS,
     "plugin 'acme_broken_formats' failed to declare its output formats: AttributeError: "),
])
def test_a_plugin_hook_that_raises_is_a_plugin_failure_naming_it(shop_files, tmp_path, module,
                                                                 source, message):
    """Not a crash report asking the user to report a bug of bidopt: exit 5 and the plugin's
    name, so that the user knows whose package to update or switch off."""
    config = write_config(tmp_path, shop_files)
    site = _install(tmp_path, module, source)
    reports = tmp_path / "crashes"
    reports.mkdir()
    out = tmp_path / "recs.csv"
    out.write_text(LAST_GOOD, encoding="utf-8")
    done = _bidopt(site, "run", "--config", str(config), "--date", NIGHT, "--out", str(out),
                   BIDOPT_CRASH_DIR=str(reports))
    assert done.returncode == ExitCode.PLUGIN_FAILURE, done.stderr
    assert message.format(candidates=shop_files["candidates"]) in done.stderr
    assert "internal error" not in done.stderr and list(reports.iterdir()) == []
    assert out.read_text(encoding="utf-8") == LAST_GOOD


def _crash_in_plugins(monkeypatch):
    """``bidopt plugins`` hits a bug: the quickest way to a crash report in process."""
    import bidopt.plugins

    def broken(registry):
        raise RuntimeError("planned a bid below zero")

    monkeypatch.setattr(bidopt.plugins, "list_plugins", broken)


def test_only_the_newest_crash_reports_are_kept_and_nothing_else_is_removed(
        tmp_path, monkeypatch, capsys, in_process):
    """A nightly job that crashes every night: writing a report removes bidopt's older
    ones beyond CRASH_REPORTS_KEPT, and nothing else in the folder, whatever its name."""
    from bidopt.cli import CRASH_REPORTS_KEPT

    _crash_in_plugins(monkeypatch)
    day = 24 * 3600
    now = time.time()

    def aged(path: Path, days: float, **kwargs) -> Path:
        os.utime(path, (now - days * day, now - days * day), **kwargs)
        return path

    old = []  # oldest first: a report a night
    for n in range(CRASH_REPORTS_KEPT + 5):
        path = tmp_path / f"bidopt-crash-202610{n + 1:02d}-010203-{4000 + n}.txt"
        path.write_text("an old report", encoding="utf-8")
        old.append(aged(path, 30 - n))
    others = [tmp_path / name for name in (
        "bidopt-crash-20261101-010203-1.txt.bak", "bidopt-crash-20261101-010203-1.log",
        "old-bidopt-crash-20261101-010203-1.txt", "bidopt-crash-2026111-010203-1.txt",
        "bidopt-crash-20261101-010203-.txt", "bidopt-crash-notes.txt", "bidopt-state.sqlite")]
    for path in others:
        path.write_text("not a crash report", encoding="utf-8")
        aged(path, 400)
    folder = tmp_path / "bidopt-crash-20250101-000000-1.txt"
    folder.mkdir()
    aged(folder, 400)
    target = tmp_path / "elsewhere.txt"
    target.write_text("a symlink's target", encoding="utf-8")
    link = tmp_path / "bidopt-crash-20250101-000000-2.txt"
    link.symlink_to(target)
    aged(link, 400, follow_symlinks=False)

    assert in_process("plugins") == 70
    line = capsys.readouterr().err.strip()
    new = Path(re.search(r"\(details: (\S+)\)", line)[1])
    assert new.is_file() and new not in old
    reports = sorted(p for p in tmp_path.iterdir()
                     if re.fullmatch(r"bidopt-crash-\d{8}-\d{6}-\d+\.txt", p.name)
                     and p.is_file() and not p.is_symlink())
    assert len(reports) == CRASH_REPORTS_KEPT
    assert set(reports) == {new, *old[-(CRASH_REPORTS_KEPT - 1):]}, "the newest are kept"
    for path in [*others, folder, link, target]:
        assert os.path.lexists(path), path.name


def test_old_crash_reports_that_cannot_be_removed_do_not_hide_the_crash(
        tmp_path, monkeypatch, capsys, in_process):
    from bidopt.cli import CRASH_REPORTS_KEPT

    _crash_in_plugins(monkeypatch)
    for n in range(CRASH_REPORTS_KEPT + 2):
        (tmp_path / f"bidopt-crash-20261101-010203-{n + 1}.txt").write_text("old", "utf-8")
    removing = []

    def refused(path, *args, **kwargs):
        removing.append(path)
        raise PermissionError(13, "Permission denied", path)

    with monkeypatch.context() as patch:
        patch.setattr(os, "unlink", refused)
        assert in_process("plugins") == 70
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and line.startswith("bidopt: internal error: RuntimeError: "
                                                "planned a bid below zero (details: ")
    assert len(removing) == 3, "it tried"
    assert len(list(tmp_path.iterdir())) == CRASH_REPORTS_KEPT + 3


@pytest.mark.parametrize("args, traceback", [
    (["-vc", "shop.yaml"], True),  # -v and -c combined, as click reads them
    (["-vcshop.yaml"], True),
    (["-c", "shop.yaml", "-v"], True),
    (["-qc", "shop.yaml"], False),
    (["-cv"], False),  # a config named "v"
    (["-c", "-v"], False),  # a config named "-v"
    (["--config=-v", "--date", "2026-11-25"], False),
])
def test_verbose_among_combined_short_flags_prints_the_traceback(monkeypatch, capsys,
                                                                 in_process, args, traceback):
    """The crash handler reads -v from the command line as click parsed it: within a group of
    short flags too, and not where it is an option's value."""
    import bidopt.config

    def broken(path):
        raise RuntimeError("planned a bid below zero")

    monkeypatch.setattr(bidopt.config, "load_config", broken)
    assert in_process("run", *args) == 70
    err = capsys.readouterr().err
    assert ("Traceback (most recent call last)" in err) is traceback, err
    assert ONE_LINE.fullmatch(err.splitlines()[-1]), err
