"""The optimiser's problem statement, its result, and the vectorised pricing kernel.

Every search in this package asks one question many times: "at these multipliers, which level
does each entity pick?".  The kernel answers it on float32 copies of the (n, L) arrays, in
cache-sized chunks on a small thread pool, because that pass is the whole cost at 1M entities.
Sums that decide feasibility are always taken in float64 from the caller's arrays.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

CHUNK = 4096  # rows per kernel chunk: 4096 x 40 float32 fits in L2 with its temporaries
_THREADS = max(1, min(4, os.cpu_count() or 1))
_POOL: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    """A process-wide pool; numpy releases the GIL inside the kernel's array ops."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(_THREADS, thread_name_prefix="bidopt-optimise")
    return _POOL


@dataclass
class Solution:
    """A plan (one level per entity) with its proven distance from the optimum."""

    choice: np.ndarray
    objective: float
    upper_bound: float
    gap: float
    feasible: bool
    campaign: pd.DataFrame
    iterations: int


@dataclass
class Problem:
    """Validated inputs: the caller's arrays (not copied) plus per-campaign limits."""

    values: np.ndarray
    costs: np.ndarray
    gmv: np.ndarray
    valid: np.ndarray
    group: np.ndarray
    roi_floor: np.ndarray
    budget: np.ndarray
    shop_budget: float
    baseline: np.ndarray | None

    @property
    def n(self) -> int:
        return self.values.shape[0]

    @property
    def levels(self) -> int:
        return self.values.shape[1]

    @property
    def n_campaigns(self) -> int:
        return self.roi_floor.shape[0]

    def pick(self, array: np.ndarray, choice: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """array[i, choice[i]] as float64, for all rows or the given ones."""
        if rows is None:
            rows = np.arange(self.n)
        return np.asarray(array[rows, choice], dtype=np.float64)

    def campaign_sums(
        self, choice: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-campaign cost, gmv and objective of a full plan."""
        k = self.n_campaigns
        rows = np.arange(self.n)
        cost = np.bincount(self.group, self.pick(self.costs, choice, rows), k)
        gmv = np.bincount(self.group, self.pick(self.gmv, choice, rows), k)
        obj = np.bincount(self.group, self.pick(self.values, choice, rows), k)
        return cost, gmv, obj


def prepare(
    values: np.ndarray,
    costs: np.ndarray,
    gmv: np.ndarray,
    valid: np.ndarray,
    group: np.ndarray,
    roi_floor: np.ndarray,
    budget: np.ndarray,
    shop_budget: float | None,
    baseline: np.ndarray | None,
) -> Problem:
    """Check shapes and ranges once, so the searches can trust their inputs."""
    values = np.asarray(values, dtype=np.float64)
    costs = np.asarray(costs, dtype=np.float64)
    gmv = np.asarray(gmv, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool)
    if values.ndim != 2 or not (values.shape == costs.shape == gmv.shape == valid.shape):
        raise ValueError("values, costs, gmv and valid must be (n, L) arrays of one shape")
    n = values.shape[0]
    group = np.asarray(group)
    if group.shape != (n,) or (n and (group.min() < 0)):
        raise ValueError("group must be an (n,) array of campaign indices >= 0")
    group = group.astype(np.intp, copy=False)
    roi_floor = np.atleast_1d(np.asarray(roi_floor, dtype=np.float64))
    n_campaigns = max(roi_floor.shape[0], int(group.max()) + 1 if n else 0)
    budget = np.broadcast_to(np.asarray(budget, dtype=np.float64), roi_floor.shape)
    if roi_floor.shape[0] < n_campaigns:
        raise ValueError(f"roi_floor has {roi_floor.shape[0]} campaigns, group needs {n_campaigns}")
    if np.any(np.isnan(roi_floor)) or np.any(roi_floor < 0):
        raise ValueError("roi_floor must be >= 0 (0 = no floor)")
    budget = np.where(np.isnan(budget), np.inf, budget)
    if np.any(budget < 0):
        raise ValueError("budget must be >= 0 (np.inf = none)")
    if n and not valid.any(axis=1).all():
        raise ValueError("every entity needs at least one valid choice")
    shop = np.inf if shop_budget is None or np.isnan(shop_budget) else float(shop_budget)
    if baseline is not None:
        baseline = np.asarray(baseline).astype(np.intp, copy=False)
        if baseline.shape != (n,):
            raise ValueError("baseline must be an (n,) array of level indices")
        inside = (baseline >= 0) & (baseline < values.shape[1])
        ok = np.zeros(n, dtype=bool)
        ok[inside] = valid[np.flatnonzero(inside), baseline[inside]]
        baseline = np.where(ok, baseline, -1)  # an invalid baseline is no tie-breaker
    return Problem(values, costs, gmv, valid, group, roi_floor, np.array(budget), shop, baseline)


@dataclass
class Priced:
    """float32 working copies for the kernel: invalid levels carry value -inf."""

    v: np.ndarray
    g: np.ndarray
    c: np.ndarray


def priced(problem: Problem) -> Priced:
    """Make the float32 copies once; reject non-finite data at valid levels."""
    n, levels = problem.values.shape
    v = np.empty((n, levels), np.float32)
    g = np.empty((n, levels), np.float32)
    c = np.empty((n, levels), np.float32)

    def fill(s: int, e: int) -> bool:
        bad = ~problem.valid[s:e]
        np.copyto(v[s:e], problem.values[s:e], casting="same_kind")
        np.copyto(g[s:e], problem.gmv[s:e], casting="same_kind")
        np.copyto(c[s:e], problem.costs[s:e], casting="same_kind")
        v[s:e][bad] = 0.0
        g[s:e][bad] = 0.0
        c[s:e][bad] = 0.0
        ok = bool(np.isfinite(v[s:e].sum()) and np.isfinite(g[s:e].sum())
                  and np.isfinite(c[s:e].sum()))
        v[s:e][bad] = -np.inf
        return ok

    step = CHUNK * 8
    if not all(pool().map(lambda s: fill(s, min(s + step, n)), range(0, n, step))):
        raise ValueError("values, costs and gmv must be finite at valid levels")
    return Priced(v, g, c)


def best_levels(
    arrays: Priced,
    lam: np.ndarray,
    rho: np.ndarray,
    baseline: np.ndarray | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Per row, the level maximising v + lam*g - rho*c (ties and near-ties go to baseline).

    lam, rho and baseline are aligned with `rows` (all rows when None); a baseline of -1
    means none.  Row subsets are gathered chunk by chunk inside the worker threads rather than
    copied out up front: a large up-front copy costs fresh pages, which at 1M rows is slower
    than the pricing itself.
    """
    m = arrays.v.shape[0] if rows is None else rows.size
    out = np.empty(m, dtype=np.intp)

    def run(s: int) -> None:
        e = min(s + CHUNK, m)
        if rows is None:
            g, v, c = arrays.g[s:e], arrays.v[s:e], arrays.c[s:e]
        else:
            idx = rows[s:e]
            g, v, c = arrays.g[idx], arrays.v[idx], arrays.c[idx]
        score = g * lam[s:e, None]
        score += v
        cost = c * rho[s:e, None]
        score -= cost
        best = score.argmax(axis=1)
        if baseline is not None:
            base = baseline[s:e]
            ar = np.arange(e - s)
            top = score[ar, best]
            mine = score[ar, np.maximum(base, 0)]
            keep = (base >= 0) & (mine >= top - 1e-6 * np.abs(top))
            best = np.where(keep, base, best)
        out[s:e] = best

    if m <= CHUNK:
        run(0)
    else:
        list(pool().map(run, range(0, m, CHUNK)))
    return out


def dual_rows(problem: Problem, lam: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Per row, max over valid levels of v + lam*g - rho*c in float64 (the bound's terms).

    lam and rho are (k, n) arrays: k multiplier candidates evaluated in one pass over memory.
    """
    k, m = lam.shape
    out = np.empty((k, m), dtype=np.float64)

    def run(s: int) -> None:
        e = min(s + CHUNK, m)
        v = problem.values[s:e]
        g = problem.gmv[s:e]
        c = problem.costs[s:e]
        bad = ~problem.valid[s:e]
        for t in range(k):
            score = g * lam[t, s:e, None]
            score += v
            score -= c * rho[t, s:e, None]
            score[bad] = -np.inf
            out[t, s:e] = score.max(axis=1)

    if m <= CHUNK:
        run(0)
    else:
        list(pool().map(run, range(0, m, CHUNK)))
    return out


def campaign_frame(
    problem: Problem,
    choice: np.ndarray,
    feasible: np.ndarray,
    lam: np.ndarray,
    mu: np.ndarray,
) -> pd.DataFrame:
    """One row per campaign index: what the plan spends, earns and owes its limits."""
    cost, gmv, obj = problem.campaign_sums(choice)
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(cost > 0, gmv / np.where(cost > 0, cost, 1.0), np.nan)
    frame = pd.DataFrame(
        {
            "cost": cost,
            "gmv": gmv,
            "objective": obj,
            "roi": roi,
            "roi_floor": problem.roi_floor,
            "budget": problem.budget,
            "feasible": feasible.astype(bool),
            "lambda_roi": lam,
            "mu_budget": mu,
        }
    )
    frame.index.name = "campaign"
    return frame


def slack_tolerance(scale: np.ndarray | float) -> np.ndarray | float:
    """Rounding allowance when checking a constraint whose terms are about `scale` large."""
    return 1e-9 * np.abs(scale) + 1e-7


def campaign_violations(
    problem: Problem, cost: np.ndarray, gmv: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """ROI deficit (floor*cost - gmv) and budget excess per campaign, 0 where satisfied."""
    floor = problem.roi_floor
    deficit = np.where(floor > 0, floor * cost - gmv, 0.0)
    deficit = np.where(deficit > slack_tolerance(np.maximum(gmv, floor * cost)), deficit, 0.0)
    excess = cost - problem.budget
    excess = np.where(excess > slack_tolerance(cost), excess, 0.0)
    return deficit, excess
