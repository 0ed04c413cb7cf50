"""Empirical-Bayes shrinkage of per-click rates (CVR, order value, carts, favourites).

A keyword with 12 clicks and no order is not a 0% converter: its rate is a multiplier on its
item's rate, the item's on its campaign's, the campaign's on the shop's. Each multiplier has a
Gamma(m, m) prior (mean 1); the prior strength ``m`` of each level is estimated from the data
(negative-binomial marginal likelihood, each group judged against its parent fitted without
it), so pooling is as strong as the spread between siblings warrants. All arithmetic is over
``np.bincount`` sums: no loop per keyword.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_STRENGTH = 0.5
MAX_STRENGTH = 1e4
# Sd (in log m) of the optional weak log-normal hyperprior on a strength: where the data
# cannot tell how far siblings spread, they are assumed to differ about as much as the caller
# says is typical (``typical_strength``) rather than not at all; data with evidence overrides.
STRENGTH_PRIOR_SD = 1.5


def group_sum(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Sum ``values`` per group code (vectorised groupby-sum)."""
    return np.bincount(codes, weights=values, minlength=n)


def strength_mle(
    counts: np.ndarray,
    expected: np.ndarray,
    lo: float = MIN_STRENGTH,
    hi: float = MAX_STRENGTH,
    known_var: np.ndarray | float = 0.0,
    typical: float | None = None,
) -> float:
    """Marginal maximum-likelihood ``m`` of ``count ~ Poisson(expected * u)``, ``u ~ Gamma(m, m)``.

    The negative-binomial likelihood uses every group, also the many with a fraction of an
    expected count, where a moment estimate drowns in noise. ``known_var`` is relative
    variance of ``expected`` itself (an estimate), which is not the groups' spread.
    ``typical``: centre of the weak hyperprior on ``m`` (None: flat).
    """
    from scipy.optimize import minimize_scalar
    from scipy.special import gammaln

    ok = expected > 0
    if not ok.any():
        return hi
    n, e = counts[ok], expected[ok]
    known = np.broadcast_to(np.asarray(known_var, dtype=float), counts.shape)[ok]

    def nll(log_m: float) -> float:
        m = 1.0 / (np.exp(-log_m) + known)
        loglik = np.sum(gammaln(n + m) - gammaln(m) + m * np.log(m / (m + e))
                        + n * np.log(e / (m + e)))
        prior = 0.0 if typical is None else -0.5 * ((log_m - np.log(typical)) / STRENGTH_PRIOR_SD) ** 2
        return -float(loglik + prior)

    fit = minimize_scalar(nll, bounds=(np.log(lo), np.log(hi)), method="bounded",
                          options={"xatol": 1e-3})
    return float(np.exp(fit.x))


@dataclass
class RateFit:
    """Shrunk rate per entity and the Gamma posterior of its last multiplier."""

    rate: np.ndarray  # posterior mean rate per entity
    shape: np.ndarray  # Gamma posterior shape of the entity multiplier (var log ~ 1/shape)
    parent_rate: np.ndarray  # the rate the entity was shrunk toward
    strengths: tuple[float, ...]  # prior strength m per level, coarse to fine
    level_rates: tuple[np.ndarray, ...]  # rate per group of each level, coarse to fine


