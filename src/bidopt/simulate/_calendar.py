"""The simulated shop's calendar: weekday and promotion factors of search volume,
conversion and cart rates, shared by the history and the truth's day view."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Mon..Sun search volume, mean 1.
WEEKDAY_VOLUME = np.array([0.98, 0.97, 0.97, 0.98, 0.99, 1.05, 1.06])


# The Double 11 / Double 12 calendar of DOMAIN.md: (name, month, first day, last day,
# search volume, conversion, cart and favourite rates), relative to an ordinary day.
PROMOTION_PHASES = [
    ("pre-sale", 10, 21, 31, 1.05, 0.95, 1.3),
    ("warm-up", 11, 1, 10, 1.10, 0.80, 1.6),
    ("burst", 11, 11, 11, 2.50, 2.00, 1.2),
    ("afterglow", 11, 12, 14, 1.20, 1.15, 1.0),
    ("slump", 11, 15, 20, 0.90, 0.90, 1.0),
    ("double-12", 12, 12, 12, 1.60, 1.50, 1.1),
]


def calendar_factors(dates: pd.DatetimeIndex, seasonal: bool) -> dict[str, np.ndarray]:
    """Per day multipliers of search volume, conversion and cart/favourite rates.

    Always a mild weekday pattern; with ``seasonal`` the Double 11 / Double 12 calendar of
    DOMAIN.md (warm-up: carts up, conversion down; burst; afterglow; slump).
    """
    n = len(dates)
    volume = WEEKDAY_VOLUME[dates.day_of_week.to_numpy()]
    cvr, carts = np.ones(n), np.ones(n)
    if seasonal:
        month, day = dates.month.to_numpy(), dates.day.to_numpy()
        for _, m, first, last, v, c, k in PROMOTION_PHASES:
            on = (month == m) & (day >= first) & (day <= last)
            volume = np.where(on, volume * v, volume)
            cvr = np.where(on, c, cvr)
            carts = np.where(on, k, carts)
    return {"volume": volume, "cvr": cvr, "carts": carts}


def calendar_config() -> list[dict]:
    """The promotion calendar as bidopt config phases carrying the simulator's factors:
    what a seller who measured last year's promotion days would write."""
    return [{"name": name, "start": f"{m:02d}-{first:02d}", "end": f"{m:02d}-{last:02d}",
             "traffic_factor": v, "conversion_factor": c, "cart_factor": k}
            for name, m, first, last, v, c, k in PROMOTION_PHASES]
