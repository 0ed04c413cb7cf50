"""solve(): the nightly ROI-constrained plan for up to millions of keyword x platform rows.

Order of work: detect campaigns that cannot meet their limits (they get the plan that breaks
them least and leave the search), search the multipliers (campaigns at a shop price nu, then
nu), repair anything still broken, spend the leftover slack, and price the final multipliers
once more in float64 for an upper bound that holds for the discrete problem.
"""

from __future__ import annotations

import math

import numpy as np

from bidopt.optimise.lagrangian import CampaignPlan, Search
from bidopt.optimise.polish import POLISH_MAX_N, POLISH_ROWS, polish
from bidopt.optimise.problem import (
    CHUNK,
    Problem,
    Solution,
    campaign_frame,
    campaign_violations,
    dual_rows,
    prepare,
    priced,
    slack_tolerance,
)
from bidopt.optimise.repair import fill, repair, slack_of, swap
from bidopt.optimise.shop import shop_search

FILL_ALL_ROWS = 20_000  # below this many entities the fill step looks at every entity
SWAP_ROWS = 2_000  # pair moves (O(width^2) per round) only where discreteness costs most
SAMPLE_ROWS = 50_000  # rows in the sample that warm-starts the searches (at most n / 8)
SAMPLE_MIN = 80_000  # entities from which the sample pays for itself
BIG = 1e6  # multiplier (relative to the data's scale) that makes one term dominate the score


def solve(
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
    max_iter: int = 60,
) -> Solution:
    """Pick one level per entity maximising sum(values) within every campaign's ROI floor and
    budget and the shop budget; never raises for infeasible limits (see Solution.feasible).

    tol is the relative precision of the multiplier searches; max_iter caps each search.
    """
    problem = prepare(values, costs, gmv, valid, group, roi_floor, budget, shop_budget, baseline)
    if problem.n == 0:
        return _finish(problem, np.zeros(0, np.intp), 0.0, np.zeros(problem.n_campaigns),
                       np.zeros(problem.n_campaigns), 0)
    search = Search(problem, priced(problem), tol, max_iter)
    _scales(search)
    fallback, stuck, shop_stuck = _limits(search)
    free = ~stuck
    warm, nu0 = _sample_warm(problem, free, tol, max_iter)
    plan, nu = shop_search(search, free, fallback, warm, nu0)
    fixed = stuck[problem.group]
    if problem.n <= FILL_ALL_ROWS:
        rows = np.arange(problem.n)
    else:
        rows = np.flatnonzero(plan.j_lo != plan.j_hi)
    if shop_stuck:
        choice = fallback.copy()
    else:
        # Two starts: the feasible end of every bracket (filled up), and the infeasible end
        # (repaired down).  Discrete jumps make either one the better on small campaigns.
        starts = [np.where(fixed, fallback, plan.j_hi), np.where(fixed, fallback, plan.j_lo)]
        if problem.n <= SWAP_ROWS:
            starts += _nearby_starts(search, plan, nu, fixed, fallback)
        plans = [fill(problem, repair(problem, start, fallback, rows), rows) for start in starts]
        if problem.n > FILL_ALL_ROWS:
            plans = [_fill_priced_room(problem, p, plan, nu, fixed) for p in plans]
        if problem.n <= SWAP_ROWS:
            plans = [swap(problem, p, rows) for p in plans]
        best = _polish(problem, _best_plan(problem, plans), starts + plans, fixed)
        choice = _prefer_baseline(problem, best, rows)
    # No plan meets the shop budget: there is no optimum to measure the distance from.
    upper = math.nan if shop_stuck else _bound(search, plan, nu, stuck, choice)
    return _finish(problem, choice, upper, np.where(free, plan.lam_hi, 0.0),
                   np.where(free, plan.mu_hi, 0.0), search.passes)


ROOM_SHARE = 1e-4
"""A campaign whose unspent room the multipliers value above this share of the objective
gets a fill over all its rows (large instances fill only the undecided rows first)."""


