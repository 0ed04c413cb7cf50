"""Regional exclusion: switch off the regions that lose money, and back on when they stop.

The source playbook names three reasons to switch a region off: it is where the main
competitors sit (they cannot see you there, and the fight inflates the price per click), its
ROI is reliably below target, or the promotion's free shipping excludes it (内蒙古, 甘肃, 青海,
宁夏, 新疆, 西藏 in the Double 11 terms). Only the second is inferred from data, and only on
evidence: the model's region posterior must put the ROI below the floor with high
probability, on enough clicks. Every proposal carries the slice forecast the decision step
needs (the region's traffic per day as it is now, and after).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from bidopt.config import did_you_mean
from bidopt.context import KEYWORD_KEYS, RunContext
from bidopt.hookspecs import hookimpl
from bidopt.io.spelling import region_key
from bidopt.schema import ALL
from bidopt.strategy import Strategy, StrategyParams, no_proposals, unknown_names, with_notes

SHIPPING_REGIONS = ["内蒙古", "甘肃", "青海", "宁夏", "新疆", "西藏"]
# The 34 provincial-level regions, by the short names ZTC's region reports use.
PROVINCES = [
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆",
    "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆", "台湾", "香港", "澳门",
]


def campaign_rates(ctx: RunContext) -> pd.DataFrame:
    """Per campaign: the model's clicks, cost and GMV per day at current bids, CPC, value/click."""
    state = ctx.keywords
    fc = ctx.forecast(state[KEYWORD_KEYS], np.maximum(state["bid"].to_numpy(float), 0.01)[:, None])
    frame = pd.DataFrame({"campaign": state["campaign"].to_numpy(),
                          **{m: np.asarray(getattr(fc, m))[:, 0] for m in ("clicks", "cost", "gmv")}})
    totals = frame.groupby("campaign", sort=False)[["clicks", "cost", "gmv"]].sum()
    clicks = totals["clicks"].where(totals["clicks"] > 0)
    totals["cpc"] = (totals["cost"] / clicks).fillna(0.0)
    totals["vpc"] = (totals["gmv"] / clicks).fillna(0.0)
    return totals


class RegionExclusionParams(StrategyParams):
    probability: float = Field(
        0.9, gt=0.5, lt=1,
        description="Exclude a region when P(its ROI < the campaign's floor) is at least this.",
    )
    min_clicks: int = Field(
        100, ge=1, description="Clicks a region needs in the window before its ROI is judged."
    )
    include_probability: float = Field(
        0.8, gt=0.5, lt=1,
        description="Re-include an excluded region when P(its ROI >= floor) is at least this.",
    )
    strongholds: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Competitor strongholds to exclude, per campaign name ('*' = every campaign).",
    )
    promotion_shipping: bool = Field(
        False, description="Exclude the regions the promotion's free shipping leaves out."
    )
    shipping_regions: list[str] = Field(
        default_factory=lambda: list(SHIPPING_REGIONS),
        description="Regions outside the promotion's free shipping (used when promotion_shipping).",
    )
    currently_excluded: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Regions already switched off, per campaign ('*' = every campaign); "
        "regions that went silent in the last recent_days are detected as well.",
    )
    relative_margin: float = Field(
        0.1, ge=0, lt=1,
        description="On evidence alone, also require the region's ROI to be this much below "
        "its campaign's: a campaign below its floor everywhere needs lower bids, not fewer regions.",
    )
    recent_days: int = Field(
        3, ge=1, description="A region with no impressions in this many last days is taken as off."
    )
    silent_min_impressions: float = Field(
        30.0, ge=0,
        description="...but only if it would have had at least this many impressions in them.",
    )


def _configured(table: dict[str, list[str]], pairs: pd.DataFrame) -> np.ndarray:
    """Whether each (campaign, region) row is listed in a per-campaign config table."""
    if not table:
        return np.zeros(len(pairs), dtype=bool)
    everywhere = {region_key(r) for r in table.get("*", [])}
    listed = {(c, region_key(r)) for c, regions in table.items() if c != "*" for r in regions}
    campaign, region = pairs["campaign"].astype(str), pairs["region"].map(region_key)
    in_all = region.isin(everywhere).to_numpy()
    in_campaign = pd.MultiIndex.from_arrays([campaign, region]).isin(list(listed)) if listed \
        else np.zeros(len(pairs), dtype=bool)
    return in_all | np.asarray(in_campaign)


