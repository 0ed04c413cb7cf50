"""Report files that cover the same days: use one copy of each day, never the sum.

A nightly job keeps every export in one folder (``reports: [exports/kw_*.csv]``), and the
exports overlap: a 14-day export every night, a weekly export next to daily ones, a file
downloaded twice (``kw (1).csv``). Summed, every overlapping day would count twice. Within
one file a repeated row is an error (``normalise``); across files, each campaign's day is
taken from the last file that holds it, in the order the sources list them (patterns expand
in name order, so the newest export of a dated series comes last), and a warning names what
was left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bidopt.errors import Problem
from bidopt.io.grains import group_ids
from bidopt.schema import ALL, DIMENSIONS

# The dimensions a row may be split by; which of them are specific is the row's "shape".
_SPLITS = [d for d in DIMENSIONS if d not in ("date", "campaign")]


def _shape(frame: pd.DataFrame) -> np.ndarray:
    bits = np.zeros(len(frame), dtype=np.int64)
    for i, name in enumerate(_SPLITS):
        bits |= (frame[name] != ALL).to_numpy().astype(np.int64) << i
    return bits


def drop_repeated_days(frames: list[pd.DataFrame], files: list[str]
                       ) -> tuple[list[pd.DataFrame], list[Problem]]:
    """Keep each campaign x day x report shape from the last file holding the same rows.

    Files are compared only where they share a day and a shape (a keyword report and a crowd
    report of the same days do not overlap); there, a campaign's day is dropped from the
    earlier file when the two hold at least one row with the same keys.
    """
    if len(frames) < 2:
        return frames, []
    shapes = [_shape(f) for f in frames]
    day_shape = [set(pd.DataFrame({"date": f["date"].to_numpy(), "shape": s})
                     .drop_duplicates().itertuples(index=False, name=None))
                 for f, s in zip(frames, shapes, strict=True)]
    drop = [np.zeros(len(f), dtype=bool) for f in frames]
    problems: list[Problem] = []
    for later in range(len(frames) - 1, 0, -1):
        for earlier in range(later):
            shared = day_shape[earlier] & day_shape[later]
            if not shared:
                continue
            left_out = _repeated_blocks(frames[earlier], shapes[earlier], frames[later],
                                        shapes[later], shared) & ~drop[earlier]
            if left_out.any():
                drop[earlier] |= left_out
                days = frames[earlier]["date"][left_out]
                problems.append(Problem(
                    file=files[earlier], severity="warning",
                    message=(f"{int(left_out.sum()):,} rows ({days.min():%Y-%m-%d} .. "
                             f"{days.max():%Y-%m-%d}) are also in {files[later]}: that later "
                             "file's rows for those campaign days are used, not the sum"),
                ))
    kept = [f[~d].reset_index(drop=True) if d.any() else f for f, d in zip(frames, drop, strict=True)]
    return kept, problems


def _repeated_blocks(earlier: pd.DataFrame, earlier_shape: np.ndarray, later: pd.DataFrame,
                     later_shape: np.ndarray, shared: set) -> np.ndarray:
    """Rows of ``earlier`` whose campaign x day x shape shares a keyed row with ``later``."""
    def candidates(frame: pd.DataFrame, shape: np.ndarray) -> np.ndarray:
        keys = pd.MultiIndex.from_arrays([frame["date"].to_numpy(), shape])
        return np.asarray(keys.isin(list(shared)))

    mine, theirs = candidates(earlier, earlier_shape), candidates(later, later_shape)
    both = pd.concat([earlier[list(DIMENSIONS)][mine], later[list(DIMENSIONS)][theirs]],
                     ignore_index=True)
    n_mine = int(mine.sum())
    key = group_ids(both, list(DIMENSIONS))
    repeated_keys = np.intersect1d(key[:n_mine], key[n_mine:])
    if repeated_keys.size == 0:
        return np.zeros(len(earlier), dtype=bool)
    rows = both.iloc[:n_mine]
    block = group_ids(rows.assign(_shape=earlier_shape[mine]), ["date", "campaign", "_shape"])
    hit_blocks = np.unique(block[np.isin(key[:n_mine], repeated_keys)])
    out = np.zeros(len(earlier), dtype=bool)
    out[np.flatnonzero(mine)[np.isin(block, hit_blocks)]] = True
    return out
