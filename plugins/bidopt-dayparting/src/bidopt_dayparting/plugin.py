"""The ``dayparting`` strategy: per-hour discounts (分时折扣) that move spend into the hours
with the best ROI, within each campaign's ROI floor and budget.

First, is there a daily rhythm at all? The shop's hour indices of conversion and price per
click are estimated from odd-day versus even-day agreement (``hours.split_half_spread``);
unless the hours differ by more than chance (permutation test, ``max_p_value``),
nothing is proposed: over two weeks of a small shop the rhythm is usually buried in
noise, and a schedule fitted to noise loses GMV. Otherwise, for every campaign: each
hour's rates are the campaign's times the shop's (shrunk) indices; get the campaign's response to a bid factor from the
fitted response model (``hours.discount_response``); then choose one discount per hour
maximising ``GMV - mu x cost`` over the allowed discounts, with the smallest price of spend
``mu`` at which the campaign's hours together stay above the ROI floor (a campaign already
below it: no worse than now), within the daily budget and within
``max_spend_increase_pct`` of today's spend. ``mu`` is what an extra
unit of spend must return: hours whose (shrunk) ROI beats it get a higher discount, the
others a lower one.

Each proposal carries its own forecast per day, as the decision step needs:
``base_*`` = the hour's average clicks and cost per report day and its shrunk GMV, at the
current discount; ``exp_*`` = the same scaled by the campaign's response at the proposed
discount. An hour report does not carry the discount it ran at, so each campaign-hour's
current discount is, per campaign x hour, first found: ``current_discounts`` of the config
(``{campaign: {hour: %}}``), the discount recorded in force by ``bidopt applied`` (``context.in_force``, after a
plan with hour discounts was uploaded), else the flat ``current_discount`` (100%). The
allowed discounts and the response are taken from each hour's own current discount.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pandas as pd
from bidopt import Strategy, StrategyParams, hookimpl, no_proposals, with_notes
from pydantic import Field, model_validator

from bidopt_dayparting.hours import discount_response, shrunk_rates

PROPOSAL_COLUMNS = [
    "campaign", "hour", "action", "current", "proposed", "reason", "group",
    "base_clicks", "base_cost", "base_gmv", "exp_clicks", "exp_cost", "exp_gmv",
]
_BISECTIONS = 40
# The hook contract this plugin was written for; bidopt refuses it if that changes.
BIDOPT_HOOK_VERSION = 1


class DaypartingParams(StrategyParams):
    """Parameters of the ``dayparting`` strategy (the ``strategies.dayparting`` section)."""

    min_discount: float = Field(30.0, ge=30, le=250, description="Lowest discount, percent.")
    max_discount: float = Field(250.0, ge=30, le=250, description="Highest discount, percent.")
    step: float = Field(5.0, gt=0, le=50, description="Discounts are multiples of this.")
    max_step_pct: float = Field(
        30.0, gt=0, le=220, description="Largest change of one hour's discount in a night, in points.")
    min_change_pct: float = Field(
        10.0, ge=0, description="Smaller changes are not proposed (churn is not free).")
    min_hour_clicks: int = Field(
        200, ge=0, description="Clicks an hour needs in the window before it is acted on.")
    max_p_value: float = Field(
        0.05, gt=0, le=1, description="Act only if odd and even days agree on which hours "
        "convert better with this p-value or less (permutation test).")
    max_spend_increase_pct: float = Field(
        0.0, ge=0, description="The campaign's spend may grow by at most this (0: move spend "
        "between hours, do not add).")
    current_discount: float = Field(
        100.0, ge=30, le=250, description="Discount in force now, percent, in every hour that "
        "neither current_discounts nor the state file (bidopt applied) gives one for.")
    current_discounts: dict[str, dict[Annotated[int, Field(ge=0, le=23)],
                                      Annotated[float, Field(ge=30, le=250)]]] = Field(
        default_factory=dict, description="Discounts in force now, percent, {campaign: {hour: "
        "%}}; they win over the state file's. Campaign-hours not given: the state file's, "
        "else current_discount.")

    @model_validator(mode="after")
    def _ordered(self) -> DaypartingParams:
        if self.min_discount > self.max_discount:
            raise ValueError("min_discount is above max_discount")
        return self


def _levels(params: DaypartingParams, current: float) -> np.ndarray:
    """Discounts allowed tonight for an hour at ``current``: on the step, within bounds and
    the nightly change, and not so close to the current one that the change is churn
    (``min_change_pct``); ``current`` itself is always allowed (no change)."""
    low = max(params.min_discount, current - params.max_step_pct)
    high = min(params.max_discount, current + params.max_step_pct)
    levels = np.arange(np.ceil(low / params.step), np.floor(high / params.step) + 1) * params.step
    big_enough = np.abs(levels - current) >= params.min_change_pct
    return np.unique(np.append(levels[big_enough], current))


def level_grid(params: DaypartingParams, current: np.ndarray) -> tuple[np.ndarray, ...]:
    """The discounts one campaign's hours may take tonight, given each hour's ``current``.

    Returns ``(levels, allowed, keep)``: every discount some hour may take (sorted), which of
    them each hour may take (hours x levels), and each hour's current level's position.
    """
    per_hour = {c: _levels(params, c) for c in np.unique(current)}
    levels = np.unique(np.concatenate(list(per_hour.values())))
    allowed = np.array([np.isin(levels, per_hour[c]) for c in current]).reshape(
        len(current), len(levels))
    keep = np.searchsorted(levels, current)
    return levels, allowed, keep


def _choose(value: np.ndarray, cost: np.ndarray, allowed: np.ndarray, acting: np.ndarray,
            keep: np.ndarray, mu: float) -> np.ndarray:
    """Level per hour maximising value - mu x cost among its allowed ones; hours not acted
    on keep theirs."""
    pick = np.argmax(np.where(allowed, value - mu * cost, -np.inf), axis=1)
    return np.where(acting, pick, keep)


def plan_campaign(hours: pd.DataFrame, clicks_ratio: np.ndarray, cost_ratio: np.ndarray,
                  levels: np.ndarray, allowed: np.ndarray, keep: np.ndarray, floor: float,
                  budget: float, params: DaypartingParams) -> np.ndarray:
    """Chosen discount per hour of one campaign (rows of ``hours``), see module docstring.

    ``clicks_ratio`` and ``cost_ratio`` (hours x levels) are each hour's clicks and cost at
    a level relative to its current discount; ``allowed`` and ``keep`` come from
    :func:`level_grid`.
    """
    days = hours["days"].to_numpy(float)
    base_clicks = hours["clicks"].to_numpy(float) / days
    base_cost = base_clicks * hours["cpc"].to_numpy(float)
    value = (base_clicks * hours["value_per_click"].to_numpy(float))[:, None] * clicks_ratio
    cost = base_cost[:, None] * cost_ratio
    acting = hours["clicks"].to_numpy(float) >= params.min_hour_clicks
    rows = np.arange(len(hours))
    base_cost, base_value = cost[rows, keep].sum(), value[rows, keep].sum()
    spend_cap = min(budget, base_cost * (1 + params.max_spend_increase_pct / 100))
    # Above the floor: stay above it. Below it: never worse than now (lifting a campaign to
    # its floor is the bid strategies' and the decision step's job, not the hours').
    roi_needed = min(floor, base_value / base_cost) if base_cost > 0 else floor

    def fits(mu: float) -> bool:
        pick = _choose(value, cost, allowed, acting, keep, mu)
        total_cost, total_value = cost[rows, pick].sum(), value[rows, pick].sum()
        return total_cost <= spend_cap + 1e-9 and total_value >= roi_needed * total_cost - 1e-9

    high = max(roi_needed, 1.0) * 4
    while not fits(high) and high < 1e6:
        high *= 4
    if not fits(high):  # nothing fits (e.g. over budget today): keep every hour as it is
        return levels[keep]
    low = 0.0
    if fits(low):
        return levels[_choose(value, cost, allowed, acting, keep, low)]
    for _ in range(_BISECTIONS):
        mid = (low + high) / 2
        low, high = (low, mid) if fits(mid) else (mid, high)
    return levels[_choose(value, cost, allowed, acting, keep, high)]


def current_discounts(context, params: DaypartingParams, table: pd.DataFrame
                      ) -> tuple[np.ndarray, list[str]]:
    """Each campaign-hour's discount in force (rows of ``table``), and notes on where they
    came from. Per campaign x hour: the config's ``current_discounts``, else what ``bidopt
    applied`` recorded (``context.in_force("hour_discount")``), else the flat
    ``current_discount``."""
    recorded = context.in_force("hour_discount")
    from_state = {(c, int(h)): float(v) for c, h, v in
                  zip(recorded["campaign"], recorded["hour"], recorded["value"], strict=True)}
    current, used = [], 0
    for campaign, hour in zip(table["campaign"].astype(str), table["hour"].astype(int),
                              strict=True):
        configured = params.current_discounts.get(campaign, {})
        if hour in configured:
            current.append(configured[hour])
        elif (campaign, hour) in from_state:
            current.append(from_state[(campaign, hour)])
            used += 1
        else:
            current.append(params.current_discount)
    notes = []
    if used:
        notes.append(f"hour discounts in force: {used} campaign-hours from the state file "
                     f"(recorded up to the night of {recorded['night'].max()})")
    unknown = sorted(set(params.current_discounts) - set(table["campaign"].astype(str)))
    if unknown:
        notes.append(f"current_discounts names {', '.join(map(repr, unknown))}, not in the "
                     "hour report: ignored")
    return np.asarray(current, float), notes


def propose(context, params: DaypartingParams) -> pd.DataFrame:
    """One ``set_hour_discount`` proposal per campaign-hour whose discount should change."""
    history = context.history.get("hours")
    if history is None or history.empty:
        return no_proposals("no hour report rows among the sources")
    table = shrunk_rates(history, params.max_p_value)
    rhythm = table.attrs["rhythm"]
    if not (rhythm["conversion"].detected or rhythm["price"].detected):
        return no_proposals("the hours' conversion and price differ by no more than chance")
    current, notes = current_discounts(context, params, table)
    table = table.assign(current=current)
    limits = context.campaigns.set_index("campaign")
    rows = []
    for campaign, hours in table.groupby("campaign", sort=True, observed=True):
        now = hours["current"].to_numpy(float)
        # an hour switched off (0%, set by hand) shows nothing to plan from: left as it is
        on = now > 0
        hours, now = hours[on], now[on]
        if hours.empty:
            continue
        levels, allowed, keep = level_grid(params, now)
        factors = levels[None, :] / now[:, None]
        unique, where = np.unique(factors, return_inverse=True)
        response = discount_response(context, campaign, unique)
        if response is None:
            continue
        clicks_ratio, cost_ratio = (r[where.reshape(factors.shape)] for r in response)
        floor = float(context.roi_floor(pd.Series([campaign]))[0])
        budget = float(limits["daily_budget"].get(campaign, np.inf))
        chosen = plan_campaign(hours, clicks_ratio, cost_ratio, levels, allowed, keep, floor,
                               budget, params)
        index = np.searchsorted(levels, chosen)
        for i, ((_, hour), new, at) in enumerate(zip(hours.iterrows(), chosen, index,
                                                    strict=True)):
            if new == now[i]:
                continue
            base_clicks = hour["clicks"] / hour["days"]
            base_cost = base_clicks * hour["cpc"]
            exp_clicks = base_clicks * clicks_ratio[i, at]
            rows.append({
                "campaign": campaign, "hour": int(hour["hour"]), "action": "set_hour_discount",
                "current": float(now[i]), "proposed": float(new),
                # a campaign's schedule is judged whole: raises and cuts together
                "group": f"dayparting:{campaign}",
                "reason": (
                    f"hour {int(hour['hour']):02d}: ROI {hour['roi']:.2f} vs campaign "
                    f"{hour['campaign_roi']:.2f} (shop rhythm, {hour['clicks']:.0f} clicks)"
                ),
                "base_clicks": base_clicks, "base_cost": base_cost,
                "base_gmv": base_clicks * hour["value_per_click"],
                "exp_clicks": exp_clicks, "exp_cost": base_cost * cost_ratio[i, at],
                "exp_gmv": exp_clicks * hour["value_per_click"],
            })
    return with_notes(pd.DataFrame(rows, columns=PROPOSAL_COLUMNS), *notes)


@hookimpl
def bidopt_register_strategies(register) -> None:
    register(Strategy(
        name="dayparting", propose=propose, params=DaypartingParams,
        description="Per-hour discounts (30-250%) moving spend into the best-ROI hours.",
    ))
