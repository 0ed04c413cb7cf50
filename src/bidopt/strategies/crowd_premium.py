"""Crowd premium, "低出价高溢价": bid low on the keyword, put premiums on the crowds that
convert and pay most. Spend on high-yield people, the normal price on the rest.

A crowd earns a premium when its value per click (conversion x order value, from the model's
shrunk crowd multipliers) beats its item's with evidence: the lower end of its interval is
above 1, on enough clicks. Its premium is the largest one on the grid (5-300% by default)
within one night's reach of today's (``max_step`` points, and the effective bid raised by
at most the nightly change limit) at which the crowd's own expected ROI still meets the
campaign's floor: within the floor, buy as much high-value traffic as possible. The crowd's
curve is its item's response to the effective bid ``bid x (1 + premium)``, scaled by the
crowd's click share and its CPC and value multipliers. The base bids (on ``platform``,
mobile by default) of an item whose premiums rise are proposed lower too
(``base_bid_cut_pct``, 10% by default; 0 turns it off), so the low-value crowds pay less
while the premium crowds keep their reach.

Crowd reports do not carry the premium in force; ``current_premiums`` (set in the config, else
filled from what ``bidopt applied`` recorded in the state file) tells the strategy what is
set today (0 when unknown), and slice forecasts are made at today's base bids.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from bidopt.context import KEYWORD_KEYS, RunContext
from bidopt.hookspecs import hookimpl
from bidopt.strategies._labels import LOW_BID_HIGH_PREMIUM, label
from bidopt.strategy import Strategy, StrategyParams, no_proposals, unknown_names, with_notes


class CrowdPremiumParams(StrategyParams):
    min_premium: float = Field(5.0, ge=0, description="Lowest premium the platform accepts, %.")
    max_premium: float = Field(300.0, gt=0, description="Highest premium the platform accepts, %.")
    step: float = Field(5.0, gt=0, description="Premium grid step, %.")
    min_clicks: int = Field(30, ge=1, description="Crowd clicks in the window needed to act.")
    min_value_ratio: float = Field(
        1.0, gt=0,
        description="The crowd's value per click must beat the item's by this factor at the "
        "low end of its interval.",
    )
    roi_margin: float = Field(
        1.05, gt=0, description="Size premiums so the crowd's forecast ROI >= floor x this."
    )
    max_step: float = Field(
        100.0, gt=0,
        description="Largest change of one premium in one night, in points: the model has "
        "not seen bids far above today's, so premiums climb as evidence arrives.",
    )
    current_premiums: dict[str, float | dict[str, float]] = Field(
        default_factory=dict,
        description="Premiums in force today, % (reports do not carry them): {crowd: %} for "
        "every item, or {item: {crowd: %}} for one item; an item's own entry wins.",
    )
    base_bid_cut_pct: float = Field(
        10.0, ge=0, lt=100,
        description="Propose the mobile base bids of items that get premiums this much lower "
        "(0 = leave base bids to the optimiser).",
    )
    platform: str = Field("mobile", description="Platform whose base bids are lowered.")


CURVE_ROWS = 20_000
"""Keywords forecast at once for the item curves: a forecast holds ~16 arrays of
keywords x premiums, so 200k keywords at 61 premiums at once would take ~1.6 GB."""


def _item_curves(context: RunContext, item_keys: pd.DataFrame, premiums: np.ndarray,
                 scale: float = 1.0):
    """Forecast clicks, cost and GMV per item at ``bid x scale x (1 + premium)`` for every
    premium (``scale``: the base bids raised by that much)."""
    state = context.keywords
    wanted = pd.MultiIndex.from_frame(item_keys[["campaign", "item"]])
    rows = wanted.get_indexer(pd.MultiIndex.from_frame(state[["campaign", "item"]]))
    keep = rows >= 0
    kws, item_row = state[keep], rows[keep]
    width = len(premiums)
    size = len(item_keys) * width
    curves = {name: np.zeros(size) for name in ("clicks", "cost", "gmv")}
    for start in range(0, len(kws), CURVE_ROWS):
        part = kws.iloc[start:start + CURVE_ROWS]
        bids = part["bid"].to_numpy(float)[:, None] * scale * (1.0 + premiums[None, :] / 100.0)
        fc = context.forecast(part[KEYWORD_KEYS], np.maximum(bids, 0.01))
        cells = (item_row[start:start + CURVE_ROWS, None] * width + np.arange(width)).ravel()
        for name, total in curves.items():
            total += np.bincount(cells, np.asarray(getattr(fc, name), dtype=float).ravel(), size)
    return {name: total.reshape(len(item_keys), width) for name, total in curves.items()}


def propose(context: RunContext, params: CrowdPremiumParams) -> pd.DataFrame:
    return with_notes(_propose(context, params), *_unknown_premium_names(context, params))


def _unknown_premium_names(context: RunContext, params: CrowdPremiumParams) -> list[str]:
    """current_premiums entries that match no crowd (or item) of the crowd report."""
    effects = getattr(context.model, "crowd_effects_", None)
    if effects is None or len(effects) == 0 or not params.current_premiums:
        return []
    given = params.current_premiums
    items = [k for k, v in given.items() if isinstance(v, dict)]
    crowds = [k for k, v in given.items() if not isinstance(v, dict)]
    crowds += [c for k in items for c in given[k]]
    return [unknown_names("crowd_premium.current_premiums", crowds, effects["crowd"]),
            unknown_names("crowd_premium.current_premiums", items, effects["item"])]


def _propose(context: RunContext, params: CrowdPremiumParams) -> pd.DataFrame:
    effects = getattr(context.model, "crowd_effects_", None)
    if effects is None or len(effects) == 0 or len(context.keywords) == 0:
        return no_proposals("no crowd report rows among the sources")
    crowds = pd.DataFrame(effects).reset_index(drop=True)
    item_clicks = crowds.groupby(["campaign", "item"])["clicks"].transform("sum")
    crowds["click_share"] = (crowds["clicks"] / item_clicks.where(item_clicks > 0)).fillna(0.0)
    items = crowds[["campaign", "item"]].drop_duplicates().reset_index(drop=True)
    item_of = pd.MultiIndex.from_frame(items).get_indexer(
        pd.MultiIndex.from_frame(crowds[["campaign", "item"]]))

    grid = np.arange(0.0, params.max_premium + params.step / 2, params.step)
    grid = grid[(grid == 0) | (grid >= params.min_premium)]
    share = crowds["click_share"].to_numpy(float)[:, None]
    cpc_mult = crowds["cpc_mult"].to_numpy(float)[:, None]
    # Sized on the cautious end of the crowd's value (the interval's low bound).
    value_mult = crowds["value_per_click_mult_low"].to_numpy(float)[:, None]

    def crowd_curves(scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        curves = _item_curves(context, items, grid, scale)
        clicks = share * curves["clicks"][item_of]
        per_click = {m: np.divide(curves[m], curves["clicks"], out=np.zeros_like(curves[m]),
                                  where=curves["clicks"] > 0)[item_of] for m in ("cost", "gmv")}
        return clicks, clicks * per_click["cost"] * cpc_mult, clicks * per_click["gmv"] * value_mult

    clicks, cost, gmv = crowd_curves(1.0)
    roi = np.divide(gmv, cost, out=np.zeros_like(gmv), where=cost > 0)
    floor = context.roi_floor(crowds["campaign"])
    target = (floor * params.roi_margin)[:, None]
    # Each step up must pay for itself at the floor (marginal ROI), not only on average:
    # the premium stops where the next 5% buys clicks worth less than the floor.
    d_cost, d_gmv = np.diff(cost, axis=1), np.diff(gmv, axis=1)
    step_ok = np.hstack([np.ones((len(crowds), 1), bool), d_gmv >= target * d_cost])
    meets = (roi >= target) & np.logical_and.accumulate(step_ok, axis=1)

    current = _premiums_in_force(crowds, params.current_premiums)
    current_col = np.abs(grid[None, :] - current[:, None]).argmin(axis=1)
    evidence = ((crowds["clicks"].to_numpy(float) >= params.min_clicks)
                & (crowds["value_per_click_mult_low"].to_numpy(float) >= params.min_value_ratio))
    # A raise moves the crowd's effective bid (bid x (1 + premium)) by at most the nightly
    # change limit, as a bid change would: the forecast of spend far above today's effective
    # bid is an extrapolation (with +100 points in one night, spend on truth ran 1.5-7x the
    # forecast and budgets broke).
    limit = context.config.bids.max_change_pct / 100
    highest = (1 + current / 100) * (1 + limit) * 100 - 100
    reachable = ((np.abs(grid[None, :] - current[:, None]) <= params.max_step + 1e-9)
                 & ((grid[None, :] <= current[:, None]) | (grid[None, :] <= highest[:, None] + 1e-9)))
    positive = meets & reachable & (grid[None, :] >= params.min_premium)
    # Largest premium meeting the floor; crowds without value (or evidence) get none.
    best_col = np.where(positive.any(axis=1),
                        len(grid) - 1 - np.argmax(positive[:, ::-1], axis=1), 0)
    best_col = np.where(evidence, best_col, 0)
    n = len(crowds)
    at_current_ok = meets[np.arange(n), current_col]
    # a premium in force that no longer pays: without evidence it goes; with evidence but no
    # premium within max_step meeting the floor, it comes down as far as one night allows
    failing = (current > 0) & ~at_current_ok
    lower = failing & evidence & ~positive.any(axis=1)
    best_col = np.where(lower, np.argmax(reachable, axis=1), best_col)
    drop = failing & (~evidence | lower)
    act = (evidence & (best_col > 0) | drop) & (np.abs(grid[best_col] - current) >= params.step / 2)
    if not act.any():
        return no_proposals()
    r = np.flatnonzero(act)
    col = best_col[r]
    chosen = crowds.iloc[r]
    # The optimiser may raise the item's keywords tonight too, and bid x (1 + premium)
    # compounds: a raise is charged the spend it adds at base bids raised to the limit where
    # that is more (its GMV is not counted up).
    _, cost_up, _ = crowd_curves(1 + limit)
    added = cost[r, col] - cost[r, current_col[r]]
    added_up = cost_up[r, col] - cost_up[r, current_col[r]]
    exp_cost = cost[r, current_col[r]] + np.where(added > 0, np.maximum(added, added_up), added)
    out = pd.DataFrame({
        "campaign": chosen["campaign"].to_numpy(), "item": chosen["item"].to_numpy(),
        "crowd": chosen["crowd"].to_numpy(), "action": "set_crowd_premium",
        "current": current[r], "proposed": grid[col],
        "base_clicks": clicks[r, current_col[r]], "base_cost": cost[r, current_col[r]],
        "base_gmv": gmv[r, current_col[r]],
        "exp_clicks": clicks[r, col], "exp_cost": exp_cost, "exp_gmv": gmv[r, col],
    })
    at_now = roi[r, current_col[r]]
    name = label(context, LOW_BID_HIGH_PREMIUM)
    out["reason"] = [
        (f"{c.crowd}: value per click {c.value_per_click_mult:.2f}x the item's; the premium "
         f"{cur:.0f}% no longer meets the floor {f:.2f} (ROI {now:.2f}): "
         + (f"lower it to {p:.0f}% (at most {params.max_step:g} points a night)" if p > 0
            else "remove it"))
        if down else
        (f"{name}: {c.crowd} converts {c.cvr_mult:.2f}x and pays {c.aov_mult:.2f}x the "
         f"item's (value per click >= {c.value_per_click_mult_low:.2f}x on {c.clicks:.0f} clicks); "
         f"premium {p:.0f}% keeps its forecast ROI at {q:.2f} >= floor {f:.2f}"
         + (f"; its added spend is counted at {up:.2f} (not {plain:.2f}): with tonight's bid "
            "raises on the item, bid x (1 + premium) compounds" if up > plain + 0.005 else ""))
        for c, p, q, now, f, cur, down, up, plain in zip(
            chosen.itertuples(index=False), grid[col], roi[r, col], at_now, floor[r], current[r],
            drop[r] | (grid[col] <= 0), exp_cost - cost[r, current_col[r]], added, strict=True)
    ]
    return pd.concat([out, _base_cuts(context, params, out)], ignore_index=True)


def _premiums_in_force(crowds: pd.DataFrame, given: dict) -> np.ndarray:
    """Each item x crowd's premium today: the item's own entry, else the crowd's, else 0."""
    for_all = {c: v for c, v in given.items() if not isinstance(v, dict)}
    per_item = {(item, c): v for item, table in given.items() if isinstance(table, dict)
                for c, v in table.items()}
    crowd = crowds["crowd"].astype(str)
    own = pd.Series(list(zip(crowds["item"].astype(str), crowd, strict=True)),
                    index=crowds.index).map(per_item)
    return own.fillna(crowd.map(for_all)).fillna(0.0).to_numpy(float)


