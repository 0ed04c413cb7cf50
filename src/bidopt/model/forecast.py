"""The forecast a response model hands to the optimiser and the strategies.

Every metric is an ``(n, L)`` array: one row per entity (keyword x platform), one column per
candidate bid. Point values are the expected one-day outcome; ``low`` / ``high`` hold the
interval bounds so a strategy can ask "how bad could tomorrow be" without re-fitting anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FORECAST_METRICS = ("impressions", "clicks", "cost", "orders", "gmv", "carts", "favorites")


@dataclass
class Forecast:
    """Expected next-day metrics per entity and candidate bid, with interval bounds."""

    bids: np.ndarray
    impressions: np.ndarray
    clicks: np.ndarray
    cost: np.ndarray
    orders: np.ndarray
    gmv: np.ndarray
    carts: np.ndarray
    favorites: np.ndarray
    rank: np.ndarray
    low: dict[str, np.ndarray] = field(default_factory=dict)
    high: dict[str, np.ndarray] = field(default_factory=dict)
    interval: float = 0.8

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_entities, n_bids)``."""
        return self.clicks.shape  # type: ignore[return-value]

    def roi(self) -> np.ndarray:
        """Expected GMV / spend; 0 where nothing is spent (no cost, no return)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(self.cost > 0, self.gmv / self.cost, 0.0)
        return out

    def cpc(self) -> np.ndarray:
        """Expected cost per click (0 where no clicks are expected)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.clicks > 0, self.cost / self.clicks, 0.0)

    def take(self, rows: np.ndarray) -> Forecast:
        """Subset of entities (rows), keeping every array aligned."""
        pick = {m: getattr(self, m)[rows] for m in (*FORECAST_METRICS, "rank", "bids")}
        return Forecast(
            **pick,
            low={k: v[rows] for k, v in self.low.items()},
            high={k: v[rows] for k, v in self.high.items()},
            interval=self.interval,
        )
