"""Turn the optimiser's choice into what a person reviews: actions with reasons, the fate
of every proposal, and the expected effect per campaign."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bidopt.grid import platform_rules
from bidopt.schema import KEYWORD_ACTIONS, RANGE_COLUMNS

if TYPE_CHECKING:
    from bidopt.context import RunContext
    from bidopt.decide import Choices

GUARD = "roi_guard"
PINNED = "pinned"
BID_RULES = "bid_rules"
OPTIMISER = "optimiser"
LIMIT_GMV, LIMIT_COST = "limit_gmv", "limit_cost"
"""Outcome entries: GMV and cost as the campaign limits count them (``decide._as_limits_count``)."""
_TOL = 1e-9


@dataclass
class Plan:
    choices: Choices
    outcome: dict[str, np.ndarray]
    choice: np.ndarray  # chosen column per entity
    group: np.ndarray  # campaign index per entity
    limits: pd.DataFrame  # campaign, roi_floor, daily_budget (indexed like group)
    shop_budget: float | None = None  # the shop budget as planned (with its margin)

    @property
    def rows(self) -> np.ndarray:
        return np.arange(len(self.choice))

    def bid(self, column: np.ndarray) -> np.ndarray:
        return self.choices.levels[self.rows, column]

    def at(self, name: str, column: np.ndarray) -> np.ndarray:
        return self.outcome[name][self.rows, column]

    def totals(self, column: np.ndarray) -> pd.DataFrame:
        size = len(self.limits)
        frame = pd.DataFrame(
            {
                name: np.bincount(self.group, self.at(name, column), minlength=size)
                for name in ("clicks", "cost", "gmv", "orders")
            }
        )
        frame["roi"] = frame["gmv"] / frame["cost"].where(frame["cost"] > 0)
        return frame

    def binds(self, priced: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Per campaign, whether its daily budget and whether its planned ROI floor hold
        the plan back: within 2% of the limit, or (``priced``) priced by the solver, its
        multiplier positive: a discrete plan can leave a few percent of a binding budget
        unspent. A move's explanation uses the first sense only: "would exceed" must be
        true of the move."""
        size = len(self.limits)
        cost = np.bincount(self.group, self.at(LIMIT_COST, self.choice), minlength=size)
        gmv = np.bincount(self.group, self.at(LIMIT_GMV, self.choice), minlength=size)
        floors = self.limits["planned_floor"].to_numpy(float)
        budgets = self.limits["planned_budget"].to_numpy(float)
        price = {name: (self.limits[name].to_numpy(float) > 0 if priced and name in self.limits
                        else np.zeros(size, dtype=bool))
                 for name in ("floor_price", "budget_price")}
        budget = np.isfinite(budgets) & (
            (budgets - cost <= 0.02 * np.maximum(budgets, 1.0)) | price["budget_price"])
        floor = (gmv - floors * cost <= 0.02 * np.maximum(floors * cost, 1.0)) | price["floor_price"]
        return budget, floor

    def shop_binds(self) -> bool:
        """Whether the shop budget holds the plan back (within 2%), as the limits count it."""
        if self.shop_budget is None:
            return False
        total = float(self.at(LIMIT_COST, self.choice).sum())
        return total >= self.shop_budget - 0.02 * max(self.shop_budget, 1.0)

    def limit_words(self) -> tuple[np.ndarray, np.ndarray]:
        """Per campaign, the budget and the floor in words (object arrays)."""
        names = self.limits["campaign"].astype(str).to_numpy()
        budgets = self.limits["daily_budget"].to_numpy(float)
        floors = self.limits["roi_floor"].to_numpy(float)
        planned = self.limits["planned_floor"].to_numpy(float)
        planned_budgets = self.limits["planned_budget"].to_numpy(float)
        budget = np.array([f"campaign '{n}' would exceed its daily budget {b:,.2f} "
                           f"(planned to {p:,.2f})"
                           for n, b, p in zip(names, budgets, planned_budgets, strict=True)],
                          dtype=object)
        floor = np.array([f"campaign '{n}' would fall below its ROI floor {f:.2f} "
                          f"(planned to {p:.2f})"
                          for n, f, p in zip(names, floors, planned, strict=True)], dtype=object)
        return budget, floor

    def binding(self) -> list[str]:
        """Per campaign, which limit holds the plan back, in words."""
        budget, floor = self.binds()
        budget_words, floor_words = self.limit_words()
        return list(np.select([budget, floor], [budget_words, floor_words], ""))


