"""Split normalised report rows into the four history frames the models learn from.

Platforms export one report per dimension (keyword, crowd, region, hour), and a user may
also hand over a finer report that splits a keyword by crowd or region. Summing every row
with a specific keyword would then count the same clicks twice; so for each grain key and
day, only the rows of the coarsest split present are summed (a keyword x platform row beats
keyword x crowd rows for the same keyword and day).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bidopt.schema import ALL, GRAIN_KEYS, METRICS, REPORT_COLUMNS

# The dimension that must be specific for a row to belong to a grain.
GRAIN_DIMENSION = {"keywords": "keyword", "crowds": "crowd", "regions": "region", "hours": "hour"}
SPLIT_DIMENSIONS = ("item", "keyword", "crowd", "region", "platform", "hour")


def grain_columns(grain: str) -> list[str]:
    """Columns of one grain's frame, in order."""
    keys = ["date", *GRAIN_KEYS[grain]]
    if grain == "keywords":
        return [*keys, "bid", *METRICS, "avg_rank", "quality_score"]
    return [*keys, *METRICS]


def _empty_grain(grain: str) -> pd.DataFrame:
    dtypes = {"date": "datetime64[ns]", "hour": "int64"}
    return pd.DataFrame(
        {
            c: pd.Series(
                [], dtype=dtypes.get(c, "float64" if c not in GRAIN_KEYS[grain] else "str")
            )
            for c in grain_columns(grain)
        }
    )


