"""The shop-wide budget's multiplier nu: a bracket search around a guess.

At a fixed nu the campaigns decouple, so each trial nu reruns every campaign's search (warm
started from the previous trial).  Those reruns are the cost, so the search starts from a
guess (the answer on a row sample, see solver._sample_warm) and brackets it with small steps
instead of starting at nu = 0, and it stops once the shop's leftover is below SHOP_TOL of the
budget: the fill step spends a leftover that small.
"""

from __future__ import annotations

import numpy as np

from bidopt.optimise.lagrangian import CampaignPlan, Ramp, Search
from bidopt.optimise.problem import slack_tolerance

SHOP_TOL = 1e-3  # stop when the shop's unspent budget is below this share of it
STEPS = (0.03, 0.15, 0.5, 1.0)  # relative steps away from the guess while bracketing


def plan_cost(search: Search, plan: CampaignPlan, fixed: np.ndarray, fallback: np.ndarray) -> float:
    """Shop spend of a campaign plan, with campaigns that cannot meet limits at fallback."""
    p = search.problem
    choice = np.where(fixed[p.group], fallback, plan.j_hi)
    return float(p.pick(p.costs, choice).sum())


def shop_search(
    search: Search,
    free: np.ndarray,
    fallback: np.ndarray,
    warm: CampaignPlan | None = None,
    nu0: float = 0.0,
) -> tuple[CampaignPlan, float]:
    """Campaign multipliers at the smallest shop price nu whose plan fits the shop budget."""
    p = search.problem
    fixed = ~free
    shop = p.shop_budget

    def trial(nu: float, start: CampaignPlan | None) -> tuple[CampaignPlan, float, bool]:
        plan = search.campaigns(nu, free, start)
        if not np.isfinite(shop):
            return plan, np.inf, True
        total = plan_cost(search, plan, fixed, fallback)
        return plan, shop - total, shop - total >= -slack_tolerance(total)

    nu0 = nu0 if np.isfinite(shop) else 0.0
    plan, s, ok = trial(nu0, warm)
    if ok and nu0 == 0.0:
        return plan, 0.0
    lo, s_lo, hi, s_hi = (np.nan, np.nan, nu0, s) if ok else (nu0, s, np.nan, np.nan)
    best: CampaignPlan | None = plan if ok else None
    last = plan
    # Bracket: walk away from the guess in growing steps until the verdict flips.
    steps = (STEPS if nu0 > 0 else ()) + (7.0,) * 30  # no guess: grow 8x at a time
    for step in steps:
        if np.isfinite(lo) and np.isfinite(hi):
            break
        if ok:  # feasible at hi: look lower
            nu = 0.0 if step >= 1.0 else hi * (1.0 - step)
        else:  # infeasible at lo: look higher
            nu = lo * (1.0 + step) if lo > 0 else search.rho_scale
        last, s, ok = trial(nu, last)
        if ok:
            hi, s_hi, best = nu, s, last
            if nu == 0.0:
                return last, 0.0
        else:
            lo, s_lo = nu, s
    if best is None:  # no shop price makes the plan fit: keep the most expensive try
        return last, float(lo)
    ramp = Ramp(np.array([s_lo]), np.array([s_hi]))
    lo_a, hi_a = np.array([lo]), np.array([hi])
    for _ in range(search.max_iter):
        if hi_a[0] - lo_a[0] <= search.tol * hi_a[0] or s_hi <= SHOP_TOL * shop:
            break
        mid = float(ramp.next(lo_a, hi_a)[0])
        last, s, ok = trial(mid, best)
        if ok:
            hi_a[0], s_hi, best = mid, s, last
        else:
            lo_a[0] = mid
        up = np.array([ok])
        ramp.moved(up, ~up, np.array([s]))
    return best, float(hi_a[0])
