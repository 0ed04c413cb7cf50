"""Discrete clean-up of a priced plan: repair what is broken, then spend what is left.

The Lagrangian plan is feasible by construction when every search found its bracket, but it
is a vertex of the relaxation: a campaign usually keeps some ROI or budget slack that no
multiplier can hand out, because levels are discrete.  The fill step spends that slack by
marginal gain per marginal use of the tightest constraint, one move per entity per round,
accepting the longest prefix of the ranked moves that keeps every constraint satisfied.
The repair step is the mirror image for plans that break a constraint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bidopt.optimise.problem import Problem, campaign_violations, slack_tolerance

ROW_CHUNK = 100_000  # rows per move table: 100k x 40 float64 = 32 MB per array
TINY = 1e-12


@dataclass
class Slack:
    """Remaining room per campaign (ROI and budget) and for the shop; inf where unlimited."""

    roi: np.ndarray
    budget: np.ndarray
    shop: float


def slack_of(problem: Problem, cost: np.ndarray, gmv: np.ndarray) -> Slack:
    floor = problem.roi_floor
    roi = np.where(floor > 0, gmv - floor * cost, np.inf)
    return Slack(roi, problem.budget - cost, problem.shop_budget - cost.sum())


@dataclass
class Moves:
    """The best move of each row (to another level) under some ranking."""

    rows: np.ndarray
    level: np.ndarray
    key: np.ndarray
    dv: np.ndarray
    dc: np.ndarray
    dg: np.ndarray


def _tables(problem: Problem, choice: np.ndarray, rows: np.ndarray):
    """Deltas of every level against the current one, for a chunk of rows."""
    here = choice[rows]
    v = problem.values[rows]
    c = problem.costs[rows]
    g = problem.gmv[rows]
    ar = np.arange(rows.size)
    dv = v - v[ar, here][:, None]
    dc = c - c[ar, here][:, None]
    dg = g - g[ar, here][:, None]
    ok = problem.valid[rows].copy()
    ok[ar, here] = False
    scale = np.abs(v).max(axis=1, where=problem.valid[rows], initial=0.0)
    return dv, dc, dg, ok, scale


def _best(key: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    key = np.where(ok, key, -np.inf)
    level = key.argmax(axis=1)
    return level, key[np.arange(level.size), level]


def _use(amount: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Share of the remaining room a move takes (0 when it takes none)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = amount / np.maximum(room, TINY)
    return np.where(amount > 0, np.where(np.isfinite(room), share, 0.0), 0.0)


def gain_moves(
    problem: Problem, choice: np.ndarray, rows: np.ndarray, slack: Slack, by_ratio: bool
) -> Moves:
    """Per row, the best move that gains value and fits the remaining room on its own."""
    out = []
    for s in range(0, rows.size, ROW_CHUNK):
        r = rows[s : s + ROW_CHUNK]
        dv, dc, dg, ok, scale = _tables(problem, choice, r)
        grp = problem.group[r]
        floor = problem.roi_floor[grp][:, None]
        roi_use = np.where(floor > 0, floor * dc - dg, 0.0)
        room_r = slack.roi[grp][:, None]
        room_b = slack.budget[grp][:, None]
        ok &= dv > 1e-9 * scale[:, None] + TINY
        ok &= roi_use <= room_r + 1e-7
        ok &= dc <= room_b
        ok &= dc <= slack.shop
        if by_ratio:
            pressure = np.maximum(_use(roi_use, room_r), _use(dc, room_b))
            pressure = np.maximum(pressure, _use(dc, np.float64(slack.shop)))
            key = dv / np.maximum(pressure, 1e-12)
        else:
            key = dv
        level, best = _best(key, ok)
        keep = np.isfinite(best)
        ar = np.flatnonzero(keep)
        lv = level[keep]
        out.append(Moves(r[keep], lv, best[keep], dv[ar, lv], dc[ar, lv], dg[ar, lv]))
    return _concat(out)


def _concat(parts: list[Moves]) -> Moves:
    if not parts:
        e = np.zeros(0)
        return Moves(np.zeros(0, np.intp), np.zeros(0, np.intp), e, e, e, e)
    return Moves(*(np.concatenate([getattr(m, f) for m in parts]) for f in
                   ("rows", "level", "key", "dv", "dc", "dg")))


def _group_cumsum(values: np.ndarray, grp_sorted: np.ndarray) -> np.ndarray:
    """Running sums restarting at each new group (grp_sorted must be grouped)."""
    total = np.cumsum(values)
    starts = np.flatnonzero(np.r_[True, grp_sorted[1:] != grp_sorted[:-1]])
    before = np.r_[0.0, total][starts]
    lengths = np.diff(np.r_[starts, values.size])
    return total - np.repeat(before, lengths)


def accept_prefix(problem: Problem, moves: Moves, slack: Slack) -> np.ndarray:
    """Moves (ranked by key) whose running use stays within every room: per campaign, then shop."""
    order = np.argsort(-moves.key, kind="stable")
    grp = problem.group[moves.rows[order]]
    by_grp = np.argsort(grp, kind="stable")
    idx = order[by_grp]
    g = grp[by_grp]
    floor = problem.roi_floor[g]
    roi_use = np.where(floor > 0, floor * moves.dc[idx] - moves.dg[idx], 0.0)
    run_r = _group_cumsum(roi_use, g)
    run_c = _group_cumsum(moves.dc[idx], g)
    bad = (run_r > slack.roi[g] + slack_tolerance(0.0)) | (run_c > slack.budget[g])
    fine = _group_cumsum(bad.astype(np.float64), g) == 0
    ok = np.zeros(moves.rows.size, dtype=bool)
    ok[idx] = fine
    if np.isfinite(slack.shop):
        chosen = order[ok[order]]
        over = np.cumsum(moves.dc[chosen]) > slack.shop
        if over.any():
            ok[chosen[np.argmax(over):]] = False
    return ok


def fill(problem: Problem, choice: np.ndarray, rows: np.ndarray, rounds: int = 60) -> np.ndarray:
    """Spend leftover room on the rows given, never breaking a constraint that holds."""
    choice = choice.copy()
    cost, gmv, _ = problem.campaign_sums(choice)
    for by_ratio in (True, False, True):
        for _ in range(rounds):
            slack = slack_of(problem, cost, gmv)
            moves = gain_moves(problem, choice, rows, slack, by_ratio)
            if moves.rows.size == 0:
                break
            ok = accept_prefix(problem, moves, slack)
            if not ok.any():
                break
            r, lv = moves.rows[ok], moves.level[ok]
            choice[r] = lv
            k = problem.n_campaigns
            cost += np.bincount(problem.group[r], moves.dc[ok], k)
            gmv += np.bincount(problem.group[r], moves.dg[ok], k)
    return choice


def repair(
    problem: Problem,
    choice: np.ndarray,
    fallback: np.ndarray,
    rows: np.ndarray | None = None,
    rounds: int = 60,
) -> np.ndarray:
    """Move entities until every constraint holds, losing as little value as possible.

    Each round ranks, per row, the move with the least value lost per unit of violation
    removed that does not worsen a broken constraint nor overdraw a satisfied one; per campaign
    it accepts moves until the violation is covered.  What is still broken after the rounds
    falls back to `fallback` (the violation-minimising plan) for that campaign.  The entities
    of broken campaigns move (every entity while the shop budget is overdrawn); `rows`, when
    given, limits them further.
    """
    choice = choice.copy()
    allowed = None
    if rows is not None:
        allowed = np.zeros(problem.n, dtype=bool)
        allowed[rows] = True
    for _ in range(rounds):
        cost, gmv, _ = problem.campaign_sums(choice)
        deficit, excess = campaign_violations(problem, cost, gmv)
        shop_over = max(cost.sum() - problem.shop_budget, 0.0)
        shop_over = shop_over if shop_over > slack_tolerance(cost.sum()) else 0.0
        broken = (deficit > 0) | (excess > 0)
        if not broken.any() and shop_over == 0:
            return choice
        movable = np.ones(problem.n, dtype=bool) if shop_over > 0 else broken[problem.group]
        if allowed is not None:
            movable &= allowed
        slack = slack_of(problem, cost, gmv)
        moves, gain = _repair_moves(
            problem, choice, np.flatnonzero(movable), deficit, excess, shop_over, slack
        )
        if moves.rows.size == 0:
            break
        order = np.argsort(-moves.key, kind="stable")
        grp = problem.group[moves.rows[order]]
        by_grp = np.argsort(grp, kind="stable")
        idx = order[by_grp]
        g = grp[by_grp]
        run = _group_cumsum(gain[idx], g) - gain[idx]
        ok = np.zeros(moves.rows.size, dtype=bool)
        ok[idx] = broken[g] & (run < 1.0)
        if shop_over > 0:
            shop_part = np.maximum(-moves.dc[order], 0.0) / shop_over
            run_s = np.cumsum(shop_part) - shop_part
            ok[order] |= run_s < 1.0
        if not ok.any():
            break
        choice[moves.rows[ok]] = moves.level[ok]
    cost, gmv, _ = problem.campaign_sums(choice)
    deficit, excess = campaign_violations(problem, cost, gmv)
    still = (deficit > 0) | (excess > 0)
    if still.any():
        rows = still[problem.group]
        choice[rows] = fallback[rows]
    if cost.sum() > problem.shop_budget + slack_tolerance(cost.sum()):
        choice = fallback.copy()
    return choice


def _repair_moves(
    problem: Problem,
    choice: np.ndarray,
    rows: np.ndarray,
    deficit: np.ndarray,
    excess: np.ndarray,
    shop_over: float,
    slack: Slack,
) -> tuple[Moves, np.ndarray]:
    """Per row, the move losing least value per unit of violation removed, and that unit."""
    out, gains = [], []
    for s in range(0, rows.size, ROW_CHUNK):
        r = rows[s : s + ROW_CHUNK]
        dv, dc, dg, ok, _ = _tables(problem, choice, r)
        grp = problem.group[r]
        floor = problem.roi_floor[grp][:, None]
        da = np.where(floor > 0, dg - floor * dc, 0.0)
        d_r = deficit[grp][:, None]
        e_b = excess[grp][:, None]
        improve = np.where(d_r > 0, np.minimum(da, d_r) / np.maximum(d_r, TINY), 0.0)
        improve += np.where(e_b > 0, np.minimum(-dc, e_b) / np.maximum(e_b, TINY), 0.0)
        if shop_over > 0:
            improve += np.minimum(-dc, shop_over) / shop_over
        ok &= improve > 1e-12
        ok &= np.where(d_r > 0, da >= 0, -da <= slack.roi[grp][:, None])
        ok &= np.where(e_b > 0, dc <= 0, dc <= slack.budget[grp][:, None])
        ok &= (dc <= 0) if shop_over > 0 else (dc <= slack.shop)
        with np.errstate(divide="ignore", invalid="ignore"):
            key = dv / improve
        level, best = _best(key, ok)
        keep = np.isfinite(best)
        ar = np.flatnonzero(keep)
        lv = level[keep]
        out.append(Moves(r[keep], lv, best[keep], dv[ar, lv], dc[ar, lv], dg[ar, lv]))
        gains.append(improve[ar, lv])
    return _concat(out), (np.concatenate(gains) if gains else np.zeros(0))


def swap(problem: Problem, choice: np.ndarray, rows: np.ndarray, rounds: int = 200,
         width: int = 400) -> np.ndarray:
    """Pairs of moves (one entity up, another down) that gain value and fit together.

    Fill stops where every single gain needs room another entity holds; a pair frees that
    room and spends it in one step.  Only the `width` best single moves of each kind are
    paired, so this is cheap enough for the small instances where discreteness costs most.
    """
    choice = choice.copy()
    tiny = 1e-9 * max(float(np.abs(problem.pick(problem.values, choice)).sum()), 1e-12)
    for _ in range(rounds):
        cost, gmv, _ = problem.campaign_sums(choice)
        slack = slack_of(problem, cost, gmv)
        dv, dc, dg, ok, _ = _tables(problem, choice, rows)
        grp = problem.group[rows]
        floor = problem.roi_floor[grp][:, None]
        use_r = np.where(floor > 0, floor * dc - dg, 0.0)
        r_idx, lv = np.nonzero(ok)
        dv, dc, use_r = dv[r_idx, lv], dc[r_idx, lv], use_r[r_idx, lv]
        up = np.flatnonzero(dv > tiny)
        down = np.flatnonzero((dc < 0) | (use_r < 0))
        if up.size == 0 or down.size == 0:
            break
        up = up[np.argsort(-dv[up], kind="stable")[:width]]
        down = down[np.argsort(-dv[down], kind="stable")[:width]]
        gu, gd = grp[r_idx[up]], grp[r_idx[down]]
        same = gu[:, None] == gd[None, :]
        room_r, room_b = slack.roi + 1e-7, slack.budget
        fits_u = (use_r[up] <= room_r[gu]) & (dc[up] <= room_b[gu])
        fits_d = (use_r[down] <= room_r[gd]) & (dc[down] <= room_b[gd])
        joint = ((use_r[up][:, None] + use_r[down][None, :] <= room_r[gu][:, None])
                 & (dc[up][:, None] + dc[down][None, :] <= room_b[gu][:, None]))
        fits = np.where(same, joint, fits_u[:, None] & fits_d[None, :])
        fits &= dc[up][:, None] + dc[down][None, :] <= slack.shop
        fits &= r_idx[up][:, None] != r_idx[down][None, :]
        gain = np.where(fits, dv[up][:, None] + dv[down][None, :], -np.inf)
        a, b = np.unravel_index(np.argmax(gain), gain.shape)
        if not gain[a, b] > tiny:
            break
        choice[rows[r_idx[up[a]]]] = lv[up[a]]
        choice[rows[r_idx[down[b]]]] = lv[down[b]]
        choice = fill(problem, choice, rows, rounds=5)
    return choice
