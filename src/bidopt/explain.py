"""Turn the optimiser's choice into what a person reviews: actions with reasons, the fate
of every proposal, and the expected effect per campaign."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from bidopt.context import RunContext
    from bidopt.decide import Choices

GUARD = "roi_guard"
PINNED = "pinned"
BID_RULES = "bid_rules"
_TOL = 1e-9


@dataclass
class Plan:
    choices: Choices
    outcome: dict[str, np.ndarray]
    choice: np.ndarray  # chosen column per entity
    group: np.ndarray  # campaign index per entity
    limits: pd.DataFrame  # campaign, roi_floor, daily_budget (indexed like group)

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

    def binding(self) -> list[str]:
        """Per campaign, which limit holds the plan back, in words."""
        after = self.totals(self.choice)
        floors = self.limits["roi_floor"].to_numpy(float)
        budgets = self.limits["daily_budget"].to_numpy(float)
        roi_slack = after["gmv"].to_numpy() - floors * after["cost"].to_numpy()
        budget_slack = budgets - after["cost"].to_numpy()
        words = []
        for k, name in enumerate(self.limits["campaign"]):
            cost = after["cost"].iloc[k]
            if np.isfinite(budgets[k]) and budget_slack[k] <= 0.02 * max(budgets[k], 1.0):
                words.append(f"campaign '{name}' would exceed its daily budget {budgets[k]:,.2f}")
            elif roi_slack[k] <= 0.02 * max(floors[k] * cost, 1.0):
                words.append(f"campaign '{name}' would fall below its ROI floor {floors[k]:.2f}")
            else:
                words.append("")
        return words


def judge_proposals(
    ctx: RunContext,
    plan: Plan,
    bid_props: pd.DataFrame,
    add_props: pd.DataFrame,
    others: pd.DataFrame,
    proposals: pd.DataFrame,
) -> pd.DataFrame:
    """Every proposal with ``status`` and ``decision``: accepted, scaled or rejected, and why."""
    judged = proposals.copy()
    judged["status"] = "rejected"
    judged["decision"] = "keyword not found in the keyword report"
    judged["row"] = -1
    judged["target"] = np.nan
    n_bought = int((plan.choices.entities["kind"] == "bought").sum())
    if len(add_props):
        add_props = add_props.assign(row=np.arange(len(add_props)) + n_bought)
    considered = pd.concat([bid_props, add_props])
    if len(considered):
        rows = considered["row"].to_numpy(int)
        chosen = plan.bid(plan.choice)[rows]
        keep = plan.bid(plan.choices.keep)[rows]
        target = considered["target"].to_numpy(float)
        accepted = np.abs(chosen - target) <= _TOL
        between = (np.minimum(keep, target) < chosen - _TOL) & (chosen < np.maximum(keep, target) - _TOL)
        status = np.where(accepted, "accepted", np.where(between, "scaled", "rejected"))
        binding = np.array(plan.binding(), dtype=object)[plan.group[rows]]
        objective = ctx.config.objective.target
        why = np.where(binding != "", binding, f"keeping it gives a higher expected {objective}")
        pinned = plan.choices.entities["pinned"].to_numpy(bool)[rows]
        decision = np.select(
            [accepted, pinned, between],
            ["accepted", "the bid is pinned in the config", "scaled back: " + why],
            default="rejected: " + why,
        )
        judged.loc[considered.index, "status"] = np.where(pinned & ~accepted, "rejected", status)
        judged.loc[considered.index, "decision"] = decision
        judged.loc[considered.index, "row"] = rows
        judged.loc[considered.index, "target"] = target
    if len(others):
        judged.loc[others.index, "decision"] = (
            "rejected: bidopt does not forecast " + others["action"].astype(str) + " actions yet"
        )
    return judged


def plan_actions(ctx: RunContext, plan: Plan, judged: pd.DataFrame) -> pd.DataFrame:
    """One row per bid that moves, with the strategy and reason that moved it."""
    entities = plan.choices.entities
    current = entities["current"].to_numpy(float)
    chosen = plan.bid(plan.choice)
    moved = np.abs(chosen - current) > _TOL
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
    fallback = np.where(pinned, PINNED, np.where(broken != "", GUARD, BID_RULES))
    fallback_reason = np.select(
        [pinned, broken != ""],
        ["bid pinned in the config", guard_reason],
        default="current bid is outside the platform's bounds or step",
    )
    own = credited["reason"].astype(object)
    scaled = credited["status"].eq("scaled").to_numpy()
    note = np.where(scaled, "; " + credited["decision"].astype(object).fillna(""), "")
    actions["strategy"] = np.where(credited["strategy"].isna(), fallback,
                                   credited["strategy"].astype(object))
    actions["reason"] = np.where(own.isna(), fallback_reason, own.fillna("") + note)
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
    cost = actions["exp_cost"]
    actions["exp_roi"] = actions["exp_gmv"] / cost.where(cost > 0)
    return actions.drop(columns="kind").reset_index(drop=True)


def campaign_summary(plan: Plan) -> pd.DataFrame:
    """Expected cost, GMV and ROI per campaign with everything kept and under the plan."""
    before = plan.totals(plan.choices.keep)
    after = plan.totals(plan.choice)
    summary = plan.limits.copy()
    summary["keywords"] = np.bincount(plan.group, minlength=len(summary))
    moved = np.abs(plan.bid(plan.choice) - plan.choices.entities["current"].to_numpy()) > _TOL
    summary["actions"] = np.bincount(plan.group, moved.astype(float), minlength=len(summary)).astype(int)
    for name in ("cost", "gmv", "roi", "clicks"):
        summary[f"{name}_before"] = before[name].to_numpy()
        summary[f"{name}_after"] = after[name].to_numpy()
    floors = summary["roi_floor"].to_numpy()
    summary["feasible"] = (
        summary["gmv_after"] >= floors * summary["cost_after"] - 1e-6
    ) & (summary["cost_after"] <= summary["daily_budget"] + 1e-6)
    return summary
