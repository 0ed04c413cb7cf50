"""Did the last uploaded plans do what they said? Their keyword changes against the reports.

``bidopt applied`` keeps each plan's keyword rows with their forecasts (``state.planned``).
A later run finds those nights in its reports and compares, per night and kind of change,
the forecast at the proposed bid with what the report shows, over the rows whose change is
in force: a bid edited or an upload that failed would otherwise pass for a wrong forecast.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from bidopt.context import PARTIAL_DAY_SHARE, share_of_usual_day
from bidopt.schema import GRAIN_KEYS

KEYS = list(GRAIN_KEYS["keywords"])
KINDS = ("raised", "cut", "added", "paused")
NIGHTS = 3  # the nights compared: the newest recorded nights with report rows
BID_TOLERANCE = 0.005  # half a cent: a reported bid further from the plan's is not the plan's
FORECAST = ["exp_clicks", "exp_cost", "exp_gmv"]
REPORTED = ["clicks", "cost", "gmv", "orders"]
RANGED = ["ranged", "cost_in_range", "gmv_in_range"]
"""Of the changes in force that carry the 80% outcome ranges printed with them
(``cost_low``..``gmv_high``; files written before them do not): how many, and how many
reported a cost (GMV) inside its range."""
COUNTS = ["rows", "in_force", "not_in_force", "matched", "no_row", *RANGED]
COLUMNS = ["night", "kind", "reported", "partial", "rows", "in_force", "not_in_force",
           "matched", "no_row", *FORECAST, *REPORTED, "exp_roi", "roi", *RANGED]
RANGE_TOLERANCE = 1e-6  # the ranges and the reports are both written to the cent


def change_kind(planned: pd.DataFrame) -> pd.Series:
    """``raised``, ``cut``, ``added`` or ``paused`` for each recorded keyword change."""
    current = pd.to_numeric(planned["current"], errors="coerce")
    proposed = pd.to_numeric(planned["proposed"], errors="coerce")
    kind = np.select([planned["action"] == "add_keyword", planned["action"] == "pause_keyword",
                      proposed > current], ["added", "paused", "raised"], "cut")
    return pd.Series(kind, index=planned.index)


def track_record(planned: pd.DataFrame, daily: pd.DataFrame, night: dt.date,
                 nights: int = NIGHTS) -> pd.DataFrame:
    """One row per recorded night and kind of change (``COLUMNS``), newest night first.

    ``planned``: rows of the state file's ``planned`` table; ``daily``: the keyword report
    rows read (one per date and keyword x platform). Compared are the ``nights`` newest
    recorded nights before ``night`` whose date has keyword report rows; a recorded night
    between them (or after the last report day) with no rows at all is listed (at most
    ``nights`` of them) with ``reported`` False and nothing compared. Per change:

    - a report row that day whose bid is more than half a cent from ``proposed`` (the
      upload failed or the bid was edited since), or a pause whose keyword shows
      impressions or spend, is not in force (``not_in_force``); a report without bids
      cannot show it, and its rows count as in force;
    - a raised, cut or added keyword without a report row that day (no impressions) is in
      force with nothing reported (``no_row``), a paused one is in force;
    - ``matched``: the rows that have a report row that day;
    - ``partial``: the day holds less than half the shop's usual impressions
      (:func:`partial_days`), an export taken before it was complete;
    - ``ranged``, ``cost_in_range``, ``gmv_in_range``: the changes in force that carry
      their printed 80% ranges (``cost_low, cost_high, gmv_low, gmv_high``), and those whose
      reported cost (GMV; 0 without a report row) lies within its range, ends included.

    Sums (forecast ``exp_*`` and reported ``clicks, cost, gmv, orders``) are over the rows
    in force, for every kind but ``paused`` (a pause forecasts nothing).
    """
    if planned.empty or daily.empty:
        return pd.DataFrame(columns=COLUMNS)
    dates = pd.to_datetime(daily["date"])
    report_days = {d.date().isoformat() for d in dates.unique()}
    first_day = min(report_days)
    chosen, shown, missing = [], 0, 0
    for recorded in sorted(planned["night"].astype(str).unique(), reverse=True):
        if recorded >= night.isoformat() or shown == nights:
            continue
        if recorded in report_days:
            chosen.append((recorded, True))
            shown += 1
        elif recorded > first_day and missing < nights:  # within or after the reports' days
            chosen.append((recorded, False))
            missing += 1
    frames = [_night(planned[planned["night"].astype(str) == recorded],
                     daily[dates == pd.Timestamp(recorded)], recorded, reported)
              for recorded, reported in chosen]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    track = pd.concat(frames, ignore_index=True)
    track["partial"] = track["night"].isin(partial_days(daily["impressions"], dates))
    return track.reindex(columns=COLUMNS)


def partial_days(impressions: pd.Series, dates: pd.Series) -> set[str]:
    """Report days (ISO dates) with less than ``PARTIAL_DAY_SHARE`` of the shop's median
    day of impressions: an export taken before the day was complete. Its changes would read
    as forecasts that missed by half."""
    by_day = impressions.groupby(dates.to_numpy()).sum().to_frame().T  # one row: the shop
    if by_day.shape[1] < 4:
        return set()
    return {pd.Timestamp(day).date().isoformat() for day in by_day.columns
            if share_of_usual_day(by_day, day).iloc[0] < PARTIAL_DAY_SHARE}


def over_nights(track: pd.DataFrame) -> pd.DataFrame:
    """The reported nights of ``track`` summed per kind of change but pauses (one day of a
    few dozen orders is noisy; the nights together read better), in ``COLUMNS`` with
    ``night`` the number of nights; empty unless more than one night was compared. Partial
    report days are left out: half a day would pull the sums down."""
    reported = track[track["reported"].astype(bool) & ~track["partial"].eq(True)
                     & (track["kind"] != "paused")]
    nights = reported["night"].nunique()
    if nights < 2:
        return pd.DataFrame(columns=COLUMNS)
    summed = reported.groupby("kind", sort=False).agg(
        {**{c: "sum" for c in COUNTS}, **{c: lambda v: v.sum(min_count=1)
                                           for c in FORECAST + REPORTED}})
    return _with_roi(summed).reset_index().assign(night=nights, reported=True, partial=False
                                                  ).reindex(columns=COLUMNS)


def _with_roi(sums: pd.DataFrame) -> pd.DataFrame:
    """ROI of the forecast and of the report, from the sums (NaN without cost)."""
    return sums.assign(exp_roi=sums["exp_gmv"] / sums["exp_cost"].where(sums["exp_cost"] > 0),
                       roi=sums["gmv"] / sums["cost"].where(sums["cost"] > 0))


def _night(planned: pd.DataFrame, day: pd.DataFrame, night: str, reported: bool
           ) -> pd.DataFrame:
    """One recorded night's changes against ``day``, that date's keyword report rows."""
    rows = planned.assign(kind=change_kind(planned))
    if not reported:
        counts = rows.groupby("kind").size().reindex(list(KINDS)).dropna()
        return pd.DataFrame({"night": night, "kind": counts.index, "reported": False,
                             "rows": counts.to_numpy(int)})
    report = day.set_index(pd.MultiIndex.from_frame(day[KEYS].astype(str)))
    found = report.reindex(pd.MultiIndex.from_frame(rows[KEYS].astype(str)))
    has_row = found["date"].notna().to_numpy()
    bid = found["bid"].to_numpy(float) if "bid" in found else np.full(len(rows), np.nan)
    proposed = pd.to_numeric(rows["proposed"], errors="coerce").to_numpy(float)
    paused = (rows["kind"] == "paused").to_numpy()
    shows = has_row & ((found["impressions"].fillna(0).to_numpy(float) > 0)
                       | (found["cost"].fillna(0).to_numpy(float) > 0))
    off_bid = has_row & ~paused & (np.abs(bid - proposed) > BID_TOLERANCE + 1e-9)
    not_in_force = np.where(paused, shows, off_bid)
    rows = rows.assign(
        matched=has_row, not_in_force=not_in_force, in_force=~not_in_force,
        no_row=~has_row,
        **{c: found[c].fillna(0).to_numpy(float) for c in REPORTED},
        **{c: pd.to_numeric(rows[c], errors="coerce") for c in FORECAST})
    rows = rows.assign(**_in_range(rows, paused))
    on = rows[rows["in_force"]]
    out = pd.DataFrame({
        "rows": rows.groupby("kind").size(),
        "in_force": rows.groupby("kind")["in_force"].sum(),
        "not_in_force": rows.groupby("kind")["not_in_force"].sum(),
        "matched": rows.groupby("kind")["matched"].sum(),
        "no_row": on.groupby("kind")["no_row"].sum(),
        **{c: on.groupby("kind")[c].sum() for c in RANGED},
    }).join(on.groupby("kind")[FORECAST + REPORTED].sum(min_count=1))
    out = out.reindex([k for k in KINDS if k in out.index])
    out.loc[out.index == "paused", FORECAST + REPORTED] = np.nan
    out[COUNTS] = out[COUNTS].fillna(0).astype(int)
    return _with_roi(out).rename_axis("kind").reset_index().assign(night=night, reported=True)


def _in_range(rows: pd.DataFrame, paused: np.ndarray) -> dict[str, np.ndarray]:
    """Per change: whether it carries its printed ranges (``ranged``; a pause's 0 to 0 is
    not counted: a pause in force reports nothing), and whether its reported cost and GMV
    lie within them."""
    bounds = {c: (pd.to_numeric(rows[c], errors="coerce").to_numpy(float) if c in rows
                  else np.full(len(rows), np.nan))
              for c in ("cost_low", "cost_high", "gmv_low", "gmv_high")}
    ranged = ~paused & np.isfinite(np.column_stack(list(bounds.values()))).all(axis=1)
    out = {"ranged": ranged}
    for name in ("cost", "gmv"):
        value = rows[name].to_numpy(float)
        out[f"{name}_in_range"] = ranged & (
            (value >= bounds[f"{name}_low"] - RANGE_TOLERANCE)
            & (value <= bounds[f"{name}_high"] + RANGE_TOLERANCE))
    return out
