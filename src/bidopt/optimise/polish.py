"""Exact polish: a small MILP over the entities the multipliers leave undecided.

The Lagrangian plan, its repair and its fill decide most entities the same way from every
start; the few whose level differs between the starts (or between the two ends of the final
brackets) are where discreteness costs value.  With every other entity fixed at the chosen
plan's level, HiGHS solves the remaining multiple-choice knapsack exactly (or to a node
limit).  Its plan replaces the chosen one only when it is feasible in the package's own
float64 check and strictly better, or when the chosen one is infeasible, so the polish can
never make a feasible plan worse.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint
from scipy.sparse import csr_array, vstack

from bidopt.optimise.problem import Problem, campaign_violations, slack_tolerance
from bidopt.optimise.quiet import quiet_milp

POLISH_MAX_N = 20_000  # larger instances skip the polish: their gap is already ~1e-5
POLISH_ROWS = 400  # at most this many undecided entities are searched exactly
# The polish must give the same plan on a busy machine as on an idle one: it runs only on
# instances HiGHS finishes quickly (at most POLISH_MAX_VARIABLES moves) and stops at
# optimality or after POLISH_NODES branch-and-bound nodes, a deterministic amount of work;
# the time limit is only a safety net. (A 1 s limit used to cut HiGHS off mid-search on
# 4,000-move instances, and the plan then depended on the machine's load.)
POLISH_MAX_VARIABLES = 1_500
POLISH_NODES = 1_000
POLISH_SECONDS = 10.0


def polish(problem: Problem, choice: np.ndarray, rows: np.ndarray,
           time_limit: float = POLISH_SECONDS) -> np.ndarray | None:
    """The best plan that differs from `choice` only on `rows`, or None when none is found.

    Each variable is a move of one undecided entity away from its level in `choice` (staying
    put is the zero move); each constraint's right-hand side is the campaign's current slack,
    tightened by a hair so that HiGHS's feasibility tolerance cannot leave the plan a rounding
    short (never below zero: keeping `choice` stays allowed when it is feasible).
    """
    rows = np.asarray(rows, dtype=np.intp)
    if rows.size == 0:
        return None
    k = problem.n_campaigns
    grp_all = problem.group
    all_rows = np.arange(problem.n)
    total_c = np.bincount(grp_all, problem.pick(problem.costs, choice, all_rows), k)
    total_g = np.bincount(grp_all, problem.pick(problem.gmv, choice, all_rows), k)
    # variables are moves away from the current level: small coefficients, and right-hand
    # sides that are the current slack rather than a difference of two large totals
    here = choice[rows]
    r, col = np.nonzero(problem.valid[rows])
    ent = rows[r]
    m = ent.size
    if m > POLISH_MAX_VARIABLES:
        return None
    v = problem.values[ent, col] - problem.values[ent, here[r]]
    c = problem.costs[ent, col] - problem.costs[ent, here[r]]
    g = problem.gmv[ent, col] - problem.gmv[ent, here[r]]
    grp = grp_all[ent]
    blocks = [csr_array((np.ones(m), (r, np.arange(m))), shape=(rows.size, m))]
    lower = [np.ones(rows.size)]
    upper = [np.ones(rows.size)]
    floor = problem.roi_floor
    touched = np.zeros(k, dtype=bool)  # only campaigns with an undecided entity need rows
    touched[grp] = True
    eps = 1e-9 * (np.abs(total_g) + floor * np.abs(total_c)) + 1e-7
    roi_rows = np.flatnonzero(touched & (floor > 0))
    if roi_rows.size:
        where = np.searchsorted(roi_rows, grp)
        hit = floor[grp] > 0
        data = (g - floor[grp] * c)[hit]
        blocks.append(csr_array((data, (where[hit], np.flatnonzero(hit))),
                                shape=(roi_rows.size, m)))
        slack = total_g[roi_rows] - floor[roi_rows] * total_c[roi_rows]
        lower.append(np.minimum(eps[roi_rows] - slack, 0.0))
        upper.append(np.full(roi_rows.size, np.inf))
    budget_rows = np.flatnonzero(touched & np.isfinite(problem.budget))
    if budget_rows.size:
        where = np.searchsorted(budget_rows, grp)
        hit = np.isfinite(problem.budget[grp])
        blocks.append(csr_array((c[hit], (where[hit], np.flatnonzero(hit))),
                                shape=(budget_rows.size, m)))
        lower.append(np.full(budget_rows.size, -np.inf))
        slack = problem.budget[budget_rows] - total_c[budget_rows]
        upper.append(np.maximum(slack - 1e-9 * np.abs(total_c[budget_rows]) - 1e-7, 0.0))
    if np.isfinite(problem.shop_budget):
        blocks.append(csr_array(c[None, :]))
        lower.append(np.array([-np.inf]))
        spent = total_c.sum()
        upper.append(np.array([max(problem.shop_budget - spent - 1e-9 * abs(spent) - 1e-7, 0.0)]))
    res = quiet_milp(
        -problem.values[ent, col],  # whole values: a relative gap on a gain near 0 is too strict
        constraints=LinearConstraint(vstack(blocks, format="csr"), np.concatenate(lower),
                                     np.concatenate(upper)),
        integrality=np.ones(m),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 1e-6, "time_limit": time_limit, "node_limit": POLISH_NODES},
    )
    if res.x is None:
        return None
    picked = res.x > 0.5
    if np.count_nonzero(picked) != rows.size:
        return None
    # accept only a feasible plan that gains (or that repairs an infeasible one)
    cost = total_c + np.bincount(grp[picked], c[picked], k)
    gmv = total_g + np.bincount(grp[picked], g[picked], k)
    if not _holds(problem, cost, gmv):
        return None
    if _holds(problem, total_c, total_g) and v[picked].sum() <= 0:
        return None
    out = choice.copy()
    out[ent[picked]] = col[picked]
    return out


def _holds(problem: Problem, cost: np.ndarray, gmv: np.ndarray) -> bool:
    """Every campaign limit and the shop budget hold for these per-campaign sums."""
    deficit, excess = campaign_violations(problem, cost, gmv)
    spent = cost.sum()
    return not (deficit.any() or excess.any()) and bool(
        spent - problem.shop_budget <= slack_tolerance(spent))