def judge_proposals(
    ctx: RunContext,
    plan: Plan,
    bid_props: pd.DataFrame,
    add_props: pd.DataFrame,
    others: pd.DataFrame,
    proposals: pd.DataFrame,
) -> pd.DataFrame:
    """Every proposal with ``status`` and ``decision``: accepted, scaled, overridden (the
    optimiser moved the bid the other way or past the target) or rejected, and why."""
    judged = proposals.copy()
    judged["status"] = "rejected"
    judged["decision"] = np.where(
        judged["action"].eq("add_keyword"),
        "rejected: the keyword is already bought or was proposed twice",
        "rejected: the keyword is not in the keyword report",
    )
    judged["row"] = -1
    judged["target"] = np.nan
    kind = plan.choices.entities["kind"]
    n_bought, n_added = int((kind == "bought").sum()), int((kind == "added").sum())
    if len(add_props):
        add_props = add_props.assign(row=np.arange(len(add_props)) + n_bought)
    if len(others):
        others = others.assign(row=others["slice_item"].to_numpy(int) + n_bought + n_added)
    considered = pd.concat([bid_props, add_props, others])
    if len(considered):
        rows = considered["row"].to_numpy(int)
        chosen = plan.bid(plan.choice)[rows]
        keep = plan.bid(plan.choices.keep)[rows]
        target = considered["target"].to_numpy(float)
        accepted = np.abs(chosen - target) <= _TOL
        between = (np.minimum(keep, target) < chosen - _TOL) & (chosen < np.maximum(keep, target) - _TOL)
        moved = np.abs(chosen - keep) > _TOL
        status = np.select([accepted, between, moved], ["accepted", "scaled", "overridden"],
                           "rejected")
        # The move a proposal asks for, in the optimiser's terms: from "keep" to its target
        # (for a scaled one, the part not taken: from the chosen bid on). The target is the
        # level equal to it: the decide step put bids on the grid exactly (pause is the zero
        # level); added keywords and slices have it in column 1. Where a second proposal on
        # the same keyword took its level, the nearest level stands in.
        levels = plan.choices.levels[rows]
        to = np.abs(levels - target[:, None]).argmin(axis=1)
        start = np.where(between, plan.choice[rows], plan.choices.keep[rows])
        why = _why_not(ctx, plan, rows, start, to, scaled=between)
        pinned = plan.choices.entities["pinned"].to_numpy(bool)[rows]
        overridden = "overridden: the optimiser chose " + pd.Series(chosen).map("{:.2f}".format)
        decision = np.select(
            [accepted, pinned, between, moved],
            ["accepted", "the bid is pinned in the config", "scaled back: " + why,
             overridden.to_numpy(object)],
            default="rejected: " + why,
        )
        judged.loc[considered.index, "status"] = np.where(pinned & ~accepted, "rejected", status)
        judged.loc[considered.index, "decision"] = decision
        judged.loc[considered.index, "row"] = rows
        judged.loc[considered.index, "target"] = target
        # a keyword proposal's forecast with the bid kept (a slice carries its own): what a
        # rejected one, listed with include_rejected, shows as its expected day
        on_keyword = considered["action"].isin(KEYWORD_ACTIONS).to_numpy()
        words = considered.index[on_keyword]
        for name in ("clicks", "cost", "gmv"):
            column = f"base_{name}"
            if column not in judged:
                judged[column] = np.nan
            judged[column] = pd.to_numeric(judged[column], errors="coerce")
            judged.loc[words, column] = plan.at(name, plan.choices.keep)[rows[on_keyword]]
    unforecast = judged.index[
        ~judged["action"].isin(KEYWORD_ACTIONS)
    ].difference(others.index)
    judged.loc[unforecast, "decision"] = (
        "rejected: the proposal carries no forecast (base_* and exp_* columns)"
    )
    return judged