def _region_history(ctx: RunContext, params: RegionExclusionParams) -> pd.DataFrame:
    """Per campaign x region: click share on the days it ran, and whether it went silent."""
    daily = ctx.history.get("regions")
    if daily is None or len(daily) == 0 or "region" not in daily.columns:
        return pd.DataFrame(columns=["campaign", "region", "click_share", "silent"])
    daily = daily[daily["region"].astype(str) != ALL]
    day_total = daily.groupby(["campaign", "date"], observed=True)[["impressions", "clicks"]].sum()
    day_total.columns = ["campaign_impressions", "campaign_clicks"]
    rows = daily.join(day_total, on=["campaign", "date"])
    on = rows["impressions"] > 0
    last = rows["date"].max()
    recent = rows["date"] > last - pd.Timedelta(days=params.recent_days)
    frame = pd.DataFrame({
        "campaign": rows["campaign"], "region": rows["region"],
        "clicks_on": rows["clicks"].where(on, 0.0),
        "campaign_clicks_on": rows["campaign_clicks"].where(on, 0.0),
        "imp_on": rows["impressions"].where(on, 0.0),
        "campaign_imp_on": rows["campaign_impressions"].where(on, 0.0),
        "recent_imp": rows["impressions"].where(recent, 0.0),
        "recent_campaign_imp": rows["campaign_impressions"].where(recent, 0.0),
    })
    sums = frame.groupby(["campaign", "region"], observed=True).sum().reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        sums["click_share"] = (sums["clicks_on"] / sums["campaign_clicks_on"]).fillna(0.0)
        imp_share = (sums["imp_on"] / sums["campaign_imp_on"]).fillna(0.0)
    expected_recent = imp_share * sums["recent_campaign_imp"]
    sums["silent"] = (sums["recent_imp"] <= 0) & (expected_recent >= params.silent_min_impressions)
    return sums[["campaign", "region", "click_share", "silent"]]


def propose(context: RunContext, params: RegionExclusionParams) -> pd.DataFrame:
    campaigns = [*context.keywords["campaign"].unique(), "*"]  # '*': every campaign
    return with_notes(
        _propose(context, params),
        unknown_names("region_exclusion.strongholds", params.strongholds, campaigns),
        unknown_names("region_exclusion.currently_excluded", params.currently_excluded, campaigns),
        *_unknown_regions(context, params),
    )


def _unknown_regions(context: RunContext, params: RegionExclusionParams) -> list[str]:
    """Notes on configured regions that are neither in the region report nor a province.

    A region switched off today has no rows in the report, so absence alone proves nothing;
    a name that is not a province either is most likely a typo, and would match nothing."""
    daily = context.history.get("regions")
    seen = set() if daily is None or "region" not in daily else set(daily["region"].astype(str))
    known = {region_key(r) for r in seen} | set(PROVINCES)
    choices = sorted(seen | set(PROVINCES))
    options = [("strongholds", [r for v in params.strongholds.values() for r in v]),
               ("currently_excluded", [r for v in params.currently_excluded.values() for r in v])]
    if params.promotion_shipping:
        options.append(("shipping_regions", params.shipping_regions))
    notes = []
    for option, regions in options:
        odd = sorted({str(r) for r in regions if region_key(r) not in known})
        notes += [f"region_exclusion.{option} names region '{name}', which is neither in the "
                  f"region report nor a province: it matches nothing{did_you_mean(name, choices)}"
                  for name in odd]
    return notes


