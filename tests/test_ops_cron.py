"""What a nightly job run from cron meets: interrupts at any moment, stale reports, two runs
at once, a full disk. Real processes and files, no mocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from conftest import NIGHT, write_config


def _start_until_heavy_imports(args: list[str]) -> subprocess.Popen:
    """Start ``bidopt`` (as the console script does: ``from bidopt.cli import main``) and
    return once it is importing numpy, the first of the heavy libraries (``-X importtime``
    prints each import as it ends)."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from bidopt.cli import main; main()", *args],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
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
