"""Top-3 positioning to nurture quality score, "养分".

While nurturing, CTR counts, not click volume (about 50 clicks a day is enough): hold rank 1
where its price per click stays under a cap, else rank <= 3, since CTR collapses below that.
Never hold the top all day and everywhere: rivals notice and bid wars follow. So the push is
limited to chosen hours (and named regions), shown to the crowds that click most, and stops
once the keyword's quality score reaches the target.

How the restriction is expressed. ZTC sets hours (分时折扣) and regions per campaign, not per
keyword, so the strategy proposes two things that work together:

- ``set_bid`` at the nurture bid: the cheapest bid on a grid whose forecast rank (the
  response model's bid landscape) is 1 with CPC under the cap, else the cheapest with rank
  <= 3;
- ``set_hour_discount`` for the campaign's other hours, at the share that brings the
  nurtured keyword back to about today's bid outside the nurture hours. This also lowers the
  campaign's other keywords in those hours; the proposals carry that cost in their forecast
  and the decision step takes them only if they pay.

Regions cannot be narrowed for one keyword without cutting the whole campaign's reach; the
reason names the configured regions, and the docs recommend a separate nurture campaign
(养分计划) with those regions when the operator wants the restriction enforced.

Outside nurturing, rank <= 10 is enough: beyond it traffic is negligible, above it a
keyword meant for traffic pays for position it does not need. The traffic part
(``_traffic``) raises keywords that are not nurtured and sit below the first page (forecast
rank worse than ``traffic_rank`` at today's bid) to the cheapest bid reaching it, when they
have the evidence (clicks, impressions) and the forecast value per click covers the CPC
there at the campaign's ROI floor. It aims at rank 10, never higher.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import Field

from bidopt.context import KEYWORD_KEYS, RunContext
from bidopt.grid import clamp_to_limits
from bidopt.hookspecs import hookimpl
from bidopt.strategies._labels import QUALITY_NURTURE, label
from bidopt.strategy import Strategy, StrategyParams, no_proposals, unknown_names, with_notes


class Top3QualityParams(StrategyParams):
    target_quality: float = Field(10, ge=1, le=10, description="Stop nurturing at this score.")
    keywords: list[str] = Field(
        default_factory=list, description="Keywords to nurture (by text), besides automatic picks."
    )
    max_per_campaign: int = Field(
        2, ge=0, description="Automatic picks per campaign: the most-clicked words below target."
    )
    min_clicks: int = Field(30, ge=0, description="Clicks in the window for an automatic pick.")
    platform: str = Field("mobile", description="Platform nurtured (mobile: 20 ad slots).")
    cpc_cap: float | None = Field(None, gt=0, description="Highest acceptable CPC, absolute.")
    cpc_cap_value_share: float = Field(
        1.0, gt=0,
        description="Highest acceptable CPC as a share of the keyword's value per click "
        "(1.0 = break even while nurturing).",
    )
    rank_one: float = Field(
        1.2, ge=1, description="Forecast rank counted as holding rank 1 (a margin for error)."
    )
    rank_top: float = Field(
        2.5, ge=1, description="Forecast rank counted as top 3 (a margin for model error)."
    )
    max_bid_ratio: float = Field(5.0, gt=1, description="Search bids up to this x today's bid.")
    levels: int = Field(40, ge=5, le=200, description="Bid grid levels searched.")
    hours: list[Annotated[int, Field(ge=0, le=23)]] = Field(
        default_factory=lambda: [10, 11, 20, 21, 22],
        description="Hours (0-23) of the push; other hours get a campaign discount.",
    )
    regions: list[str] = Field(
        default_factory=list, description="Regions of the push (named in the reason)."
    )
    hour_discounts: bool = Field(True, description="Propose the off-hours discounts.")
    current_hour_discounts: dict[str, dict[Annotated[int, Field(ge=0, le=23)],
                                            Annotated[float, Field(ge=0, le=250)]]] = Field(
        default_factory=dict,
        description="Hour discounts in force, % ({campaign: {hour: %}}; 100 where not given, "
        "0 = the hour is off and left so): hour reports do not carry them. `bidopt applied` "
        "records them in the state file (also those another strategy or plugin set).")
    traffic: bool = Field(
        True, description="Raise keywords meant for traffic (not nurtured) that sit below the "
        "first page to rank <= traffic_rank.",
    )
    traffic_rank: float = Field(
        10, ge=1, description="Rank a traffic keyword aims at, at most (beyond it traffic is "
        "negligible); worse than this at today's bid counts as below the first page.",
    )
    traffic_rank_reach: float = Field(
        8.5, ge=1, description="Forecast rank counted as reaching traffic_rank (a margin for "
        "model error); at most traffic_rank.",
    )
    traffic_min_clicks: int = Field(
        5, ge=0, description="Clicks in the window a traffic keyword needs to be raised.",
    )
    traffic_min_impressions: int = Field(
        300, ge=0, description="Impressions in the window a traffic keyword needs to be raised.",
    )


def _chosen(context: RunContext, params: Top3QualityParams) -> pd.DataFrame:
    """Keywords to nurture: listed ones and the most-clicked words below the target score."""
    state = context.keywords
    on_platform = state["platform"].astype(str) == params.platform
    below = state["quality_score"].fillna(0).to_numpy(float) < params.target_quality
    listed = state["keyword"].astype(str).isin(params.keywords).to_numpy()
    auto = on_platform & below & (state["clicks"] >= params.min_clicks) & ~listed
    ranked = state[auto].sort_values("clicks", ascending=False)
    picks = ranked[ranked.groupby("campaign").cumcount() < params.max_per_campaign]
    chosen = pd.concat([state[on_platform & below & listed], picks])
    return chosen.drop_duplicates(KEYWORD_KEYS)


def _bid_grid(context: RunContext, params: Top3QualityParams,
              bids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Today's bids (at least the platform minimum) and a geometric grid from them up to
    ``max_bid_ratio`` x, one row per keyword; column 0 is today's bid."""
    rules = context.bid_rules(params.platform)
    current = np.maximum(bids, rules.min)
    top = np.minimum(current * params.max_bid_ratio, rules.max)
    steps = np.linspace(0.0, 1.0, params.levels)
    return current, np.round(current[:, None] * (top / current)[:, None] ** steps[None, :], 2)


