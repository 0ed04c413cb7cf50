"""Predictive distributions behind ``Forecast.low`` / ``high``, and their recalibration.

Outcome intervals (tomorrow's realised number) use a hurdle form for every metric: an atom at
zero with the negative-binomial probability that the day brings no click (clicks, cost) or no
order (orders, GMV), and a mean-matched lognormal for the positive part. Counts are discrete:
their positive part is rounded with a continuity correction, so the bounds are whole numbers
and ``F(n) = P0 + (1 - P0) Phi((log(n + 1/2) - m) / sd)``. Bounds are the ``(1 - interval)/2``
and ``(1 + interval)/2`` quantiles of that distribution: ``low`` is 0 whenever a zero day is at
least that likely, ``high`` is 0 when a zero day is more likely than ``(1 + interval)/2``.

For a discrete outcome the closed interval ``[q10, q90]`` covers *at least* 80% (it covers the
whole atom at 0), so coverage is checked with the randomised PIT ``u = F(y-) + V (F(y) -
F(y-))``, ``V ~ U(0, 1)``: under a calibrated forecast ``u`` is uniform, and
``P(tail <= u <= 1 - tail)`` equals the nominal probability exactly. ``recalibrate`` picks,
per metric x platform x evidence band, the factor on the model's relative variance that makes
that coverage nominal on the last day of the history.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

COUNT_METRICS = {"clicks": True, "cost": False, "orders": True, "gmv": False}
"""Metric -> whether it is a whole-number count."""
BAND_EDGES = np.array([3.0, 30.0, 300.0])
"""Evidence bands by clicks seen in the history: <3, 3-30, 30-300, >=300."""
MIN_BAND_ROWS = 300
"""Bands with fewer last-day rows than this use the metric x platform factor."""
SCALE_BOUNDS = (1.0, 20.0)
"""The factor only widens: the last day is in the fit, so its residuals are optimistic (on the
medium simulated shop the in-sample log-ratio sd of the biggest keywords is half the held-out
one) and a factor below 1 learned from them would make held-out intervals too narrow."""


def band_of(clicks_seen: np.ndarray) -> np.ndarray:
    return np.searchsorted(BAND_EDGES, np.asarray(clicks_seen, dtype=float), side="right")


def _parts(mu, count, s2, total):
    """Zero probability and lognormal (m, sd) of the positive part."""
    s2 = np.maximum(s2, 1e-6)
    p0 = np.exp(-np.log1p(s2 * count) / s2)
    p0 = np.where(mu > 0, np.minimum(p0, 1.0 - 1e-9), 1.0)
    rel_pos = np.maximum((1.0 + total) * (1.0 - p0) - 1.0, 1e-4)
    sd = np.sqrt(np.log1p(rel_pos))
    with np.errstate(divide="ignore"):
        m = np.log(np.maximum(mu, 1e-300) / (1.0 - p0)) - 0.5 * sd * sd
    return p0, m, sd


def zero_probability(count, s2):
    """Negative-binomial probability of no event: ``(1 + s2 count) ** (-1 / s2)``."""
    s2 = np.maximum(s2, 1e-6)
    return np.exp(-np.log1p(s2 * count) / s2)


def bounds(mu, count, s2, total, tail: float, discrete: bool) -> tuple[np.ndarray, np.ndarray]:
    """The ``tail`` and ``1 - tail`` quantiles of the hurdle distribution (vectorised).

    Only cells whose zero-day probability is below the level get the lognormal branch.
    """
    p0 = np.where(mu > 0, np.minimum(zero_probability(count, s2), 1.0 - 1e-9), 1.0)
    out = []
    for p in (tail, 1.0 - tail):
        q = np.zeros_like(mu)
        sel = p0 < p
        if sel.any():
            p0s, mus, tot = p0[sel], mu[sel], total[sel]
            sd2 = np.log1p(np.maximum((1.0 + tot) * (1.0 - p0s) - 1.0, 1e-4))
            x = mus / (1.0 - p0s) * np.exp(np.sqrt(sd2) * ndtri((p - p0s) / (1.0 - p0s)) - 0.5 * sd2)
            q[sel] = np.maximum(np.ceil(x - 0.5), 1.0) if discrete else x
        out.append(q)
    return out[0], out[1]


def cdf(y, mu, count, s2, total, discrete: bool) -> np.ndarray:
    p0, m, sd = _parts(mu, count, s2, total)
    y = np.asarray(y, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        arg = np.log(np.maximum(y + (0.5 if discrete else 0.0), 1e-300))
    pos = p0 + (1.0 - p0) * ndtr((arg - m) / sd)
    return np.where(y < 0, 0.0, np.where(y < (1.0 if discrete else 1e-12), p0, pos))


def randomised_pit(y, mu, count, s2, total, discrete: bool, rng: np.random.Generator) -> np.ndarray:
    """``F(y-) + V (F(y) - F(y-))``: uniform under a calibrated forecast, also for counts."""
    y = np.asarray(y, dtype=float)
    hi = cdf(y, mu, count, s2, total, discrete)
    if discrete:
        lo = cdf(y - 1.0, mu, count, s2, total, discrete)
    else:
        lo = np.where(y <= 1e-12, 0.0, hi)
    return lo + rng.uniform(size=y.shape) * (hi - lo)


def pit_coverage(u: np.ndarray, interval: float) -> float:
    """Share of randomised PIT values inside the central ``interval``: equals it when calibrated."""
    tail = (1.0 - interval) / 2.0
    return float(np.mean((u >= tail) & (u <= 1.0 - tail)))


def recalibrate(spec: dict, observed: dict, groups: np.ndarray, n_groups: int, interval: float,
                seed: int = 0, iterations: int = 14) -> dict[str, np.ndarray]:
    """Per-group factor on the relative variance so randomised-PIT coverage is ``interval``.

    ``spec[m] = (mu, count, s2, base_total, unit_over_count)``: the factor multiplies ``s2``
    and the non-count part of ``total``. Bisection in log factor, all groups at once.
    """
    tail = (1.0 - interval) / 2.0
    out: dict[str, np.ndarray] = {}
    n_rows = np.bincount(groups, minlength=n_groups).astype(float)
    for m, (mu, count, s2, base, unit_n) in spec.items():
        rng = np.random.default_rng(seed)
        v = rng.uniform(size=len(mu))
        lo = np.full(n_groups, np.log(SCALE_BOUNDS[0]))
        hi = np.full(n_groups, np.log(SCALE_BOUNDS[1]))
        y = observed[m]
        disc = COUNT_METRICS[m]
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            c = np.exp(mid)[groups]
            f_hi = cdf(y, mu, count, c * s2, c * base + unit_n, disc)
            f_lo = cdf(y - 1.0, mu, count, c * s2, c * base + unit_n, disc) if disc else np.where(y <= 1e-12, 0.0, f_hi)
            u = f_lo + v * (f_hi - f_lo)
            inside = np.bincount(groups, ((u >= tail) & (u <= 1.0 - tail)).astype(float), minlength=n_groups)
            cov = inside / np.maximum(n_rows, 1.0)
            wider = cov < interval  # too narrow: a larger factor
            lo = np.where(wider, mid, lo)
            hi = np.where(wider, hi, mid)
        out[m] = np.exp(0.5 * (lo + hi))
    return out
