"""Within-keyword calibration: how strongly traffic answers the keyword's *own* bid changes.

The position curve (``landscape``) is learned across all keywords: at average rank 9 it
mixes keywords whose crowds sit at ranks 6 and 12 with keywords that sit at 9 in every
crowd, so it is flatter than the response of any one keyword to its own bid. A shop-wide
move (every bid +30%) adds those per-keyword errors up, so the slope must be right, not just
the level. The seller's nightly bid changes are a natural experiment for exactly that slope:
within a keyword the bid varies for reasons unrelated to the competitors, so a Poisson
regression with one volume per keyword (fixed effects) of the day's clicks on the structural
log traffic ``s(bid)`` gives an exponent ``gamma``: ``clicks = V * exp(gamma * s(bid))``.
``gamma`` is pooled per platform x rank regime (where the keyword usually sits) because the
flattening differs between the top of the page and its edge, and it is shrunk toward 1 (the
structural curve) with a normal prior. Every step is a few ``np.bincount`` passes.
"""

from __future__ import annotations

import numpy as np

from bidopt.model.rates import group_sum

REGIME_EDGES = np.log(np.array([1.5, 3.0, 5.0, 8.0, 12.0]))
"""Log-rank edges of the regimes that share one exponent (per platform)."""
GAMMA_BOUNDS = (0.5, 4.0)
GAMMA_PRIOR_SD = 0.5


def regime_codes(platform: np.ndarray, log_rank_ref: np.ndarray) -> tuple[np.ndarray, int]:
    """Regime per entity: platform x bin of the entity's reference log rank."""
    n_bins = len(REGIME_EDGES) + 1
    bins = np.searchsorted(REGIME_EDGES, log_rank_ref, side="right")
    n_plat = int(platform.max()) + 1 if platform.size else 1
    return platform.astype(np.int64) * n_bins + bins, n_plat * n_bins


def fit_exponent(
    ent: np.ndarray,
    n_ent: int,
    regime_of_entity: np.ndarray,
    n_regimes: int,
    s: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    n_iter: int = 12,
) -> np.ndarray:
    """Exponent per regime of ``y ~ Poisson(V_keyword * exp(gamma * s))`` (volumes profiled out).

    With the volumes profiled out, the score of ``gamma`` is ``sum_e Y_e (sbar_obs_e -
    sbar_fit_e(gamma))``: the observed click-weighted mean of ``s`` against the mean under
    the tilted fit; its derivative is minus the click-weighted tilted variance. Newton steps
    with a N(1, GAMMA_PRIOR_SD^2) prior per regime; keywords whose ``s`` never varied
    contribute nothing.
    """
    wy = w * y
    y_e = group_sum(ent, wy, n_ent)
    sobs_e = np.where(y_e > 0, group_sum(ent, wy * s, n_ent) / np.maximum(y_e, 1e-300), 0.0)
    s_c = s - np.where(y_e > 0, sobs_e, 0.0)[ent]  # centre per entity: keeps exp() tame
    gamma = np.ones(n_regimes)
    reg_row = regime_of_entity[ent]
    prior_prec = 1.0 / GAMMA_PRIOR_SD**2
    for _ in range(n_iter):
        t = w * np.exp(np.clip(gamma[reg_row] * s_c, -50.0, 50.0))
        m0 = group_sum(ent, t, n_ent)
        m1 = group_sum(ent, t * s_c, n_ent)
        m2 = group_sum(ent, t * s_c * s_c, n_ent)
        ok = m0 > 0
        mean = np.where(ok, m1 / np.where(ok, m0, 1.0), 0.0)
        var = np.where(ok, m2 / np.where(ok, m0, 1.0) - mean**2, 0.0)
        score = group_sum(regime_of_entity, -y_e * mean, n_regimes) - prior_prec * (gamma - 1.0)
        info = group_sum(regime_of_entity, y_e * np.maximum(var, 0.0), n_regimes) + prior_prec
        step = np.clip(score / info, -0.5, 0.5)
        gamma = np.clip(gamma + step, *GAMMA_BOUNDS)
        if np.max(np.abs(step)) < 1e-4:
            break
    return gamma


def cpc_ceiling(ent: np.ndarray, group: np.ndarray, n_group: int, ratio: np.ndarray,
                clicks: np.ndarray, hi: float = 4.0) -> np.ndarray:
    """Highest cost per click / keyword bid seen in each entity's group (>= 1).

    ``group`` is a per-entity code (e.g. item x platform), ``ratio`` and ``clicks`` per row.

    Crowd premiums raise the effective bid above the keyword bid (bid x (1 + premium)), so
    a keyword report's cost per click can exceed the keyword bid; what it cannot exceed is
    the bid times the largest premium factor in force. That factor is per item, not in the
    keyword report, so it is read off the item's days with at least two clicks.
    """
    usable = (clicks >= 2) & np.isfinite(ratio)
    top = np.ones(n_group)
    np.maximum.at(top, group[ent[usable]], np.minimum(ratio[usable], hi))
    return top[group]
