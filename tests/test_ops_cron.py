"""What a nightly job run from cron meets: interrupts at any moment, stale reports, two runs
at once, a full disk. Real processes and files, no mocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pandas as pd
import pytest

from conftest import NIGHT, write_config


def _start_until_heavy_imports(args: list[str]) -> subprocess.Popen:
    """Start ``bidopt`` (as the console script does: ``from bidopt.cli import main``) and
    return once it is importing numpy, the first of the heavy libraries (``-X importtime``
    prints each import as it ends)."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from bidopt.cli import main; main()", *args],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
        # as a terminal or cron starts it: a test run started in the background of a shell
        # without job control inherits SIGINT ignored, and Python then never sees Ctrl-C
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in proc.stderr:
        if line.startswith("import time:") and line.rstrip().endswith("numpy._core"):
            return proc
    raise AssertionError("numpy was never imported")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_while_the_libraries_are_imported_exits_130_without_a_traceback(
        shop_files, tmp_path, signum):
    """Ctrl-C or SIGTERM in the first half second (pandas loading) printed a traceback (or
    killed the job with no word) instead of the documented clean exit 130."""
    config = write_config(tmp_path, shop_files)
    out = tmp_path / "recs.csv"
    proc = _start_until_heavy_imports(["run", "--config", str(config), "--date", NIGHT,
                                       "--out", str(out)])
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    err = "".join(line for line in err.splitlines(keepends=True)
                  if not line.startswith("import time:"))
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted: nothing was written" in err
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))


def _cli(*args: str):
    from click.testing import CliRunner

    from bidopt.cli import cli

    return CliRunner().invoke(cli, list(args))


def test_reports_that_end_before_the_look_back_window_stop_the_run_unless_allowed(
        shop_files, tmp_path):
    """The reports end 2026-11-24: planning 2026-12-10 on them (the export job has failed
    for two weeks) leaves no report day in the night's 14-day window: an input error, exit
    3, nothing written; --allow-stale plans with the note. Inside the window it is a note."""
    config = write_config(tmp_path, shop_files)
    out = tmp_path / "recs.csv"
    result = _cli("run", "--config", str(config), "--date", "2026-12-10", "--out", str(out))
    assert result.exit_code == 3, result.output
    assert ("input error: the latest report day is 2026-11-24, 16 days before the planned "
            "night 2026-12-10, before its 14-day look-back window") in result.stderr
    assert "--allow-stale" in result.stderr and not out.exists()
    result = _cli("run", "--config", str(config), "--date", "2026-12-10", "--out", str(out),
                  "--allow-stale", "--quiet")
    assert result.exit_code == 0, result.output
    assert "note: the latest report day is 2026-11-24, 16 days before" in result.stderr
    assert out.exists()
    result = _cli("run", "--config", str(config), "--date", "2026-12-08", "--dry-run", "-q")
    assert result.exit_code == 0, result.output
    assert "note: the latest report day is 2026-11-24, 14 days before" in result.stderr


def test_validate_says_what_run_would_of_old_reports(shop_files, tmp_path):
    """validate --date checks the night as run does (exit 3 unless --allow-stale); without
    --date (a shop being set up on old exports) it is a warning naming run's refusal."""
    config = write_config(tmp_path, shop_files)
    result = _cli("validate", "--config", str(config), "--date", "2026-12-10")
    assert result.exit_code == 3, result.output
    assert "error: the latest report day is 2026-11-24, 16 days before" in result.stderr
    result = _cli("validate", "--config", str(config), "--date", "2026-12-10", "--allow-stale")
    assert result.exit_code == 0, result.output
    assert "warning: the latest report day is 2026-11-24, 16 days before" in result.stderr
    result = _cli("validate", "--config", str(config), "--date", "2026-11-25")
    assert result.exit_code == 0 and "latest report day" not in result.output


LAST_GOOD = b"date,campaign\r\n2026-11-24,last good plan\r\n"