def _why_not(ctx: RunContext, plan: Plan, rows: np.ndarray, start: np.ndarray,
             to: np.ndarray, scaled: np.ndarray) -> np.ndarray:
    """Why a move (from column ``start`` to ``to``) was not taken, or not in full.

    A limit is named only when the move would spend it: the budget when it adds cost, the
    ROI floor when it adds less GMV than the planned floor times its cost (it uses ROI
    headroom), both as the limits count them. Otherwise the optimiser preferred the
    objective it gives up; where a binding limit would get room from the move, that room was
    worth less."""
    group = plan.group[rows]
    budget, floor = plan.binds()
    budget_words, floor_words = plan.limit_words()
    d_cost, d_gmv = (plan.outcome[name][rows, to] - plan.outcome[name][rows, start]
                     for name in (LIMIT_COST, LIMIT_GMV))
    headroom = d_gmv - plan.limits["planned_floor"].to_numpy(float)[group] * d_cost
    uses_budget = budget[group] & (d_cost > _TOL)
    uses_floor = floor[group] & (headroom < -_TOL)
    shop_budget = ctx.config.constraints.shop_budget
    uses_shop = plan.shop_binds() & (d_cost > _TOL)
    objective = ctx.config.objective.target
    prefer = np.where(scaled, f"the full change gives a lower expected {objective}",
                      f"keeping it gives a higher expected {objective}").astype(object)
    frees = np.select(
        [floor[group] & (headroom > _TOL), budget[group] & (d_cost < -_TOL)],
        ["; the ROI headroom it frees is worth less than what it gives up",
         "; the budget it frees is worth less than what it gives up"],
        "",
    ).astype(object)
    return np.select(
        [uses_budget, uses_floor, uses_shop],
        [budget_words[group], floor_words[group],
         f"the shop would exceed its daily budget {shop_budget or 0:,.2f} "
         f"(planned to {plan.shop_budget or 0:,.2f})"],
        prefer + frees,
    )


