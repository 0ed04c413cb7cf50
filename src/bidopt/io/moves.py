"""Campaigns renamed and keywords moved within the reports' days.

A campaign renamed mid-window (外套-日常推广 -> 外套-秋冬主推) exports its keywords under the
old name up to the rename and under the new one after it; an item's keyword moved to another
campaign (deleted there, added here) does the same with its own rows. A keyword moved to
another item is a new keyword there (its clicks buy another product) and is not followed. Read as they are,
the old name is a campaign or keyword of its own that stopped: the plan changes bids under
a name the account no longer has, counts its spend in the shop's 'before', and the new
name's limits (``constraints.campaigns``) see only the days since. Where the old name's rows
stop and the same keywords start under the new one right after, the old rows are read as
the new name's, with a warning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bidopt.errors import Problem

# A renamed campaign: at least this share of its keyword x platform pairs run on under the
# new name, which has no row before the old name's last day.
RENAMED_SHARE = 0.5
# A moved keyword starts under its new campaign or item at most this many days after its
# last row under the old one (a keyword with no impressions has no row on a day).
MOVE_GAP_DAYS = 3
# ... after rows on at least this share of the days of its time there (and on 3 days at the
# old place), so that a long-tail keyword showing now and then is not taken for one
DENSE_SHARE = 0.8
MIN_DAYS = 3
EXAMPLES = 3
_PAIR = ["item", "keyword", "platform"]
_KEY = ["campaign", *_PAIR]


def _day(values) -> np.ndarray:
    return np.asarray(values, dtype="datetime64[D]")


def _renamed_campaigns(keywords: pd.DataFrame) -> dict[str, str]:
    """Old campaign name -> new, for campaigns whose rows stop before the last report day
    while most of their keywords run on, from the next days, under a campaign that has no
    earlier row."""
    last_day = keywords["date"].max()
    span = keywords.groupby("campaign", observed=True)["date"].agg(["min", "max"])
    stopped = span.index[span["max"] < last_day]
    if not len(stopped):
        return {}
    pairs = keywords[_KEY].drop_duplicates()
    sets = {c: set(map(tuple, g[_PAIR].to_numpy()))
            for c, g in pairs.groupby("campaign", observed=True)}
    renamed: dict[str, str] = {}
    for old in stopped:
        end = span.at[old, "max"]
        best, share = None, RENAMED_SHARE
        for new in span.index[(span["min"] > end)
                              & (span["min"] <= end + pd.Timedelta(days=MOVE_GAP_DAYS))]:
            found = len(sets[old] & sets[new]) / len(sets[old])
            if found >= share:
                best, share = new, found
        if best is not None and best not in renamed.values():
            renamed[old] = best
    for old, new in renamed.items():  # renamed twice: A -> B -> C reads A as C
        seen = {old}
        while new in renamed and new not in seen:
            seen.add(new)
            new = renamed[new]
        renamed[old] = new
    return renamed


def _moved_keywords(keywords: pd.DataFrame) -> pd.DataFrame:
    """One row per keyword x platform of an item that stopped under one campaign and started
    under exactly one other within ``MOVE_GAP_DAYS``: its old and new campaign and item, and
    the day it first shows at the new place."""
    empty = pd.DataFrame(columns=[*_KEY, "to_campaign", "to_item", "from_day"])
    first_day, last_day = keywords["date"].min(), keywords["date"].max()
    keys = keywords.groupby(_KEY, observed=True)["date"].agg(["min", "max", "nunique"])
    keys = keys.reset_index()
    # a move's old place stops before the last day after showing on most days of its span
    # (at least 3), its new place starts after the first and shows on most days since: a
    # long-tail keyword with a row now and then, bought by two items, is no move
    span = (keys["max"] - keys["min"]).dt.days + 1
    since = (last_day - keys["min"]).dt.days + 1
    gone = keys[(keys["max"] < last_day) & (keys["nunique"] >= MIN_DAYS)
                & (keys["nunique"] >= DENSE_SHARE * span)]
    started = keys[(keys["min"] > first_day) & (keys["nunique"] >= DENSE_SHARE * since)]
    if gone.empty or started.empty:
        return empty
    pairs = gone.drop(columns="nunique").merge(started.drop(columns="nunique"),
                                               on=["keyword", "platform"], suffixes=("", "_to"))
    if pairs.empty:
        return empty
    gap = pairs["min_to"] - pairs["max"]
    # the same item's keyword in another campaign: the same product bought on the same
    # search, so its days carry over. Under another item it is a new keyword: its clicks
    # convert to another product, and the old item's orders are not the new one's.
    pairs = pairs[(gap > pd.Timedelta(0))
                  & (gap <= pd.Timedelta(days=MOVE_GAP_DAYS))
                  & (pairs["campaign"] != pairs["campaign_to"])
                  & (pairs["item"] == pairs["item_to"])]
    # one new place for the old, one old place for the new: anything else is not a move
    pairs = pairs[~pairs.duplicated(_KEY, keep=False)]
    pairs = pairs[~pairs.duplicated(["campaign_to", "item_to", "keyword", "platform"],
                                    keep=False)]
    return pairs.rename(columns={"campaign_to": "to_campaign", "item_to": "to_item",
                                 "min_to": "from_day"})[
        [*_KEY, "to_campaign", "to_item", "from_day"]]


MOVED_COLUMNS = [*_KEY, "to_campaign", "to_item"]


def follow_moves(history: dict[str, pd.DataFrame]
                 ) -> tuple[dict[str, pd.DataFrame], list[Problem], dict[str, str], pd.DataFrame]:
    """``history`` (the report grains) with renamed campaigns' and moved keywords' earlier
    rows under their new names, a warning for each kind found, the renamed campaigns (old
    name -> new) and the moved keywords (``MOVED_COLUMNS``: the old place, under the
    campaign's new name where it was renamed, and the new one)."""
    keywords = history["keywords"]
    if keywords.empty:
        return history, [], {}, pd.DataFrame(columns=MOVED_COLUMNS)
    problems = []
    renamed = _renamed_campaigns(keywords)
    if renamed:
        since = keywords.groupby("campaign", observed=True)["date"].min()
        history = {grain: frame.assign(campaign=frame["campaign"].replace(renamed))
                   if len(frame) and frame["campaign"].isin(list(renamed)).any() else frame
                   for grain, frame in history.items()}
        keywords = history["keywords"]
        named = "; ".join(f"'{old}' as '{new}' (renamed on {since[new]:%Y-%m-%d}?)"
                          for old, new in list(renamed.items())[:EXAMPLES])
        more = f" and {len(renamed) - EXAMPLES} more" if len(renamed) > EXAMPLES else ""
        problems.append(Problem(file="", severity="warning", message=(
            f"{len(renamed)} campaign{'s' if len(renamed) > 1 else ''} of the reports "
            f"stop{'' if len(renamed) > 1 else 's'} before the reports' last day while "
            f"{'their' if len(renamed) > 1 else 'its'} keywords run on under a new name "
            f"from the next days: read {named}{more}, so that the earlier days count as the "
            "new name's and its limits (constraints.campaigns) apply to them")))
    moved = _moved_keywords(keywords)
    if len(moved):
        index = pd.MultiIndex.from_frame(moved[_KEY].astype(str))
        rows = index.get_indexer(pd.MultiIndex.from_frame(keywords[_KEY].astype(str)))
        hit = rows >= 0
        keywords = keywords.copy()
        for column in ("campaign", "item"):
            values = keywords[column].to_numpy(dtype=object)
            values[hit] = moved[f"to_{column}"].to_numpy(dtype=object)[rows[hit]]
            keywords[column] = pd.Series(values, index=keywords.index, dtype=str)
        keywords = keywords.sort_values(["date", *_KEY], kind="stable").reset_index(drop=True)
        history = {**history, "keywords": keywords}
        first = moved.iloc[0]
        n = moved[["keyword", "platform"]].drop_duplicates().shape[0]
        problems.append(Problem(file="", severity="warning", message=(
            f"{n} keyword x platform pair{'s' if n > 1 else ''} "
            f"{'stop' if n > 1 else 'stops'} under one campaign and "
            f"{'start' if n > 1 else 'starts'} under another right after (moved), e.g. "
            f"'{first['keyword']}' ({first['platform']}) of item '{first['item']}' from "
            f"campaign '{first['campaign']}' to '{first['to_campaign']}' on "
            f"{first['from_day']:%Y-%m-%d}: the earlier days are read as the new place's, and "
            "the old place is not planned")))
    return history, problems, renamed, moved[MOVED_COLUMNS].reset_index(drop=True)