def _fill_priced_room(problem: Problem, choice: np.ndarray, plan: CampaignPlan, nu: float,
                      fixed: np.ndarray) -> np.ndarray:
    """Fill again over every row of the campaigns that left priced room unspent.

    On large instances the first fill only moves the undecided rows (those whose level
    differs between the bracket ends); a campaign cut deep below today's spend can then keep
    2-4% of a binding budget, since the cheap steps that would spend it sit on decided rows.
    Room is valued at the campaign's multipliers (``lam x ROI slack + mu x budget slack``,
    plus the shop price on its budget slack): the terms the bound's gap is made of.
    """
    cost, gmv, values = problem.campaign_sums(choice)
    slack = slack_of(problem, cost, gmv)
    roi_room = np.where(np.isfinite(slack.roi), np.maximum(slack.roi, 0.0), 0.0)
    budget_room = np.where(np.isfinite(slack.budget), np.maximum(slack.budget, 0.0), 0.0)
    worth = plan.lam_hi * roi_room + (plan.mu_hi + nu) * budget_room
    roomy = worth > ROOM_SHARE * max(abs(float(values.sum())), 1e-9)
    rows = np.flatnonzero(roomy[problem.group] & ~fixed)
    return fill(problem, choice, rows) if rows.size else choice


def _sample_warm(
    problem: Problem, free: np.ndarray, tol: float, max_iter: int
) -> tuple[CampaignPlan | None, float]:
    """Multipliers (and shop price) solved on a uniform row sample, as the full search's guess.

    A cold search spends most of its passes narrowing wide brackets over every row; on a
    sample with budgets scaled to each campaign's share of sampled rows, the same search costs
    a few percent of that and lands close enough that the full search starts from narrow
    brackets.  It is only a guess: the full search still brackets and verifies every answer.
    """
    n = problem.n
    if n < SAMPLE_MIN:
        return None, 0.0
    size = min(SAMPLE_ROWS, n // 8)
    rows = np.sort(np.random.default_rng(0).choice(n, size, replace=False))
    k = problem.n_campaigns
    share = np.bincount(problem.group[rows], minlength=k) / np.maximum(
        np.bincount(problem.group, minlength=k), 1)
    base = None if problem.baseline is None else problem.baseline[rows]
    sub = Problem(problem.values[rows], problem.costs[rows], problem.gmv[rows],
                  problem.valid[rows], problem.group[rows], problem.roi_floor,
                  problem.budget * share, problem.shop_budget * size / n, base)
    search = Search(sub, priced(sub), max(tol, 1e-3), max_iter)
    _scales(search)
    fallback, stuck, _ = _limits(search)
    plan, nu = shop_search(search, free & ~stuck, fallback)
    return plan, nu


def _nearby_starts(
    search: Search, plan: CampaignPlan, nu: float, fixed: np.ndarray, fallback: np.ndarray
) -> list[np.ndarray]:
    """Plans priced at multipliers scaled around the ones found (small instances only).

    On a few dozen entities one discrete jump can decide the plan; starting the repair and
    fill from several price points finds the combinations a single price misses.
    """
    p = search.problem
    full = search.block(np.arange(p.n))
    starts = []
    for factor in (0.6, 0.8, 0.9, 0.95, 1.05, 1.1, 1.25, 1.6):
        lam, mu = plan.lam_hi * factor, plan.mu_hi * factor
        j = search.price(full, lam, lam * p.roi_floor + mu + nu * factor)
        starts.append(np.where(fixed, fallback, j))
    return starts


def _polish(
    problem: Problem, choice: np.ndarray, candidates: list[np.ndarray], fixed: np.ndarray
) -> np.ndarray:
    """Solve exactly over the entities whose level differs between the candidate plans.

    The candidates are the starts (both bracket ends, and the nearby prices on small
    instances) and their repaired and filled plans; entities on which they all agree stay
    fixed.  Skipped above POLISH_MAX_N entities (at 1M rows HiGHS took ~0.5 s on 46 undecided
    entities, for a gain of ~3e-7 of the objective) and when more than POLISH_ROWS entities
    are undecided.  Kept only when feasible and strictly better (or when
    it makes an infeasible plan feasible).
    """
    if problem.n > POLISH_MAX_N:
        return choice
    undecided = np.zeros(problem.n, dtype=bool)
    for plan in candidates:
        undecided |= plan != choice
    undecided &= ~fixed
    count = int(np.count_nonzero(undecided))
    if count == 0 or count > POLISH_ROWS:
        return choice
    better = polish(problem, choice, np.flatnonzero(undecided))
    # polish checked its plan on updated sums; check the plan itself once more in full
    if better is None or not (_feasible(problem, better).all() and _shop_ok(problem, better)):
        return choice
    return better


def _scales(search: Search) -> None:
    """Typical value per unit of gmv and of cost: where the multiplier searches start."""
    p = search.problem
    rng = np.random.default_rng(0)
    rows = rng.choice(p.n, size=min(p.n, 20_000), replace=False) if p.n > 20_000 else np.arange(p.n)
    v = np.where(p.valid[rows], p.values[rows], -np.inf)
    j = v.argmax(axis=1)
    total_v = np.abs(p.values[rows, j]).sum()
    total_g = np.abs(p.gmv[rows, j]).sum()
    total_c = np.abs(p.costs[rows, j]).sum()
    if total_v <= 0:
        total_v = 1.0
    search.lam_scale = total_v / total_g if total_g > 0 else 1.0
    search.rho_scale = total_v / total_c if total_c > 0 else 1.0


def _limits(search: Search) -> tuple[np.ndarray, np.ndarray, bool]:
    """The violation-minimising plan, campaigns that cannot meet their limits, shop verdict.

    Per entity the plan takes the level with the most ROI slack (g - floor*c) in campaigns
    with a floor, else the cheapest level; a campaign whose budget alone cannot be met takes
    the cheapest levels.
    """
    p = search.problem
    k = p.n_campaigns
    floor, budget = p.roi_floor, p.budget
    full = search.block(np.arange(p.n))
    zero = np.zeros(k)
    has_floor = floor > 0
    j_cheap = np.zeros(p.n, np.intp)
    cheap_cost = zero.copy()
    if np.isfinite(budget).any() or np.isfinite(p.shop_budget) or not has_floor.all():
        j_cheap = search.price(full, zero, zero + BIG * search.rho_scale)
        j_cheap = _exact_best(p, j_cheap, -p.costs, p.values)
        cheap_cost, _ = search.sums(full, j_cheap)
    j_roi = j_cheap
    roi_stuck = np.zeros(k, dtype=bool)
    if has_floor.any():
        lam = zero + BIG * search.lam_scale
        j_roi = search.price(full, lam, lam * floor)
        cost, gmv = search.sums(full, j_roi)
        short = has_floor & (gmv - floor * cost < -slack_tolerance(gmv + floor * cost))
        if short.any():
            rows = np.flatnonzero(short[p.group])
            sub = p.gmv[rows] - floor[p.group[rows], None] * p.costs[rows]
            j_roi[rows] = _argmax_tiebreak(np.where(p.valid[rows], sub, -np.inf), p.values[rows])
            cost, gmv = search.sums(full, j_roi)
            roi_stuck = has_floor & (gmv - floor * cost < -slack_tolerance(gmv + floor * cost))
    budget_stuck = cheap_cost - budget > slack_tolerance(cheap_cost)
    use_roi = has_floor & (roi_stuck | ~budget_stuck)
    fallback = np.where(use_roi[p.group], j_roi, j_cheap)
    shop_stuck = bool(cheap_cost.sum() - p.shop_budget > slack_tolerance(cheap_cost.sum()))
    if shop_stuck:
        fallback = j_cheap
    return fallback, roi_stuck | budget_stuck, shop_stuck


def _argmax_tiebreak(score: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """Row argmax of score; among (near-)ties the level with the largest tie value."""
    top = score.max(axis=1, keepdims=True)
    near = score >= top - 1e-12 * np.abs(top)
    return np.where(near, tie, -np.inf).argmax(axis=1)


def _exact_best(problem: Problem, j: np.ndarray, score: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """Re-pick rows where float32 pricing may have missed the float64 best (small n only)."""
    if problem.n > FILL_ALL_ROWS:
        return j
    return _argmax_tiebreak(np.where(problem.valid, score, -np.inf), tie)


def _bound(
    search: Search, plan: CampaignPlan, nu: float, stuck: np.ndarray, choice: np.ndarray
) -> float:
    """Lagrangian dual value (float64) at the multipliers found: a valid upper bound.

    Three candidates per campaign (both ends of its last bracket, and no price on its limits)
    are priced in one pass and the smallest is kept, which is allowed because campaigns
    decouple at a fixed nu. Each limit is priced with the rounding allowance plans are
    checked with (:func:`_limit_slack`). Campaigns that cannot meet their limits count at
    their fixed plan's value.
    """
    p = search.problem
    grp = p.group
    roi_slack, budget_slack = _limit_slack(p)
    # the third candidate, no price on the campaign's limits, bounds a campaign whose
    # multipliers ran away (its limits met only within rounding)
    lam = np.stack([plan.lam_hi, plan.lam_lo, np.zeros_like(plan.lam_hi)])
    mu = np.stack([plan.mu_hi, plan.mu_lo, np.zeros_like(plan.mu_hi)])
    rho = lam * p.roi_floor + mu + nu
    terms = dual_rows(p, lam[:, grp], rho[:, grp])
    k = p.n_campaigns
    per = np.stack([np.bincount(grp, terms[t], k) for t in range(len(lam))])
    per += np.where(mu > 0, mu * np.where(np.isfinite(p.budget), p.budget, 0.0), 0.0)
    per += lam * roi_slack + np.where(mu > 0, mu * budget_slack, 0.0)
    best = per.min(axis=0)
    fixed_rows = stuck[grp]
    fixed_v = p.pick(p.values, choice[fixed_rows], np.flatnonzero(fixed_rows))
    fixed_c = p.pick(p.costs, choice[fixed_rows], np.flatnonzero(fixed_rows))
    upper = best[~stuck].sum() + fixed_v.sum() - nu * fixed_c.sum()
    if np.isfinite(p.shop_budget):
        upper += nu * p.shop_budget
    return float(upper)


def _limit_slack(p: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Per campaign, the most any plan may miss its floor and its budget by and still count
    as meeting them (``slack_tolerance`` of the largest sums its levels allow). The bound
    allows the same: priced without it, a limit met with 1e-8 to spare under a multiplier of
    1e8 (a campaign whose every keyword is paused) put the bound below the plan's value."""
    k, grp = p.n_campaigns, p.group
    floor = p.roi_floor[grp]
    scale, spend = np.empty(p.n), np.empty(p.n)
    for s in range(0, p.n, CHUNK):  # in blocks: (n, L) temporaries cost 300 MB each at 1M
        e = min(s + CHUNK, p.n)
        cost = np.where(p.valid[s:e], np.abs(p.costs[s:e]), 0.0)
        spend[s:e] = cost.max(axis=1)
        cost *= floor[s:e, None]
        scale[s:e] = np.maximum(np.where(p.valid[s:e], np.abs(p.gmv[s:e]), 0.0), cost).max(axis=1)
    return (slack_tolerance(np.bincount(grp, scale, k)),
            slack_tolerance(np.bincount(grp, spend, k)))


def _prefer_baseline(problem: Problem, choice: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Yesterday's plan, filled, wins when it is feasible and at least as good."""
    if problem.baseline is None or (problem.baseline < 0).any():
        return choice
    base = problem.baseline
    if not _feasible(problem, base).all() or not _shop_ok(problem, base):
        return choice
    base = fill(problem, base, rows)
    ours = problem.pick(problem.values, choice).sum()
    theirs = problem.pick(problem.values, base).sum()
    ours_ok = _feasible(problem, choice).all() and _shop_ok(problem, choice)
    return base if (not ours_ok or theirs >= ours) else choice


def _best_plan(problem: Problem, plans: list[np.ndarray]) -> np.ndarray:
    """The feasible plan of highest value (the first plan if none is feasible)."""
    best, best_value = plans[0], -np.inf
    for plan in plans:
        if _feasible(problem, plan).all() and _shop_ok(problem, plan):
            value = problem.pick(problem.values, plan).sum()
            if value > best_value:
                best, best_value = plan, value
    return best


def _feasible(problem: Problem, choice: np.ndarray) -> np.ndarray:
    cost, gmv, _ = problem.campaign_sums(choice)
    deficit, excess = campaign_violations(problem, cost, gmv)
    return (deficit == 0) & (excess == 0)


def _shop_ok(problem: Problem, choice: np.ndarray) -> bool:
    total = problem.pick(problem.costs, choice).sum()
    return bool(total - problem.shop_budget <= slack_tolerance(total))


def _finish(
    problem: Problem, choice: np.ndarray, upper: float, lam: np.ndarray, mu: np.ndarray,
    passes: int,
) -> Solution:
    ok = _feasible(problem, choice)
    frame = campaign_frame(problem, choice, ok, lam, mu)
    objective = float(frame["objective"].sum())
    gap = (upper - objective) / max(abs(upper), 1e-12)
    if -1e-9 < gap < 0:
        gap = 0.0
    feasible = bool(ok.all() and _shop_ok(problem, choice))
    return Solution(choice, objective, upper, gap, feasible, frame, passes)
