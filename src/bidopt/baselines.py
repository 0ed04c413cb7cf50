"""The bid rules shops run today, and the oracle: the yardsticks bidopt is judged against.

DOMAIN.md ("What users run today") lists four rule sets; each is a pure function here, from
the keyword state bidopt itself plans from (:func:`bidopt.context.keyword_state`: one row
per campaign x item x keyword x platform with ``bid`` and window sums of ``impressions``,
``clicks``, ``cost``, ``orders``, ``gmv``) to next night's bids:

1. :func:`keep_bids` - yesterday's bids, unchanged.
2. :func:`roi_rule_bids` - bid x observed ROI / target ROI, change capped at +-20%.
3. :func:`rule_ladder_bids` - the rule ladder of a popular Amazon PPC optimiser (APEX).
4. :func:`min_roas_bids` - the min-ROAS script of Google Ads users.

Fairness: every rule's output goes through :func:`bidopt.grid.clamp_to_limits`, the same
clamp bidopt applies to strategy proposals: platform bounds, step, and the nightly change
limit (``bids.max_change_pct``). A baseline never moves a bid further in one night than
bidopt may, so a comparison measures the choice of bids, not a looser leash.

:func:`oracle_plan` is the upper yardstick: the best plan on the simulator's *truth* (not a
forecast) over bidopt's own bid grid (same levels, same change limit, plus pausing), solved
by the same optimiser under the same ROI floors and budgets. What bidopt gains over keeping
the bids, divided by what the oracle gains, is the share of the attainable gain it captures.

Every function returns a frame ``campaign, item, keyword, platform, bid`` in the order of
the state's rows; a bid of 0 means "pause" (only the oracle pauses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bidopt.config import Config
from bidopt.context import KEYWORD_KEYS, campaign_limits
from bidopt.decide import count_added_spend
from bidopt.grid import bid_grid, clamp_to_limits, platform_rules
from bidopt.optimise import Solution, solve

if TYPE_CHECKING:
    from bidopt.simulate import Market

BASELINES = ("keep", "roi_rule", "rule_ladder", "min_roas")
TRUTH_OUTCOMES = ("impressions", "clicks", "cost", "orders", "gmv")
_MATCH_KEYS = ["item", "keyword", "platform"]  # what the market identifies a keyword by


def _column(state: pd.DataFrame, name: str) -> np.ndarray:
    return state[name].to_numpy(float)


def _per_row(value: float | np.ndarray | pd.Series, n: int) -> np.ndarray:
    """A scalar floor/target, or one per state row, as an (n,) float array."""
    array = np.asarray(value, dtype=float)
    return np.broadcast_to(array, (n,)).astype(float) if array.ndim == 0 else array.reshape(n)


def _plan(state: pd.DataFrame, proposed: np.ndarray, config: Config) -> pd.DataFrame:
    """Proposed bids clamped exactly as bidopt clamps its own (bounds, step, nightly limit).

    A non-finite proposal (a rule dividing by nothing) keeps the current bid.
    """
    current = _column(state, "bid")
    proposed = np.where(np.isfinite(proposed), proposed, current)
    bid = clamp_to_limits(proposed, current, state["platform"].to_numpy(str), config)
    return state[KEYWORD_KEYS].reset_index(drop=True).assign(bid=bid)


def _ratio(num: np.ndarray, den: np.ndarray, fill: float = np.nan) -> np.ndarray:
    return np.divide(num, den, out=np.full_like(num, fill, dtype=float), where=den > 0)


def keep_bids(state: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Baseline 1: change nothing (the bid is still put on the platform's step and bounds)."""
    return _plan(state, _column(state, "bid"), config)


def roi_rule_bids(
    state: pd.DataFrame,
    config: Config,
    target_roi: float | np.ndarray,
    *,
    max_change_pct: float = 20.0,
    min_clicks: float = 10.0,
) -> pd.DataFrame:
    """Baseline 2: new bid = bid x observed ROI / target ROI, the change capped at +-20%.

    Observed ROI is window GMV / window cost. Keywords with fewer than ``min_clicks`` clicks
    in the window (or no cost) are left alone, as the same rule in bidopt's ``roi_rule``
    strategy does: one orderless click is no evidence of a 0 ROI.
    """
    bid = _column(state, "bid")
    clicks, cost = _column(state, "clicks"), _column(state, "cost")
    target = _per_row(target_roi, len(state))
    roi = _ratio(_column(state, "gmv"), cost, 0.0)
    cap = max_change_pct / 100.0
    factor = np.clip(roi / target, 1.0 - cap, 1.0 + cap)
    judged = (clicks >= min_clicks) & (cost > 0)
    return _plan(state, np.where(judged, bid * factor, bid), config)