def _propose(context: RunContext, params: RegionExclusionParams) -> pd.DataFrame:
    effects = getattr(context.model, "region_effects_", None)
    history = _region_history(context, params)
    if effects is None or len(effects) == 0 or len(history) == 0:
        return no_proposals("no region report rows among the sources")
    floors = pd.Series(context.roi_floor(effects["campaign"]), index=effects.index)
    # the effects are fitted on ordinary days (bidopt.seasonality): the night's ROI is
    # day.roi x theirs, so its floor is met where theirs meets floor / day.roi
    night = context.day.roi
    p_below = effects.region_roi_below(floors / night).to_numpy(float)
    frame = pd.DataFrame(effects).assign(floor=floors.to_numpy(), p_below=p_below)
    frame[["roi", "roi_low", "roi_high"]] = frame[["roi", "roi_low", "roi_high"]] * night
    frame = frame.merge(history, on=["campaign", "region"], how="left")
    frame["click_share"] = frame["click_share"].fillna(0.0)
    frame["silent"] = frame["silent"].fillna(False).astype(bool)

    excluded_now = frame["silent"].to_numpy() | _configured(params.currently_excluded, frame)
    stronghold = _configured(params.strongholds, frame)
    shipping = (frame["region"].map(region_key).isin({region_key(r) for r in
                                                      params.shipping_regions}).to_numpy()
                & params.promotion_shipping)
    clicks = frame["clicks"].to_numpy(float)
    evidence = clicks >= params.min_clicks
    relative = (frame["value_per_click_mult"] / frame["cpc_mult"]).to_numpy(float)
    below = evidence & (p_below >= params.probability) & (relative <= 1 - params.relative_margin)
    exclude = ~excluded_now & (below | stronghold | shipping)
    include = (excluded_now & evidence & (1.0 - p_below >= params.include_probability)
               & ~stronghold & ~shipping)

    # The region's slice per day: its click share of the campaign's forecast at current bids,
    # priced and valued with the region's shrunk multipliers.
    rates = campaign_rates(context).reindex(frame["campaign"])
    share = frame["click_share"].to_numpy(float)
    slice_clicks = share * rates["clicks"].fillna(0.0).to_numpy()
    slice_cost = slice_clicks * rates["cpc"].fillna(0.0).to_numpy() * frame["cpc_mult"].to_numpy(float)
    slice_gmv = (slice_clicks * rates["vpc"].fillna(0.0).to_numpy()
                 * frame["value_per_click_mult"].to_numpy(float))

    out = []
    for mask, action in ((exclude, "exclude_region"), (include, "include_region")):
        if not mask.any():
            continue
        rows = frame[mask]
        on = action == "exclude_region"
        zero = np.zeros(int(mask.sum()))
        out.append(pd.DataFrame({
            "campaign": rows["campaign"].to_numpy(), "item": ALL, "region": rows["region"].to_numpy(),
            "action": action, "current": 1.0 if on else 0.0, "proposed": 0.0 if on else 1.0,
            "reason": _reasons(rows, stronghold[mask], shipping[mask], below[mask], on, night),
            "base_clicks": slice_clicks[mask] if on else zero,
            "base_cost": slice_cost[mask] if on else zero,
            "base_gmv": slice_gmv[mask] if on else zero,
            "exp_clicks": zero if on else slice_clicks[mask],
            "exp_cost": zero if on else slice_cost[mask],
            "exp_gmv": zero if on else slice_gmv[mask],
        }))
    return pd.concat(out, ignore_index=True) if out else no_proposals()


def _reasons(rows: pd.DataFrame, stronghold: np.ndarray, shipping: np.ndarray,
             below: np.ndarray, exclude: bool, night: float = 1.0) -> list[str]:
    """Why, in the operator's terms: the evidence first, then the configured rules.
    ``night``: the planned night's ROI against an ordinary day's, already in the rows."""
    texts = []
    tonight = f"; at the night's conversion x{night:g}" if night != 1.0 else ""
    for k, row in enumerate(rows.itertuples(index=False)):
        evidence = (f"ROI {row.roi:.2f} (80% range {row.roi_low:.2f}-{row.roi_high:.2f}"
                    f"{tonight}) on {row.clicks:.0f} clicks")
        if not exclude:
            texts.append(f"switched off, but {evidence} beats the floor {row.floor:.2f} with "
                         f"probability {1 - row.p_below:.0%}: switch it back on")
            continue
        parts = []
        if stronghold[k]:
            parts.append(f"competitor stronghold (configured): CPC there is {row.cpc_mult:.1f}x "
                         "the campaign's and rivals cannot see you once it is off")
        if shipping[k]:
            parts.append("the promotion's free shipping excludes this region")
        if below[k]:
            pressure = (f"; CPC {row.cpc_mult:.1f}x the campaign's (competitor pressure)"
                        if row.cpc_mult >= 1.3 else "")
            parts.append(f"{evidence} is below the floor {row.floor:.2f} with probability "
                         f"{row.p_below:.0%}{pressure}")
        texts.append("; ".join(parts))
    return texts


@hookimpl
def bidopt_register_strategies(register) -> None:
    register(
        Strategy(
            name="region_exclusion",
            propose=propose,
            params=RegionExclusionParams,
            description="Exclude regions below the ROI floor (on evidence), competitor "
            "strongholds and promotion shipping exclusions; re-include when evidence turns.",
        )
    )
