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


def _coarsest(
    rows: pd.DataFrame, group: np.ndarray, n_groups: int, others: list[str]
) -> np.ndarray:
    """Mask of rows split by the fewest other dimensions within their key."""
    if not others:
        return np.ones(len(rows), dtype=bool)
    specific = np.column_stack([(rows[d] != ALL).to_numpy() for d in others])
    level = specific.sum(axis=1) * (1 << len(others)) + specific @ (1 << np.arange(len(others)))
    if level.min() == level.max():
        return np.ones(len(rows), dtype=bool)
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


def _without_platform_totals(rows: pd.DataFrame) -> pd.DataFrame:
    """Drop a keyword's all-platform (全部) row where the same day also has its mobile or PC
    rows: it is their sum, and the platform is part of the keyword's key, so the coarsest
    split rule would keep both."""
    is_all = (rows["platform"] == ALL).to_numpy()
    if not is_all.any() or is_all.all():
        return rows
    key = group_ids(rows, ["date", "campaign", "item", "keyword"])
    has_platform = np.zeros(int(key.max()) + 1, dtype=bool)
    has_platform[key[~is_all]] = True
    total = is_all & has_platform[key]
    return rows[~total] if total.any() else rows


def _aggregate(rows: pd.DataFrame, grain: str) -> pd.DataFrame:
    """Sum metrics (and average state, for keywords) per grain key, coarsest split only."""
    keys = ["date", *GRAIN_KEYS[grain]]
    others = [d for d in SPLIT_DIMENSIONS if d not in keys]
    group = group_ids(rows, keys)
    n_groups = int(group.max()) + 1
    keep = _coarsest(rows, group, n_groups, others)
    if not keep.all():
        rows, group = rows[keep], group[keep]
    # Number the groups in sorted key order, so the key columns are gathered only once.
    first = _first_positions(group, n_groups)
    order = np.lexsort(
        [pd.factorize(rows[k], sort=True, use_na_sentinel=False)[0][first] for k in keys[::-1]]
    )
    rank = np.empty(n_groups, dtype=np.int64)
    rank[order] = np.arange(n_groups)
    group, first = rank[group], first[order]
    table = rows[keys].iloc[first].reset_index(drop=True)
    for metric in METRICS:
        table[metric] = _sum(group, rows[metric].to_numpy(dtype=float), n_groups)
    if grain == "keywords":
        rank = rows["avg_rank"].to_numpy(dtype=float)
        weight = np.where(np.isnan(rank), 0.0, rows["impressions"].to_numpy(dtype=float))
        total = _sum(group, weight, n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            weighted = _sum(group, rank * weight, n_groups) / total
        table["bid"] = _mean(group, rows["bid"].to_numpy(dtype=float), n_groups)
        table["avg_rank"] = np.where(total > 0, weighted, _mean(group, rank, n_groups))
        table["quality_score"] = _mean(group, rows["quality_score"].to_numpy(dtype=float), n_groups)
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
    grains: dict[str, pd.DataFrame] = {}
    for grain in GRAIN_KEYS:
        dimension = GRAIN_DIMENSION[grain]
        rows = report[(report[dimension] != ALL).to_numpy()]
        if dimension == "hour":
            rows = rows[(rows["hour"] != "").to_numpy()]
            rows = rows.assign(hour=rows["hour"].astype(np.int64))
        if grain == "keywords":
            rows = _without_platform_totals(rows)
        if rows.empty:
            grains[grain] = _empty_grain(grain)
            continue
        table = _aggregate(rows, grain)
        grains[grain] = table[grain_columns(grain)]
    return grains
