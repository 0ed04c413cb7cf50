"""HiGHS through scipy, without its progress lines in bidopt's output."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from scipy.optimize import milp


@contextmanager
def _native_stdout_silenced() -> Iterator[None]:
    """HiGHS prints from C++ straight to file descriptor 1, past Python's sys.stdout, so the
    descriptor itself is pointed at /dev/null for the duration of the solve."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def quiet_milp(*args, **kwargs):
    """``scipy.optimize.milp`` with HiGHS's own console output suppressed."""
    with _native_stdout_silenced():
        return milp(*args, **kwargs)
