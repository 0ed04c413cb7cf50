"""The decision step: forecast every proposal, then choose the plan that keeps every
campaign above its ROI floor and within its budget.

Each keyword x platform becomes a multiple-choice item whose choices are bids on its grid:
"keep" is always allowed; a strategy's ``set_bid`` proposal opens the levels between the
current bid and the proposed one; ``pause_keyword`` opens a zero-bid level;
``add_keyword`` adds an item with the choices "not added" and "added at the proposed
bid". Where a campaign breaks its floor or budget with every bid kept, the guard also
opens cuts (down to the change limit, then pausing) so that the plan can be repaired.
The optimiser picks one level per item; what it picks decides each proposal: accepted
(its bid), scaled back (a bid in between) or rejected (kept).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from scipy.stats import t as student_t

from bidopt.context import KEYWORD_KEYS, RunContext
from bidopt.explain import (
    LIMIT_COST,
    LIMIT_GMV,
    Plan,
    campaign_summary,
    judge_proposals,
    plan_actions,
)
from bidopt.grid import bid_grid, clamp_to_limits, platform_rules, snap
from bidopt.model.evaluate import AOV_CV2
from bidopt.optimise import solve
from bidopt.schema import ALL, KEYWORD_ACTIONS, SLICE_FORECAST_COLUMNS
from bidopt.state import setting_keys

BID_ACTIONS = ("set_bid", "pause_keyword")
OUTCOMES = ("clicks", "cost", "gmv", "orders", "carts", "favorites")
REPRICE_ROUNDS = 4
"""Solves after the first at most, each with the slices repriced to the last plan's bids;
usually one suffices, deep cuts (a budget far below today's spend) take more."""
_TOL = 1e-9


@dataclass
class Choices:
    """The multiple-choice problem: one row per keyword x platform (or added keyword)."""

    entities: pd.DataFrame  # campaign, item, keyword, platform, current, kind ("bought"/"added")
    levels: np.ndarray  # (n, L) bids; 0 means paused / not added
    allowed: np.ndarray  # (n, L) bool
    keep: np.ndarray  # (n,) column of the "no change" choice
    grid_ok: np.ndarray  # (n, L) bool: the level is a distinct bid on the grid


@dataclass
class Decision:
    actions: pd.DataFrame
    """Changes taken: one row per keyword x platform (or added keyword) whose bid moves."""
    proposals: pd.DataFrame
    """Every proposal with ``status`` (accepted/scaled/overridden/rejected) and ``decision``
    text."""
    campaigns: pd.DataFrame
    """Per campaign (``explain.campaign_summary``): its limits as configured and planned
    and the solver's prices on them, the keywords it keeps, expected clicks, cost, GMV and
    ROI before and after, which limit binds (``floor_binds``, ``budget_binds``),
    ``feasible``, and the ``actions`` it gets."""
    objective: float
    """Objective of the plan, net of ``change_cost`` per changed bid or accepted action."""
    change_cost: float
    upper_bound: float
    gap: float
    feasible: bool
    shop_budget: float | None = None
    """The shop's daily budget as configured (None: none)."""
    shop_planned_budget: float | None = None
    """... and as planned, ``shop_budget_margin_pct`` below it."""
    shop_binds: bool = False
    """Whether the shop budget holds the plan back."""


def _bought_choices(ctx: RunContext) -> Choices:
    """Every bought keyword x platform: its grid, plus a pause column.

    In ``free`` mode every level within the nightly limit is open to the optimiser, but for
    raises of a keyword with fewer than ``min_clicks_to_raise`` clicks; in ``proposals``
    mode only "keep" is, until a proposal or the guard opens more.
    """
    state = ctx.keywords
    current = state["bid"].to_numpy(float)
    levels, on_grid, keep = bid_grid(
        current, state["platform"].to_numpy(str), ctx.config, ctx.config.optimiser.levels
    )
    n = len(state)
    levels = np.hstack([levels, np.zeros((n, 1))])  # last column: pause
    grid_ok = np.hstack([on_grid, np.ones((n, 1), dtype=bool)])
    entities = state[KEYWORD_KEYS].assign(current=current, kind="bought", pinned=False)
    allowed = np.zeros_like(grid_ok)
    if ctx.config.optimiser.bids == "free":
        allowed[:, :-1] = on_grid
        thin = state["clicks"].to_numpy(float) < ctx.config.optimiser.min_clicks_to_raise
        raises = levels[:, :-1] > levels[np.arange(n), keep][:, None] + _TOL
        allowed[:, :-1] &= ~(raises & thin[:, None])
    allowed[np.arange(n), keep] = True
    return Choices(entities, levels, allowed, keep, grid_ok)


def _open_proposals(ctx: RunContext, choices: Choices, proposals: pd.DataFrame) -> pd.DataFrame:
    """Open the levels each bid proposal asks for; returns the proposals with their rows."""
    entities = choices.entities
    index = pd.MultiIndex.from_frame(entities[KEYWORD_KEYS])
    bids = proposals[proposals["action"].isin(BID_ACTIONS)].copy()
    bids["row"] = index.get_indexer(pd.MultiIndex.from_frame(bids[KEYWORD_KEYS]))
    bids = bids[bids["row"] >= 0]
    rows = bids["row"].to_numpy(int)
    current = entities["current"].to_numpy(float)[rows]
    pause = (bids["action"] == "pause_keyword").to_numpy()
    target = clamp_to_limits(
        bids["proposed"].to_numpy(float), current, entities["platform"].to_numpy(str)[rows],
        ctx.config,
    )
    target = np.where(pause, 0.0, target)
    bids = bids.assign(target=target)

    levels, allowed, grid_ok = choices.levels, choices.allowed, choices.grid_ok
    pause_col = levels.shape[1] - 1
    keep_bid = levels[rows, choices.keep[rows]]
    moving = ~pause & (np.abs(target - keep_bid) > _TOL)
    # Put each proposed bid on the grid exactly: it replaces the nearest level on its side.
    r, t = rows[moving], target[moving]
    _place_targets(levels[:, :pause_col], grid_ok[:, :pause_col], allowed[:, :pause_col],
                   r, t, keep_bid[moving])
    low, high = np.minimum(keep_bid[moving], t), np.maximum(keep_bid[moving], t)
    inside = (levels[r, :pause_col] >= low[:, None] - _TOL) & (
        levels[r, :pause_col] <= high[:, None] + _TOL
    )
    np.logical_or.at(allowed[:, :pause_col], r, inside & grid_ok[r, :pause_col])
    allowed[rows[pause], pause_col] = True
    return bids


def _place_targets(levels: np.ndarray, grid_ok: np.ndarray, allowed: np.ndarray,
                   rows: np.ndarray, targets: np.ndarray, keep_bid: np.ndarray) -> None:
    """Make every proposed bid a level of its row (in place), each its own level.

    Several strategies may propose for one keyword: the k-th proposal of a row is placed in
    round k, never over a level an earlier proposal took (one proposal overwriting another's
    level could never be accepted). Rows touched are sorted again; the keep level does not
    move because every replaced level stays on its side of it.
    """
    if len(rows) == 0:
        return
    taken = np.zeros(levels.shape, dtype=bool)
    occurrence = pd.Series(rows).groupby(rows).cumcount().to_numpy()
    for k in range(int(occurrence.max()) + 1):
        pick = occurrence == k
        r, t, kb = rows[pick], targets[pick], keep_bid[pick]
        here = levels[r]
        distance = np.abs(here - t[:, None])
        same = distance <= _TOL
        side = np.where(t[:, None] > kb[:, None], here > kb[:, None] + _TOL, here < kb[:, None] - _TOL)
        free = np.where(side & ~taken[r], distance, np.inf)
        column = np.where(same.any(axis=1), same.argmax(axis=1), free.argmin(axis=1))
        placed = same.any(axis=1) | np.isfinite(free.min(axis=1))
        r, column = r[placed], column[placed]
        levels[r, column] = t[placed]
        grid_ok[r, column] = True
        taken[r, column] = True
    touched = np.unique(rows)
    order = np.argsort(levels[touched], axis=1, kind="stable")
    for array in (levels, grid_ok, allowed):
        array[touched] = np.take_along_axis(array[touched], order, axis=1)


def _added_choices(ctx: RunContext, proposals: pd.DataFrame) -> tuple[Choices, pd.DataFrame]:
    """Keywords a strategy wants to start buying: choose between not added and added.

    A keyword already bought, or proposed twice, is considered once (the first proposal).
    """
    adds = proposals[proposals["action"] == "add_keyword"].copy()
    adds["platform"] = adds["platform"].where(adds["platform"].isin(["mobile", "pc"]), "mobile")
    bought = pd.MultiIndex.from_frame(ctx.keywords[KEYWORD_KEYS])
    adds = adds[~pd.MultiIndex.from_frame(adds[KEYWORD_KEYS]).isin(bought)]
    adds = adds.drop_duplicates(KEYWORD_KEYS)
    lo, hi, step = platform_rules(ctx.config, adds["platform"].to_numpy(str))
    start = np.clip(snap(adds["proposed"].to_numpy(float), step), lo, hi)
    adds = adds.assign(target=start)
    n = len(adds)
    entities = adds[KEYWORD_KEYS].assign(current=0.0, kind="added", pinned=False)
    levels = np.column_stack([np.zeros(n), start])
    allowed = np.ones((n, 2), dtype=bool)
    choices = Choices(entities.reset_index(drop=True), levels, allowed, np.zeros(n, int), allowed)
    return choices, adds


def _slice_choices(proposals: pd.DataFrame) -> tuple[Choices, pd.DataFrame, dict]:
    """Crowd, region and hour actions: take it or not, scored by the forecast it carries.

    Rows of one strategy with the same ``group`` form one item (their deltas summed), so a
    schedule of hour discounts is taken whole or not at all. The effect is added to the
    campaign's keyword totals; after a first solve the deltas are scaled to the traffic the
    plan's bids buy and the plan is solved again, until they hold (``_reprice_slices``).
    """
    others = proposals[~proposals["action"].isin(KEYWORD_ACTIONS)]
    given = others[list(SLICE_FORECAST_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    usable = others[np.isfinite(given.to_numpy(float)).all(axis=1)].copy()
    for name in ("clicks", "cost", "gmv"):
        usable[f"delta_{name}"] = (pd.to_numeric(usable[f"exp_{name}"])
                                   - pd.to_numeric(usable[f"base_{name}"]))
    # An item per group; rows without a group are items of their own.
    label = usable["group"].astype(object).where(usable["group"].notna() & (usable["group"] != ""))
    label = label.fillna(pd.Series("row:" + usable.index.astype(str), index=usable.index))
    keys = usable["strategy"].astype(str) + "\x1f" + usable["campaign"].astype(str) + "\x1f" + label
    item_of_row, unique = pd.factorize(keys, sort=False)
    n = len(unique)
    first = pd.Series(np.arange(len(usable))).groupby(item_of_row).first().to_numpy(int)
    entities = pd.DataFrame({
        "campaign": usable["campaign"].to_numpy()[first], "item": usable["item"].to_numpy()[first],
        "keyword": "", "platform": "", "current": 0.0, "kind": "slice", "pinned": False,
    })
    levels = np.column_stack([np.zeros(n), np.ones(n)])
    allowed = np.ones((n, 2), dtype=bool)
    delta = {}
    for name in ("clicks", "cost", "gmv"):
        change = np.bincount(item_of_row, usable[f"delta_{name}"].to_numpy(float), minlength=n)
        delta[name] = np.column_stack([np.zeros(n), change])
    usable["target"] = 1.0
    usable["slice_item"] = item_of_row
    choices = Choices(entities, levels, allowed, np.zeros(n, dtype=int), allowed.copy())
    return choices, usable.drop(columns=[f"delta_{m}" for m in ("clicks", "cost", "gmv")]), delta


def _forecast(ctx: RunContext, entities: pd.DataFrame, bids: np.ndarray) -> dict[str, np.ndarray]:
    """Expected one-day outcome at every level; a zero bid buys nothing."""
    if len(entities) == 0:
        return {name: np.zeros(bids.shape) for name in OUTCOMES}
    result = ctx.forecast(entities[KEYWORD_KEYS], np.where(bids > 0, bids, 0.01))
    return {
        name: np.where(bids > 0, np.asarray(getattr(result, name), dtype=float), 0.0)
        for name in OUTCOMES
    }


def item_economics(ctx: RunContext, items: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Price and margin per row, for valuing carts/favourites and for the profit objective.

    An item without a price in the items file is valued at its order value in the history
    (else the shop's), so that cart and favourite weights never silently count for nothing;
    without a unit cost the margin is ``objective.default_margin``. Both are named in a note
    when the objective uses them.
    """
    goal = ctx.config.objective
    table = (ctx.items.drop_duplicates("item").set_index("item") if len(ctx.items)
             else pd.DataFrame(columns=["price", "unit_cost"]))
    price = items.map(table["price"]).to_numpy(float) if "price" in table else np.full(len(items), np.nan)
    unit_cost = (items.map(table["unit_cost"]).to_numpy(float) if "unit_cost" in table
                 else np.full(len(items), np.nan))
    history = ctx.keywords.groupby("item")[["gmv", "orders"]].sum()
    shop_value = history["gmv"].sum() / max(history["orders"].sum(), 1.0)
    order_value = (history["gmv"] / history["orders"].where(history["orders"] > 0)).fillna(shop_value)
    no_price = ~(np.isfinite(price) & (price > 0))
    price = np.where(no_price, items.map(order_value).fillna(shop_value).to_numpy(float), price)
    margin = 1.0 - unit_cost / price
    no_margin = ~(np.isfinite(margin) & (margin > 0))
    margin = np.where(no_margin, goal.default_margin, margin)
    weighs_carts = goal.target != "clicks" and (goal.cart_weight > 0 or goal.favorite_weight > 0)
    unpriced = set(items[no_price]) - {ALL}  # 'all': a crowd, region or hour action
    if weighs_carts and unpriced:
        ctx.warnings.append(f"{len(unpriced)} items have no price in the items file: their "
                            "carts and favourites are valued at their order value in the history")
    uncosted = set(items[no_margin]) - {ALL}
    if goal.target == "profit" and uncosted:
        ctx.warnings.append(f"{len(uncosted)} items have no unit cost below their price: profit "
                            f"counts them at objective.default_margin {goal.default_margin:g}")
    return price, margin


def _min_gain_in_objective_units(ctx: RunContext) -> float:
    """``optimiser.min_gain`` is money a day; an orders or clicks objective counts it at the
    shop's order value or value per click in the history (0.3 orders a day would freeze a
    plan whose keywords each bring a few hundredths of an order)."""
    gain, target = ctx.config.optimiser.min_gain, ctx.config.objective.target
    totals = ctx.keywords[["gmv", "orders", "clicks"]].sum()
    per = {"orders": totals["orders"], "clicks": totals["clicks"]}.get(target)
    if per is None or not (per > 0 and totals["gmv"] > 0):
        return gain
    return gain / (totals["gmv"] / per)


def _values(ctx: RunContext, outcome: dict[str, np.ndarray], price: np.ndarray,
            margin: np.ndarray) -> np.ndarray:
    """The configured objective for every choice (``price``, ``margin``: per row)."""
    goal = ctx.config.objective
    extra = goal.cart_weight * outcome["carts"] + goal.favorite_weight * outcome["favorites"]
    if goal.target == "clicks":
        return outcome["clicks"]
    if goal.target == "orders":
        return outcome["orders"] + extra
    value = outcome["gmv"] + extra * price[:, None]
    if goal.target == "profit":
        return value * margin[:, None] - outcome["cost"]
    return value


def _open_guard(ctx: RunContext, choices: Choices, outcome: dict[str, np.ndarray],
                group: np.ndarray, floors: np.ndarray, budgets: np.ndarray,
                shop_budget: float | None) -> np.ndarray:
    """Let campaigns that break a limit with everything kept cut bids (every campaign, when
    the shop budget is broken); returns their mask."""
    n = len(choices.entities)
    rows = np.arange(n)
    kept_cost = np.bincount(group, outcome["cost"][rows, choices.keep], minlength=len(floors))
    kept_gmv = np.bincount(group, outcome["gmv"][rows, choices.keep], minlength=len(floors))
    broken = (kept_gmv < floors * kept_cost - 1e-6) | (kept_cost > budgets + 1e-6)
    if shop_budget is not None and kept_cost.sum() > shop_budget + 1e-6:
        broken[:] = True
    in_broken = (broken[group] & (choices.entities["kind"] == "bought").to_numpy()
                 & ~choices.entities["pinned"].to_numpy(bool))
    if in_broken.any():
        keep_bid = choices.levels[rows, choices.keep]
        cuts = (choices.levels <= keep_bid[:, None] + _TOL) & choices.grid_ok
        choices.allowed |= cuts & in_broken[:, None]
    return broken


def _stack(a: Choices, b: Choices) -> Choices:
    width = max(a.levels.shape[1], b.levels.shape[1])

    def pad(x: np.ndarray, fill) -> np.ndarray:
        return np.pad(x, ((0, 0), (0, width - x.shape[1])), constant_values=fill)

    return Choices(
        pd.concat([a.entities, b.entities], ignore_index=True),
        np.vstack([pad(a.levels, 0.0), pad(b.levels, 0.0)]),
        np.vstack([pad(a.allowed, False), pad(b.allowed, False)]),
        np.concatenate([a.keep, b.keep]),
        np.vstack([pad(a.grid_ok, False), pad(b.grid_ok, False)]),
    )


def decide(ctx: RunContext, proposals: pd.DataFrame) -> Decision:
    """Choose the plan; see the module docstring."""
    bought = _bought_choices(ctx)
    bid_props = _open_proposals(ctx, bought, proposals)
    added, add_props = _added_choices(ctx, proposals)
    keyword_choices = _stack(bought, added)
    _pin(ctx, keyword_choices)
    outcome = _forecast(ctx, keyword_choices.entities, keyword_choices.levels)
    slices, slice_props, slice_delta = _slice_choices(proposals)
    choices = _stack(keyword_choices, slices)
    outcome = _stack_outcome(outcome, slice_delta, choices.levels.shape[1], ctx)
    entities = choices.entities
    campaign_names = sorted(set(ctx.campaigns["campaign"]) | set(entities["campaign"]))
    limits = ctx.campaigns.set_index("campaign").reindex(campaign_names)
    floors = limits["roi_floor"].fillna(ctx.config.constraints.roi_floor).to_numpy(float)
    budgets = limits["daily_budget"].fillna(np.inf).to_numpy(float)
    group = pd.Categorical(entities["campaign"], categories=campaign_names).codes.astype(int)
    # days with spend and their orders, measured with roi_se (context.campaign_evidence)
    evidence = (limits[["spend_days", "orders"]].rename(columns={"spend_days": "days"})
                .fillna(0.0))
    floor_margin = _floor_margin(ctx, limits, evidence)
    planned_floors = floors * (1.0 + floor_margin)
    closed = _close_raises_on_short_history(choices, outcome, group, evidence)
    ctx.warnings += short_history_notes(ctx, evidence, floor_margin)
    settings = ctx.config.optimiser
    planned_budgets = budgets * (1.0 - settings.budget_margin_pct / 100.0)
    shop_budget = ctx.config.constraints.shop_budget
    planned_shop = (None if shop_budget is None
                    else shop_budget * (1.0 - settings.shop_budget_margin_pct / 100.0))
    _open_guard(ctx, choices, outcome, group, planned_floors, planned_budgets, planned_shop)
    # A change must earn its keep: every move away from "keep" costs min_gain.
    change_cost = _min_gain_in_objective_units(ctx)
    moved = np.arange(outcome["cost"].shape[1]) != choices.keep[:, None]

    floor_weight = _floor_weights(ctx, entities, planned_floors / floors, group)
    price, margin = item_economics(ctx, entities["item"])

    seen_cost = spend_seen(ctx, entities)

    def plan_for(outcome: dict[str, np.ndarray]):
        values = _values(ctx, outcome, price, margin) - change_cost * moved
        outcome[LIMIT_GMV], outcome[LIMIT_COST] = _as_limits_count(ctx, outcome, choices.keep,
                                                                    floor_weight, seen_cost)
        return solve(
            values, outcome[LIMIT_COST], outcome[LIMIT_GMV], choices.allowed,
            group, planned_floors, planned_budgets,
            shop_budget=planned_shop, baseline=choices.keep,
        )

    solution = plan_for(outcome)
    first_slice = len(keyword_choices.entities)
    overruled: dict[int, int] = {}
    for _ in range(SAME_TARGET_ROUNDS if len(slices.entities) else 0):
        gain = _values(ctx, outcome, price, margin)[first_slice:]
        closed_now = _one_setting_per_target(slice_props, solution.choice[first_slice:],
                                             gain[:, 1] - gain[:, 0])
        if not closed_now:
            break
        overruled |= closed_now
        choices.allowed[first_slice + np.fromiter(closed_now, int), 1] = False
        solution = plan_for(outcome)
    as_proposed = {name: outcome[name][first_slice:].copy() for name in OUTCOMES}
    for _ in range(REPRICE_ROUNDS if len(slices.entities) else 0):
        if not _reprice_slices(outcome, as_proposed, choices, solution.choice, group):
            break
        solution = plan_for(outcome)
    else:
        if len(slices.entities):
            # still moving after the last round (a budget far below today's spend): report
            # the slices at the final plan's own traffic, so that no campaign shows savings
            # beyond what it still spends; the summary flags a limit this leaves unmet
            _reprice_slices(outcome, as_proposed, choices, solution.choice, group)
            outcome[LIMIT_GMV], outcome[LIMIT_COST] = _as_limits_count(
                ctx, outcome, choices.keep, floor_weight, seen_cost)
    limits = pd.DataFrame({"campaign": campaign_names, "roi_floor": floors,
                           "planned_floor": planned_floors, "daily_budget": budgets,
                           "planned_budget": planned_budgets,
                           # the solver's prices: > 0 where a limit is active at the optimum
                           "floor_price": solution.campaign["lambda_roi"].to_numpy(float),
                           "budget_price": solution.campaign["mu_budget"].to_numpy(float)})
    plan = Plan(choices, outcome, solution.choice, group, limits, planned_shop)
    judged = judge_proposals(ctx, plan, bid_props, add_props, slice_props, proposals)
    _say_closed(judged, choices, closed)
    _say_overruled(judged, slice_props, overruled)
    _report_repriced_slices(judged, outcome,
                            {name: as_proposed[name][:, 1] for name in ("clicks", "cost", "gmv")},
                            first_slice)
    actions = plan_actions(ctx, plan, judged)
    campaigns = campaign_summary(plan)
    # one per row the output will hold: an hour-discount schedule is one choice, many rows
    campaigns["actions"] = (campaigns["campaign"].map(actions.groupby("campaign").size())
                            .fillna(0).astype(int))
    return Decision(
        actions=actions,
        proposals=judged,
        campaigns=campaigns,
        objective=solution.objective,
        change_cost=change_cost,
        upper_bound=solution.upper_bound,
        gap=solution.gap,
        feasible=solution.feasible,
        shop_budget=shop_budget,
        shop_planned_budget=planned_shop,
        shop_binds=plan.shop_binds(),
    )


def _ratio(codes: np.ndarray, planned: np.ndarray, now: np.ndarray, size: int) -> np.ndarray:
    """Per group: sum of ``planned`` over sum of ``now`` (1 where nothing is bought now)."""
    a, b = np.bincount(codes, planned, minlength=size), np.bincount(codes, now, minlength=size)
    return np.divide(a, b, out=np.ones(size), where=b > 0)


def _reprice_slices(outcome: dict[str, np.ndarray], as_proposed: dict[str, np.ndarray],
                    choices: Choices, choice: np.ndarray, group: np.ndarray) -> bool:
    """Scale crowd, region and hour deltas (in place) to the traffic the plan's bids buy.

    Strategies price a slice at today's bids; when the plan cuts a campaign's bids, its
    regions carry less traffic, and excluding one saves less than it did at today's bids
    (counted at full size, the saving is counted twice: once in the cuts, once in the
    exclusion; with a deep cut the savings can even exceed what the campaign still spends).
    Each slice's delta as proposed times the ratio of planned to current outcome of the
    bought keywords it rides on, its item's for a crowd premium, its campaign's for a region
    or an hour; never above 1, so that a slice is not worth more than at today's bids on the
    strength of forecast raises. Returns whether any delta moved by more than 1%.
    """
    entities = choices.entities
    kind = entities["kind"].to_numpy()
    bought, slice_rows = np.flatnonzero(kind == "bought"), np.flatnonzero(kind == "slice")
    # the traffic each slice rides on: its campaign x item where keywords of that item are
    # bought, else its whole campaign
    item_key = (entities["campaign"].astype(str) + "\x1f" + entities["item"].astype(str)).to_numpy()
    codes, base = pd.factorize(item_key[bought])
    base = pd.Index(base)
    n_groups = int(group.max()) + 1
    item_of_slice = base.get_indexer(item_key[slice_rows])
    on_item = item_of_slice >= 0
    item_of_slice = np.maximum(item_of_slice, 0)
    changed = False
    for name in OUTCOMES:
        values = outcome[name]
        now, planned = values[bought, choices.keep[bought]], values[bought, choice[bought]]
        by_item = _ratio(codes, planned, now, len(base))
        by_campaign = _ratio(group[bought], planned, now, n_groups)
        factor = np.where(on_item, by_item[item_of_slice], by_campaign[group[slice_rows]])
        factor = np.minimum(factor, 1.0)  # a raise's extra traffic is not counted on top
        repriced = as_proposed[name] * factor[:, None]
        # what a campaign's slices take away together never exceeds what it still has
        # (regions and hours overlap; under a deep cut the ratio lags the plan by a solve)
        slice_group = group[slice_rows]
        taken = -np.bincount(slice_group, np.minimum(repriced[:, 1], 0.0), minlength=n_groups)
        left = np.bincount(group[bought], planned, minlength=n_groups)
        cap = np.divide(left, taken, out=np.ones(n_groups), where=taken > left)
        repriced = np.where(repriced < 0, repriced * cap[slice_group][:, None], repriced)
        changed |= not np.allclose(repriced, values[slice_rows], rtol=0.01, atol=1e-6)
        values[slice_rows] = repriced
    return changed


def _report_repriced_slices(judged: pd.DataFrame, outcome: dict[str, np.ndarray],
                            as_proposed: dict[str, np.ndarray], first_slice: int) -> None:
    """Scale slice proposals' ``base_*`` and ``exp_*`` (in place) as ``_reprice_slices``
    scaled their deltas.

    The output then shows what the decision counted: an hour's discount in a campaign whose
    bids the plan cuts moves less traffic than the strategy priced at today's bids.
    """
    rows = judged["row"].to_numpy(int)  # -1 for proposals that never reached a choice
    on_slice = rows >= first_slice
    if not on_slice.any():
        return
    index = judged.index[on_slice]
    item = rows[on_slice] - first_slice
    repriced = np.zeros(len(index), dtype=bool)
    for name, before in as_proposed.items():
        after = outcome[name][first_slice:, 1]
        factor = np.divide(after, before, out=np.ones_like(after), where=np.abs(before) > 1e-12)
        repriced |= np.abs(factor[item] - 1) > 0.01
        for column in (f"base_{name}", f"exp_{name}"):
            if column in judged:
                judged.loc[index, column] = pd.to_numeric(judged.loc[index, column]) * factor[item]
    if repriced.any() and {"exp_cost", "exp_gmv"} <= set(judged.columns):
        # the strategy's reason quotes today's bids; the row's figures are the plan's
        where = index[repriced]
        cost = pd.to_numeric(judged.loc[where, "exp_cost"]).to_numpy(float)
        gmv = pd.to_numeric(judged.loc[where, "exp_gmv"]).to_numpy(float)
        roi = [f" (ROI {g / c:.2f})" if c > 0 else "" for g, c in zip(gmv, cost, strict=True)]
        judged.loc[where, "reason"] = [
            f"{r}; figures rescaled to the traffic the plan's bids buy{q}"
            for r, q in zip(judged.loc[where, "reason"].astype(str), roi, strict=True)]


def _floor_weights(ctx: RunContext, entities: pd.DataFrame, planned_over_floor: np.ndarray,
                   group: np.ndarray) -> np.ndarray:
    """Weight of each row's GMV in its campaign's floor: below 1 for keywords not bought yet.

    A new keyword's forecast comes from market figures, not its own days; its GMV counts
    toward the floor as if planned ``new_keyword_margin_pct`` above it, so that the ROI
    headroom it promises cannot pay for raises elsewhere until its days confirm it.
    """
    weight = np.ones(len(entities))
    new_margin = 1.0 + ctx.config.optimiser.new_keyword_margin_pct / 100.0
    added = (entities["kind"] == "added").to_numpy()
    weight[added] = np.minimum(1.0, planned_over_floor[group[added]] / new_margin)
    return weight


def _as_limits_count(ctx: RunContext, outcome: dict[str, np.ndarray], keep: np.ndarray,
                     weight: np.ndarray, seen_cost: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """GMV and cost of every choice as its campaign's floor and budget count them.

    GMV is weighted (``_floor_weights``). Spend a choice adds over "keep" counts
    ``added_spend_margin_pct`` more: the forecast at today's bids is close to the history;
    what it gets wrong is the spend at bids the history has not seen (raises buy more clicks at
    higher prices than the model expects, and the keywords a plan picks to raise are those
    whose forecast looks best). A margin on the added spend reserves headroom where that
    error lives, instead of one margin on the whole campaign. A keyword not bought yet adds
    all of its spend, and its GMV is weighted too: its forecast comes from market figures.
    ``seen_cost`` (n,): spend the history has shown at a bid held long enough
    (:func:`spend_seen`); spend above it counts as added even at "keep".
    """
    margin = ctx.config.optimiser.added_spend_margin_pct / 100.0
    return (outcome["gmv"] * weight[:, None],
            count_added_spend(outcome["cost"], keep, margin, seen_cost))


def count_added_spend(cost: np.ndarray, keep: np.ndarray, margin: float,
                      seen_cost: np.ndarray | None = None) -> np.ndarray:
    """``cost`` (n, L) with the spend each level adds over the ``keep`` column (or over
    ``seen_cost`` where that is lower) counted ``1 + margin`` times."""
    reference = np.take_along_axis(cost, keep[:, None], axis=1)
    if seen_cost is not None:
        reference = np.minimum(reference, seen_cost[:, None])
    return cost + margin * np.maximum(cost - reference, 0.0)


def spend_seen(ctx: RunContext, entities: pd.DataFrame) -> np.ndarray:
    """Forecast spend of each bought keyword at the highest bid it held on at least
    ``evidence_days`` days of the window; inf where that is today's bid or more.

    The forecast of today's bids leans on the days at those bids. A shop that runs the plan
    every night raises bids night after night, and yesterday's raise has one day of
    evidence: counting only tonight's raise as added spend let raises compound on a forecast
    that nothing had checked yet (on simulated shops, run nightly, floors broke from the
    second night on; ``benchmarks/bench_nights.py``).
    """
    n = len(entities)
    seen = np.full(n, np.inf)
    days = ctx.config.optimiser.evidence_days
    daily = ctx.history["keywords"]
    if days <= 0 or n == 0 or daily.empty or "bid" not in daily:
        return seen
    bids = daily[[*KEYWORD_KEYS, "bid"]].dropna(subset=["bid"]).sort_values("bid", ascending=False)
    grouped = bids.groupby(KEYWORD_KEYS, sort=False, observed=True)["bid"]
    # the days-th highest bid of each keyword (its lowest when it has fewer days)
    nth = np.minimum(days, grouped.transform("size").to_numpy()) - 1
    level = bids[grouped.cumcount().to_numpy() == nth]
    level = level.set_index(pd.MultiIndex.from_frame(level[KEYWORD_KEYS].astype(str)))["bid"]
    bought = (entities["kind"] == "bought").to_numpy()
    bid = level.reindex(pd.MultiIndex.from_frame(entities[KEYWORD_KEYS].astype(str))).to_numpy(float)
    current = entities["current"].to_numpy(float)
    below = bought & np.isfinite(bid) & (bid < current - _TOL)
    if below.any():
        at = _forecast(ctx, entities.loc[below], bid[below][:, None])["cost"][:, 0]
        seen[below] = at
    return seen


MIN_SPEND_DAYS = 3
"""Days with spend a campaign needs before the plan may raise its bids or add keywords: with
fewer, its ROI's day-to-day spread cannot be measured at all."""


def _floor_margin(ctx: RunContext, limits: pd.DataFrame,
                  evidence: pd.DataFrame | None = None) -> np.ndarray:
    """Relative margin above each campaign's floor, never below ``roi_margin_pct``: its ROI's
    standard error times the ``floor_confidence`` quantile, where the standard error is the
    larger of two measures of how well the window knows the campaign's ROI.

    - ``roi_se``, the day-to-day spread of the campaign's ROI over its days: estimated from
      those few days itself, so its quantile is Student's t with days - 1 degrees of freedom
      (from 3 days of spend a spread of 2 degrees of freedom needs 1.89 standard errors for
      90%, not 1.28); with fewer than 3 days it cannot be measured and counts as 1/3;
    - the count floor ``sqrt((1 + AOV_CV2) / orders)``: GMV is orders times their values, and
      a window with few orders cannot know it better than their count allows, however alike
      its days happened to look.

    Both grow as the history shortens, so a short history is planned further above its
    floor: the plan does less rather than bet the floor on a few days.
    """
    settings = ctx.config.optimiser
    confidence = settings.floor_confidence
    z = float(norm.ppf(confidence))
    se = limits["roi_se"].to_numpy(float) if "roi_se" in limits else np.full(len(limits), np.nan)
    margin = np.maximum(settings.roi_margin_pct / 100.0, z * np.where(np.isfinite(se), se, 1 / 3))
    if evidence is None:
        return margin
    days = evidence["days"].reindex(limits.index).fillna(0.0).to_numpy(float)
    orders = evidence["orders"].reindex(limits.index).fillna(0.0).to_numpy(float)
    quantile = np.where(days >= MIN_SPEND_DAYS,
                        student_t.ppf(confidence, np.maximum(days - 1, 1.0)), z)
    by_days = quantile * np.where(np.isfinite(se), se, 1 / 3)
    by_count = z * np.sqrt((1.0 + AOV_CV2) / np.maximum(orders, 1.0))
    return np.maximum(margin, np.maximum(by_days, by_count))


def _close_raises_on_short_history(choices: Choices, outcome: dict[str, np.ndarray],
                                   group: np.ndarray, evidence: pd.DataFrame) -> np.ndarray:
    """In campaigns with fewer than ``MIN_SPEND_DAYS`` days of spend, close every level that
    spends more than today's (raises, keywords not bought yet, slices that add spend): the plan
    may only keep or cut there. Pinned bids stay as configured. Returns the closed levels."""
    closed = np.zeros(choices.allowed.shape, dtype=bool)
    short = evidence["days"].to_numpy(float) < MIN_SPEND_DAYS
    if not short.any():
        return closed
    rows = short[group] & ~choices.entities["pinned"].to_numpy(bool)
    cost = outcome["cost"]
    kept = np.take_along_axis(cost, choices.keep[:, None], axis=1)
    closed = rows[:, None] & choices.allowed & (cost > kept + _TOL)
    choices.allowed &= ~closed
    return closed


SAME_TARGET_ROUNDS = 4
"""Solves at most spent on settling slices that set the same crowd, region or hour."""


def _one_setting_per_target(slice_props: pd.DataFrame, choice: np.ndarray,
                            gain: np.ndarray) -> dict[int, int]:
    """Taken slice items that set what another taken item sets (two strategies' discounts
    for one hour, premiums for one crowd): the one whose change is worth most is kept, the
    others are returned as {item closed: item kept}. Both used to be written, the forecast
    counted both, and the upload kept whichever row came last."""
    taken = np.flatnonzero(choice == 1)
    if len(taken) < 2:
        return {}
    props = slice_props[slice_props["slice_item"].isin(taken)]
    # two rows set the same thing when the state file would key them alike
    targets = setting_keys(props).agg("\x1f".join, axis=1).to_numpy()
    items = props["slice_item"].to_numpy(int)
    owner: dict[str, int] = {}
    closed: dict[int, int] = {}
    for item in sorted(set(items), key=lambda i: -gain[i]):
        mine = set(targets[items == item])
        rival = next((owner[t] for t in mine if t in owner), None)
        if rival is not None:
            closed[item] = rival
        else:
            owner.update(dict.fromkeys(mine, item))
    return closed


def _say_overruled(judged: pd.DataFrame, slice_props: pd.DataFrame,
                   overruled: dict[int, int]) -> None:
    """Slice proposals closed by ``_one_setting_per_target`` say which one was kept (in place)."""
    if not overruled:
        return
    strategy = slice_props.groupby("slice_item")["strategy"].first()
    for item, kept in overruled.items():
        rows = slice_props.index[slice_props["slice_item"] == item]
        rows = rows[(judged.loc[rows, "status"] == "rejected").to_numpy()]
        judged.loc[rows, "decision"] = (
            f"rejected: {strategy[kept]} sets the same crowd, region or hour tonight, and its "
            "change is worth more; only one setting per target can be uploaded")


def _say_closed(judged: pd.DataFrame, choices: Choices, closed: np.ndarray) -> None:
    """Rejected proposals whose move was closed by ``_close_raises_on_short_history`` say so
    (in place), instead of a reason about the limits or the objective."""
    if not closed.any() or "row" not in judged or "target" not in judged:
        return
    rows = pd.to_numeric(judged["row"], errors="coerce").fillna(-1).to_numpy(int)
    target = pd.to_numeric(judged["target"], errors="coerce").to_numpy(float)
    on_choice = (rows >= 0) & np.isfinite(target) & (judged["status"] == "rejected").to_numpy()
    where = np.flatnonzero(on_choice)
    level = np.abs(choices.levels[rows[where]] - target[where, None]).argmin(axis=1)
    said = where[closed[rows[where], level]]
    judged.loc[judged.index[said], "decision"] = (
        f"rejected: the campaign has fewer than {MIN_SPEND_DAYS} days with spend in the reports, "
        "too few to bet its floor on more spend; tonight it only keeps or cuts bids")


def short_history_notes(ctx: RunContext, evidence: pd.DataFrame,
                        floor_margin: np.ndarray) -> list[str]:
    """What a window shorter than the configured look-back means for tonight's plan."""
    seen = int(ctx.history["keywords"]["date"].nunique()) if len(ctx.history["keywords"]) else 0
    days = evidence["days"].to_numpy(float)
    if seen >= ctx.config.history.days and not (days < MIN_SPEND_DAYS).any():
        return []
    names = list(evidence.index)
    order = np.argsort(-floor_margin)
    listed = ", ".join(f"'{names[i]}' +{floor_margin[i]:.0%}" for i in order[:3])
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    notes = [f"short history ({seen} report day{'s' if seen != 1 else ''}): each campaign is "
             "planned above its ROI floor by how well these days measure its ROI (" + listed
             + more + "), so tonight's plan moves fewer bids and less far than a full "
             f"{ctx.config.history.days}-day window would; forecasts of raised bids rest on "
             "few clicks and orders, and the margins shrink as days accumulate"]
    short = [names[i] for i in np.flatnonzero(days < MIN_SPEND_DAYS)]
    if short:
        notes.append(f"fewer than {MIN_SPEND_DAYS} days with spend for "
                     f"{', '.join(map(repr, short[:5]))}{' and more' if len(short) > 5 else ''}: "
                     "too few to measure how their ROI varies, so the plan raises no bid and "
                     "adds no keyword there (it only keeps or cuts bids, to meet the floor)")
    return notes


def _stack_outcome(outcome: dict, slice_delta: dict, width: int, ctx: RunContext) -> dict:
    """Keyword forecasts and slice deltas in one set of (n, width) arrays."""
    n_slices = len(next(iter(slice_delta.values()))) if slice_delta else 0

    def pad(x: np.ndarray) -> np.ndarray:
        return np.pad(x, ((0, 0), (0, width - x.shape[1])))

    history = ctx.keywords
    order_value = history["gmv"].sum() / max(history["orders"].sum(), 1.0)
    stacked = {}
    for name in OUTCOMES:
        if name in slice_delta:
            extra = slice_delta[name]
        elif name == "orders" and n_slices:
            extra = slice_delta["gmv"] / max(order_value, 1e-9)
        else:
            extra = np.zeros((n_slices, 2))
        stacked[name] = np.vstack([pad(outcome[name]), pad(extra)])
    return stacked


def unmatched_pin_notes(pins: pd.DataFrame, candidates: pd.DataFrame, *,
                        tonight: bool = True) -> list[str]:
    """Notes on pins that match no keyword the plan buys: a keyword candidate not bought yet
    (said only of ``tonight``'s plan, which knows what the strategies add), or a keyword in
    neither the reports nor the candidates, most often a typo."""
    offered = (set(zip(candidates["item"].astype(str), candidates["keyword"].astype(str),
                       strict=True))
               if {"item", "keyword"} <= set(candidates.columns) else set())
    notes = []
    for pin in pins.itertuples(index=False):
        where = (f"keyword '{pin.keyword}' of item '{pin.item}' in campaign '{pin.campaign}' "
                 f"({pin.platform})")
        if (str(pin.item), str(pin.keyword)) not in offered:
            notes.append(f"bids.pinned: no {where} in the reports or candidates; that pin "
                         "does nothing")
        elif tonight:  # a candidate the plan does not buy: a pin sets a bid, adds no keyword
            notes.append(f"bids.pinned: the {where} is a keyword candidate not bought yet, "
                         "and no strategy proposed adding it tonight; that pin does nothing "
                         "until it is bought")
    return notes


def _pin(ctx: RunContext, choices: Choices) -> None:
    """A bid pinned in the config is the only choice its keyword has."""
    pins = ctx.config.bids.pinned
    if not pins:
        return
    frame = pd.DataFrame([p.model_dump() for p in pins])
    index = pd.MultiIndex.from_frame(choices.entities[KEYWORD_KEYS])
    rows = index.get_indexer(pd.MultiIndex.from_frame(frame[KEYWORD_KEYS]))
    found = rows >= 0
    ctx.warnings += unmatched_pin_notes(frame[~found], ctx.candidates)
    rows = rows[found]
    lo, hi, step = platform_rules(ctx.config, frame["platform"].to_numpy(str)[found])
    column = choices.levels.shape[1] - 1 if choices.levels.shape[1] > 2 else 1
    choices.levels[rows, column] = np.clip(snap(frame["bid"].to_numpy(float)[found], step), lo, hi)
    choices.allowed[rows] = False
    choices.allowed[rows, column] = True
    choices.entities.loc[rows, "pinned"] = True
