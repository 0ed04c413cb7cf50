"""Search on the Lagrangian multipliers: one per campaign constraint plus one for the shop.

Pricing every constraint turns the problem into n independent choices (each entity takes the
level maximising v + lam*g - rho*c, with rho = lam*floor + mu + nu), and campaigns decouple
except through the shop multiplier nu.  Each search is a safeguarded bracket search along a
line of multipliers (secant steps alternating with bisection), vectorised over campaigns.

The searches stay cheap at 1M entities because of one fact: the set of multipliers at which a
level is the best one is convex, so an entity that picks the same level at both ends of a
bracket picks it everywhere inside.  Such entities are summed once and dropped, and the later
steps price only the few entities whose choice still changes (the "active" rows).

The plan at the upper end of every bracket satisfies the constraint searched for, so the
search returns a feasible plan by construction whenever it finds a bracket.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bidopt.optimise.problem import Priced, Problem, best_levels

MARGIN = 1e-6  # searches keep this relative slack: their sums are float32, the verdict float64
EXPAND = 8.0  # growth of an upper bracket that is still infeasible
MAX_EXPAND = 30  # 8**30 spans any sane ratio between multiplier scale and data scale
COMPACT = 0.3  # copy the active rows out once they are fewer than this share of the block
GUESS_WIDTH = 0.03  # a guessed multiplier opens the bracket [guess*(1-w), guess*(1+w)]


@dataclass
class Block:
    """A set of rows (global indices) of the shared float32 arrays; full when it is all rows."""

    rows: np.ndarray
    grp: np.ndarray
    arrays: Priced
    base: np.ndarray | None
    full: bool = False

    def subset(self, keep: np.ndarray) -> Block:
        return Block(
            self.rows[keep],
            self.grp[keep],
            self.arrays,
            None if self.base is None else self.base[keep],
        )


@dataclass
class Family:
    """A line of multipliers and the constraint it steers, per campaign.

    lam = lam0 + lam1*t, rho = rho0 + rho1*t; slack = p*gmv - q*cost + r, feasible when >= 0
    and non-decreasing in t.
    """

    lam0: np.ndarray
    lam1: np.ndarray
    rho0: np.ndarray
    rho1: np.ndarray
    p: np.ndarray
    q: np.ndarray
    r: np.ndarray

    def at(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.lam0 + self.lam1 * t, self.rho0 + self.rho1 * t

    def slack(self, cost: np.ndarray, gmv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Slack, and the size of its terms (for tolerances)."""
        r = np.where(np.isfinite(self.r), self.r, 0.0)
        scale = np.abs(self.p * gmv) + np.abs(self.q * cost) + np.abs(r)
        return self.p * gmv - self.q * cost + r, scale


@dataclass
class LineResult:
    lo: np.ndarray
    hi: np.ndarray
    found: np.ndarray  # campaigns whose upper bracket is feasible
    rows: np.ndarray  # global rows of the searched campaigns
    j_lo: np.ndarray  # aligned with rows
    j_hi: np.ndarray


@dataclass
class CampaignPlan:
    """Per-campaign multipliers at the feasible end (hi) and the other end (lo) of a search."""

    lam_hi: np.ndarray
    mu_hi: np.ndarray
    lam_lo: np.ndarray
    mu_lo: np.ndarray
    ok: np.ndarray
    j_hi: np.ndarray  # (n,) choices; rows of campaigns not searched hold the nu-priced choice
    j_lo: np.ndarray


