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

Conversion is matched to more than the orders (``EngagementLink``): a campaign's
add-to-cart and favourite events (收藏加购) come from the same buyers, three to five times as
often, so together with its orders they measure its conversion more closely than its orders
alone (docs/model.md, "Why carts and favourites count as conversion evidence").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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


LINK_SD_MIN = 0.10
"""Smallest spread (log sd) between campaigns of engagement events per order that the link
assumes: never exact, however alike a few campaigns look."""


@dataclass(frozen=True)
class EngagementLink:
    """How a shop's add-to-cart and favourite events measure its orders.

    ``per_order``: events per order over the history. ``var``: the variance of a group's
    log(events / orders) that count noise does not explain (DerSimonian-Laird across the
    groups, at least ``LINK_SD_MIN`` squared), plus the error of the shop's ratio itself.
    """

    per_order: float
    var: float
    weights: np.ndarray | None = None
    """The share events had in each conversion level (``weight``), over the calibration
    groups with an order or an event."""

    def as_orders(self, engaged: np.ndarray) -> np.ndarray:
        """What a group's events are worth in orders of evidence (1 / their log variance)."""
        return 1.0 / (1.0 / (engaged + 0.5) + self.var)

    def weight(self, orders: np.ndarray, engaged: np.ndarray) -> np.ndarray:
        """The events' share of each group's conversion level: their precision's."""
        return self.as_orders(engaged) / (orders + 0.5 + self.as_orders(engaged))

    def orders(self, orders: np.ndarray, engaged: np.ndarray) -> np.ndarray:
        """Orders per group as its orders and its events measure them together: the
        precision-weighted mean, in logs, of the orders and the events / ``per_order``."""
        weight = self.weight(orders, engaged)
        log_orders = ((1 - weight) * np.log(orders + 0.5)
                      + weight * np.log((engaged + 0.5) / self.per_order))
        return np.exp(log_orders) - 0.5


def engagement_link(orders: np.ndarray, engaged: np.ndarray) -> EngagementLink | None:
    """The link measured across groups (per group totals); None without two groups that
    show both orders and events (a history without cart or favourite columns)."""
    both = (orders >= 1) & (engaged >= 1)
    if both.sum() < 2:
        return None
    per_order = float(engaged.sum() / orders.sum())
    ratio = np.log((engaged[both] + 0.5) / per_order) - np.log(orders[both] + 0.5)
    weight = 1.0 / (1.0 / (orders[both] + 0.5) + 1.0 / (engaged[both] + 0.5))
    mean = np.sum(weight * ratio) / weight.sum()
    q = np.sum(weight * (ratio - mean) ** 2)
    spread = (q - (both.sum() - 1)) / (weight.sum() - np.sum(weight**2) / weight.sum())
    var = max(float(spread), LINK_SD_MIN**2) + 1.0 / orders.sum() + 1.0 / engaged.sum()
    return EngagementLink(per_order=per_order, var=var)


def level_factors(groups: np.ndarray, n_groups: int, weights: np.ndarray,
                  observed: dict[str, np.ndarray], forecast: dict[str, np.ndarray],
                  engagement: bool = False) -> tuple[dict, EngagementLink | None]:
    """Per group multipliers for the clicks, impressions, CPC, CVR, AOV, cart and fav levels,
    and the engagement link the CVR was matched with (``engagement``; None when off or
    the history shows no carts or favourites)."""

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(groups, weights * values, minlength=n_groups)

    obs = {m: total(v) for m, v in observed.items()}
    fc = {m: total(v) for m, v in forecast.items()}
    engaged = obs["carts"] + obs["favorites"]
    link = engagement_link(obs["orders"], engaged) if engagement else None
    if link is not None:
        seen = (obs["orders"] >= 1) | (engaged >= 1)
        link = replace(link, weights=link.weight(obs["orders"], engaged)[seen])
    conversions = obs["orders"] if link is None else link.orders(obs["orders"], engaged)
    clicks_seen, orders_seen = obs["clicks"], obs["orders"]
    clicks = _shrunk_ratio(obs["clicks"], fc["clicks"], clicks_seen, HALF_TRUST["clicks"])
    impressions = _shrunk_ratio(obs["impressions"], fc["impressions"], clicks_seen,
                                HALF_TRUST["clicks"])
    # Per-click and per-order levels are compared at the observed counts.
    fc_per_click = {m: fc[m] * clicks for m in ("cost", "orders", "carts", "favorites")}
    by_orders = _shrunk_ratio(obs["orders"], fc_per_click["orders"], orders_seen,
                              HALF_TRUST["orders"])
    factors = {
        "clicks": clicks,
        "impressions": impressions,
        "cpc": _shrunk_ratio(obs["cost"], fc_per_click["cost"], clicks_seen, HALF_TRUST["clicks"]),
        # conversion matched to the orders alone, or to the orders and the events
        "cvr": by_orders if link is None else _shrunk_ratio(
            conversions, fc_per_click["orders"], orders_seen, HALF_TRUST["orders"]),
        "cart_rate": _shrunk_ratio(obs["carts"], fc_per_click["carts"], clicks_seen,
                                   HALF_TRUST["clicks"]),
        "fav_rate": _shrunk_ratio(obs["favorites"], fc_per_click["favorites"], clicks_seen,
                                  HALF_TRUST["clicks"]),
    }
    # order value per order seen: at the orders' own CVR, not the one matched with events
    fc_gmv_per_order = fc["gmv"] * clicks * by_orders
    factors["aov"] = _shrunk_ratio(obs["gmv"], fc_gmv_per_order, orders_seen, HALF_TRUST["orders"])
    return factors, link


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
