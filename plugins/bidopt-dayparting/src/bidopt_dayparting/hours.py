"""Hour-of-day economics: shrunk hourly rates and the campaign's response to a discount.

An hour report is thin: a campaign-hour sees a few clicks and often no order a day, so an
hour's raw ROI over two weeks is mostly noise. Each hour's conversion rate and price per
click are therefore shrunk toward its campaign's (empirical Bayes, beta-binomial method of
moments, the spread pooled over the shop's campaigns) times the shop's own daily rhythm
(every campaign's hours pooled, itself shrunk toward "no rhythm"): an hour moves away
from that only as far as its own clicks justify, and when hours do not differ by more
than chance, none does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KEYWORD_KEYS = ["campaign", "item", "keyword", "platform"]
SUMMED = ["clicks", "cost", "orders", "gmv"]
# Bounds on the prior's strength, in clicks: never trust a single hour more than its own
# data (>= 20 pseudo-clicks), and treat "no spread between hours" as a very strong prior.
MIN_PRIOR_CLICKS = 20.0
MAX_PRIOR_CLICKS = 1e7


def hour_totals(hours: pd.DataFrame) -> pd.DataFrame:
    """One row per campaign x hour: window sums, and the campaign's number of report days."""
    days = hours.groupby("campaign", observed=True)["date"].nunique()
    table = (hours.groupby(["campaign", "hour"], observed=True)[SUMMED].sum().reset_index())
    table["days"] = table["campaign"].map(days).astype(float)
    return table


def relative_spread(table: pd.DataFrame) -> float:
    """True between-hour variance of conversion, relative to the rate squared, shop-wide.

    Method of moments per campaign: the click-weighted spread of its hours' rates around
    the campaign's rate, minus what binomial noise alone would give; pooled over the
    shop's campaigns (weighted by clicks), because one campaign's 24 hours are too few to
    tell a real daily rhythm from luck, and shoppers' daily rhythm is largely shared.
    """
    spread, weight = 0.0, 0.0
    for _, group in table.groupby("campaign", sort=False, observed=True):
        clicks = group["clicks"].to_numpy(float)
        orders = group["orders"].to_numpy(float)
        seen = clicks > 0
        total = clicks[seen].sum()
        if seen.sum() < 2 or total <= 0:
            continue
        p = orders[seen].sum() / total
        if p <= 0 or p >= 1:
            continue
        rate = orders[seen] / clicks[seen]
        observed = float(np.sum(clicks[seen] * (rate - p) ** 2) / total)
        noise = p * (1 - p) * seen.sum() / total
        spread += total * (observed - noise) / p**2
        weight += total
    return max(spread / weight, 0.0) if weight > 0 else 0.0


def prior_strength(campaign_cvr: float, spread: float) -> float:
    """Beta prior strength (in clicks) for hours of a campaign converting at ``campaign_cvr``.

    A beta prior with mean ``p`` and variance ``tau2 = spread x p^2`` has strength
    ``p (1 - p) / tau2 - 1``; no spread beyond chance means a (nearly) infinite prior.
    """
    p = campaign_cvr
    if spread <= 0 or p <= 0 or p >= 1:
        return MAX_PRIOR_CLICKS
    return float(np.clip((1 - p) / (p * spread) - 1.0, MIN_PRIOR_CLICKS, MAX_PRIOR_CLICKS))


def _expected_orders(table: pd.DataFrame) -> pd.Series:
    """Orders each campaign-hour would have at its campaign's overall conversion rate."""
    clicks = table.groupby("campaign", observed=True)["clicks"].transform("sum")
    orders = table.groupby("campaign", observed=True)["orders"].transform("sum")
    return table["clicks"] * (orders / clicks.where(clicks > 0)).fillna(0.0)