def _base_cuts(context: RunContext, params: CrowdPremiumParams, premiums: pd.DataFrame) -> pd.DataFrame:
    """Lower the base bid of items whose high-value crowds now carry a premium."""
    raised = premiums[premiums["proposed"] > premiums["current"]]
    if params.base_bid_cut_pct <= 0 or len(raised) == 0:
        return no_proposals()
    state = context.keywords
    rules = context.bid_rules(params.platform)
    floor_bid = rules.min
    crowds_of = raised.groupby(["campaign", "item"])["crowd"].agg(lambda s: ", ".join(map(str, s)))
    index = pd.MultiIndex.from_frame(state[["campaign", "item"]])
    hit = index.isin(crowds_of.index) & (state["platform"].astype(str) == params.platform).to_numpy()
    hit &= (state["bid"].to_numpy(float) * (1 - params.base_bid_cut_pct / 100) >= floor_bid)
    chosen = state.loc[hit, KEYWORD_KEYS].reset_index(drop=True)
    if len(chosen) == 0:
        return no_proposals()
    current = state.loc[hit, "bid"].to_numpy(float)
    named = crowds_of.reindex(pd.MultiIndex.from_frame(chosen[["campaign", "item"]])).to_numpy()
    chosen["action"] = "set_bid"
    chosen["current"] = current
    # never above the platform's max (a bid already above it is cut to it, not past it)
    chosen["proposed"] = np.minimum(np.round(current * (1 - params.base_bid_cut_pct / 100), 2),
                                    rules.max)
    name = label(context, LOW_BID_HIGH_PREMIUM)
    chosen["reason"] = [f"{name}: base bid -{params.base_bid_cut_pct:.0f}%, premiums on {c} "
                        "keep the high-value searchers" for c in named]
    return chosen


@hookimpl
def bidopt_register_strategies(register) -> None:
    register(
        Strategy(
            name="crowd_premium",
            propose=propose,
            params=CrowdPremiumParams,
            description="Low base bid, high premium: premiums on crowds whose value per click "
            "beats the item's, sized so each crowd meets the ROI floor.",
        )
    )