def holds(slack: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The search's verdict on a constraint, kept on the safe side of float32 rounding."""
    return slack >= MARGIN * scale - 1e-9


class Ramp:
    """Trial points for a vectorised bracket search: Illinois regula falsi, with a bisection
    every fourth step as a safeguard (geometric while the bracket spans a wide ratio)."""

    def __init__(self, s_lo: np.ndarray, s_hi: np.ndarray):
        self.f_lo = s_lo.astype(np.float64).copy()
        self.f_hi = s_hi.astype(np.float64).copy()
        self.last = np.zeros(s_lo.shape, dtype=np.int8)
        self.step = 0

    def next(self, lo: np.ndarray, hi: np.ndarray, guess: np.ndarray | None = None) -> np.ndarray:
        self.step += 1
        width = hi - lo
        if guess is not None:
            inside = (guess > lo) & (guess < hi)
            return np.where(inside, guess, lo + 0.5 * width)
        if self.step % 4 == 0:
            geometric = np.sqrt(np.maximum(lo, 0.0) * hi)
            return np.where(lo <= 0, 0.25 * hi, np.where(hi > 4 * lo, geometric, lo + 0.5 * width))
        denom = self.f_hi - self.f_lo
        ok = denom > 0
        frac = np.clip(-self.f_lo / np.where(ok, denom, 1.0), 1e-3, 1 - 1e-3)
        return np.where(ok, lo + width * frac, lo + 0.5 * width)

    def moved(self, up: np.ndarray, down: np.ndarray, s: np.ndarray) -> None:
        """Record which end moved to the trial point (slack s there)."""
        self.f_lo = np.where(up & (self.last == 1), 0.5 * self.f_lo, self.f_lo)
        self.f_hi = np.where(down & (self.last == -1), 0.5 * self.f_hi, self.f_hi)
        self.f_hi = np.where(up, s, self.f_hi)
        self.f_lo = np.where(down, s, self.f_lo)
        self.last = np.where(up, 1, np.where(down, -1, self.last)).astype(np.int8)


class Search:
    """Holds the problem and counts kernel passes; every search is vectorised over campaigns."""

    def __init__(self, problem: Problem, arrays: Priced, tol: float, max_iter: int):
        self.problem = problem
        self.arrays = arrays
        self.tol = tol
        self.max_iter = max_iter
        self.passes = 0
        self.lam_scale = 1.0
        self.rho_scale = 1.0

    # -- primitives -------------------------------------------------------------------------
    def block(self, rows: np.ndarray) -> Block:
        p = self.problem
        if rows.size == p.n:
            return Block(rows, p.group, self.arrays, p.baseline, True)
        base = None if p.baseline is None else p.baseline[rows]
        return Block(rows, p.group[rows], self.arrays, base)

    def price(self, block: Block, lam: np.ndarray, rho: np.ndarray) -> np.ndarray:
        """Each row's best level at per-campaign multipliers lam, rho."""
        self.passes += 1
        lam_r = lam.astype(np.float32)[block.grp]
        rho_r = rho.astype(np.float32)[block.grp]
        return best_levels(block.arrays, lam_r, rho_r, block.base,
                           None if block.full else block.rows)

    def sums(
        self, block: Block, j: np.ndarray, member: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-campaign cost and gmv of rows at levels j (float32 values, float64 sums)."""
        p = self.problem
        rows, grp = block.rows, block.grp
        if member is not None:
            rows, grp, j = rows[member], grp[member], j[member]
        k = p.n_campaigns
        cost = np.bincount(grp, block.arrays.c[rows, j], k)
        gmv = np.bincount(grp, block.arrays.g[rows, j], k)
        return cost.astype(np.float64, copy=False), gmv.astype(np.float64, copy=False)

    def converged(
        self, lo: np.ndarray, hi: np.ndarray, s_hi: np.ndarray, scale_hi: np.ndarray
    ) -> np.ndarray:
        """A bracket is done when narrow, or when its feasible end is nearly tight."""
        return (hi - lo <= self.tol * hi) | (s_hi <= self.tol * scale_hi)

    # -- one line search --------------------------------------------------------------------
    def line_search(
        self,
        block: Block,
        camps: np.ndarray,
        fam: Family,
        hi0: np.ndarray,
        j_lo: np.ndarray | None = None,
        guess: np.ndarray | None = None,
    ) -> LineResult:
        """Smallest t >= 0 (per campaign in camps) at which fam's constraint holds.

        guess (e.g. the answer on a row sample or at a nearby shop price) opens the bracket at
        guess*(1 -/+ GUESS_WIDTH): a good guess leaves few rows whose choice still changes, so
        the steps after it price a small share of the rows.
        """
        k = self.problem.n_campaigns
        member = camps[block.grp]
        if not member.all() and member.mean() < COMPACT:
            block = block.subset(member)
            j_lo = None if j_lo is None else j_lo[member]
            member = np.ones(block.rows.size, dtype=bool)
        lo = np.zeros(k)
        hi = np.where(camps, hi0, 0.0)
        j_lo = self.price(block, *fam.at(lo)) if j_lo is None else j_lo.copy()
        s_lo, scale_lo = fam.slack(*self.sums(block, j_lo, member))
        done = camps & holds(s_lo, scale_lo)
        hi[done] = 0.0
        j_hi = j_lo.copy()
        todo = camps & ~done
        need = todo.copy()
        s_hi, scale_hi = s_lo.copy(), scale_lo.copy()
        if guess is not None and (todo & (guess > 0)).any():
            need = self._near_guess(block, todo & (guess > 0), fam, guess, lo, hi, s_lo, s_hi,
                                    scale_hi, j_lo, j_hi) | (todo & ~(guess > 0))
        for _ in range(MAX_EXPAND):
            if not need.any():
                break
            rows = need[block.grp]
            sub = block if rows.all() else block.subset(rows)
            j = self.price(sub, *fam.at(hi))
            s, scale = fam.slack(*self.sums(sub, j))
            j_hi[rows] = j
            s_hi[need], scale_hi[need] = s[need], scale[need]
            grow = need & ~holds(s, scale)
            if grow.any():
                moved = grow[block.grp]
                j_lo[moved] = j_hi[moved]
                lo[grow], s_lo[grow] = hi[grow], s[grow]
                hi[grow] *= EXPAND
            need = grow
        found = camps & ~need
        active = todo & found & ~self.converged(lo, hi, s_hi, scale_hi)
        self._shrink(block, member, active, fam, lo, hi, s_lo, s_hi, scale_hi, j_lo, j_hi, guess)
        # A bracket that stopped because its feasible end is tight has a stale lower end:
        # collapse it, so later steps do not treat its rows as undecided.
        tight = todo & found & (hi - lo > self.tol * hi)
        if tight.any():
            lo[tight] = hi[tight]
            rows = tight[block.grp]
            j_lo[rows] = j_hi[rows]
        return LineResult(lo, hi, found, block.rows[member], j_lo[member], j_hi[member])

    def _near_guess(
        self,
        block: Block,
        near: np.ndarray,
        fam: Family,
        guess: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        s_lo: np.ndarray,
        s_hi: np.ndarray,
        scale_hi: np.ndarray,
        j_lo: np.ndarray,
        j_hi: np.ndarray,
    ) -> np.ndarray:
        """Price just below the guess; returns the campaigns that still need an upper end.

        Where that point breaks the constraint it becomes the lower end and the upper end is
        tried just above the guess; where it holds, it is the upper end (lower end stays 0).
        """
        rows = near[block.grp]
        sub = block if rows.all() else block.subset(rows)
        trial = np.where(near, guess * (1.0 - GUESS_WIDTH), 0.0)
        j = self.price(sub, *fam.at(trial))
        s, scale = fam.slack(*self.sums(sub, j))
        below = near & ~holds(s, scale)
        above = near & ~below
        idx = np.flatnonzero(rows)
        b, a = below[sub.grp], above[sub.grp]
        j_lo[idx[b]] = j[b]
        j_hi[idx[a]] = j[a]
        lo[below], s_lo[below] = trial[below], s[below]
        hi[below] = guess[below] * (1.0 + GUESS_WIDTH)
        hi[above], s_hi[above], scale_hi[above] = trial[above], s[above], scale[above]
        return below

    def _shrink(
        self,
        block: Block,
        member: np.ndarray,
        active: np.ndarray,
        fam: Family,
        lo: np.ndarray,
        hi: np.ndarray,
        s_lo: np.ndarray,
        s_hi: np.ndarray,
        scale_hi: np.ndarray,
        j_lo: np.ndarray,
        j_hi: np.ndarray,
        guess: np.ndarray | None = None,
    ) -> None:
        """Narrow the brackets in place, pricing only rows whose choice still changes."""
        k = self.problem.n_campaigns
        inside = member & active[block.grp]
        moving = inside & (j_lo != j_hi)
        fixed_cost, fixed_gmv = self.sums(block, j_hi, inside & ~moving)
        pos = np.arange(block.rows.size)
        b, bl, bh = block, j_lo.copy(), j_hi.copy()
        if moving.size and moving.mean() < COMPACT:
            b, pos, bl, bh = block.subset(moving), pos[moving], bl[moving], bh[moving]
            moving = np.ones(pos.size, dtype=bool)
        ramp = Ramp(s_lo, s_hi)
        for step in range(1, self.max_iter + 1):
            if not active.any() or not moving.any():
                break
            mid = ramp.next(lo, hi, guess if step <= 2 and guess is not None else None)
            jm = self.price(b, *fam.at(mid))
            cost, gmv = self.sums(b, jm, moving)
            s_m, scale_m = fam.slack(cost + fixed_cost, gmv + fixed_gmv)
            up = active & holds(s_m, scale_m)
            down = active & ~up
            hi[up], s_hi[up], scale_hi[up] = mid[up], s_m[up], scale_m[up]
            lo[down], s_lo[down] = mid[down], s_m[down]
            ramp.moved(up, down, s_m)
            if guess is not None:
                guess = np.where(up, 0.9 * mid, 1.1 * mid)
            row_up, row_down = up[b.grp] & moving, down[b.grp] & moving
            bh[row_up] = jm[row_up]
            bl[row_down] = jm[row_down]
            active &= ~self.converged(lo, hi, s_hi, scale_hi)
            still = moving & active[b.grp] & (bl != bh)
            newly = moving & active[b.grp] & ~still
            if newly.any():
                c, g = self.sums(b, bh, newly)
                fixed_cost += c
                fixed_gmv += g
            left = moving & ~still
            j_lo[pos[left]] = bl[left]
            j_hi[pos[left]] = bh[left]
            moving = still
            active &= np.bincount(b.grp[moving], minlength=k) > 0
            if moving.size and moving.mean() < COMPACT:
                b, pos, bl, bh = b.subset(moving), pos[moving], bl[moving], bh[moving]
                moving = np.ones(pos.size, dtype=bool)
        j_lo[pos[moving]] = bl[moving]
        j_hi[pos[moving]] = bh[moving]

    # -- campaigns at a given shop price ----------------------------------------------------
    def campaigns(
        self, nu: float, camps: np.ndarray, warm: CampaignPlan | None = None
    ) -> CampaignPlan:
        """Multipliers and plan for each campaign in camps when spend is priced at least nu.

        Every broken campaign first gets the single-constraint searches (ROI alone, budget
        alone) in one vectorised pass; a campaign whose single-constraint plan also meets its
        other limit is done, because that plan is optimal for the relaxation with both.  Only
        campaigns where neither single plan holds (the ROI floor and the budget both bind) go
        to the nested search, which is the expensive one.
        """
        p = self.problem
        k = p.n_campaigns
        floor, budget = p.roi_floor, p.budget
        zero = np.zeros(k)
        nu_k = np.full(k, float(nu))
        block = self.block(np.arange(p.n) if camps.all() else np.flatnonzero(camps[p.group]))
        j0 = self.price(block, zero, nu_k)
        cost, gmv = self.sums(block, j0)
        roi_bad = camps & (floor > 0) & ~holds(gmv - floor * cost, gmv + floor * cost)
        over = camps & ~holds(budget - cost, cost)
        plan = CampaignPlan(zero.copy(), zero.copy(), zero.copy(), zero.copy(), camps.copy(),
                            np.zeros(p.n, np.intp), np.zeros(p.n, np.intp))
        plan.j_hi[block.rows] = j0
        plan.j_lo[block.rows] = j0
        warm_lam = self.lam_scale if warm is None else np.maximum(warm.lam_hi, self.lam_scale * 1e-3)
        warm_mu = self.rho_scale if warm is None else np.maximum(warm.mu_hi, self.rho_scale * 1e-3)
        warm_lam = zero + warm_lam
        warm_mu = zero + warm_mu
        # Pass 1: one constraint alone: ROI where the floor breaks, unless the warm start
        # says the budget binds alone; the budget where only it breaks.
        first = roi_bad | over
        use_roi = roi_bad.copy()
        if warm is not None:
            use_roi &= ~(over & (warm.lam_hi <= 0) & (warm.mu_hi > 0))
        budget_ok = np.zeros(k, dtype=bool)
        roi_ok = np.zeros(k, dtype=bool)
        lam_guess = zero.copy()
        both = np.zeros(k, dtype=bool)
        for attempt in range(2):
            if not first.any():
                break
            guess = None if warm is None else np.where(use_roi, warm.lam_hi, warm.mu_hi)
            res = self.line_search(block, first, self._single(use_roi, nu_k),
                                   np.where(use_roi, warm_lam, warm_mu), j0, guess)
            plan.ok &= ~(first & ~res.found)
            c, g = self.sums(self.block_of(res.rows), res.j_hi)
            budget_ok = holds(budget - c, c)
            roi_ok = (floor <= 0) | holds(g - floor * c, g + floor * c)
            done = first & (~res.found | (budget_ok & roi_ok))
            self._store(plan, res, done & use_roi, lam=True)
            self._store(plan, res, done & ~use_roi, lam=False)
            lam_guess = np.where(first & use_roi, res.hi, lam_guess)
            warm_mu = np.where(first & ~use_roi & res.found,
                               np.maximum(res.hi, 1e-3 * self.rho_scale), warm_mu)
            if attempt == 1:
                both = first & ~done
                break
            # Pass 2: the other constraint alone where the first plan breaks it.
            first = first & ~done
            use_roi = first & ~use_roi & (floor > 0)
        if both.any():
            plan.lam_hi[both] = lam_guess[both]
            self._both(plan, both, nu_k, warm_lam, warm_mu)
        return plan

    def _single(self, roi: np.ndarray, nu_k: np.ndarray) -> Family:
        """The ROI line (lam up, rho = lam*floor + nu) where roi, else the budget line."""
        p = self.problem
        one = np.ones(p.n_campaigns)
        zero = 0.0 * one
        floor = np.where(roi, p.roi_floor, 0.0)
        return Family(zero, np.where(roi, one, zero), nu_k, np.where(roi, floor, one),
                      np.where(roi, one, zero), np.where(roi, floor, one),
                      np.where(roi, zero, np.where(np.isfinite(p.budget), p.budget, 0.0)))

    def block_of(self, rows: np.ndarray) -> Block:
        """Rows and groups only: enough for sums, no float32 copies."""
        return Block(rows, self.problem.group[rows], self.arrays, None)

    def _store(self, plan: CampaignPlan, res: LineResult, camps: np.ndarray, lam: bool) -> None:
        """Adopt a line search's brackets and plans for the campaigns in camps."""
        target_hi, target_lo = (plan.lam_hi, plan.lam_lo) if lam else (plan.mu_hi, plan.mu_lo)
        target_hi[camps] = res.hi[camps]
        target_lo[camps] = res.lo[camps]
        rows = camps[self.problem.group[res.rows]]
        plan.j_hi[res.rows[rows]] = res.j_hi[rows]
        plan.j_lo[res.rows[rows]] = res.j_lo[rows]

    def _both(
        self,
        plan: CampaignPlan,
        both: np.ndarray,
        nu_k: np.ndarray,
        warm_lam: np.ndarray | float,
        warm_mu: np.ndarray | float,
    ) -> None:
        """ROI floor and budget both bind: search mu outside, lam (ROI) inside."""
        p = self.problem
        k = p.n_campaigns
        floor, budget = p.roi_floor, p.budget
        zero = np.zeros(k)
        block = self.block(np.flatnonzero(both[p.group]))

        def inner(mu: np.ndarray, camps: np.ndarray) -> tuple[LineResult, np.ndarray, np.ndarray]:
            fam = Family(zero, zero + 1, nu_k + mu, floor, zero + 1, floor, zero)
            guess = np.where(plan.lam_hi > 0, plan.lam_hi, np.nan)
            res = self.line_search(block, camps, fam, zero + warm_lam,
                                   guess=np.where(np.isnan(guess), 0.0, guess))
            c, _ = self.sums(self.block_of(res.rows), res.j_hi)
            return res, budget - c, np.abs(budget) + c

        lo = zero.copy()
        s_lo = np.where(both, -1.0, 0.0)
        hi = np.where(both, warm_mu, 0.0)
        s_hi = np.zeros(k)
        scale_hi = np.zeros(k)
        lam_at_lo = plan.lam_hi.copy()
        need = both.copy()
        for _ in range(MAX_EXPAND):
            if not need.any():
                break
            res, s, scale = inner(hi, need)
            s_hi[need], scale_hi[need] = s[need], scale[need]
            ok = need & res.found & holds(s, scale)
            self._keep(plan, res, ok, hi)
            grow = need & ~ok
            lo[grow], s_lo[grow] = hi[grow], s[grow]
            lam_at_lo[grow] = res.hi[grow]
            hi[grow] *= EXPAND
            need = grow
        plan.ok &= ~need
        active = both & ~need & ~self.converged(lo, hi, s_hi, scale_hi)
        ramp = Ramp(s_lo, s_hi)
        for _ in range(self.max_iter):
            if not active.any():
                break
            mid = ramp.next(lo, hi)
            res, s, scale = inner(mid, active)
            up = active & res.found & holds(s, scale)
            down = active & ~up
            ramp.moved(up, down, s)
            self._keep(plan, res, up, mid)
            hi[up], s_hi[up], scale_hi[up] = mid[up], s[up], scale[up]
            lo[down], s_lo[down] = mid[down], s[down]
            lam_at_lo[down] = res.hi[down]
            active &= ~self.converged(lo, hi, s_hi, scale_hi)
        plan.mu_hi[both] = hi[both]
        plan.mu_lo[both] = lo[both]
        plan.lam_lo[both] = lam_at_lo[both]

    def _keep(self, plan: CampaignPlan, res: LineResult, camps: np.ndarray, mu: np.ndarray) -> None:
        """Adopt an inner search's feasible plan for campaigns in camps."""
        if not camps.any():
            return
        rows = camps[self.problem.group[res.rows]]
        plan.j_hi[res.rows[rows]] = res.j_hi[rows]
        plan.j_lo[res.rows[rows]] = res.j_lo[rows]
        plan.lam_hi[camps] = res.hi[camps]
        plan.mu_hi[camps] = mu[camps]
