"""solve_exact(): the same problem as a MILP for HiGHS, the yardstick for small instances.

One binary per valid (entity, level); exactly one per entity; one ROI row and one budget row
per campaign with a limit; one shop row.  Exponential in the worst case: use it on instances
of a few thousand entities, or with a time limit.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint
from scipy.sparse import csr_array, vstack

from bidopt.optimise.lagrangian import Search
from bidopt.optimise.problem import Solution, prepare, priced
from bidopt.optimise.quiet import quiet_milp
from bidopt.optimise.solver import _finish, _limits, _scales


def solve_exact(
    values: np.ndarray,
    costs: np.ndarray,
    gmv: np.ndarray,
    valid: np.ndarray,
    group: np.ndarray,
    roi_floor: np.ndarray,
    budget: np.ndarray,
    *,
    shop_budget: float | None = None,
    baseline: np.ndarray | None = None,
    tol: float = 1e-4,
    max_iter: int | None = None,
    time_limit: float | None = None,
) -> Solution:
    """Optimal plan by branch and bound (HiGHS); upper_bound is HiGHS's dual bound.

    When HiGHS proves the limits infeasible (or hits time_limit with no plan), returns the same violation-minimising plan as
    solve() with feasible=False and upper_bound nan.  tol is the relative MIP gap; baseline
    and max_iter are accepted for signature parity and ignored.
    """
    problem = prepare(values, costs, gmv, valid, group, roi_floor, budget, shop_budget, baseline)
    n = problem.n
    k = problem.n_campaigns
    rows, cols = np.nonzero(problem.valid)
    m = rows.size
    v = problem.values[rows, cols]
    c = problem.costs[rows, cols]
    g = problem.gmv[rows, cols]
    grp = problem.group[rows]
    blocks = [csr_array((np.ones(m), (rows, np.arange(m))), shape=(n, m))]
    lower = [np.ones(n)]
    upper = [np.ones(n)]
    floor = problem.roi_floor
    roi_rows = np.flatnonzero(floor > 0)
    if roi_rows.size:
        where = np.searchsorted(roi_rows, grp)
        hit = floor[grp] > 0
        data = (g - floor[grp] * c)[hit]
        blocks.append(csr_array((data, (where[hit], np.flatnonzero(hit))), shape=(roi_rows.size, m)))
        lower.append(np.zeros(roi_rows.size))
        upper.append(np.full(roi_rows.size, np.inf))
    budget_rows = np.flatnonzero(np.isfinite(problem.budget))
    if budget_rows.size:
        where = np.searchsorted(budget_rows, grp)
        hit = np.isfinite(problem.budget[grp])
        blocks.append(csr_array((c[hit], (where[hit], np.flatnonzero(hit))), shape=(budget_rows.size, m)))
        lower.append(np.full(budget_rows.size, -np.inf))
        upper.append(problem.budget[budget_rows])
    if np.isfinite(problem.shop_budget):
        blocks.append(csr_array(c[None, :]))
        lower.append(np.array([-np.inf]))
        upper.append(np.array([problem.shop_budget]))
    matrix = vstack(blocks, format="csr")
    options: dict = {"mip_rel_gap": min(tol, 1e-6)}
    if time_limit is not None:
        options["time_limit"] = time_limit
    res = quiet_milp(
        -v,
        constraints=LinearConstraint(matrix, np.concatenate(lower), np.concatenate(upper)),
        integrality=np.ones(m),
        bounds=Bounds(0, 1),
        options=options,
    )
    zeros = np.zeros(k)
    if res.x is None:
        search = Search(problem, priced(problem), tol, 60)
        _scales(search)
        fallback, _, _ = _limits(search)
        sol = _finish(problem, fallback, np.nan, zeros, zeros, 0)
        sol.gap = np.nan
        sol.feasible = False
        return sol
    picked = res.x > 0.5
    choice = np.zeros(n, np.intp)
    choice[rows[picked]] = cols[picked]
    bound = getattr(res, "mip_dual_bound", None)
    bound = -float(bound) if bound is not None and np.isfinite(bound) else float(v[picked].sum())
    sol = _finish(problem, choice, max(bound, float(v[picked].sum())), zeros, zeros,
                  int(getattr(res, "mip_node_count", 0) or 0))
    return sol
