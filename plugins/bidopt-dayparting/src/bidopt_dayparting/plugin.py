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
discount. The current discount is taken to be 100% for every hour (an hour report does
not carry it); set ``current_discount`` if the shop already runs one flat discount.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from bidopt import Strategy, StrategyParams, hookimpl, no_proposals
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
        100.0, ge=30, le=250, description="Discount in force in every hour now, percent.")

    @model_validator(mode="after")
    def _ordered(self) -> DaypartingParams:
        if self.min_discount > self.max_discount:
            raise ValueError("min_discount is above max_discount")
        return self


def _levels(params: DaypartingParams) -> np.ndarray:
    """Discounts allowed tonight: on the step, within bounds and the nightly change, and
    not so close to the current one that the change is churn (``min_change_pct``)."""
    low = max(params.min_discount, params.current_discount - params.max_step_pct)
    high = min(params.max_discount, params.current_discount + params.max_step_pct)
    levels = np.arange(np.ceil(low / params.step), np.floor(high / params.step) + 1) * params.step
    big_enough = np.abs(levels - params.current_discount) >= params.min_change_pct
    return np.unique(np.append(levels[big_enough], params.current_discount))


def _choose(value: np.ndarray, cost: np.ndarray, acting: np.ndarray, keep: int, mu: float
            ) -> np.ndarray:
    """Level per hour maximising value - mu x cost; hours not acted on keep theirs."""
    pick = np.argmax(value - mu * cost, axis=1)
    return np.where(acting, pick, keep)


def plan_campaign(hours: pd.DataFrame, clicks_ratio: np.ndarray, cost_ratio: np.ndarray,
                  levels: np.ndarray, floor: float, budget: float,
                  params: DaypartingParams) -> np.ndarray:
    """Chosen discount per hour of one campaign (rows of ``hours``), see module docstring."""
    days = hours["days"].to_numpy(float)
    base_clicks = hours["clicks"].to_numpy(float) / days
    base_cost = base_clicks * hours["cpc"].to_numpy(float)
    value = (base_clicks * hours["value_per_click"].to_numpy(float))[:, None] * clicks_ratio
    cost = base_cost[:, None] * cost_ratio
    keep = int(np.flatnonzero(levels == params.current_discount)[0])
    acting = hours["clicks"].to_numpy(float) >= params.min_hour_clicks
    base_cost, base_value = cost[:, keep].sum(), value[:, keep].sum()
    spend_cap = min(budget, base_cost * (1 + params.max_spend_increase_pct / 100))
    # Above the floor: stay above it. Below it: never worse than now (lifting a campaign to
    # its floor is the bid strategies' and the decision step's job, not the hours').
    roi_needed = min(floor, base_value / base_cost) if base_cost > 0 else floor
    rows = np.arange(len(hours))

    def fits(mu: float) -> bool:
        pick = _choose(value, cost, acting, keep, mu)
        total_cost, total_value = cost[rows, pick].sum(), value[rows, pick].sum()
        return total_cost <= spend_cap + 1e-9 and total_value >= roi_needed * total_cost - 1e-9

    high = max(roi_needed, 1.0) * 4
    while not fits(high) and high < 1e6:
        high *= 4
    if not fits(high):  # nothing fits (e.g. over budget today): keep every hour as it is
        return np.full(len(hours), params.current_discount)
    low = 0.0
    if fits(low):
        return levels[_choose(value, cost, acting, keep, low)]
    for _ in range(_BISECTIONS):
        mid = (low + high) / 2
        low, high = (low, mid) if fits(mid) else (mid, high)
    return levels[_choose(value, cost, acting, keep, high)]


def propose(context, params: DaypartingParams) -> pd.DataFrame:
    """One ``set_hour_discount`` proposal per campaign-hour whose discount should change."""
    history = context.history.get("hours")
    if history is None or history.empty:
        return no_proposals("no hour report rows among the sources")
    table = shrunk_rates(history, params.max_p_value)
    rhythm = table.attrs["rhythm"]
    if not (rhythm["conversion"].detected or rhythm["price"].detected):
        return no_proposals("the hours' conversion and price differ by no more than chance")
    levels = _levels(params)
    limits = context.campaigns.set_index("campaign")
    rows = []
    for campaign, hours in table.groupby("campaign", sort=True, observed=True):
        response = discount_response(context, campaign, levels / params.current_discount)
        if response is None:
            continue
        clicks_ratio, cost_ratio = response
        floor = float(context.roi_floor(pd.Series([campaign]))[0])
        budget = float(limits["daily_budget"].get(campaign, np.inf))
        chosen = plan_campaign(hours, clicks_ratio, cost_ratio, levels, floor, budget, params)
        index = np.searchsorted(levels, chosen)
        for (_, hour), new, at in zip(hours.iterrows(), chosen, index, strict=True):
            if new == params.current_discount:
                continue
            base_clicks = hour["clicks"] / hour["days"]
            base_cost = base_clicks * hour["cpc"]
            exp_clicks = base_clicks * clicks_ratio[at]
            rows.append({
                "campaign": campaign, "hour": int(hour["hour"]), "action": "set_hour_discount",
                "current": params.current_discount, "proposed": float(new),
                # a campaign's schedule is judged whole: raises and cuts together
                "group": f"dayparting:{campaign}",
                "reason": (
                    f"hour {int(hour['hour']):02d}: ROI {hour['roi']:.2f} vs campaign "
                    f"{hour['campaign_roi']:.2f} (shop rhythm, {hour['clicks']:.0f} clicks)"
                ),
                "base_clicks": base_clicks, "base_cost": base_cost,
                "base_gmv": base_clicks * hour["value_per_click"],
                "exp_clicks": exp_clicks, "exp_cost": base_cost * cost_ratio[at],
                "exp_gmv": exp_clicks * hour["value_per_click"],
            })
    return pd.DataFrame(rows, columns=PROPOSAL_COLUMNS)


@hookimpl
def bidopt_register_strategies(register) -> None:
    register(Strategy(
        name="dayparting", propose=propose, params=DaypartingParams,
        description="Per-hour discounts (30-250%) moving spend into the best-ROI hours.",
    ))
