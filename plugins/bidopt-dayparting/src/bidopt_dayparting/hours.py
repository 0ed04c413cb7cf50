"""Hour-of-day economics: how much hours really differ, and the campaign's response to a discount.

An hour report is thin: a campaign-hour sees a few clicks and often no order a day, so an
hour's raw ROI over two weeks is mostly noise. Two things are estimated without any noise
model, by splitting the window into odd and even days (two independent samples of the
same hours):

- **Is there a daily rhythm at all?** Each hour's index (its conversion, or price per click,
  relative to its campaign's, pooled over the shop's campaigns) is computed on odd days and
  on even days. Noise is independent between the halves and a real rhythm is not, so the
  weighted covariance of the two halves' deviations estimates the true between-hour
  variance (:func:`split_half_spread`). Whether it is more than luck is a permutation
  test: pairing each odd-day hour with a random even-day hour destroys any real rhythm and
  keeps the noise, so the share of random pairings that agree at least as well is the
  p-value. Unless it is below ``max_p_value`` (and the spread is worth acting on, a
  standard deviation of at least 2%), the rhythm is taken to be flat and every hour gets
  its campaign's rates.
- **How far to trust each hour.** The noise of an hour's index is estimated from how much
  its two halves disagree; an hour's deviation is shrunk by ``spread / (spread + noise)``.

The rhythm is pooled over the shop's campaigns (shoppers' daily rhythm is largely shared,
and one campaign's 24 hours over two weeks are too few to tell its own rhythm from luck);
campaign-specific rhythms are not estimated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

KEYWORD_KEYS = ["campaign", "item", "keyword", "platform"]
SUMMED = ["clicks", "cost", "orders", "gmv"]
# Hours differing by less than this (variance of the index; 2% standard deviation) are
# not worth a schedule, however sure the estimate.
MIN_SPREAD = 0.02**2
PERMUTATIONS = 2000


@dataclass(frozen=True)
class Rhythm:
    """One shop-wide hour index (conversion or price per click relative to the campaign's)."""

    index: pd.Series  # hour -> shrunk index (1.0 everywhere when no rhythm is detected)
    spread: float  # estimated true between-hour variance of the index (split-half)
    p_value: float  # permutation test of "the halves agree on the hours by luck"
    detected: bool  # p_value <= max_p_value and spread >= MIN_SPREAD


def hour_totals(hours: pd.DataFrame) -> pd.DataFrame:
    """One row per campaign x hour: window sums, and the campaign's number of report days."""
    days = hours.groupby("campaign", observed=True)["date"].nunique()
    table = (hours.groupby(["campaign", "hour"], observed=True)[SUMMED].sum().reset_index())
    table["days"] = table["campaign"].map(days).astype(float)
    return table


def _half_of_day(dates: pd.Series) -> np.ndarray:
    """0 for odd days, 1 for even days (by day number, so neighbouring days alternate)."""
    ordinal = pd.to_datetime(dates).to_numpy("datetime64[D]").astype(np.int64)
    return (ordinal % 2).astype(int)


def split_half_spread(hours: pd.DataFrame, numerator: str, denominator: str,
                      max_p_value: float = 0.05) -> Rhythm:
    """The shop's hour index of ``numerator / denominator`` (e.g. orders per click), shrunk.

    Per half (odd / even days) and campaign, each campaign-hour's ``numerator`` is set
    against what it would be at the campaign's own ratio in that half; summed over
    campaigns, that gives each hour's index per half, ``I[h, half]``. With ``d = I - 1`` and
    weights ``w[h]`` (the hour's expected numerator over the window):

    - ``spread = sum(w d_odd d_even) / sum(w)``: the true between-hour variance (the
      halves' noise is independent, so it cancels in expectation);
    - ``p_value``: share of random pairings of odd-day with even-day hours (seeded, so
      the result is reproducible) whose weighted covariance is at least ``spread``;
    - noise of an hour's full-window index ``c / w[h]``, with
      ``c = mean(w (d_odd - d_even)^2 / 4)``;
    - shrunk index ``1 + (I[h] - 1) x spread / (spread + c / w[h])`` if ``p_value <=
      max_p_value`` and ``spread >= MIN_SPREAD``, else 1 for every hour.
    """
    hours = hours[hours[denominator] > 0]
    frame = pd.DataFrame({
        "campaign": hours["campaign"].to_numpy(), "hour": hours["hour"].to_numpy(int),
        "half": _half_of_day(hours["date"]),
        "num": hours[numerator].to_numpy(float), "den": hours[denominator].to_numpy(float),
    })
    frame = frame.groupby(["campaign", "hour", "half"], observed=True)[["num", "den"]].sum()
    frame = frame.reset_index()
    by_half = frame.groupby(["campaign", "half"], observed=True)[["num", "den"]].transform("sum")
    ratio = (by_half["num"] / by_half["den"].where(by_half["den"] > 0)).fillna(0.0)
    frame["expected"] = frame["den"] * ratio
    cells = frame.groupby(["hour", "half"])[["num", "expected"]].sum().unstack("half")
    every_hour = pd.Index(range(24), name="hour")
    flat = Rhythm(pd.Series(1.0, index=every_hour), 0.0, 1.0, False)
    if cells.shape[1] < 4:  # a single half (one report day): nothing to compare
        return flat
    num, expected = cells["num"].fillna(0.0), cells["expected"].fillna(0.0)
    both = (expected[0] > 0) & (expected[1] > 0)
    if both.sum() < 3:
        return flat
    num, expected = num[both], expected[both]
    dev = num / expected - 1.0
    weight = expected.sum(axis=1).to_numpy(float)
    odd, even = dev[0].to_numpy(float), dev[1].to_numpy(float)
    total = weight.sum()
    spread = float(np.sum(weight * odd * even) / total)
    rng = np.random.default_rng(0)
    shuffled = even[rng.permuted(np.tile(np.arange(len(even)), (PERMUTATIONS, 1)), axis=1)]
    null = (weight * odd * shuffled).sum(axis=1) / total
    p_value = float((1 + np.sum(null >= spread)) / (1 + PERMUTATIONS))
    noise_scale = float(np.mean(weight * (odd - even) ** 2 / 4.0))
    detected = p_value <= max_p_value and spread >= MIN_SPREAD
    if not detected:
        return Rhythm(flat.index, spread, p_value, False)
    raw = num.sum(axis=1) / expected.sum(axis=1)
    noise = noise_scale / weight
    shrunk = 1.0 + (raw - 1.0) * spread / (spread + noise)
    return Rhythm(shrunk.reindex(every_hour, fill_value=1.0), spread, p_value, True)


def shrunk_rates(hours: pd.DataFrame, max_p_value: float = 0.05) -> pd.DataFrame:
    """Window sums per campaign x hour (:func:`hour_totals`) plus ``cvr``, ``cpc``,
    ``value_per_click`` and ``roi``: the campaign's rates times the shop's hour indices
    (:func:`split_half_spread` on orders per click and on cost per click); order value is
    the campaign's (hours differ in who converts, not in basket size). ``hours`` is the
    daily hour report (``context.history["hours"]``). ``attrs["rhythm"]`` holds the two
    :class:`Rhythm` estimates.
    """
    table = hour_totals(hours)
    conversion = split_half_spread(hours, "orders", "clicks", max_p_value)
    price = split_half_spread(hours, "cost", "clicks", max_p_value)
    grouped = table.groupby("campaign", observed=True)
    clicks = grouped["clicks"].transform("sum")
    orders = grouped["orders"].transform("sum")
    cost = grouped["cost"].transform("sum")
    gmv = grouped["gmv"].transform("sum")
    campaign_cvr = (orders / clicks.where(clicks > 0)).fillna(0.0)
    campaign_cpc = (cost / clicks.where(clicks > 0)).fillna(0.0)
    order_value = (gmv / orders.where(orders > 0)).fillna(0.0)
    cvr = campaign_cvr * table["hour"].map(conversion.index).fillna(1.0)
    cpc = campaign_cpc * table["hour"].map(price.index).fillna(1.0)
    value = cvr * order_value
    out = table.assign(
        cvr=cvr, cpc=cpc, value_per_click=value,
        roi=(value / cpc.where(cpc > 0)).fillna(0.0),
        campaign_roi=(gmv / cost.where(cost > 0)).fillna(0.0),
    )
    out.attrs["rhythm"] = {"conversion": conversion, "price": price}
    return out


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