def propose(context: RunContext, params: Top3QualityParams) -> pd.DataFrame:
    return with_notes(_propose(context, params), unknown_names(
        "top3_quality.keywords", params.keywords, context.keywords["keyword"]))


def _propose(context: RunContext, params: Top3QualityParams) -> pd.DataFrame:
    if len(context.keywords) == 0:
        return no_proposals()
    state = context.keywords
    if not (state["platform"].astype(str) == params.platform).any():
        return no_proposals(f"no {params.platform} keywords in the reports (top3_quality."
                            f"platform; reports without a device split are platform 'all')")
    if state["quality_score"].isna().all():
        return no_proposals("the reports carry no quality score (质量分), which top3_quality "
                            "nurtures")
    chosen = _chosen(context, params).reset_index(drop=True)
    frames = [_nurture(context, params, chosen) if len(chosen) else no_proposals()]
    if params.traffic:
        frames.append(_traffic(context, params, chosen))
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else no_proposals()


def _nurture(context: RunContext, params: Top3QualityParams,
             chosen: pd.DataFrame) -> pd.DataFrame:
    """The nurture bids (rank 1 under the cap, else top 3) and the off-hours discounts."""
    current, grid = _bid_grid(context, params, chosen["bid"].to_numpy(float))
    fc = context.forecast(chosen[KEYWORD_KEYS], grid)
    cpc, rank = fc.cpc(), np.asarray(fc.rank)
    value = np.divide(fc.gmv, fc.clicks, out=np.zeros_like(fc.gmv), where=fc.clicks > 0)
    cap = value * params.cpc_cap_value_share
    if params.cpc_cap is not None:
        cap = np.minimum(cap, params.cpc_cap)
    first = (rank <= params.rank_one) & (cpc <= cap)
    top3 = (rank <= params.rank_top) & (cpc <= cap)
    reach = np.where(first.any(axis=1), first.argmax(axis=1), top3.argmax(axis=1))
    step = context.bid_rules(params.platform).step
    moves = grid[np.arange(len(grid)), reach] > current + step / 2  # already there: no push
    found = (first.any(axis=1) | top3.any(axis=1)) & moves
    rows = np.flatnonzero(found)
    if len(rows) == 0:
        return no_proposals()
    col = reach[rows]
    nurture = grid[rows, col]
    kws = chosen.iloc[rows].reset_index(drop=True)
    place = np.where(first.any(axis=1)[rows], "rank 1", "rank <= 3")
    hours = ",".join(str(h) for h in sorted(params.hours)) or "all day"
    where = f" in {', '.join(params.regions)}" if params.regions else ""
    crowds = _best_ctr_crowds(context, kws)
    out = kws[KEYWORD_KEYS].copy()
    out["action"] = "set_bid"
    out["current"] = kws["bid"].to_numpy(float)
    out["proposed"] = nurture
    name = label(context, QUALITY_NURTURE)
    out["reason"] = [
        f"{name}: quality {q:.0f} < {params.target_quality:.0f}; bid {b:.2f} holds {p} (forecast "
        f"rank {r:.1f}, CPC {c:.2f} <= cap {k:.2f}); push only in hours {hours}{where}, not all "
        f"day everywhere{'; show to ' + cr if cr else ''}"
        for q, b, p, r, c, k, cr in zip(kws["quality_score"].fillna(0), nurture, place,
                                        rank[rows, col], cpc[rows, col], cap[rows, col], crowds,
                                        strict=True)
    ]
    frames = [out]
    if params.hour_discounts and len(params.hours) < 24:
        frames.append(_off_hours(context, params, kws, nurture))
    return pd.concat([f for f in frames if len(f)], ignore_index=True)


