"""Fit-time passes that forecast the history at its own bids, after the parameters are set.

Each one re-evaluates the fitted model in-sample: campaign x platform level calibration,
the day-to-day variance of each metric, and the outcome intervals' recalibration. They live
apart from ``response`` so ``fit`` reads as the estimation steps in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bidopt.model.calibration import apply_factors, level_factors
from bidopt.model.evaluate import AOV_CV2, evaluate
from bidopt.model.history import first_index, group_codes, take_rows
from bidopt.model.intervals import COUNT_METRICS, MIN_BAND_ROWS, band_of, recalibrate

if TYPE_CHECKING:
    from bidopt.model.response import ResponseModel

SCALE_SAMPLE_ROWS = 60_000
"""Last-day rows (at most) on which the outcome intervals are recalibrated in fit."""


def calibrate_levels(model: ResponseModel, ent, valid_bid, x, w_day, num) -> pd.DataFrame:
    """Scale campaign x platform levels so in-sample totals match the reports (conversion:
    the orders and, with ``model.engagement``, the carts and favourites; the link used is
    kept in ``model.engagement_link_``)."""
    table = model.entities_
    group, n_groups = group_codes(table["campaign"], table["platform"])
    rows = valid_bid
    fc = evaluate(model, take_rows(model.params_, ent[rows]), np.exp(x[rows])[:, None], intervals=False)
    metrics = ("impressions", "clicks", "cost", "orders", "gmv", "carts", "favorites")
    factors, model.engagement_link_ = level_factors(
        group[ent[rows]], n_groups, w_day[rows],
        {m: num[m][rows] for m in metrics},
        {m: getattr(fc, m)[:, 0] for m in metrics},
        engagement=model.engagement,
    )
    apply_factors(model.params_, group, factors)
    first = first_index(group, n_groups)
    frame = table.iloc[first][["campaign", "platform"]].reset_index(drop=True)
    return frame.assign(**{f"{name}_factor": f for name, f in factors.items()})


def day_variance(model: ResponseModel, ent, valid_bid, x, w_day, num) -> dict[str, float]:
    """Moment estimate of the multiplicative day-to-day variance per metric."""
    rows = valid_bid
    e = ent[rows]
    p = model.params_
    fc = evaluate(model, take_rows(p, e), np.exp(x[rows])[:, None], intervals=False)
    w = w_day[rows]
    out: dict[str, float] = {}
    unit = {"clicks": 1.0, "impressions": 1.0, "orders": 1.0, "carts": 1.0, "favorites": 1.0}
    unit["cost"] = fc.cpc()[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        aov = np.where(fc.orders[:, 0] > 0, fc.gmv[:, 0] / fc.orders[:, 0], 0.0)
    unit["gmv"] = aov * (1 + AOV_CV2)
    for m in ("impressions", "clicks", "cost", "orders", "gmv", "carts", "favorites"):
        mu = getattr(fc, m)[:, 0]
        obs = num[m][rows]
        excess = np.sum(w * ((obs - mu) ** 2 - unit[m] * mu))
        denom = np.sum(w * mu**2)
        out[m] = float(np.clip(excess / denom, 0.0, 4.0)) if denom > 0 else 0.25
    return out


def interval_scale(model: ResponseModel, ent, valid_bid, x, dates, num) -> dict[str, np.ndarray]:
    """Recalibrate the outcome spread on the history's last day (see ``intervals``).

    The last day's rows are forecast at their own bids (in-sample, as ``calibrate_levels`` does)
    and, per metric x platform x evidence band, the factor on the relative variance that
    makes the randomised-PIT coverage of the ``interval`` equal to nominal is kept. Bands
    with too few rows borrow the factor of the band below them, then keep 1.
    """
    n_plat = len(model.platforms_)
    n_band = 4
    rows = np.flatnonzero(valid_bid & (dates == dates.max()))
    if len(rows) > SCALE_SAMPLE_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(rows, SCALE_SAMPLE_ROWS, replace=False))
    ones = {m: np.ones(n_plat * n_band) for m in COUNT_METRICS}
    if len(rows) < MIN_BAND_ROWS:
        return ones
    p = take_rows(model.params_, ent[rows])
    spec = evaluate(model, p, np.exp(x[rows])[:, None], intervals="spec")
    band = band_of(p["clicks_seen"])
    plat = p["platform_code"].astype(np.int64)
    # a thin band borrows the factor of the band below it (same platform)
    merged = band.copy()
    for b in range(n_band - 1, 0, -1):
        for k in range(n_plat):
            rows_b = (plat == k) & (merged == b)
            if rows_b.sum() < MIN_BAND_ROWS:
                merged[rows_b] = b - 1
    observed = {m: num[m][rows] for m in COUNT_METRICS}
    flat = {m: tuple(a[:, 0] for a in v) for m, v in spec.items()}
    fit = recalibrate(flat, observed, plat * n_band + merged, n_plat * n_band, model.interval)
    n_fit = np.bincount(plat * n_band + merged, minlength=n_plat * n_band)
    # bands map to the group their rows were merged into; groups still too thin keep 1
    target = np.arange(n_plat * n_band)
    for k in range(n_plat):
        for b in range(n_band - 1, -1, -1):
            g = k * n_band + b
            while g % n_band > 0 and n_fit[g] < MIN_BAND_ROWS:
                g -= 1
            target[k * n_band + b] = g
    return {m: np.where(n_fit[target] >= MIN_BAND_ROWS, fit[m][target], 1.0) for m in COUNT_METRICS}