def shop_hour_index(table: pd.DataFrame, spread: float, leave_out: str | None = None
                    ) -> pd.Series:
    """Each hour's conversion relative to its campaigns' rates, over the shop, shrunk.

    Poisson-gamma: orders in hour ``h`` against the orders expected at each campaign's own
    rate, with a gamma prior of mean 1 and variance ``spread``; no spread gives 1 for every
    hour. ``leave_out`` drops one campaign, so that a campaign's prior is not made of its
    own data (a one-campaign shop then has no rhythm to borrow).
    """
    frame = pd.DataFrame({"hour": table["hour"], "orders": table["orders"],
                          "expected": _expected_orders(table)})
    if leave_out is not None:
        frame = frame[(table["campaign"] != leave_out).to_numpy()]
    by_hour = frame.groupby("hour").sum()
    if spread <= 0:
        return pd.Series(1.0, index=by_hour.index)
    strength = 1.0 / spread
    return (by_hour["orders"] + strength) / (by_hour["expected"] + strength)


def shrunk_rates(table: pd.DataFrame, prior_clicks: float | None = None) -> pd.DataFrame:
    """Add ``cvr``, ``cpc``, ``value_per_click`` and ``roi`` per hour, shrunk per campaign.

    An hour's conversion rate is shrunk toward its campaign's rate times the shop's index
    for that hour in its other campaigns (:func:`shop_hour_index`), its price per click toward the campaign's.
    Order value is the campaign's (hours differ in who converts, not in basket size);
    ``prior`` is the strength used (``prior_clicks`` if given, else estimated).
    """
    parts = []
    spread = relative_spread(table)
    for campaign, group in table.groupby("campaign", sort=False, observed=True):
        index = shop_hour_index(table, spread, leave_out=campaign)
        clicks = group["clicks"].to_numpy(float)
        orders = group["orders"].to_numpy(float)
        cost = group["cost"].to_numpy(float)
        total_clicks = max(clicks.sum(), 1e-9)
        campaign_cvr = orders.sum() / total_clicks
        campaign_cpc = cost.sum() / total_clicks
        order_value = group["gmv"].sum() / orders.sum() if orders.sum() > 0 else 0.0
        k = prior_clicks if prior_clicks is not None else prior_strength(campaign_cvr, spread)
        prior_cvr = campaign_cvr * group["hour"].map(index).fillna(1.0).to_numpy(float)
        cvr = (orders + k * prior_cvr) / (clicks + k)
        cpc = (cost + k * campaign_cpc) / (clicks + k)
        value = cvr * order_value
        parts.append(group.assign(
            cvr=cvr, cpc=cpc, value_per_click=value,
            roi=np.divide(value, cpc, out=np.zeros_like(value), where=cpc > 0),
            campaign_roi=group["gmv"].sum() / cost.sum() if cost.sum() > 0 else 0.0,
            prior=k,
        ))
    return pd.concat(parts, ignore_index=True) if parts else table.assign(
        cvr=[], cpc=[], value_per_click=[], roi=[], campaign_roi=[], prior=[])


def discount_response(context, campaign: str, factors: np.ndarray) -> tuple[np.ndarray, ...]:
    """Clicks and cost of ``campaign`` at every bid factor, relative to factor 1.

    An hour discount multiplies every keyword's bid in that hour, so the response model is
    asked for the campaign's keywords at ``bid x factor``; summing over keywords gives the
    campaign's curve, which every hour of the campaign is assumed to follow (hours differ
    in volume and conversion, not in how the auction answers a bid). Returns
    ``(clicks_ratio, cost_ratio)``, or None when the model has no keyword of the campaign.
    """
    keywords = context.keywords[context.keywords["campaign"] == campaign]
    bids = keywords["bid"].to_numpy(float)
    usable = np.isfinite(bids) & (bids > 0)
    if not usable.any():
        return None
    keywords, bids = keywords[usable], bids[usable]
    grid = np.append(factors, 1.0)
    forecast = context.forecast(keywords[KEYWORD_KEYS], bids[:, None] * grid[None, :])
    clicks = np.asarray(forecast.clicks, float).sum(axis=0)
    cost = np.asarray(forecast.cost, float).sum(axis=0)
    if clicks[-1] <= 0 or cost[-1] <= 0:
        return None
    return clicks[:-1] / clicks[-1], cost[:-1] / cost[-1]