def _traffic(context: RunContext, params: Top3QualityParams,
             nurtured: pd.DataFrame) -> pd.DataFrame:
    """Keywords meant for traffic below the first page: the cheapest bid reaching
    ``traffic_rank``, when the evidence says that traffic pays at the campaign's ROI floor.

    Nurtured keywords (every pick of ``_chosen``, proposed or not) are left to nurturing.
    """
    state = context.keywords
    keys = pd.MultiIndex.from_frame(state[KEYWORD_KEYS])
    nurturing = keys.isin(pd.MultiIndex.from_frame(nurtured[KEYWORD_KEYS])) if len(nurtured) \
        else np.zeros(len(state), bool)
    bid = state["bid"].to_numpy(float)
    pool = state[(state["platform"].astype(str) == params.platform).to_numpy() & ~nurturing
                 & np.isfinite(bid) & (bid > 0)
                 & (state["clicks"].to_numpy(float) >= params.traffic_min_clicks)
                 & (state["impressions"].to_numpy(float) >= params.traffic_min_impressions)]
    pool = pool.reset_index(drop=True)
    if len(pool) == 0:
        return no_proposals()
    current, grid = _bid_grid(context, params, pool["bid"].to_numpy(float))
    fc = context.forecast(pool[KEYWORD_KEYS], grid)
    rank, cpc = np.asarray(fc.rank), fc.cpc()
    value = np.divide(fc.gmv, fc.clicks, out=np.zeros_like(fc.gmv), where=fc.clicks > 0)
    reach = rank <= min(params.traffic_rank_reach, params.traffic_rank)
    col = reach.argmax(axis=1)
    at = np.arange(len(pool)), col
    floor = context.roi_floor(pool["campaign"])
    step = context.bid_rules(params.platform).step
    act = ((rank[:, 0] > params.traffic_rank) & reach.any(axis=1)
           & (cpc[at] > 0) & (value[at] >= floor * cpc[at])
           & (grid[at] > current + step / 2))
    rows = np.flatnonzero(act)
    if len(rows) == 0:
        return no_proposals()
    col = col[rows]
    raise_to = grid[rows, col]
    out = pool.loc[rows, KEYWORD_KEYS].reset_index(drop=True)
    out["action"] = "set_bid"
    out["current"] = pool["bid"].to_numpy(float)[rows]
    out["proposed"] = raise_to
    out["reason"] = [
        f"traffic: below the first page (rank {r0:.1f}): bid {b:.2f} reaches rank {r:.1f} at "
        f"CPC {c:.2f}, value per click {v:.2f} (ROI {v / c:.2f} vs floor {f:.1f}; "
        f"{n:.0f} clicks, {i:.0f} impressions seen)"
        for r0, b, r, c, v, f, n, i in zip(
            rank[rows, 0], raise_to, rank[rows, col], cpc[rows, col], value[rows, col],
            floor[rows], pool["clicks"].to_numpy(float)[rows],
            pool["impressions"].to_numpy(float)[rows], strict=True)
    ]
    return out


