"""The look-back window a night is planned on.

The reports' days before the planned night, up to ``history.days`` of them, without what
would make the plan read a day wrongly: a last day exported before it ended, and the days
a campaign did not run at all (paused or offline all day, which some exports write as rows
of zeros). Also what the run and ``bidopt validate`` say about reports that end early.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from bidopt.context import PARTIAL_DAY_SHARE, share_of_usual_day
from bidopt.errors import DataError


def stale_reports(last: pd.Timestamp, date: dt.date, days: int) -> tuple[str | None, bool]:
    """What to say when the latest report day ``last`` is not the day before ``date``, and
    whether it is stale: before the ``days``-day look-back window of the night, so that
    the plan would rest on no day of the window it is meant to use (a nightly export that
    has stopped, or a wrong --date). ``bidopt run`` refuses such reports unless given
    ``--allow-stale``; the rest is a note."""
    gap = (pd.Timestamp(date) - last).days
    if gap <= 1:
        return None, False
    note = f"the latest report day is {last.date()}, {gap} days before the planned night {date}"
    if gap <= days:
        return note, False
    return (f"{note}, before its {days}-day look-back window (history.days): has the nightly "
            "export stopped, or is --date wrong?"), True


def _window(history: dict[str, pd.DataFrame], date: dt.date, days: int,
            refuse_stale: bool = False, *, dated: bool = True) -> tuple[dict, list[str]]:
    """Keep the look-back window: the ``days`` report days before the planned night.
    With ``refuse_stale``, reports that end before that window are an error."""
    notes = []
    planned = pd.Timestamp(date)
    dates = history["keywords"]["date"]
    usable = dates[dates < planned]
    if usable.empty:
        raise DataError(f"the reports hold no day before the planned night {date} (their "
                        f"days: {dates.min().date()} .. {dates.max().date()}): check --date")
    last = usable.max()
    later = sorted({day for frame in history.values() if len(frame)
                    for day in frame["date"][frame["date"] >= planned].unique()})
    if later and dated:  # also what a wrong --date, or a server clock in another time zone
        notes.append(
            f"the reports hold {len(later)} day{'s' if len(later) > 1 else ''} on or after the "
            f"planned night {date} ({pd.Timestamp(later[0]).date()} .. "
            f"{pd.Timestamp(later[-1]).date()}), not used: a plan uses only the days before "
            "its night (check --date, or the time zone of the clock that picks tonight's date)")
    note, stale = stale_reports(last, date, days)
    if stale and refuse_stale:
        raise DataError(f"{note} To plan on these reports anyway, pass --allow-stale")
    if note and dated:
        notes.append(note)
    partial = _partial_last_day(history["keywords"], last, days)
    if partial is not None:
        notes.append(partial)
        history = {grain: frame[(frame["date"] != last).to_numpy()] if len(frame) else frame
                   for grain, frame in history.items()}
        last = last - pd.Timedelta(days=1)
    start = last - pd.Timedelta(days=days - 1)
    window = {}
    for grain, frame in history.items():
        inside = ((frame["date"] >= start) & (frame["date"] <= last)).to_numpy()
        window[grain] = frame if inside.all() else frame[inside]  # no copy of every row
    held = pd.DatetimeIndex(window["keywords"]["date"].unique())
    seen = len(held)
    if seen < days:
        gaps = pd.date_range(held.min(), held.max()).difference(held) if seen else held
        missing = (f"; missing between them: {', '.join(f'{d:%Y-%m-%d}' for d in gaps[:5])}"
                   + (f" and {len(gaps) - 5} more" if len(gaps) > 5 else "")
                   + " (not exported, or a file not matched by sources.reports?)"
                   if len(gaps) else "")
        notes.append(f"the reports hold {seen} of the {days} days the config looks back "
                     "(history.days): the forecasts rest on fewer days, and a keyword's "
                     f"response to its bid on fewer bid changes{missing}")
    return window, notes


# The least impressions on a campaign's usual day (the median of its days with any) for a
# day without one to be read as a day it did not run.
IDLE_USUAL_IMPRESSIONS = 100


def window_history(history: dict[str, pd.DataFrame], date: dt.date, days: int,
                   refuse_stale: bool = False, *, dated: bool = True
                   ) -> tuple[dict[str, pd.DataFrame], list[str], list[str]]:
    """The history the night of ``date`` is planned on: its look-back window of ``days``
    report days, without a last day exported before it ended and without campaign days with
    no impression; the notes that say what was left out and which campaigns showed nothing
    on the last day; and those campaigns (``quiet_campaigns``). ``dated``: include the notes
    on the reports' days against the night (``bidopt validate`` makes its own)."""
    history, notes = _window(history, date, days, refuse_stale, dated=dated)
    if history["keywords"].empty:
        return history, notes, []
    by_day = history["keywords"].groupby(["campaign", "date"], observed=True)["impressions"].sum()
    # a campaign's usual day: the median of its days with an impression
    usual = by_day[by_day > 0].groupby(level="campaign", observed=True).median()
    history, idle = _without_idle_days(history, by_day, usual)
    quiet, note = quiet_campaigns(by_day, usual)
    return history, notes + idle + note, quiet