def plan_actions(ctx: RunContext, plan: Plan, judged: pd.DataFrame) -> pd.DataFrame:
    """One row per bid that moves, with the strategy and reason that moved it."""
    entities = plan.choices.entities
    current = entities["current"].to_numpy(float)
    chosen = plan.bid(plan.choice)
    moved = (np.abs(chosen - current) > _TOL) & (entities["kind"] != "slice").to_numpy()
    taken = judged[judged["status"].isin(["accepted", "scaled"])]
    # When several proposals moved one keyword, credit the one nearest to the chosen bid.
    taken = taken.assign(distance=np.abs(taken["target"] - chosen[taken["row"].to_numpy(int)]))
    owner = taken.sort_values("distance").drop_duplicates("row").set_index("row")
    rows = np.flatnonzero(moved)
    actions = entities.iloc[rows][["campaign", "item", "keyword", "platform"]].copy()
    actions["kind"] = entities["kind"].to_numpy()[rows]
    actions["current"] = current[rows]
    actions["proposed"] = chosen[rows]
    credited = owner.reindex(rows)
    words = plan.binding()
    broken = np.array(words, dtype=object)[plan.group[rows]] if words else np.array([], object)
    guard_reason = np.array(
        ["cut so that " + w.replace("would", "does not") for w in words], dtype=object
    )[plan.group[rows]] if words else np.array([], object)
    pinned = entities["pinned"].to_numpy(bool)[rows]
    keep = plan.choices.keep
    d_cost = plan.at("cost", plan.choice)[rows] - plan.at("cost", keep)[rows]
    d_gmv = plan.at("gmv", plan.choice)[rows] - plan.at("gmv", keep)[rows]
    free = ctx.config.optimiser.bids == "free"
    optimiser_reason = _optimiser_reason(ctx, d_cost, d_gmv, plan, rows)
    fallback = np.select([pinned, free, broken != ""], [PINNED, OPTIMISER, GUARD], BID_RULES)
    if len(guard_reason):
        # the row's own ROI at the cut bid can be far above the floor (6.67 at a floor of
        # 2.00): what the cut gives up per unit of spend is what the floor is judged on
        guard_reason = guard_reason + _cut_terms(d_cost, d_gmv)
    fallback_reason = np.select(
        [pinned, free, broken != ""],
        ["bid pinned in the config", optimiser_reason, guard_reason],
        default="current bid is outside the platform's bounds or step",
    )
    own = credited["reason"].astype(object)
    scaled = credited["status"].eq("scaled").to_numpy()
    note = np.where(scaled, "; " + credited["decision"].astype(object).fillna(""), "")
    # a strategy's bid beyond the nightly limit or the bounds was clamped before it was
    # judged: say so, or the reason ("bid 6.24 holds rank 1") disagrees with the row's bid
    asked = pd.to_numeric(credited["proposed"], errors="coerce").to_numpy(float)
    platform = entities["platform"].to_numpy(str)[rows]
    lowest, highest, step = platform_rules(ctx.config, platform)
    capped = (credited["action"].eq("set_bid").to_numpy() & np.isfinite(asked)
              & (np.abs(asked - credited["target"].to_numpy(float)) > step + _TOL))
    note = note + np.where(capped, [f"; capped by the nightly change limit or the bid bounds "
                                    f"(asked {a:.2f})" for a in asked], "")
    actions["strategy"] = np.where(credited["strategy"].isna(), fallback,
                                   credited["strategy"].astype(object))
    # a bid the optimiser moved elsewhere than a strategy asked: name what was asked, or a
    # reviewer reads "optimiser: +0.75 spend buys ..." and never learns a rule wanted a cut
    overridden = judged[judged["status"].eq("overridden")]
    asked_by = pd.Series(
        [f"{name} {value:.2f}" for name, value in
         zip(overridden["strategy"], pd.to_numeric(overridden["proposed"], errors="coerce"),
             strict=True)],
        index=overridden["row"].to_numpy(int), dtype=object,
    ).groupby(level=0).agg(", ".join)
    instead = asked_by.reindex(rows).fillna("").to_numpy(object)
    instead = np.where(instead != "", "; strategies asked: " + instead, "")
    fallback_reason = fallback_reason.astype(object) + instead
    actions["reason"] = np.where(own.isna(), fallback_reason, own.fillna("") + note)
    # a bid outside the bounds today whose row only brings it to the nearest bound (its
    # "keep"): the bound is the reason. A strategy credited with it asked for a bid the
    # bounds turned into this one (roi_rule's cut of a 0.02 bid is a raise to 0.05), so
    # its words stay only on rows that move the bid past the bound.
    to_bound = ~pinned & (np.abs(chosen[rows] - plan.bid(keep)[rows]) <= _TOL)
    below = to_bound & (current[rows] < lowest - _TOL)
    above = to_bound & (current[rows] > highest + _TOL)
    setting = np.where(platform == "pc", "pc", "mobile")
    today = current[rows]
    reason = actions["reason"].to_numpy(object).copy()
    for i in np.flatnonzero(below):
        reason[i] = (f"raised to the platform minimum {lowest[i]:g} (bids.{setting[i]}.min): "
                     f"the keyword report's bid {today[i]:g} is below it")
    for i in np.flatnonzero(above):
        reason[i] = (f"lowered to the platform maximum {highest[i]:g} (bids.{setting[i]}.max): "
                     f"the keyword report's bid {today[i]:g} is above it")
    actions["reason"] = reason
    actions["strategy"] = np.where(below | above, BID_RULES, actions["strategy"].to_numpy(object))
    actions["action"] = np.select(
        [actions["kind"] == "added", chosen[rows] <= 0], ["add_keyword", "pause_keyword"], "set_bid"
    )
    actions["change_pct"] = np.where(
        (actions["action"] == "set_bid") & (current[rows] > 0),
        (chosen[rows] - current[rows]) / np.where(current[rows] > 0, current[rows], 1) * 100,
        np.nan,
    )
    actions.loc[actions["action"] == "pause_keyword", "change_pct"] = -100.0
    for name in ("clicks", "cost", "gmv"):
        actions[f"exp_{name}"] = plan.at(name, plan.choice)[rows]
        actions[f"base_{name}"] = plan.at(name, keep)[rows]
    for column, values in outcome_ranges(ctx, actions).items():
        actions[column] = values
    slices = judged[(judged["row"] >= 0) & judged["status"].eq("accepted")
                    & ~judged["action"].isin(KEYWORD_ACTIONS)]
    slices = slices.assign(change_pct=_change_pct(slices["current"], slices["proposed"]))
    actions = pd.concat([actions.drop(columns="kind"), slices], ignore_index=True)
    cost = actions["exp_cost"]
    actions["exp_roi"] = actions["exp_gmv"] / cost.where(cost > 0)
    return review_order(with_effect(actions))