def _best_ctr_crowds(context: RunContext, kws: pd.DataFrame, n: int = 2) -> list[str]:
    """The item's crowds with the highest CTR multipliers, for the reason text."""
    effects = getattr(context.model, "crowd_effects_", None)
    if effects is None or len(effects) == 0:
        return [""] * len(kws)
    best = (pd.DataFrame(effects).sort_values("ctr_mult", ascending=False)
            .groupby("item").head(n).groupby("item")["crowd"].agg(lambda s: ", ".join(map(str, s))))
    return kws["item"].map(best).fillna("").tolist()


def _off_hours(context: RunContext, params: Top3QualityParams, kws: pd.DataFrame,
               nurture: np.ndarray) -> pd.DataFrame:
    """Per campaign, a discount for every hour outside the push, with its slice forecast.

    The discount is deep enough that every nurtured keyword is back at or below today's bid
    off-hours, at the nurture bid tonight's change limit lets through. It is priced at
    today's bids: the decision may reject the nurture raises, and a saving priced on raised
    bids would then count spend the plan never makes (a negative campaign cost).
    """
    today = kws["bid"].to_numpy(float)
    # the bid the decision step lets through tonight, as it clamps every proposal
    tonight = clamp_to_limits(nurture, today, kws["platform"].to_numpy(str), context.config)
    ratio = pd.Series(today / tonight).groupby(kws["campaign"].to_numpy()).min()
    discount = np.clip(np.floor(ratio * 100), 30, 100)
    discount = discount[discount < 100]
    hours = context.history.get("hours")
    if len(discount) == 0 or hours is None or len(hours) == 0:
        return no_proposals()
    by_hour = hours.groupby(["campaign", "hour"], observed=True)["clicks"].sum()
    share = (by_hour / by_hour.groupby(level=0).transform("sum")).rename("share").reset_index()
    share = share[share["campaign"].isin(discount.index)
                  & ~share["hour"].astype(int).isin(params.hours)].reset_index(drop=True)
    # The history's hours ran at the discounts in force, so the forecast at today's bids is
    # each hour as it is, and a new discount moves it by proposed / current.
    current = np.array([params.current_hour_discounts.get(str(c), {}).get(int(h), 100.0)
                        for c, h in zip(share["campaign"], share["hour"], strict=True)])
    proposed = share["campaign"].map(discount).to_numpy(float)
    # an hour switched off has no traffic to discount (its history is empty): left off
    share, current, proposed = (x[~np.isclose(proposed, current) & (current > 0)]
                                for x in (share, current, proposed))
    if len(share) == 0:
        return no_proposals()
    ratios, column = np.unique(np.round(proposed / current, 4), return_inverse=True)
    state = context.keywords
    plan = state[state["campaign"].isin(share["campaign"]).to_numpy()].reset_index(drop=True)
    bids = plan["bid"].to_numpy(float)
    fc = context.forecast(plan[KEYWORD_KEYS], bids[:, None] * np.append(1.0, ratios)[None, :])
    campaign = share["campaign"].to_numpy()
    s = share["share"].to_numpy(float)
    out = pd.DataFrame({"campaign": campaign, "item": "all",
                        "hour": share["hour"].astype(int).to_numpy(), "action": "set_hour_discount",
                        "current": current, "proposed": proposed,
                        # one campaign's off-hours schedule is taken whole or not at all
                        "group": "nurture-hours:" + share["campaign"].astype(str)})
    for m in ("clicks", "cost", "gmv"):
        totals = pd.DataFrame(np.asarray(getattr(fc, m)), index=plan["campaign"]).groupby(
            level=0).sum().reindex(campaign).to_numpy()
        out[f"base_{m}"] = s * totals[:, 0]
        out[f"exp_{m}"] = s * totals[np.arange(len(out)), 1 + column]
    name = label(context, QUALITY_NURTURE)
    out["reason"] = [f"{name}: outside the push hours the nurtured keywords go back to about "
                     f"today's bid ({d:.0f}% of the nurture bid), so the top is held only in "
                     f"hours {','.join(map(str, sorted(params.hours)))}; priced at today's bids"
                     for d in out["proposed"]]
    return out


@hookimpl
def bidopt_register_strategies(register) -> None:
    register(
        Strategy(
            name="top3_quality",
            propose=propose,
            params=Top3QualityParams,
            description="Quality nurture (养分): bid nurtured keywords to rank 1 (CPC under a cap) else top 3, "
            "only in chosen hours; stop at the target quality score.",
        )
    )
