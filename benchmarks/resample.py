"""How far a share of the oracle's gain, summed over a handful of simulated shops, can be
trusted: the shops resampled with replacement (a bootstrap over shops).

Shops differ a great deal: on small shops seeds 0-29 at floor 2.5, bidopt's share of the
oracle's gain runs from -295% to 82% per shop (the middle half 41-72%), and in the default
run the medium shop carries three quarters of the oracle's gain. A share
printed from six shops is one draw from that spread, so ``bench_plan.py`` and
``bench_nights.py`` print its interval beside it.
"""

from __future__ import annotations

import numpy as np

DRAWS = 4000
LEVEL = 0.9


def share_interval(gain: np.ndarray, oracle_gain: np.ndarray, level: float = LEVEL,
                   draws: int = DRAWS, seed: int = 0) -> tuple[float, float]:
    """The central ``level`` interval of ``sum(gain) / sum(oracle_gain)`` over the shops
    resampled with replacement (one entry per shop); NaN with fewer than two shops.

    Draws in which the oracle gains nothing have no share and are left out. The draws are
    seeded, so the same run prints the same interval.
    """
    gain, oracle_gain = np.asarray(gain, float), np.asarray(oracle_gain, float)
    if len(gain) < 2:
        return np.nan, np.nan
    pick = np.random.default_rng(seed).integers(0, len(gain), (draws, len(gain)))
    ours, best = gain[pick].sum(axis=1), oracle_gain[pick].sum(axis=1)
    share = ours[best > 0] / best[best > 0]
    if share.size == 0:
        return np.nan, np.nan
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(share, [tail, 1.0 - tail])
    return float(low), float(high)


def interval_line(method: str, gain: np.ndarray, oracle_gain: np.ndarray) -> str:
    """One printed line: ``method``'s share and its interval over the shops resampled."""
    low, high = share_interval(gain, oracle_gain)
    if not np.isfinite(low):
        return f"{method}'s share: too few shops to resample"
    return (f"{method}'s share with the {len(gain)} shops resampled ({DRAWS:,} draws): "
            f"{LEVEL:.0%} interval {low:.0%} to {high:.0%}")