def outcome_ranges(ctx: RunContext, actions: pd.DataFrame) -> dict[str, np.ndarray]:
    """``RANGE_COLUMNS`` for keyword rows (``campaign, item, keyword, platform``, the bid
    ``proposed``, ``exp_*``): the response model's outcome interval (``Forecast.low`` /
    ``high``, central ``interval``, 80% by default) at the proposed bid, scaled to the
    planned night's calendar phase as its forecast is (``RunContext.forecast``): where the
    day's reported clicks, cost and GMV fall on that share of such days. A paused keyword's
    is 0 to 0. The bounds hold the row's ``exp_*`` (the point forecast of the same model):
    one ``predict`` over the rows, at one bid each."""
    n = len(actions)
    out = {column: np.zeros(n) for column in RANGE_COLUMNS}
    bid = actions["proposed"].to_numpy(float)
    live = np.flatnonzero(bid > 0)
    if len(live):
        entities = actions.iloc[live][["campaign", "item", "keyword", "platform"]]
        forecast = ctx.forecast(entities.reset_index(drop=True), bid[live][:, None])
        for name in ("clicks", "cost", "gmv"):
            expected = actions[f"exp_{name}"].to_numpy(float)[live]
            out[f"{name}_low"][live] = np.minimum(forecast.low[name][:, 0], expected)
            out[f"{name}_high"][live] = np.maximum(forecast.high[name][:, 0], expected)
    return out


_ACTION_ORDER = {"set_bid": 0, "pause_keyword": 0, "add_keyword": 0, "set_crowd_premium": 1,
                 "exclude_region": 2, "include_region": 2, "set_hour_discount": 3}


