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
from bidopt.io.grains import group_ids
from bidopt.schema import ALL

NAMED = ("campaign", "item", "keyword", "crowd", "region")

# The official suffixes of China's provincial-level regions: 浙江省, 北京市, 广西壮族自治区,
# 香港特别行政区 are 浙江, 北京, 广西, 香港 in ZTC's region settings.
REGION_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市")
EXAMPLES = 3


def region_key(name) -> str:
    """A region's name without its official suffix (广东省 -> 广东), so that the reports'
    spellings read as one and match the config's (and the built-in shipping list)."""
    text = str(name).strip()
    for suffix in REGION_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            return text[: -len(suffix)]
    return text


def spelling_key(names: pd.Series, column: str) -> pd.Series:
    """What is left of each name when width (NFKC), runs of spaces and, for regions, an
    official suffix are set aside: names with one key are one thing."""
    text = names.astype(str).str.normalize("NFKC").str.replace(r"\s+", " ", regex=True)
    text = text.str.strip()
    return text.map(region_key) if column == "region" else text


# Keyword spellings are compared within their campaign x item: the same words bought by two
# items may be spelled apart in the account, and each is written back as its item holds it.
SCOPE = {"keyword": ["campaign", "item"]}


def _spellings(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """Every distinct combination of ``columns`` in ``frames``: its latest date and rows."""
    parts = []
    for frame in frames:
        if not set(columns) <= set(frame.columns) or not len(frame):
            continue
        codes = group_ids(frame, columns)
        first = np.unique(codes, return_index=True)[1]
        last = np.full(len(first), np.iinfo(np.int64).min)
        np.maximum.at(last, codes, frame["date"].to_numpy("datetime64[ns]").astype(np.int64))
        parts.append(frame[columns].iloc[first].reset_index(drop=True).assign(
            last=last, rows=np.bincount(codes, minlength=len(first))))
    if not parts:
        return pd.DataFrame(columns=[*columns, "last", "rows"])
    found = pd.concat(parts, ignore_index=True)
    found = found.groupby(columns, sort=False, observed=True).agg(
        last=("last", "max"), rows=("rows", "sum")).reset_index()
    return found[~found[columns[-1]].isin([ALL, ""])]


def _variants(frames: list[pd.DataFrame], column: str) -> pd.DataFrame:
    """The names read as another spelling of the same thing: the scope's columns (a
    keyword's campaign and item), ``column`` and ``to``, the spelling it is read as."""
    scope = SCOPE.get(column, [])
    names = pd.Series(pd.unique(pd.concat(
        [pd.Series(f[column].unique(), dtype=str) for f in frames if column in f and len(f)]
        or [pd.Series([], dtype=str)], ignore_index=True)), dtype=str)
    keys = spelling_key(names, column)
    empty = pd.DataFrame(columns=[*scope, column, "to"])
    if not keys.duplicated().any():  # the usual case: one spelling each, nothing more to do
        return empty
    # only the names that share a key with another matter; the scope narrows them further
    shared = set(names[keys.duplicated(keep=False).to_numpy()])
    found = _spellings([f[f[column].isin(shared)] for f in frames if column in f],
                       [*scope, column])
    found["key"] = spelling_key(found[column], column).to_numpy()
    group = [*scope, "key"]
    found = found[found.groupby(group, observed=True)["key"].transform("size") > 1]
    if found.empty:
        return empty
    # the latest day's spelling, then the one on most rows
    ordered = found.sort_values(["last", "rows", column])
    chosen = ordered.groupby(group, observed=True)[column].last().rename("to")
    found = found.join(chosen, on=group)
    return found.loc[found[column] != found["to"], [*scope, column, "to"]].reset_index(drop=True)


def _respelt(frame: pd.DataFrame, column: str, variants: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``column`` spelled as ``variants`` say (within their scope)."""
    if column not in frame or not len(frame):
        return frame
    rows = frame[column].isin(set(variants[column])).to_numpy()
    if not rows.any():
        return frame
    keys = [*SCOPE.get(column, []), column]
    index = pd.MultiIndex.from_frame(variants[keys].astype(str))
    hit = np.flatnonzero(rows)
    found = index.get_indexer(pd.MultiIndex.from_frame(frame[keys].iloc[hit].astype(str)))
    if not (found >= 0).any():
        return frame
    values = frame[column].to_numpy(dtype=object, copy=True)
    values[hit[found >= 0]] = variants["to"].to_numpy(dtype=object)[found[found >= 0]]
    return frame.assign(**{column: pd.Series(values, index=frame.index, dtype=str)})


def unify_spellings(frames: list[pd.DataFrame]) -> tuple[list[pd.DataFrame], list[Problem]]:
    """``frames`` (normalised reports) with each name's variant spellings replaced by one,
    and a warning per column where any was."""
    problems = []
    for column in NAMED:
        variants = _variants(frames, column)
        if variants.empty:
            continue
        frames = [_respelt(f, column, variants) for f in frames]
        pairs = variants[[column, "to"]].drop_duplicates().sort_values(column)
        examples = "; ".join(f"'{old}' as '{new}'" for old, new in
                             pairs.head(EXAMPLES).itertuples(index=False))
        n = len(pairs)
        more = f" and {n - EXAMPLES} more" if n > EXAMPLES else ""
        how = ("full-width or half-width characters, spaces, or an official suffix (省, 市, "
               "自治区)" if column == "region" else "full-width or half-width characters or spaces")
        within = " of one campaign and item" if column in SCOPE else ""
        problems.append(Problem(file="", severity="warning", message=(
            f"{n} {column} name{'s' if n > 1 else ''} in the reports "
            f"{'differ' if n > 1 else 'differs'} from another{within} only in {how}: read "
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
