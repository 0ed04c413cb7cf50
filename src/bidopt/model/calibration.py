"""Level calibration: the fitted curves must add up to what the reports add up to.

Each piece of the model (landscape, position curve, CPC curve, shrunk rates) is fitted on
its own, in logs or with pooling, and their product can drift from the money actually
spent: on simulated shops the uncalibrated forecast at the very bids of the history was
3-20% short of the reported cost of a campaign. A campaign x platform whose totals are
off by that much breaks its ROI floor when the optimiser spends to it. So after fitting,
the model is evaluated at every history row's own bid and each campaign x platform's
levels (clicks, price per click, conversion, order value, carts, favourites) are scaled
so that the in-sample totals match the reports. Ratios are shrunk toward 1 by the
evidence behind them and bounded, so a thin campaign cannot swing the forecast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_FACTOR = 2.0
# Clicks (or orders) of evidence at which a campaign x platform ratio is trusted halfway.
HALF_TRUST = {"clicks": 30.0, "orders": 5.0}


def _shrunk_ratio(observed: np.ndarray, forecast: np.ndarray, evidence: np.ndarray,
                  half: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(forecast > 0, observed / forecast, 1.0)
    ratio = np.clip(np.nan_to_num(ratio, nan=1.0), 1.0 / MAX_FACTOR, MAX_FACTOR)
    trust = evidence / (evidence + half)
    return np.exp(trust * np.log(ratio))


def level_factors(groups: np.ndarray, n_groups: int, weights: np.ndarray,
                  observed: dict[str, np.ndarray], forecast: dict[str, np.ndarray]) -> dict:
    """Per group multipliers for the clicks, impressions, CPC, CVR, AOV, cart and fav levels."""

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(groups, weights * values, minlength=n_groups)

    obs = {m: total(v) for m, v in observed.items()}
    fc = {m: total(v) for m, v in forecast.items()}
    clicks_seen, orders_seen = obs["clicks"], obs["orders"]
    clicks = _shrunk_ratio(obs["clicks"], fc["clicks"], clicks_seen, HALF_TRUST["clicks"])
    impressions = _shrunk_ratio(obs["impressions"], fc["impressions"], clicks_seen,
                                HALF_TRUST["clicks"])
    # Per-click and per-order levels are compared at the observed counts.
    fc_per_click = {m: fc[m] * clicks for m in ("cost", "orders", "carts", "favorites")}
    factors = {
        "clicks": clicks,
        "impressions": impressions,
        "cpc": _shrunk_ratio(obs["cost"], fc_per_click["cost"], clicks_seen, HALF_TRUST["clicks"]),
        "cvr": _shrunk_ratio(obs["orders"], fc_per_click["orders"], orders_seen,
                             HALF_TRUST["orders"]),
        "cart_rate": _shrunk_ratio(obs["carts"], fc_per_click["carts"], clicks_seen,
                                   HALF_TRUST["clicks"]),
        "fav_rate": _shrunk_ratio(obs["favorites"], fc_per_click["favorites"], clicks_seen,
                                  HALF_TRUST["clicks"]),
    }
    fc_gmv_per_order = fc["gmv"] * clicks * factors["cvr"]
    factors["aov"] = _shrunk_ratio(obs["gmv"], fc_gmv_per_order, orders_seen, HALF_TRUST["orders"])
    return factors


def apply_factors(params: pd.DataFrame, groups_of_entity: np.ndarray, factors: dict) -> None:
    """Fold the multipliers into the fitted parameter table, in place."""
    take = {name: f[groups_of_entity] for name, f in factors.items()}
    params["log_V"] += np.log(take["clicks"])
    params["log_U"] += np.log(take["impressions"])
    params["rho"] += np.log(take["cpc"])
    params["cvr"] *= take["cvr"]
    params["aov"] *= take["aov"]
    params["cart_rate"] *= take["cart_rate"]
    params["fav_rate"] *= take["fav_rate"]