def test_a_second_run_into_the_same_file_stops_while_the_first_runs(shop_files, tmp_path):
    """Two runs of one config at once (cron's job while last night's still runs): the second
    stops at once with exit 7 naming the first, and the file is left to the first."""
    config = write_config(tmp_path, shop_files)
    out = tmp_path / "recs.csv"
    out.write_bytes(LAST_GOOD)
    holder = subprocess.Popen(  # the first run, as far as the lock goes
        [sys.executable, "-c", "import fcntl, os, sys, time\n"
         "handle = open(sys.argv[1], 'w')\nfcntl.flock(handle, fcntl.LOCK_EX)\n"
         "handle.write(f'pid {os.getpid()}, started at 02:00'); handle.flush()\n"
         "print('held', flush=True)\ntime.sleep(60)",
         str(tmp_path / ".recs.csv.lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        second = _cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out))
        assert second.exit_code == 7, second.output
        assert (f"another bidopt run is writing {out} (pid {holder.pid}, started at 02:00)"
                in second.stderr)
        assert out.read_bytes() == LAST_GOOD
    finally:
        holder.terminate()
        holder.wait(timeout=30)
    (tmp_path / ".recs.csv.lock").unlink()  # as the first run does when it ends
    again = _cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out), "-q")
    assert again.exit_code == 0, again.output
    assert out.read_bytes() != LAST_GOOD
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_full_disk_while_writing_leaves_the_last_good_file(shop_files, tmp_path):
    """The write fails part way (here a file size limit, as a full disk does): exit 7, the
    last good plan untouched, no temporary or lock file left behind."""
    import resource

    config = write_config(tmp_path, shop_files)
    out = tmp_path / "recs.csv"
    out.write_bytes(LAST_GOOD)

    def limit() -> None:  # Python ignores SIGXFSZ: a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    done = subprocess.run(
        [sys.executable, "-c", "from bidopt.cli import main; main()", "run", "--config",
         str(config), "--date", NIGHT, "--out", str(out), "-q"],
        capture_output=True, text=True, timeout=300, preexec_fn=limit)
    assert done.returncode == 7, done.stderr
    assert f"output error: {out}: cannot write" in done.stderr
    assert "Traceback" not in done.stderr
    assert out.read_bytes() == LAST_GOOD
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["recs.csv", config.name])


def _run_with_stderr(config, out, *, terminal: bool) -> tuple[int, bytes, bytes]:
    """Run bidopt with stderr on a pseudo-terminal or a pipe (as under cron)."""
    import pty
    import select

    args = [sys.executable, "-c", "from bidopt.cli import main; main()", "run", "--config",
            str(config), "--date", NIGHT, "--out", str(out)]
    if not terminal:
        done = subprocess.run(args, capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
        return done.returncode, done.stdout, done.stderr
    parent, child = pty.openpty()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=child, stdin=subprocess.DEVNULL)
    os.close(child)
    err = b""
    while True:
        ready, _, _ = select.select([parent], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(parent, 65536)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            err += chunk
        elif proc.poll() is not None:
            break
    os.close(parent)
    stdout = proc.stdout.read()
    proc.stdout.close()
    return proc.wait(timeout=60), stdout, err


def test_progress_is_a_live_status_on_a_terminal_and_absent_from_a_cron_log(shop_files, tmp_path):
    """Under cron (no terminal) the log gets the summary and no spinner or escape codes;
    on a terminal the long stages show as a live status line on stderr."""
    config = write_config(tmp_path, shop_files)
    code, stdout, stderr = _run_with_stderr(config, tmp_path / "a.csv", terminal=False)
    assert code == 0, stderr
    assert b"\x1b" not in stdout + stderr and b"bidopt: shop" in stdout
    code, stdout, stderr = _run_with_stderr(config, tmp_path / "b.csv", terminal=True)
    assert code == 0, stderr
    assert b"fitting the response model" in stderr and b"\x1b[" in stderr
    assert b"\x1b" not in stdout and b"bidopt: shop" in stdout


def test_verbose_progress_lines_carry_the_seconds_since_the_start(shop_files, tmp_path):
    """`bidopt run -v >> nightly.log`: each stage's line says when it began, so the log
    shows which stage took the night's time (the combining of the reports included)."""
    import re

    config = write_config(tmp_path, shop_files)
    result = _cli("run", "--config", str(config), "--date", NIGHT, "--dry-run", "-v")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("...")]
    assert all(re.match(r"^\.\.\. +\d+\.\ds \S", line) for line in lines), lines
    stages = [line.split("s ", 1)[1] for line in lines]
    assert stages.index("combining the reports") < stages.index("aggregating history")


def test_a_log_in_an_encoding_without_chinese_gets_the_names_escaped(shop_files, tmp_path):
    """A Windows scheduled task on an English system writes its log in cp1252, which holds no
    Chinese campaign name: the summary escapes them instead of stopping with exit 70 after
    the plan was written."""
    config = write_config(tmp_path, shop_files)
    out = tmp_path / "recs.csv"
    done = subprocess.run(
        [sys.executable, "-c", "from bidopt.cli import main; main()", "run", "--config",
         str(config), "--date", NIGHT, "--out", str(out)],
        capture_output=True, timeout=300, stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONIOENCODING": "cp1252"})
    assert done.returncode == 0, done.stderr.decode("cp1252")
    text = done.stdout.decode("cp1252")
    campaign = pd.read_csv(out, encoding="utf-8-sig")["campaign"].iloc[0]
    assert campaign.encode("ascii", "backslashreplace").decode("ascii") in text
    assert "internal error" not in done.stderr.decode("cp1252")