def _without_idle_days(history: dict[str, pd.DataFrame], by_day: pd.Series,
                       usual: pd.Series) -> tuple[dict, list[str]]:
    """``history`` without the days a campaign showed no impression on any keyword while its
    usual day shows ``IDLE_USUAL_IMPRESSIONS`` or more: paused (or offline: out of funds)
    all day. Some exports leave such days out and some write every keyword with zeros;
    read as days at the bids in force, the zeros would say that those bids buy nothing, and
    the forecast of a campaign paused for 5 of 14 days fell by a third where the same days
    without rows left it as it was. ``by_day``: impressions per campaign and day;
    ``usual``: per campaign, the median of its days with any."""
    idle = by_day[by_day <= 0]
    if idle.empty:
        return history, []
    # a campaign whose usual day shows hundreds of impressions shows none only when it does
    # not run; a small one may have a day without a search, which is evidence
    active = usual.index[usual >= IDLE_USUAL_IMPRESSIONS]
    idle = idle[idle.index.get_level_values("campaign").isin(active)]
    if idle.empty:
        return history, []
    out = {}
    for grain, frame in history.items():
        if frame.empty:
            out[grain] = frame
            continue
        rows = pd.MultiIndex.from_arrays([frame["campaign"], frame["date"]]).isin(idle.index)
        out[grain] = frame[~rows].reset_index(drop=True) if rows.any() else frame
    days = idle.reset_index().groupby("campaign", observed=True)["date"].agg(["min", "max",
                                                                              "size"])
    named = ", ".join(f"'{name}' {row['size']} day{'s' if row['size'] > 1 else ''} "
                      f"({row['min']:%Y-%m-%d}" + (f" .. {row['max']:%Y-%m-%d})"
                                                   if row["size"] > 1 else ")")
                      for name, row in days.head(3).iterrows())
    more = f" and {len(days) - 3} more campaigns" if len(days) > 3 else ""
    return out, [f"report days with no impression on any of a campaign's keywords (paused or "
                 f"offline all day?) are left out of its history, as days without rows are: "
                 f"{named}{more}"]


def _partial_last_day(keywords: pd.DataFrame, last: pd.Timestamp, days: int) -> str | None:
    """What to say when the shop's last report day ``last`` holds less than half its usual
    day's impressions (the median of the window's other days): an export taken before the
    day ended, which the plan would take for a full day (a keyword added that day would be
    judged on its first hours). None otherwise, or with fewer than 4 days to judge by."""
    window = keywords[(keywords["date"] > last - pd.Timedelta(days=days))
                      & (keywords["date"] <= last)]
    # the campaigns that ran that day: one paused or stopped is no sign of an early export
    ran = window.loc[(window["date"] == last) & (window["impressions"] > 0), "campaign"]
    window = window[window["campaign"].isin(ran.unique())]
    by_day = window.groupby("date")["impressions"].sum()
    if len(by_day) < 4 or last not in by_day.index:
        return None
    share = share_of_usual_day(by_day.to_frame().T, last).iloc[0]
    if not share < PARTIAL_DAY_SHARE:
        return None
    return (f"the last report day {last.date()} holds {share:.0%} of the shop's usual day's "
            "impressions (the median of the days before it): exported before the day ended? "
            "It is left out, and tonight's plan rests on the days before it; export the day "
            "again once it is complete")


def quiet_campaigns(by_day: pd.Series, usual: pd.Series) -> tuple[list[str], list[str]]:
    """Campaigns with no impression on the last report day, which shows some for others,
    among those whose usual day shows ``IDLE_USUAL_IMPRESSIONS`` or more (paused, stopped,
    out of funds; their idle days are out of the history), and a note naming them: the
    plan forecasts them from their earlier days, as if they ran. ``by_day`` and ``usual``
    as in ``_without_idle_days``."""
    shown = by_day[by_day > 0].reset_index()
    if shown.empty:
        return [], []
    last = shown.groupby("campaign", observed=True)["date"].max()
    # a small campaign (under IDLE_USUAL_IMPRESSIONS a usual day) may simply see no search
    quiet = last[(last < last.max()) & (usual.reindex(last.index) >= IDLE_USUAL_IMPRESSIONS)]
    quiet = quiet.sort_values()
    if quiet.empty:
        return [], []
    named = ", ".join(f"'{name}' (last on {day:%Y-%m-%d})" for name, day in quiet.head(5).items())
    more = f" and {len(quiet) - 5} more" if len(quiet) > 5 else ""
    one = len(quiet) == 1
    return list(quiet.index), [
        f"no impression on the last report day {last.max():%Y-%m-%d} for {named}{more}: paused "
        f"or stopped? The plan forecasts {'it' if one else 'them'} from {'its' if one else 'their'}"
        f" earlier days as if {'it' if one else 'they'} ran tonight ({'its' if one else 'their'} "
        f"'cost before' included); leave {'its' if one else 'their'} rows out of the upload if "
        f"{'it stays' if one else 'they stay'} off"]
