"""The daily keyword history as arrays: group codes, numeric columns, quality shift, prices.

Vectorised helpers shared by ``response`` (fit) and ``insample``; no model state here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def group_codes(*columns: pd.Series) -> tuple[np.ndarray, int]:
    """Dense group code of the combined columns (vectorised, no tuple hashing)."""
    combined = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        c, uniq = pd.factorize(col, sort=False)
        combined = combined * (len(uniq) + 1) + (c + 1)
    codes, uniq = pd.factorize(combined, sort=False)
    return codes.astype(np.int64), len(uniq)


def quality_shift(ent: np.ndarray, n_ent: int, dates: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """log(quality that day / latest quality) per row (0 where unknown)."""
    if not np.isfinite(qs).any():
        return np.zeros(len(ent))
    day = dates.astype("datetime64[D]").astype(np.int64)
    last_day = np.full(n_ent, np.iinfo(np.int64).min)
    np.maximum.at(last_day, ent, day)
    latest = np.full(n_ent, np.nan)
    is_last = (day == last_day[ent]) & np.isfinite(qs) & (qs > 0)
    latest[ent[is_last]] = qs[is_last]
    ratio = qs / latest[ent]
    return np.where(np.isfinite(ratio) & (ratio > 0), np.log(np.where(ratio > 0, ratio, 1.0)), 0.0)


def take_rows(params: pd.DataFrame, rows: np.ndarray) -> dict[str, np.ndarray]:
    return {c: params[c].to_numpy()[rows] for c in params.columns}


def first_index(codes: np.ndarray, n: int) -> np.ndarray:
    """Row index of the first occurrence of each code."""
    first = np.empty(n, dtype=np.int64)
    idx = np.arange(len(codes))
    first[codes[::-1]] = idx[::-1]
    return first


def numeric(df: pd.DataFrame, col: str, default: float = 0.0) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), default)
    out = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return out if np.isnan(default) else np.nan_to_num(out, nan=default)


def item_price(table: pd.DataFrame, items: pd.DataFrame | None) -> np.ndarray:
    """Item list price per entity (NaN where unknown)."""
    if items is None or "item" not in items.columns or "price" not in items.columns:
        return np.full(len(table), np.nan)
    price = items.drop_duplicates("item").set_index(items.drop_duplicates("item")["item"].astype(str))["price"]
    return pd.to_numeric(table["item"].map(price), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