def rule_ladder_bids(
    state: pd.DataFrame,
    config: Config,
    roi_floor: float | np.ndarray,
    *,
    click_threshold: float = 11.0,
    impression_threshold: float = 1000.0,
    step_up: float = 0.04,
    down_factor: float = 0.9,
    up_factor: float = 1.2,
) -> pd.DataFrame:
    """Baseline 3: the rule ladder of the APEX Amazon PPC optimiser; the first rule that
    matches decides, on the look-back window's sums:

    1. zero orders after ``click_threshold`` (11) or more clicks -> bid x 0.9;
    2. fewer than ``impression_threshold`` (1000) impressions -> bid + 0.04;
    3. orders and ACOS below target -> observed CPC x 1.2;
    4. orders and ACOS above target -> observed CPC x target ACOS / ACOS;
    otherwise (few clicks, no orders, enough impressions) the bid stays. ACOS = cost / GMV,
    target ACOS = 1 / ROI floor. The result is clamped to bounds and the change limit.
    Rules 3-4 re-anchor on the price paid, not the bid: under second pricing CPC < bid, so
    even "raise" can lower a bid - that is the rule as users run it.
    """
    bid = _column(state, "bid")
    clicks, cost = _column(state, "clicks"), _column(state, "cost")
    orders, gmv = _column(state, "orders"), _column(state, "gmv")
    target_acos = 1.0 / _per_row(roi_floor, len(state))
    acos = _ratio(cost, gmv, np.inf)
    cpc = _ratio(cost, clicks)
    zero_orders = (clicks >= click_threshold) & (orders <= 0)
    few_impressions = ~zero_orders & (_column(state, "impressions") < impression_threshold)
    sold = ~zero_orders & ~few_impressions & (orders > 0) & (gmv > 0) & np.isfinite(cpc)
    proposed = np.select(
        [zero_orders, few_impressions, sold & (acos < target_acos), sold & (acos > target_acos)],
        [bid * down_factor, bid + step_up, cpc * up_factor, cpc * _ratio(target_acos, acos)],
        default=bid,
    )
    return _plan(state, proposed, config)


def min_roas_bids(
    state: pd.DataFrame,
    config: Config,
    min_roas: float | np.ndarray,
    *,
    step_up: float = 0.10,
    min_clicks: float = 1.0,
) -> pd.DataFrame:
    """Baseline 4: the Google Ads min-ROAS script: bid = min(bid + 0.10, value per click /
    min ROAS), floored at the platform's minimum bid.

    Value per click = window GMV / window clicks. A keyword with no clicks has no value per
    click to judge by and keeps its bid; one with clicks and no orders drops toward the
    minimum (as far as the change limit lets it).
    """
    bid = _column(state, "bid")
    clicks = _column(state, "clicks")
    value_per_click = _ratio(_column(state, "gmv"), clicks)
    lo, _, _ = platform_rules(config, state["platform"].to_numpy(str))
    ceiling = value_per_click / _per_row(min_roas, len(state))
    proposed = np.maximum(np.minimum(bid + step_up, ceiling), lo)
    return _plan(state, np.where(clicks >= min_clicks, proposed, bid), config)


def baseline_plans(
    state: pd.DataFrame, config: Config, roi_floor: float | np.ndarray | None = None
) -> dict[str, pd.DataFrame]:
    """All four baselines, each steering to the campaign's ROI floor (its target ROI, min
    ROAS and 1 / target ACOS); ``roi_floor`` defaults to the config's floor per campaign."""
    if roi_floor is None:
        roi_floor = campaign_floors(state, config)
    return {
        "keep": keep_bids(state, config),
        "roi_rule": roi_rule_bids(state, config, roi_floor),
        "rule_ladder": rule_ladder_bids(state, config, roi_floor),
        "min_roas": min_roas_bids(state, config, roi_floor),
    }


def campaign_floors(state: pd.DataFrame, config: Config) -> np.ndarray:
    """The ROI floor of each state row's campaign under ``config`` (overrides included)."""
    limits = campaign_limits(config, sorted(state["campaign"].unique()))
    return state["campaign"].map(limits.set_index("campaign")["roi_floor"]).to_numpy(float)


# -- truth -------------------------------------------------------------------------------