def review_order(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows in the order a reviewer reads them: campaign by campaign, its keywords first
    (by item, keyword, platform: a keyword's mobile and PC rows together), then its crowds,
    regions and hours (0-23 in order)."""
    if rows.empty:
        return rows.reset_index(drop=True)
    keys = pd.DataFrame({
        "campaign": rows["campaign"].astype(str),
        "kind": rows["action"].map(_ACTION_ORDER).fillna(9),
        **{name: rows[name].astype(str).where(rows[name].notna(), "") if name in rows else ""
           for name in ("item", "keyword", "platform", "crowd", "region")},
        "hour": pd.to_numeric(rows["hour"], errors="coerce") if "hour" in rows else 0,
    }, index=rows.index)
    order = keys.sort_values(list(keys.columns), kind="stable", na_position="last").index
    return rows.loc[order].reset_index(drop=True)


def with_effect(actions: pd.DataFrame) -> pd.DataFrame:
    """``actions`` with ``d_clicks``, ``d_cost`` and ``d_gmv`` from its ``exp_*`` and
    ``base_*`` columns (a keyword added has 0 before).

    Each is a row's expected effect: the forecast at the proposed value minus the forecast
    with the value kept, in the units the plan counts. Summed over a campaign's rows they
    give the summary's 'after' minus 'before', whatever the action: a crowd's, region's or
    hour's ``exp_*`` are levels of a slice of the keywords' traffic and do not add up with
    the keywords' own, their changes do."""
    actions = actions.copy()
    for name in ("clicks", "cost", "gmv"):
        after = pd.to_numeric(actions[f"exp_{name}"], errors="coerce")
        before = pd.to_numeric(actions[f"base_{name}"], errors="coerce")
        actions[f"d_{name}"] = after - before
    return actions


def _optimiser_reason(ctx: RunContext, d_cost: np.ndarray, d_gmv: np.ndarray, plan: Plan,
                      rows: np.ndarray) -> np.ndarray:
    """Why the optimiser moved a bid, in the marginal terms a PPC manager uses, plus what
    else the objective counts (clicks, orders, carts and favourites) where it does."""
    floors = plan.limits["roi_floor"].to_numpy(float)[plan.group[rows]]
    marginal = np.divide(d_gmv, d_cost, out=np.full(len(rows), np.nan), where=d_cost != 0)
    also = _objective_terms(ctx, plan, rows)
    text = []
    for dc, dg, m, floor, extra in zip(d_cost, d_gmv, marginal, floors, also, strict=True):
        if dc > 0:
            text.append(f"optimiser: +{dc:.2f} spend buys +{dg:.2f} GMV{extra} (marginal ROI "
                        f"{m:.2f}); campaign stays above ROI {floor:.2f}")
        else:
            text.append(f"optimiser: saves {-dc:.2f} spend for {-dg:.2f} GMV{extra} "
                        f"(marginal ROI {m:.2f}), better spent elsewhere")
    return np.array(text, dtype=object)


def _cut_terms(d_cost: np.ndarray, d_gmv: np.ndarray) -> np.ndarray:
    """': saves 14.24 spend for 8.56 GMV (marginal ROI 0.60)' for each cut."""
    return np.array([f": saves {-dc:.2f} spend for {-dg:.2f} GMV (marginal ROI {dg / dc:.2f})"
                     if dc < 0 else "" for dc, dg in zip(d_cost, d_gmv, strict=True)],
                    dtype=object)


def _objective_terms(ctx: RunContext, plan: Plan, rows: np.ndarray) -> list[str]:
    """", +3.1 carts, +1.2 favourites" for each row: the change in what the objective counts
    besides GMV (empty under a plain GMV or profit objective)."""
    goal = ctx.config.objective
    names = {"clicks": ["clicks"], "orders": ["orders"]}.get(goal.target, [])
    if goal.target != "clicks":
        names += [n for n, w in (("carts", goal.cart_weight), ("favorites", goal.favorite_weight))
                  if w > 0]
    if not names:
        return [""] * len(rows)
    keep = plan.choices.keep
    deltas = {n: plan.at(n, plan.choice)[rows] - plan.at(n, keep)[rows] for n in names}
    label = {"favorites": "favourites"}
    return ["".join(f", {d[i]:+.2f} {label.get(n, n)}" for n, d in deltas.items())
            for i in range(len(rows))]


def _change_pct(current: pd.Series, proposed: pd.Series) -> pd.Series:
    current = pd.to_numeric(current, errors="coerce")
    proposed = pd.to_numeric(proposed, errors="coerce")
    return (proposed - current) / current.where(current > 0) * 100


def campaign_summary(plan: Plan) -> pd.DataFrame:
    """Expected cost, GMV and ROI per campaign with everything kept and under the plan."""
    before = plan.totals(plan.choices.keep)
    after = plan.totals(plan.choice)
    summary = plan.limits.copy()
    entities = plan.choices.entities
    is_slice = (entities["kind"] == "slice").to_numpy()
    # keywords live after the plan: paused ones and candidates left out do not count
    live = ~is_slice & (plan.bid(plan.choice) > 0)
    summary["keywords"] = np.bincount(plan.group[live], minlength=len(summary))
    for name in ("cost", "gmv", "roi", "clicks"):
        summary[f"{name}_before"] = before[name].to_numpy()
        summary[f"{name}_after"] = after[name].to_numpy()
    # the limits count added spend with its margin, so a campaign held back by its floor can
    # show a forecast ROI above ``planned_floor``
    summary["budget_binds"], summary["floor_binds"] = plan.binds(priced=True)
    floors = summary["roi_floor"].to_numpy()
    summary["feasible"] = (
        summary["gmv_after"] >= floors * summary["cost_after"] - 1e-6
    ) & (summary["cost_after"] <= summary["daily_budget"] + 1e-6)
    return summary


KEEP = "keep"
"""The action of a rejected proposal listed with ``output.include_rejected``: nothing to
upload. The action the strategy asked for is named in the reason."""


def rejected_rows(proposals: pd.DataFrame, date: dt.date) -> pd.DataFrame:
    """Rejected proposals as rows that change nothing: action ``keep``, proposed = current,
    no change and no effect, the forecast of what stays where the proposal carries one (a
    crowd's, region's or hour's as it is); the reason keeps the strategy's words, why it was
    rejected and what it asked for ('(asked pause_keyword 0)'). Written with the asked
    action, a rejected pause read as a pause to whoever uploads the file by its action."""
    rejected = proposals[proposals["status"] == "rejected"]
    value = pd.to_numeric(rejected["proposed"], errors="coerce")
    asked = [f" (asked {a}{'' if pd.isna(v) else f' {round(v, 2):g}'})"
             for a, v in zip(rejected["action"].astype(str), value, strict=True)]
    rows = rejected.assign(
        date=date.isoformat(), action=KEEP, proposed=rejected["current"], change_pct=0.0,
        reason=(rejected["reason"].astype(str) + "; " + rejected["decision"].astype(str)
                + pd.Series(asked, index=rejected.index, dtype=object)),
    )
    for name in ("clicks", "cost", "gmv"):
        base = f"base_{name}"
        rows[f"exp_{name}"] = (pd.to_numeric(rows[base], errors="coerce")
                               if base in rows else np.nan)
        rows[f"d_{name}"] = 0.0
    cost = rows["exp_cost"]
    rows["exp_roi"] = rows["exp_gmv"] / cost.where(cost > 0)
    return review_order(rows)
