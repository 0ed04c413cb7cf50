"""Bid landscape: bid -> rank, rank -> impressions and clicks, bid -> cost per click.

The auction is a generalised second price with quality score, so for one keyword the average
rank falls smoothly as the bid rises (log rank ~ linear in log bid, floored at 1), traffic is a
steep, shared function of rank (the position curve, learned per platform across all keywords),
and the price per click is a second price: below the bid, rising with it, flat once rank 1 is
held. Per-keyword slopes come from the days where the bid varied and are shrunk toward their
item, campaign and platform (normal-normal empirical Bayes) in proportion to their evidence.
Every fit is a handful of ``np.bincount`` passes over the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression

from bidopt.model.rates import group_sum

RANK_OFF = 40.0
"""Rank assigned to days shown nowhere (no impressions): beyond every position that matters."""

RANK_BIN_EDGES = np.log(
    np.array([1.0, 1.2, 1.45, 1.75, 2.1, 2.5, 3.0, 3.6, 4.3, 5.2, 6.3, 7.6, 9.2, 11.0, 13.5, 17.0, 22.0, 30.0, 39.0, 1e9])
)


@dataclass
class LinearShrink:
    """Per-entity coefficient after hierarchical shrinkage, with its posterior variance."""

    coef: np.ndarray
    var: np.ndarray
    sigma2: float
    lambdas: tuple[float, ...]


def shrink_coefficient(
    sxy: np.ndarray,
    sxx: np.ndarray,
    sigma2: float,
    levels: list[np.ndarray],
    prior: float = 0.0,
    max_lambda: float = 1e6,
) -> LinearShrink:
    """Normal-normal shrinkage of ``beta = sxy / sxx`` through nested groups.

    Works for a slope (``sxy = sum w dx dy``, ``sxx = sum w dx^2``) and for a mean (``sxy =
    sum w y``, ``sxx = sum w``). ``lambda = sigma2 / tau2`` per level, with the between-group
    variance ``tau2`` estimated by moments from ``E[sxx (b_hat - b_parent)^2] = sigma2 + sxx
    tau2``.
    """
    parent = np.full(sxy.shape, float(prior))
    lambdas: list[float] = []
    var = np.full(sxy.shape, np.inf)
    for codes in levels:
        n = int(codes.max()) + 1 if codes.size else 0
        g_sxy = group_sum(codes, sxy, n)
        g_sxx = group_sum(codes, sxx, n)
        cnt = np.maximum(np.bincount(codes, minlength=n), 1)
        g_par = group_sum(codes, parent, n) / cnt
        ok = g_sxx > 1e-9
        if ok.any():
            b_hat = g_sxy[ok] / g_sxx[ok]
            excess = np.sum(g_sxx[ok] * (b_hat - g_par[ok]) ** 2) - ok.sum() * sigma2
            tau2 = excess / g_sxx[ok].sum()
        else:
            tau2 = 0.0
        lam = float(np.clip(sigma2 / tau2, 1e-6, max_lambda)) if tau2 > 0 else max_lambda
        g_coef = (g_sxy + lam * g_par) / (g_sxx + lam)
        lambdas.append(lam)
        var = (sigma2 / (g_sxx + lam))[codes]
        parent = g_coef[codes]
    return LinearShrink(coef=parent, var=var, sigma2=sigma2, lambdas=tuple(lambdas))


def weighted_moments(
    ent: np.ndarray, n: int, x: np.ndarray, y: np.ndarray, w: np.ndarray
) -> dict[str, np.ndarray]:
    """Per-entity weighted sums for a simple regression of ``y`` on ``x``."""
    sw = group_sum(ent, w, n)
    sx = group_sum(ent, w * x, n)
    sy = group_sum(ent, w * y, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        xbar = np.where(sw > 0, sx / sw, np.nan)
        ybar = np.where(sw > 0, sy / sw, np.nan)
    xb = np.nan_to_num(xbar)[ent]
    yb = np.nan_to_num(ybar)[ent]
    dx = x - xb
    dy = y - yb
    sxx = group_sum(ent, w * dx * dx, n)
    sxy = group_sum(ent, w * dx * dy, n)
    syy = group_sum(ent, w * dy * dy, n)
    cnt = group_sum(ent, (w > 0).astype(float), n)
    return {"sw": sw, "xbar": xbar, "ybar": ybar, "sxx": sxx, "sxy": sxy, "syy": syy, "n": cnt}


def pooled_residual_variance(mom: dict[str, np.ndarray]) -> float:
    """Residual variance of the per-entity regressions, pooled (one slope + intercept each)."""
    sxx, sxy, syy, sw, cnt = mom["sxx"], mom["sxy"], mom["syy"], mom["sw"], mom["n"]
    with np.errstate(divide="ignore", invalid="ignore"):
        rss = np.where(sxx > 1e-9, syy - sxy**2 / sxx, syy)
    dof_rows = cnt - np.where(sxx > 1e-9, 2, 1)
    ok = (dof_rows > 0) & (sw > 0)
    if not ok.any():
        return 1.0
    # rows carry weights in (0, 1]: convert weighted RSS to per-row variance
    mean_w = sw[ok].sum() / cnt[ok].sum()
    return float(max(rss[ok].sum() / (dof_rows[ok].sum() * mean_w), 1e-6))


@dataclass
class PositionCurve:
    """Traffic per unit of keyword volume as a decreasing function of log rank, per platform."""

    knots: list[np.ndarray]  # log-rank knots per platform
    log_value: list[np.ndarray]  # log traffic share at the knots (0 at rank 1)

    def log_at(self, platform: np.ndarray, log_rank: np.ndarray) -> np.ndarray:
        """Log traffic factor at ``log_rank`` (same shape), per entity platform code."""
        out = np.empty(log_rank.shape)
        for p, (kn, lv) in enumerate(zip(self.knots, self.log_value, strict=True)):
            rows = platform == p
            if rows.any():
                out[rows] = np.interp(log_rank[rows], kn, lv)
        return out

    def slope_at(self, platform: np.ndarray, log_rank: np.ndarray) -> np.ndarray:
        """Local elasticity d log traffic / d log rank (for interval propagation)."""
        h = 0.05
        return (self.log_at(platform, log_rank + h) - self.log_at(platform, log_rank - h)) / (2 * h)


def fit_position_curve(
    ent: np.ndarray,
    n_ent: int,
    platform_of_entity: np.ndarray,
    n_platforms: int,
    log_rank: np.ndarray,
    counts: np.ndarray,
    w: np.ndarray,
    n_iter: int = 25,
) -> tuple[PositionCurve, np.ndarray, np.ndarray]:
    """Poisson fixed-effects fit ``counts ~ V_keyword * g_platform(rank bin)``.

    Alternates the two closed-form Poisson MLEs (volume per keyword given the curve, curve per
    bin given the volumes), then makes the curve monotone with isotonic regression. Returns the
    curve, the per-entity ``sum w * counts`` and the exposure ``sum w * g(rank)`` so callers
    can shrink volumes.
    """
    n_bins = len(RANK_BIN_EDGES) - 1
    bins = np.clip(np.searchsorted(RANK_BIN_EDGES, log_rank, side="right") - 1, 0, n_bins - 1)
    cell = platform_of_entity[ent] * n_bins + bins
    n_cells = n_platforms * n_bins
    centres_default = 0.5 * (RANK_BIN_EDGES[:-1] + np.minimum(RANK_BIN_EDGES[1:], np.log(60.0)))
    g = np.tile(np.exp(-1.5 * centres_default), n_platforms)
    wc = w * counts
    ent_num = group_sum(ent, wc, n_ent)
    cell_num = group_sum(cell, wc, n_cells)
    vol = np.zeros(n_ent)
    for _ in range(n_iter):
        expo = group_sum(ent, w * g[cell], n_ent)
        vol = np.where(expo > 0, ent_num / np.maximum(expo, 1e-300), 0.0)
        cell_expo = group_sum(cell, w * vol[ent], n_cells)
        g = np.where(cell_expo > 0, cell_num / np.maximum(cell_expo, 1e-300), 0.0)
        g = g.reshape(n_platforms, n_bins)
        top = g[:, :1].copy()
        top[top <= 0] = 1.0
        g = (g / top).ravel()
    cell_expo = group_sum(cell, w * vol[ent], n_cells)
    cell_lr = group_sum(cell, w * vol[ent] * log_rank, n_cells)
    knots, values = [], []
    for p in range(n_platforms):
        sl = slice(p * n_bins, (p + 1) * n_bins)
        wt = cell_expo[sl]
        have = wt > 0
        centre = np.where(have, cell_lr[sl] / np.maximum(wt, 1e-300), centres_default)
        gp = g[sl]
        if have.sum() >= 2:
            iso = IsotonicRegression(increasing=False, y_min=0.0)
            fitted = iso.fit(centre[have], gp[have], sample_weight=wt[have]).predict(centre[have])
            kn = centre[have]
        else:
            kn = centres_default
            fitted = np.exp(-1.5 * kn)
        top = fitted[0] if fitted[0] > 0 else 1.0
        fitted = np.maximum(fitted / top, 1e-5)
        # enforce strictly usable knots: increasing, starting at rank 1
        kn = np.concatenate([[0.0], np.maximum(kn, 1e-6)])
        fitted = np.concatenate([[max(fitted[0], 1.0)], fitted])
        order = np.argsort(kn, kind="stable")
        knots.append(kn[order])
        values.append(np.log(np.minimum.accumulate(fitted[order])))
    curve = PositionCurve(knots=knots, log_value=values)
    expo = group_sum(ent, w * np.exp(curve.log_at(platform_of_entity[ent], log_rank)), n_ent)
    return curve, ent_num, expo