def truth_outcome(market: Market, state: pd.DataFrame, bids: np.ndarray,
                  names: tuple[str, ...] = TRUTH_OUTCOMES) -> dict[str, np.ndarray]:
    """Noise-free one-day outcome of every state row at ``bids`` (0 = paused -> zeros),
    aligned with the state's rows: the market's columns ``names`` (e.g. ``"rank"`` too).
    Keywords of the market not in ``state`` keep their bids (their outcome is not returned)."""
    bids = np.asarray(bids, dtype=float)
    keys = state[KEYWORD_KEYS].reset_index(drop=True)
    live = bids > 0
    paused = keys[~live]
    expected = market.expected(
        bids=keys[live].assign(bid=bids[live]),
        paused_keywords=paused if len(paused) else None,
    )
    rows = pd.MultiIndex.from_frame(expected[_MATCH_KEYS].astype(str)).get_indexer(
        pd.MultiIndex.from_frame(keys[_MATCH_KEYS].astype(str))
    )
    found = rows >= 0
    out = {}
    for name in names:
        values = np.zeros(len(keys))
        values[found] = expected[name].to_numpy(float)[rows[found]]
        out[name] = values
    return out


@dataclass
class OraclePlan:
    """The oracle's bids (0 = paused) and the optimiser's solution on truth."""

    bids: pd.DataFrame
    solution: Solution
    levels: np.ndarray
    """(n, L) bid grid it chose from; the last column is pausing."""


def _objective(outcome: dict[str, np.ndarray], target: str,
               margin: np.ndarray | None = None) -> np.ndarray:
    if target in ("gmv", "clicks", "orders"):
        return outcome[target]
    if target == "profit" and margin is not None:
        return outcome["gmv"] * margin[:, None] - outcome["cost"]
    raise ValueError(f"the oracle optimises gmv, clicks, orders or (given each row's margin) "
                     f"profit, not {target!r}")


def oracle_plan(
    state: pd.DataFrame, market: Market, config: Config, *, n_levels: int | None = None,
    added_spend_margin_pct: float = 0.0, seen_cost: np.ndarray | None = None,
    margin: np.ndarray | None = None,
) -> OraclePlan:
    """The best bids on the simulator's truth within bidopt's grid and nightly limit.

    Each level of :func:`bidopt.grid.bid_grid` (the grid bidopt's decision step uses) is
    evaluated with one vectorised ``market.expected`` call for all keywords; a pause column
    is added (bidopt may pause too). The multiple-choice problem is then solved by
    :func:`bidopt.optimise.solve` with truth in place of the forecast, under the config's
    per-campaign ROI floors and budgets and shop budget, maximising ``objective.target``
    (gmv, clicks or orders; profit, GMV x ``margin`` - cost, given the margin of each
    state row's item). Truth is additive over keywords (the shop's own keywords do
    not bid against each other in the simulator), so this is the true optimum up to the
    solver's reported gap. Bids only: crowds, regions and hours stay as they are.
    ``added_spend_margin_pct`` counts spend added over today's bids that much more against
    the limits, as bidopt's ``optimiser.added_spend_margin_pct`` does (to hold the oracle to
    bidopt's margins). ``seen_cost`` (one per state row, optional): spend above it counts
    as added even at today's bids, as bidopt counts spend at bids held on fewer than
    ``optimiser.evidence_days`` days (``bidopt.decide.spend_seen``).
    """
    n_levels = n_levels or config.optimiser.levels
    current = _column(state, "bid")
    levels, on_grid, keep = bid_grid(current, state["platform"].to_numpy(str), config, n_levels)
    n = len(state)
    levels = np.hstack([levels, np.zeros((n, 1))])
    valid = np.hstack([on_grid, np.ones((n, 1), dtype=bool)])
    outcome = {name: np.zeros(levels.shape) for name in TRUTH_OUTCOMES}
    for j in range(n_levels):  # one market call per level, all keywords at once
        at_level = truth_outcome(market, state, levels[:, j])
        for name in TRUTH_OUTCOMES:
            outcome[name][:, j] = at_level[name]
    names = sorted(state["campaign"].unique())
    limits = campaign_limits(config, names)
    group = pd.Categorical(state["campaign"], categories=names).codes.astype(int)
    counted_cost = count_added_spend(outcome["cost"], keep, added_spend_margin_pct / 100.0,
                                     seen_cost)
    solution = solve(
        _objective(outcome, config.objective.target, margin), counted_cost, outcome["gmv"], valid,
        group, limits["roi_floor"].to_numpy(float), limits["daily_budget"].to_numpy(float),
        shop_budget=config.constraints.shop_budget, baseline=keep,
    )
    chosen = levels[np.arange(n), solution.choice]
    bids = state[KEYWORD_KEYS].reset_index(drop=True).assign(bid=chosen)
    return OraclePlan(bids, solution, levels)