def group_ids(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Dense id per distinct key, numbered in order of first appearance (one hash per key)."""
    combined = np.zeros(len(frame), dtype=np.int64)
    for name in keys:
        codes, uniques = pd.factorize(frame[name], use_na_sentinel=False)
        combined, _ = pd.factorize(combined * max(len(uniques), 1) + codes)
    return combined


def _first_positions(group: np.ndarray, n_groups: int) -> np.ndarray:
    first = np.empty(n_groups, dtype=np.int64)
    first[group[::-1]] = np.arange(len(group) - 1, -1, -1)
    return first


def _coarsest(specific: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Mask of rows split by the fewest other dimensions within their key; ``specific``:
    one column per other dimension, True where the row is split by it."""
    n_others = specific.shape[1]
    if not n_others:
        return np.ones(len(group), dtype=bool)
    level = specific.sum(axis=1) * (1 << n_others) + specific @ (1 << np.arange(n_others))
    if level.min() == level.max():
        return np.ones(len(group), dtype=bool)
    best = np.full(n_groups, np.iinfo(np.int64).max)
    np.minimum.at(best, group, level)
    return level == best[group]


def _sum(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    return np.bincount(group, weights=np.nan_to_num(values), minlength=n_groups)


def _mean(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    present = ~np.isnan(values)
    count = np.bincount(group, weights=present.astype(float), minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, _sum(group, values, n_groups) / count, np.nan)


class _Coded:
    """The concatenated report's dimensions, each factorized once for all four grains: the
    grains work on integer codes of row subsets and gather text only for their output rows
    (hashing and copying millions of strings per grain was most of the aggregation)."""

    def __init__(self, report: pd.DataFrame):
        self.report = report
        self._codes: dict[str, tuple[np.ndarray, object]] = {}

    def codes(self, name: str) -> tuple[np.ndarray, object]:
        """Codes numbered in sorted order of the values, and the sorted distinct values."""
        if name not in self._codes:
            self._codes[name] = pd.factorize(self.report[name], sort=True,
                                             use_na_sentinel=False)
        return self._codes[name]

    def specific(self, name: str) -> np.ndarray:
        """Per distinct value of ``name``: True where it is not ``ALL``."""
        _, uniques = self.codes(name)
        return np.asarray(pd.Series(uniques) != ALL)

    def group_ids(self, rows: np.ndarray, keys: list[str]) -> np.ndarray:
        """``group_ids`` of the report's ``rows`` (positions) by ``keys``."""
        combined = np.zeros(len(rows), dtype=np.int64)
        for name in keys:
            codes, uniques = self.codes(name)
            combined, _ = pd.factorize(combined * max(len(uniques), 1) + codes[rows])
        return combined

    def sort_codes(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Codes of ``rows`` that sort as the grain's values do (hours as numbers)."""
        codes, uniques = self.codes(name)
        if name != "hour":
            return codes[rows]
        hours = pd.to_numeric(pd.Series(uniques), errors="coerce").to_numpy(dtype=float)
        return np.argsort(np.argsort(hours, kind="stable"), kind="stable")[codes[rows]]


def _without_platform_totals(coded: _Coded, rows: np.ndarray) -> np.ndarray:
    """Drop a keyword's all-platform (全部) row where the same day also has its mobile or PC
    rows: it is their sum, and the platform is part of the keyword's key, so the coarsest
    split rule would keep both."""
    is_all = ~coded.specific("platform")[coded.codes("platform")[0][rows]]
    if not is_all.any() or is_all.all():
        return rows
    key = coded.group_ids(rows, ["date", "campaign", "item", "keyword"])
    has_platform = np.zeros(int(key.max()) + 1, dtype=bool)
    has_platform[key[~is_all]] = True
    total = is_all & has_platform[key]
    return rows[~total] if total.any() else rows


def _aggregate(coded: _Coded, rows: np.ndarray, grain: str) -> pd.DataFrame:
    """Sum metrics (and average state, for keywords) per grain key, coarsest split only;
    ``rows``: positions in the report of the grain's rows."""
    keys = ["date", *GRAIN_KEYS[grain]]
    others = [d for d in SPLIT_DIMENSIONS if d not in keys]
    group = coded.group_ids(rows, keys)
    n_groups = int(group.max()) + 1
    specific = np.column_stack(
        [coded.specific(d)[coded.codes(d)[0][rows]] for d in others]
    ) if others else np.zeros((len(rows), 0), dtype=bool)
    keep = _coarsest(specific, group, n_groups)
    if not keep.all():
        rows, group = rows[keep], group[keep]
    # Number the groups in sorted key order, so the key columns are gathered only once.
    first = _first_positions(group, n_groups)
    order = np.lexsort([coded.sort_codes(k, rows[first]) for k in keys[::-1]])
    rank = np.empty(n_groups, dtype=np.int64)
    rank[order] = np.arange(n_groups)
    group, first = rank[group], first[order]
    report = coded.report
    table = report[keys].iloc[rows[first]].reset_index(drop=True)

    def values(name: str) -> np.ndarray:
        return report[name].to_numpy(dtype=float)[rows]

    for metric in METRICS:
        table[metric] = _sum(group, values(metric), n_groups)
    if grain == "keywords":
        rank = values("avg_rank")
        weight = np.where(np.isnan(rank), 0.0, values("impressions"))
        total = _sum(group, weight, n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            weighted = _sum(group, rank * weight, n_groups) / total
        table["bid"] = _mean(group, values("bid"), n_groups)
        table["avg_rank"] = np.where(total > 0, weighted, _mean(group, rank, n_groups))
        table["quality_score"] = _mean(group, values("quality_score"), n_groups)
    return table


def split_report_grains(frames: list[pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """One aggregated frame per grain of ``schema.GRAIN_KEYS`` from normalised reports.

    ``keywords``: date x campaign x item x keyword x platform with bid (mean), metrics
    (sum), avg_rank (impression-weighted) and quality_score (mean); ``crowds``, ``regions``
    and ``hours`` (hour as int): date x their keys with summed metrics. Rows that are 'all'
    in every dimension belong to no grain. An empty grain has the right columns.
    """
    frames = [f[list(REPORT_COLUMNS)] for f in frames if len(f)]
    if not frames:
        return {grain: _empty_grain(grain) for grain in GRAIN_KEYS}
    report = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    del frames  # the caller hands its frames over: the concatenated copy replaces them
    coded = _Coded(report)
    grains: dict[str, pd.DataFrame] = {}
    for grain in GRAIN_KEYS:
        dimension = GRAIN_DIMENSION[grain]
        codes, uniques = coded.codes(dimension)
        wanted = coded.specific(dimension)
        if dimension == "hour":
            wanted = wanted & np.asarray(pd.Series(uniques) != "")
        rows = np.flatnonzero(wanted[codes])
        if grain == "keywords":
            rows = _without_platform_totals(coded, rows)
        if not len(rows):
            grains[grain] = _empty_grain(grain)
            continue
        table = _aggregate(coded, rows, grain)
        if dimension == "hour":
            table["hour"] = table["hour"].astype(np.int64)
        grains[grain] = table[grain_columns(grain)]
    return grains
