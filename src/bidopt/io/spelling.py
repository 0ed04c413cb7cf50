"""One name per campaign, item, keyword, crowd and region across the reports.

Exports of one account spell the same thing more than one way: a keyword with a
full-width space (格子连衣裙　气质) in one export and a half-width one in the next, full-width
letters (ＴＥＥ) from a file that passed through another tool, a region as 广东 in one report
and 广东省 in another. Read apart, each spelling would be a thing of its own: its history
split in two, and the plan changing a keyword that the account holds under the other
spelling. Spellings that differ only so are read as one, as the latest report day spells it
(what the account holds now), with a warning naming them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bidopt.errors import Problem
from bidopt.schema import ALL

NAMED = ("campaign", "item", "keyword", "crowd", "region")

# The official suffixes of China's provincial-level regions: 浙江省, 北京市, 广西壮族自治区,
# 香港特别行政区 are 浙江, 北京, 广西, 香港 in ZTC's region settings.
REGION_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市")
EXAMPLES = 3


def region_key(name: str) -> str:
    """A region's name without its official suffix (广东省 -> 广东)."""
    for suffix in REGION_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def spelling_key(names: pd.Series, column: str) -> pd.Series:
    """What is left of each name when width (NFKC), runs of spaces and, for regions, an
    official suffix are set aside: names with one key are one thing."""
    text = names.astype(str).str.normalize("NFKC").str.replace(r"\s+", " ", regex=True)
    text = text.str.strip()
    return text.map(region_key) if column == "region" else text


def _spellings(frames: list[pd.DataFrame], column: str) -> pd.DataFrame:
    """Every distinct name of ``column`` in ``frames``: its latest date and row count."""
    parts = []
    for frame in frames:
        if column not in frame or not len(frame):
            continue
        codes, names = pd.factorize(frame[column], use_na_sentinel=False)
        last = np.full(len(names), np.iinfo(np.int64).min)
        np.maximum.at(last, codes, frame["date"].to_numpy("datetime64[ns]").astype(np.int64))
        parts.append(pd.DataFrame({"name": np.asarray(names, dtype=object), "last": last,
                                   "rows": np.bincount(codes, minlength=len(names))}))
    if not parts:
        return pd.DataFrame(columns=["name", "last", "rows"])
    found = pd.concat(parts, ignore_index=True)
    found = found.groupby("name", sort=False).agg(last=("last", "max"), rows=("rows", "sum"))
    return found.drop(index=[ALL, ""], errors="ignore").reset_index()


def _variants(frames: list[pd.DataFrame], column: str) -> dict[str, str]:
    """Each name read as another spelling of the same thing, and that spelling."""
    names = pd.Series(pd.unique(pd.concat(
        [pd.Series(f[column].unique(), dtype=str) for f in frames if column in f and len(f)]
        or [pd.Series([], dtype=str)], ignore_index=True)), dtype=str)
    keys = spelling_key(names, column)
    if not keys.duplicated().any():  # the usual case: one spelling each, nothing more to do
        return {}
    found = _spellings(frames, column)
    found["key"] = spelling_key(found["name"], column).to_numpy()
    found = found[found.groupby("key")["key"].transform("size") > 1]
    # the latest day's spelling, then the one on most rows
    chosen = found.sort_values(["last", "rows", "name"]).groupby("key")["name"].last()
    return {name: chosen[key] for name, key in zip(found["name"], found["key"], strict=True)
            if name != chosen[key]}


def unify_spellings(frames: list[pd.DataFrame]) -> tuple[list[pd.DataFrame], list[Problem]]:
    """``frames`` (normalised reports) with each name's variant spellings replaced by one,
    and a warning per column where any was."""
    problems = []
    for column in NAMED:
        mapping = _variants(frames, column)
        if not mapping:
            continue
        frames = [f.assign(**{column: f[column].replace(mapping)})
                  if column in f and len(f) and f[column].isin(list(mapping)).any() else f
                  for f in frames]
        examples = "; ".join(f"'{old}' as '{new}'" for old, new in
                             sorted(mapping.items())[:EXAMPLES])
        more = f" and {len(mapping) - EXAMPLES} more" if len(mapping) > EXAMPLES else ""
        how = ("full-width or half-width characters, spaces, or an official suffix (省, 市, "
               "自治区)" if column == "region" else "full-width or half-width characters or spaces")
        problems.append(Problem(file="", severity="warning", message=(
            f"{len(mapping)} {column} name{'s' if len(mapping) > 1 else ''} in the reports "
            f"{'differ' if len(mapping) > 1 else 'differs'} from another only in {how}: read "
            f"as one, spelled as on the latest report day ({examples}{more})")))
    return frames, problems


def respell(frame: pd.DataFrame, columns: tuple[str, ...],
            reports: list[pd.DataFrame]) -> pd.DataFrame:
    """``frame`` (the items or candidates file) with names the reports spell another way
    spelled as the reports do."""
    for column in columns:
        if column not in frame or not len(frame):
            continue
        spelt = pd.Series(pd.unique(pd.concat(
            [pd.Series(r[column].unique(), dtype=str) for r in reports if column in r and len(r)]
            or [pd.Series([], dtype=str)], ignore_index=True)), dtype=str)
        by_key = dict(zip(spelling_key(spelt, column), spelt, strict=True))
        known = set(spelt)
        names = pd.Series(frame[column].unique(), dtype=str)
        mapping = {name: by_key[key] for name, key in zip(names, spelling_key(names, column),
                                                           strict=True)
                   if key in by_key and name not in known}
        if mapping:
            frame = frame.assign(**{column: frame[column].replace(mapping)})
    return frame
