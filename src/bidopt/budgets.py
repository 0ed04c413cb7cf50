"""History days a campaign's daily budget cut short, and the fit's view of them.

When a campaign's spend reaches its daily budget the platform takes its ads offline for the
rest of the day (ZTC: 预算不足下线). Such a day shows less traffic than its bids bought: a
model fitted on it takes the keywords' volume for smaller than it is, and answers "raise"
to a campaign the budget already holds back. Here a campaign-day counts as *capped* when
its cost is within ``CAPPED_WITHIN`` of the campaign's daily budget (``constraints``), and
the hour report tells how much of the day was online: hours from the last one with clicks
on show nothing, and the share of the day's clicks (and orders) those hours usually carry,
from the hour report's days that were not capped, is what the budget took away. The fit
then sees each capped day divided by its online share (traffic and cost by the clicks'
share, orders and GMV by the orders', as ``seasonality`` divides a promotion day by its
factors): the keywords' full-day response at their bids. The window sums of the keyword
state (``spend before``, the rule sets' inputs) keep what was really spent.

Without an hour report a capped day is only named: how early the ads stopped cannot be
read from a daily total.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bidopt.config import Config

CAPPED_WITHIN = 0.03
"""A campaign-day whose cost is at least (1 - this) x its daily budget was stopped by it
(the last click may not fit exactly, and a platform checks the spend every few minutes)."""
FULL_DAY = 0.97
"""A capped-looking day whose hour report shows this share of a usual day's clicks online
or more ran to its end: its spend reached the budget only at the close."""
MIN_ONLINE = 0.2
"""No capped day is scaled up by more than 1 / this: a day whose ads stopped in the early
morning says too little about the rest of it."""
TRAFFIC = ("impressions", "clicks", "cost", "carts", "favorites")
CONVERSION = ("orders", "gmv")


def history_budgets(config: Config, campaigns: list[str], dates) -> pd.DataFrame:
    """The daily budget in force for each campaign on each report day (campaign, date,
    budget; inf where none): the calendar phase of the day, as on the night it was planned
    (``config`` as written, before the planned night's phase is applied)."""
    rows = []
    for day in pd.DatetimeIndex(pd.unique(pd.Series(dates))):
        limits = config.for_night(day.date()).constraints
        rows += [(name, day, limits.for_campaign(name)[1]) for name in campaigns]
    return pd.DataFrame(rows, columns=["campaign", "date", "budget"])


def capped_days(history: dict[str, pd.DataFrame], budgets: pd.Series | pd.DataFrame,
                at_budget: pd.DataFrame | None = None) -> pd.DataFrame:
    """Campaign-days of ``history`` that spent their daily budget (``budgets``: campaign ->
    budget, or per campaign and date as ``history_budgets`` gives them; inf where none), with
    the share of the day's clicks and orders that was online.

    Columns: campaign, date, cost, budget, click_share, order_share, last_hour (the last
    hour with clicks; NaN and shares 1.0 when the hour report does not show the day).
    ``at_budget``: :func:`days_at_budget` of the history, when the caller has it already.
    """
    columns = ["campaign", "date", "cost", "budget", "click_share", "order_share", "last_hour"]
    capped = days_at_budget(history["keywords"], budgets) if at_budget is None else at_budget
    if capped.empty:
        return pd.DataFrame(columns=columns)
    capped = capped.assign(click_share=1.0, order_share=1.0, last_hour=np.nan)
    hours = history.get("hours")
    if capped.empty or hours is None or hours.empty:
        return capped[columns]
    hours = hours.assign(campaign=hours["campaign"].astype(str),
                         hour=pd.to_numeric(hours["hour"]).astype(int))
    day_key = pd.MultiIndex.from_frame(hours[["campaign", "date"]])
    capped_key = pd.MultiIndex.from_frame(capped[["campaign", "date"]].astype({"campaign": str}))
    usual = hours[~day_key.isin(capped_key)]
    profile = _profile(usual if usual["clicks"].sum() > 0 else hours)
    for i, row in enumerate(capped.itertuples(index=False)):
        day = hours[(hours["campaign"] == str(row.campaign)) & (hours["date"] == row.date)]
        clicks = np.bincount(day["hour"], weights=day["clicks"], minlength=24)
        if clicks.sum() <= 0:
            continue
        last = int(np.flatnonzero(clicks > 0).max())
        click_share, order_share = online_shares(clicks, last, profile)
        capped.loc[i, ["click_share", "order_share", "last_hour"]] = (
            click_share, order_share, last)
    # a day whose hour report runs to the end of the day spent its budget without being
    # stopped by it (the budget was just enough): not capped
    ran_on = capped["last_hour"].notna() & (capped["click_share"] >= FULL_DAY)
    return capped.loc[~ran_on, columns].reset_index(drop=True)


def days_at_budget(keywords: pd.DataFrame, budgets: pd.Series | pd.DataFrame) -> pd.DataFrame:
    """Campaign-days of the daily keyword history whose cost reached the daily budget (within
    ``CAPPED_WITHIN``; ``budgets`` as for :func:`capped_days`): campaign, date, cost, budget.
    Whether the budget stopped the ads, the hour report says (:func:`capped_days`)."""
    columns = ["campaign", "date", "cost", "budget"]
    if keywords.empty or not np.isfinite(np.asarray(
            budgets["budget"] if isinstance(budgets, pd.DataFrame) else budgets, float)).any():
        return pd.DataFrame(columns=columns)
    daily = keywords.groupby(["campaign", "date"], sort=True)["cost"].sum().reset_index()
    if isinstance(budgets, pd.DataFrame):
        per_day = budgets.assign(campaign=budgets["campaign"].astype(str)).set_index(
            ["campaign", "date"])["budget"]
        daily["budget"] = per_day.reindex(pd.MultiIndex.from_arrays(
            [daily["campaign"].astype(str), daily["date"]])).to_numpy(float)
    else:
        daily["budget"] = daily["campaign"].astype(str).map(budgets).to_numpy(float)
    daily = daily[np.isfinite(daily["budget"].to_numpy(float))]
    return daily[daily["cost"] >= daily["budget"] * (1 - CAPPED_WITHIN)].reset_index(drop=True)


def _profile(hours: pd.DataFrame) -> dict[str, np.ndarray]:
    """The shop's usual share of a day's clicks and orders per hour (all campaigns)."""
    out = {}
    for name in ("clicks", "orders"):
        per_hour = np.bincount(hours["hour"], weights=hours[name].to_numpy(float), minlength=24)
        total = per_hour.sum()
        out[name] = per_hour / total if total > 0 else np.full(24, 1 / 24)
    return out


def online_shares(clicks: np.ndarray, last: int, profile: dict[str, np.ndarray]
                  ) -> tuple[float, float]:
    """Share of a usual day's clicks and orders online on a day whose ads stopped in hour
    ``last``: the hours before it whole, ``last`` for the part its clicks show (its clicks
    against what the hours before predict for it), the hours after it not at all."""
    click_p, order_p = profile["clicks"], profile["orders"]
    before_p = click_p[:last].sum()
    before = clicks[:last].sum()
    if before > 0 and before_p > 0 and click_p[last] > 0:
        part = min(1.0, clicks[last] / (before * click_p[last] / before_p))
    else:
        part = 1.0
    click_share = before_p + part * click_p[last]
    order_share = order_p[:last].sum() + part * order_p[last]
    return (float(np.clip(click_share, MIN_ONLINE, 1.0)),
            float(np.clip(order_share, MIN_ONLINE, 1.0)))


def uncapped(keywords: pd.DataFrame, capped: pd.DataFrame) -> pd.DataFrame:
    """The daily keyword history with each capped campaign-day divided by its online
    shares (``capped_days``); the input is not modified."""
    scaled = capped[(capped["click_share"] < 1) | (capped["order_share"] < 1)]
    if scaled.empty:
        return keywords
    key = pd.MultiIndex.from_frame(scaled[["campaign", "date"]].astype({"campaign": str}))
    rows = key.get_indexer(pd.MultiIndex.from_arrays(
        [keywords["campaign"].astype(str), keywords["date"]]))
    hit = rows >= 0
    out = keywords.copy()
    for names, share in ((TRAFFIC, scaled["click_share"]), (CONVERSION, scaled["order_share"])):
        divisor = np.where(hit, share.to_numpy(float)[np.where(hit, rows, 0)], 1.0)
        for name in names:
            if name in out.columns:
                out[name] = out[name].to_numpy(float) / divisor
    return out


def capped_notes(capped: pd.DataFrame, days: int) -> list[str]:
    """What the run summary says about capped days: per campaign, on how many days the
    budget stopped its ads, and whether the fit could correct for it."""
    if capped.empty:
        return []
    notes = []
    for campaign, group in capped.groupby("campaign", sort=True):
        measured = group["last_hour"].notna()
        budgets = group["budget"].unique()
        amount = f"{budgets[0]:,.2f}" if len(budgets) == 1 else "; ".join(
            f"{b:,.2f}" for b in sorted(budgets))
        stopped = ("its ads went offline before midnight" if measured.all()
                   else "its ads went offline before midnight on those the hour report shows"
                   if measured.any() else "its ads may have gone offline before midnight")
        text = (f"campaign '{campaign}' spent its daily budget ({amount}) "
                f"on {len(group)} of {days} days: {stopped}, so "
                "the budget binds and the plan holds the campaign to it")
        if measured.all():
            text += (f"; the hour report shows them stopping around "
                     f"{int(round(group['last_hour'].median())):d}:00 "
                     f"({group['click_share'].mean():.0%} of a day's clicks online), and the "
                     "fit counts those days at a full day's traffic")
        elif measured.any():
            text += (f"; {int(measured.sum())} of those days are rescaled to a full day by the "
                     "hour report, the others (not in it) under-rate the keywords' traffic")
        else:
            text += ("; without an hour report for those days the fit cannot tell whether or "
                     "how early they stopped, and if they did it under-rates the keywords' "
                     "traffic (add the hour report)")
        notes.append(text)
    return notes
