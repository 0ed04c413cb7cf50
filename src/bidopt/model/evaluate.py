"""Forecasts from fitted parameters: the bid landscape evaluated at bids, with interval bounds.

Kept apart from ``response`` (the estimator: fit, input checks, blocking) because ``predict``,
``outcome_pit`` and the fit-time in-sample passes (``insample``) all forecast through here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import norm

from bidopt.model.forecast import Forecast
from bidopt.model.intervals import COUNT_METRICS, band_of, bounds
from bidopt.model.landscape import RANK_OFF

if TYPE_CHECKING:
    from bidopt.model.response import ResponseModel

CPC_CV2 = 0.1
"""Squared coefficient of variation of one click's price (second prices vary by auction)."""
AOV_CV2 = 0.25
"""Squared coefficient of variation of one order's value (not in daily reports; assumed)."""
MEAN_SCALE = 1.0
"""Factor on the posterior variance of the expected-value intervals."""


def evaluate(model: ResponseModel, p: dict[str, np.ndarray], b: np.ndarray, intervals: bool | str
             ) -> Forecast | dict:
    """Forecast arrays from per-entity parameter columns (dict of (n,) arrays).

    ``intervals``: False for the point forecast alone, True to add interval bounds, ``"spec"``
    to return the outcome distribution per metric (``interval_spec``) instead of a forecast.
    """
    col = {k: np.asarray(p[k])[:, None] for k in p}
    lb = np.log(b)
    off = model.rank_offset
    z_lo, z_hi = np.log(1.0 - off), np.log(RANK_OFF - off)
    dx = lb - col["xbar"]
    z = np.clip(col["a"] + col["beta"] * dx, z_lo, z_hi)
    rank = off + np.exp(z)
    lr = np.log(rank)
    plat = np.broadcast_to(col["platform_code"], lr.shape).astype(np.int64)
    flat_lr, flat_pl = lr.ravel(), plat.ravel()
    lg_c = col["gamma_c"] * model.position_curves_["clicks"].log_at(flat_pl, flat_lr).reshape(lr.shape)
    lg_i = col["gamma_i"] * model.position_curves_["impressions"].log_at(flat_pl, flat_lr).reshape(lr.shape)
    impressions = np.exp(col["log_U"] + lg_i)
    clicks = np.minimum(np.exp(col["log_V"] + lg_c), impressions)
    # second price: once rank 1 is held, a higher bid no longer raises the price
    beta = col["beta"]
    with np.errstate(divide="ignore", invalid="ignore"):
        lb_top = np.where(beta < -1e-6, col["xbar"] + (col["a"] - z_lo) / np.maximum(-beta, 1e-6), np.inf)
    lb_eff = np.minimum(lb, lb_top)
    cpc = np.minimum(np.exp(lb_eff + col["rho"] + col["kappa_m1"] * (lb_eff - col["xc"])), b * col["cpc_cap"])
    cost = clicks * cpc
    orders = clicks * col["cvr"]
    gmv = orders * col["aov"]
    fc = Forecast(
        bids=b,
        impressions=impressions,
        clicks=clicks,
        cost=cost,
        orders=orders,
        gmv=gmv,
        carts=clicks * col["cart_rate"],
        favorites=clicks * col["fav_rate"],
        rank=rank,
        interval=model.interval,
    )
    if intervals:
        slope_c = col["gamma_c"] * model.position_curves_["clicks"].slope_at(flat_pl, flat_lr).reshape(lr.shape)
        at_floor = (z <= z_lo) | (z >= z_hi)
        elast = np.where(at_floor, 0.0, slope_c * (rank - off) / rank)
        var_clicks = col["var_log_V"] + elast**2 * (col["var_a"] + dx**2 * col["var_beta"])
        var_cpc = col["var_rho"] + (lb_eff - col["xc"]) ** 2 * col["var_kappa"]
        if intervals == "spec":
            return interval_spec(model, fc, var_clicks, var_cpc, col)[0]
        apply_intervals(model, fc, var_clicks, var_cpc, col)
    return fc


def interval_spec(model: ResponseModel, fc: Forecast, var_clicks, var_cpc, col
                  ) -> tuple[dict, dict]:
    """Per metric ``(mu, count, s2, core, unit / count)`` of the outcome distribution, and
    per metric the relative variance of the parameter posterior alone (``post``).

    ``count`` is the expected number of clicks (orders) whose absence makes the metric 0,
    ``s2`` its overdispersion (parameter posterior plus day-to-day variance), ``core`` the
    metric's relative variance beyond count noise and ``unit / count`` the count noise.
    """
    dv = model.day_variance_
    var_cvr = col["var_log_cvr"]
    post = {
        "clicks": var_clicks,
        "cost": var_clicks + var_cpc,
        "orders": var_clicks + var_cvr,
        "gmv": var_clicks + var_cvr + col["var_log_aov"],
    }
    unit = {"clicks": 1.0, "cost": 1.0 + CPC_CV2, "orders": 1.0, "gmv": 1.0 + AOV_CV2}
    spec = {}
    for m, count_name in (("clicks", "clicks"), ("cost", "clicks"), ("orders", "orders"), ("gmv", "orders")):
        cnt = getattr(fc, count_name)
        inv = np.divide(1.0, cnt, out=np.zeros_like(cnt), where=cnt > 0)
        s2 = post[count_name] + dv[count_name] + np.zeros_like(cnt)
        spec[m] = (getattr(fc, m), cnt, s2, post[m] + dv[m] + np.zeros_like(cnt), unit[m] * inv)
    return spec, post


def apply_intervals(model: ResponseModel, fc: Forecast, var_clicks, var_cpc, col) -> None:
    """Interval bounds: outcome quantiles (``interval_kind`` ``"outcome"``) or the expected
    value's posterior (``"mean"``).

    Outcome: hurdle quantiles (zero-day probability, lognormal positive part, whole
    numbers for counts) with the relative variance scaled by ``interval_scale_``, widened
    to contain the point forecast. Mean:
    mean-matched lognormal of the parameter posterior, ``low = mu / sqrt(1 + v) exp(-z
    sd)`` with ``sd^2 = log(1 + v)``.
    """
    spec, post = interval_spec(model, fc, var_clicks, var_cpc, col)
    tail = (1 - model.interval) / 2
    if model.interval_kind == "outcome":
        scale = getattr(model, "interval_scale_", None)
        if scale is not None:
            plat = np.clip(np.asarray(col["platform_code"], dtype=np.int64), 0, len(model.platforms_) - 1)
            group = plat * 4 + band_of(col["clicks_seen"])
        for m, (mu, cnt, s2, core, unit_n) in spec.items():
            c = 1.0 if scale is None else scale[m][group]
            total = c * core + unit_n
            disc = COUNT_METRICS[m]
            low, high = bounds(mu, cnt, c * s2, total, tail, disc)
            # the bounds always hold the point forecast: for a count this changes no
            # covered whole number (a mean of 0.3 clicks above a 90th percentile of 0)
            fc.low[m] = np.minimum(low, mu)
            fc.high[m] = np.maximum(high, mu)
        return
    z = float(norm.ppf(0.5 + model.interval / 2))
    for m in spec:
        mu = getattr(fc, m)
        total = post[m] * MEAN_SCALE + np.zeros_like(mu)
        sd = np.sqrt(np.log1p(total))
        centre = mu / np.sqrt(1.0 + total)
        fc.low[m] = np.minimum(centre * np.exp(-z * sd), mu)
        fc.high[m] = np.maximum(centre * np.exp(z * sd), mu)