def hierarchical_rate(
    num: np.ndarray,
    den: np.ndarray,
    levels: list[np.ndarray],
    unit: np.ndarray | float = 1.0,
    prior_rate: float | None = None,
    strength_bounds: tuple[float, float] = (MIN_STRENGTH, MAX_STRENGTH),
    typical_strength: float | None = None,
) -> RateFit:
    """Shrink ``num / den`` per entity through nested groups, coarse to fine.

    ``levels`` are per-entity group codes from the coarsest (e.g. campaign) to the entity itself
    (``np.arange(n)``); each must nest in the previous one. ``unit`` is the variance of ``num``
    per unit of expectation (1 for counts; ``aov * (1 + cv^2)`` for order value), so that
    ``num / unit`` behaves like a Poisson count.
    """
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    unit_arr = np.broadcast_to(np.asarray(unit, dtype=float), num.shape)
    tot_den = den.sum()
    if prior_rate is None:
        prior_rate = num.sum() / tot_den if tot_den > 0 else 0.0
    parent = np.full(num.shape, float(prior_rate))
    strengths: list[float] = []
    level_rates: list[np.ndarray] = []
    shape = np.zeros(num.shape)
    # For the strength, each group is judged against its parent fitted WITHOUT it: a keyword
    # that is most of its item's clicks would otherwise be judged against itself, show no
    # spread, and be pooled completely (a head word then inherits its item's conversion).
    above = np.zeros(num.shape, dtype=np.int64)
    grand = parent.copy()
    m_above = np.inf
    for codes in levels:
        n_groups = int(codes.max()) + 1 if codes.size else 0
        g_num = group_sum(codes, num / unit_arr, n_groups)
        g_exp = group_sum(codes, den * parent / unit_arr, n_groups)
        up = np.zeros(n_groups, dtype=np.int64)
        up[codes] = above
        n_up = int(up.max()) + 1 if up.size else 0
        g_exp_grand = group_sum(codes, den * grand / unit_arr, n_groups)
        if np.isfinite(m_above):
            rest_num = np.maximum(group_sum(up, g_num, n_up)[up] - g_num, 0.0)
            rest_exp = np.maximum(group_sum(up, g_exp_grand, n_up)[up] - g_exp_grand, 0.0)
            e_loo = g_exp_grand * (rest_num + m_above) / (rest_exp + m_above)
            known = 1.0 / (rest_num + m_above)  # the siblings' rate is itself an estimate
        else:
            e_loo, known = g_exp, 0.0
        m = strength_mle(g_num, e_loo, *strength_bounds, known_var=known, typical=typical_strength)
        mult = (g_num + m) / (g_exp + m)
        # parent rate per group: expectation-weighted, identical within a nested group
        g_den = group_sum(codes, den, n_groups)
        g_par = group_sum(codes, parent, n_groups) / np.maximum(np.bincount(codes, minlength=n_groups), 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            g_par = np.where(g_den > 0, group_sum(codes, den * parent, n_groups) / g_den, g_par)
        g_rate = g_par * mult
        strengths.append(m)
        level_rates.append(g_rate)
        last_parent = parent
        grand, parent = parent, g_rate[codes]
        above, m_above = codes, m
        shape = (g_num + m)[codes]
    return RateFit(
        rate=parent,
        shape=shape,
        parent_rate=last_parent if levels else parent,
        strengths=tuple(strengths),
        level_rates=tuple(level_rates),
    )


def gamma_interval(shape: np.ndarray, mean: np.ndarray, interval: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed interval of a Gamma with the given shape and mean (vectorised)."""
    from scipy.special import gammaincinv

    a = np.maximum(shape, 1e-6)
    tail = (1.0 - interval) / 2.0
    low = gammaincinv(a, tail) / a * mean
    high = gammaincinv(a, 1.0 - tail) / a * mean
    return low, high


LOGNORMAL_NODES = 9
"""Gauss-Hermite nodes of the per-entity integrals in ``lognormal_multiplier``."""


@dataclass
class LognormalFit:
    """Posterior of per-entity multipliers ``u`` with a log-normal prior (mean 1)."""

    mean: np.ndarray  # posterior mean of u
    var_log: np.ndarray  # posterior variance of log u
    sigma2: float  # prior variance of log u, estimated


def _lognormal_posterior(n: np.ndarray, e: np.ndarray, s2: float):
    """Log marginal likelihood, E[u | n] and Var[log u | n] per entity (adaptive Gauss-Hermite).

    ``n ~ Poisson(e u)``, ``log u ~ N(-s2 / 2, s2)``; the integral over ``t = log u`` is taken
    around its mode (Newton) with the curvature there as the scale.
    """
    mu = -0.5 * s2
    # mode of n t - e exp(t) - (t - mu)^2 / (2 s2): start from the data or the prior
    t = np.where(n > 0, np.log(np.maximum(n, 1e-12) / np.maximum(e, 1e-300)), mu)
    t = np.clip(t, mu - 10 * np.sqrt(s2), mu + 30.0)
    for _ in range(30):
        et = e * np.exp(t)
        grad = n - et - (t - mu) / s2
        hess = et + 1.0 / s2
        step = np.clip(grad / hess, -2.0, 2.0)
        t = t + step
        if np.max(np.abs(step)) < 1e-8:
            break
    h = e * np.exp(t) + 1.0 / s2
    x, w = np.polynomial.hermite.hermgauss(LOGNORMAL_NODES)
    scale = np.sqrt(2.0 / h)
    tk = t[:, None] + scale[:, None] * x[None, :]
    f = n[:, None] * tk - e[:, None] * np.exp(tk) - (tk - mu) ** 2 / (2 * s2)
    f_mode = n * t - e * np.exp(t) - (t - mu) ** 2 / (2 * s2)
    q = w[None, :] * np.exp(x[None, :] ** 2 + f - f_mode[:, None])
    z = q.sum(axis=1)
    loglik = f_mode + np.log(z * scale) - 0.5 * np.log(2 * np.pi * s2)
    mean_t = (q * tk).sum(axis=1) / z
    var_t = np.maximum((q * tk**2).sum(axis=1) / z - mean_t**2, 1e-12)
    mean_u = (q * np.exp(tk)).sum(axis=1) / z
    return loglik, mean_u, var_t


def lognormal_multiplier(num: np.ndarray, expected: np.ndarray,
                         sigma2_bounds: tuple[float, float] = (0.01, 16.0)) -> LognormalFit:
    """Per-entity multipliers on a parent rate, ``num ~ Poisson(expected x u)``, ``u`` log-normal.

    For quantities that differ between siblings by orders of magnitude (a keyword's search
    volume against its item's other keywords): a Gamma(m, m) multiplier has an exponential
    tail, so a head word with 40 clicks where its item's rate expects 0.04 is pulled down
    ~8x whatever ``m``; a log-normal with the spread the data shows lets such evidence speak
    and still shrinks the thin. The prior variance maximises the marginal likelihood
    (entities with nothing expected carry no information and are left at the prior mean).
    """
    from scipy.optimize import minimize_scalar

    num = np.asarray(num, dtype=float)
    expected = np.asarray(expected, dtype=float)
    ok = expected > 0
    mean = np.ones(num.shape)
    lo, hi = np.log(sigma2_bounds[0]), np.log(sigma2_bounds[1])
    if not ok.any():
        return LognormalFit(mean, np.full(num.shape, sigma2_bounds[1]), sigma2_bounds[1])
    n, e = num[ok], expected[ok]
    fit = minimize_scalar(lambda log_s2: -float(_lognormal_posterior(n, e, np.exp(log_s2))[0].sum()),
                          bounds=(lo, hi), method="bounded", options={"xatol": 1e-2})
    s2 = float(np.exp(fit.x))
    _, mean_u, var_t = _lognormal_posterior(n, e, s2)
    mean[ok] = mean_u
    var_log = np.full(num.shape, s2)
    var_log[ok] = var_t
    return LognormalFit(mean, var_log, s2)


@dataclass
class VolumeFit:
    """Per-entity volume (traffic at rank 1) and the posterior variance of its log."""

    rate: np.ndarray
    var_log: np.ndarray


def keyword_volume(counts: np.ndarray, exposure: np.ndarray, levels: list[np.ndarray]) -> VolumeFit:
    """Volumes: Gamma-shrunk down to the last group level, a log-normal multiplier per entity.

    ``levels`` end with the entity itself (``np.arange(n)``); the groups above it pool like
    any rate, the entity's own multiplier is ``lognormal_multiplier`` (search volumes of one
    item's keywords span orders of magnitude).
    """
    groups = hierarchical_rate(counts, exposure, levels[:-1], strength_bounds=(0.3, MAX_STRENGTH))
    own = lognormal_multiplier(counts, exposure * groups.rate)
    return VolumeFit(rate=groups.rate * own.mean,
                     var_log=own.var_log + 1.0 / np.maximum(groups.shape, 1e-3))


def keyword_shape(keywords: pd.Series, volume: np.ndarray) -> pd.DataFrame:
    """What marks a keyword as a head word or long tail: ``size``, its log volume (at rank 1),
    and ``length``, the log of its characters (spaces aside): long queries are the specific
    ones. Compared within a group (``group_means``), they tilt its conversion prior."""
    text = keywords.astype(str).str.replace(r"\s+", "", regex=True)
    return pd.DataFrame({
        "size": np.log(np.maximum(np.asarray(volume, dtype=float), 1e-12)),
        "length": np.log(np.maximum(text.str.len().to_numpy(dtype=float), 1.0)),
    })


def group_means(values: pd.DataFrame, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, the mean of each column of ``values`` (groups x columns)."""
    count = np.maximum(np.bincount(groups, minlength=n_groups), 1)
    return np.column_stack([group_sum(groups, values[c].to_numpy(float), n_groups) / count
                            for c in values.columns])


def within_group_tilt(counts: np.ndarray, exposure: np.ndarray, features: np.ndarray,
                      groups: np.ndarray, bound: float = 1.0) -> np.ndarray:
    """Elasticities ``d`` of a per-click rate to keyword features, within each group.

    ``counts ~ Poisson(exposure x rate_group x exp(features @ d))`` with a free rate per
    group (an item on a platform): head words of an item convert worse than its long tail,
    so a prior that gives every keyword its item's rate over-rates the head and under-rates
    the tail. The group rates are conditioned out (each group's counts are multinomial given
    their total), so the slope is not biased by an item's rate being mostly its head words'.
    Newton steps; each coefficient clipped to ``+-bound``; zeros where data are too few.
    """
    u_all = np.asarray(features, dtype=float)
    u_all = u_all[:, None] if u_all.ndim == 1 else u_all
    k = u_all.shape[1]
    ok = (exposure > 0) & np.isfinite(u_all).all(axis=1)
    n, e, u = counts[ok], exposure[ok], u_all[ok]
    _, g = np.unique(groups[ok], return_inverse=True)
    n_g = int(g.max()) + 1 if g.size else 0
    total = group_sum(g, n, n_g)
    if np.count_nonzero(total[g] > 0) < 10 * k or n.sum() <= 0:
        return np.zeros(k)
    d = np.zeros(k)
    for _ in range(30):
        w = e * np.exp(u @ d)
        p = w / group_sum(g, w, n_g)[g]  # each keyword's share of its group's expectation
        mean_u = np.column_stack([group_sum(g, p * u[:, j], n_g) for j in range(k)])[g]
        centred = u - mean_u
        score = centred.T @ n  # sum_i n_i (u_i - E_group[u])
        info = (centred * (total[g] * p)[:, None]).T @ centred
        # least squares: a feature that never varies within a group (every keyword of the
        # shop as long as its siblings) gets no slope instead of a singular system
        step = np.linalg.lstsq(info, score, rcond=None)[0]
        d = np.clip(d + step, -bound, bound)
        if np.abs(step).max() < 1e-6:
            break
    return d
