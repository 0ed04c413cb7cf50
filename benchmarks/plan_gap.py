"""Where bidopt's distance to the oracle goes: oracles that see the truth through one error.

The oracle of ``bench_plan.py`` knows the simulator's truth. bidopt knows a 14-day window
and its response model, and errs in two ways: in each keyword's level at today's bids (what
the window shows, and how the model reads it), and in its shape (how the keyword answers a
new bid). Each view below is an outcome table the oracle plans on, built from the truth with
one of those errors put back, or from bidopt's forecast with one of them taken out; every
plan is then judged on the real truth. Planned right at the floor, any error breaks about
half the floors, so each view is planned with a plain floor margin (every floor raised by
X%), and the margin that holds the floors shows what that error costs:

- ``window``: the truth's shape; each keyword's level as a plain pooled reading of its
  window gives it, against the truth on those days at those bids: its own clicks, its price
  per click (over its bid) shrunk toward its campaign's on its platform by
  ``CLICKS_STRENGTH`` clicks, and its GMV and orders per click shrunk toward its campaign's
  by ``ORDERS_STRENGTH`` orders (about the model's own pooling). What the window's noise
  allows a planner that knows how every keyword answers its bid but reads its level from
  the reports alone. A keyword without a click in its window keeps the truth's level.
- ``fc_level``: the truth's shape; each keyword's level as bidopt forecast it at today's
  bids (keywords under ``MIN_CLICKS`` true clicks a day take their campaign's ratio).
- ``fc_shape``: bidopt's forecast at every bid, each keyword scaled to the truth at today's
  bids: bidopt's shape with the right level.
- ``forecast``: bidopt's forecast as it is, with a plain floor margin instead of bidopt's
  margins: bidopt's errors under the same margin rule as the views above.

Besides the views, ``level_errors`` reads each keyword's ROI at today's bids as the window
view reads it and as bidopt forecasts it, against truth: ``level_error_table`` gives the
error of each per band of true clicks, ``calibration_table`` the slope of truth on bidopt's
forecast (``bench_plan.py --gap`` prints both).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from bench_model import calibration_slope

from bidopt.baselines import TRUTH_OUTCOMES, oracle_plan, truth_outcome
from bidopt.config import Config
from bidopt.context import KEYWORD_KEYS
from bidopt.simulate import Market

LEVEL_METRICS = ("clicks", "cost", "orders", "gmv")  # scaled; impressions keep the base's
CLICKS_STRENGTH, ORDERS_STRENGTH = 20.0, 10.0  # window levels' pooling toward the campaign's rates
MIN_CLICKS = 0.5  # fc_level: a keyword's own ratio from this many true clicks a day
VIEWS = ("window", "fc_level", "fc_shape", "forecast")

Outcome = Callable[..., pd.DataFrame]  # bids frame (KEYWORD_KEYS + bid) -> outcome rows


class ScaledView:
    """An outcome table (the market's ``expected`` or bidopt's forecast) with each keyword's
    clicks, cost, orders and GMV times its level factor: what ``oracle_plan`` plans on."""

    def __init__(self, outcome: Outcome, factors: pd.DataFrame | None = None):
        self.outcome, self.factors = outcome, factors

    def expected(self, bids: pd.DataFrame, **kwargs) -> pd.DataFrame:
        out = self.outcome(bids, **kwargs)
        if self.factors is None:
            return out
        rows = pd.MultiIndex.from_frame(out[KEYWORD_KEYS].astype(str))
        factors = self.factors.reindex(rows).fillna(1.0)
        for name in LEVEL_METRICS:
            out[name] = out[name].to_numpy(float) * factors[name].to_numpy(float)
        return out


def _string_index(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_axis(pd.MultiIndex.from_frame(
        frame.index.to_frame(index=False).astype(str)))


def window_levels(history: pd.DataFrame, market: Market, budgets: dict[str, float] | None,
                  seasonal: bool) -> pd.DataFrame:
    """Per keyword x platform: its level as its window reads, pooled toward its campaign's
    rates on its platform, over what the truth expected on those days at those bids. 1.0
    is a reading that hits the true level; 1.1 a lucky one. Each day's truth has the day's
    calendar factors and, with ``budgets``, stops at the budget, as the history's days did.

    The prior is the campaign's rate, never the truth's: pooling a keyword's ratio to the
    truth toward its campaign's ratio would hand every keyword its true conversion as prior.
    """
    bids = (history.pivot_table(index=KEYWORD_KEYS, columns="date", values="bid")
            .ffill(axis=1).bfill(axis=1))
    metrics = list(LEVEL_METRICS)
    days = []
    for day in bids.columns:
        view = market.on_day(pd.Timestamp(day).date(), seasonal=seasonal)
        days.append(view.expected(bids[day].rename("bid").reset_index(), budgets=budgets)
                    [KEYWORD_KEYS + metrics])
    truth = pd.concat(days).groupby(KEYWORD_KEYS)[metrics].sum()
    reported = (history.assign(paid_at_bid=history["bid"] * history["clicks"])
                .groupby(KEYWORD_KEYS)[metrics + ["paid_at_bid"]].sum()
                .reindex(truth.index).fillna(0.0))
    groups = ["campaign", "platform"]
    campaign = reported.groupby(level=groups).sum()
    campaign = campaign.reindex(pd.MultiIndex.from_frame(
        truth.index.to_frame(index=False)[groups])).set_axis(truth.index)
    price = campaign["cost"] / campaign["paid_at_bid"].clip(lower=1e-9)  # per click, over bid
    cvr = campaign["orders"] / campaign["clicks"].clip(lower=1e-9)
    per_order = campaign["gmv"] / campaign["orders"].clip(lower=1e-9)
    clicks = reported["clicks"]
    mean_bid = bids.mean(axis=1).reindex(truth.index)
    prior_clicks = ORDERS_STRENGTH / cvr.clip(lower=1e-9)  # clicks worth ORDERS_STRENGTH orders
    read = pd.DataFrame({
        "clicks": clicks,
        "cost": clicks * (reported["cost"] + CLICKS_STRENGTH * price * mean_bid)
        / (clicks + CLICKS_STRENGTH),
        "orders": clicks * (reported["orders"] + prior_clicks * cvr) / (clicks + prior_clicks),
        "gmv": clicks * (reported["gmv"] + prior_clicks * cvr * per_order)
        / (clicks + prior_clicks)})
    seen = (clicks.to_numpy() > 0)[:, None] & (truth.to_numpy() > 1e-9)
    return _string_index(pd.DataFrame(
        np.where(seen, read.to_numpy() / np.maximum(truth.to_numpy(), 1e-9), 1.0),
        index=truth.index, columns=metrics))


LEVEL_BANDS = (1.0, 3.0, 10.0, 30.0, 100.0, np.inf)  # true clicks in 14 days at today's bids
LEVEL_BAND_LABELS = ("1-3", "3-10", "10-30", "30-100", "100+")


def level_errors(window: pd.DataFrame, today: tuple[pd.DataFrame, pd.DataFrame],
                 state: pd.DataFrame) -> pd.DataFrame:
    """Per keyword x platform with a click in its window (``state``'s clicks): its true
    clicks and cost a day at today's bids, and the log ratio to the truth's ROI of its ROI as
    ``window`` reads it and as bidopt forecasts it (its own forecast, no campaign's ratio in
    its place). ``today``: ``at_todays_bids``, shared with ``views``."""
    fc, true = today
    clicks_seen = state["clicks"].to_numpy(float)
    seen = clicks_seen > 0
    read = window.reindex(true.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        true_roi = true["gmv"].to_numpy(float) / true["cost"].to_numpy(float)
        fc_roi = fc["gmv"].to_numpy(float) / fc["cost"].to_numpy(float)
        window_over_true = read["gmv"].to_numpy(float) / read["cost"].to_numpy(float)
        fc_over_true = fc_roi / true_roi
    keep = seen & (true_roi > 0) & np.isfinite(true_roi) & (fc["clicks"].to_numpy(float) > 0)
    keep &= (window_over_true > 0) & np.isfinite(window_over_true)
    keep &= (fc_over_true > 0) & np.isfinite(fc_over_true)
    per_click = {name: np.divide(frame["gmv"].to_numpy(float), frame["clicks"].to_numpy(float),
                                 out=np.ones(len(frame)), where=keep)
                 for name, frame in (("fc", fc), ("true", true))}
    return pd.DataFrame({"platform": state["platform"].astype(str).to_numpy(),
                         "campaign": state["campaign"].astype(str).to_numpy(),
                         "window_clicks": np.where(seen, clicks_seen, 0.0),
                         "true_clicks": true["clicks"].to_numpy(float),
                         "true_cost": true["cost"].to_numpy(float),
                         "window": np.log(np.where(keep, window_over_true, 1.0)),
                         "forecast": np.log(np.where(keep, fc_over_true, 1.0)),
                         "forecast_roi": np.where(keep, fc_roi, 1.0),
                         "true_roi": np.where(keep, true_roi, 1.0),
                         "forecast_per_click": per_click["fc"],
                         "true_per_click": per_click["true"]})[keep]


def level_error_table(errors: pd.DataFrame, days: int = 14) -> pd.DataFrame:
    """Root mean square of each reading's log ROI error, weighted by true cost, per platform
    x band of true clicks over ``days`` days (the rows of ``level_errors``)."""
    band = pd.cut(errors["true_clicks"] * days, LEVEL_BANDS, right=False, labels=LEVEL_BAND_LABELS)

    def rms(rows: pd.DataFrame) -> pd.Series:
        w = rows["true_cost"].to_numpy(float)
        return pd.Series({"keywords": len(rows), "true_cost": w.sum(), **{
            name: float(np.sqrt(np.average(rows[name] ** 2, weights=w))) if w.sum() > 0 else np.nan
            for name in ("window", "forecast")}})

    return (errors.assign(band=band).dropna(subset=["band"])
            .groupby(["platform", "band"], observed=True)[["true_cost", "window", "forecast"]]
            .apply(rms))


CALIBRATION_BANDS = (1.0, 10.0, 30.0, 100.0, np.inf)  # clicks in the window
CALIBRATION_LABELS = ("1-9", "10-29", "30-99", "100+")


def calibration_table(errors: pd.DataFrame) -> pd.DataFrame:
    """Per platform x band of window clicks: the slope of the truth's GMV per click and ROI
    on bidopt's forecast within each shop's campaigns, weighted by true cost
    (``bench_model.calibration_slope``; 1 is neither shrunk too far nor too little)."""
    band = pd.cut(errors["window_clicks"], CALIBRATION_BANDS, right=False,
                  labels=CALIBRATION_LABELS)
    group = errors["shop"] + "/" + errors["campaign"] if "shop" in errors else errors["campaign"]

    def slopes(rows: pd.DataFrame) -> pd.Series:
        codes, w = group[rows.index].to_numpy(), rows["true_cost"].to_numpy(float)
        return pd.Series({"keywords": len(rows), **{
            name: calibration_slope(rows[f"forecast_{col}"].to_numpy(float),
                                    rows[f"true_{col}"].to_numpy(float), codes, w)
            for name, col in (("per_click", "per_click"), ("roi", "roi"))}})

    return (errors.assign(band=band).dropna(subset=["band"])
            .groupby(["platform", "band"], observed=True)[errors.columns.tolist()]
            .apply(slopes))


def forecast_outcome(forecast: Callable) -> Outcome:
    """bidopt's one-day forecast (``RunContext.forecast``) as an outcome table."""
    def outcome(bids: pd.DataFrame, paused_keywords=None, **_) -> pd.DataFrame:
        keys = bids[KEYWORD_KEYS].reset_index(drop=True)
        fc = forecast(keys, bids["bid"].to_numpy(float)[:, None])
        return keys.assign(**{name: np.asarray(getattr(fc, name), float)[:, 0]
                              for name in TRUTH_OUTCOMES})
    return outcome


def at_todays_bids(forecast: Callable, market: Market, state: pd.DataFrame
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """bidopt's forecast and the truth of every state row at its bid today (``TRUTH_OUTCOMES``),
    indexed by the row's keyword keys as strings."""
    bids = state["bid"].to_numpy(float)
    index = pd.MultiIndex.from_frame(state[KEYWORD_KEYS].astype(str))
    fc = forecast_outcome(forecast)(state[KEYWORD_KEYS].assign(bid=bids))
    ours = pd.DataFrame(fc[list(TRUTH_OUTCOMES)].to_numpy(float), index=index,
                        columns=list(TRUTH_OUTCOMES))
    return ours, pd.DataFrame(truth_outcome(market, state, bids), index=index)


def forecast_over_truth(today: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    """Per state row: bidopt's forecast at today's bids over the truth's (clicks, cost,
    orders, GMV; ``today`` from ``at_todays_bids``); rows under ``MIN_CLICKS`` true clicks
    take their campaign's ratio."""
    ours, true = (frame[list(LEVEL_METRICS)] for frame in today)
    index = true.index
    campaign = ours.groupby(level="campaign").sum() / true.groupby(level="campaign").sum()
    prior = campaign.reindex(index.get_level_values("campaign")).to_numpy(float)
    own = (true["clicks"].to_numpy() >= MIN_CLICKS)[:, None] & (true.to_numpy() > 1e-9)
    ratio = np.where(own, ours.to_numpy() / np.maximum(true.to_numpy(), 1e-9), prior)
    return pd.DataFrame(ratio, index=index, columns=list(LEVEL_METRICS))


def views(market: Market, forecast: Callable, today: tuple[pd.DataFrame, pd.DataFrame],
          window: pd.DataFrame | None) -> dict[str, ScaledView]:
    """The four views of the module's docstring (``window`` when its levels are given);
    ``today``: ``at_todays_bids`` of the same forecast and market."""
    truth = market.expected
    ours = forecast_outcome(forecast)
    ratio = forecast_over_truth(today)
    out = {"fc_level": ScaledView(truth, ratio), "fc_shape": ScaledView(ours, 1 / ratio),
           "forecast": ScaledView(ours)}
    if window is not None:
        out = {"window": ScaledView(truth, window), **out}
    return out


def with_floor_margin(config: Config, pct: float) -> Config:
    """``config`` with every campaign's ROI floor raised by ``pct`` percent."""
    up = 1 + pct / 100
    rules = config.constraints
    campaigns = {name: limits.model_copy(update={"roi_floor": rules.for_campaign(name)[0] * up})
                 for name, limits in rules.campaigns.items()}
    constraints = rules.model_copy(update={"roi_floor": rules.roi_floor * up,
                                           "campaigns": campaigns})
    return config.model_copy(update={"constraints": constraints})


def gap_plans(state: pd.DataFrame, seen: dict[str, ScaledView], config: Config,
              margins: tuple[float, ...], margin: np.ndarray | None = None,
              ) -> dict[str, pd.DataFrame]:
    """The oracle's bids on every view at every floor margin: ``{"window+10%": bids}``."""
    return {f"{name}+{pct:g}%": oracle_plan(state, view, with_floor_margin(config, pct),
                                            margin=margin).bids
            for name, view in seen.items() for pct in margins}
