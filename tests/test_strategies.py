"""The playbook strategies on simulated shops, judged on the simulator's ground truth."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bidopt.config import parse_config
from bidopt.context import RunContext
from bidopt.loop import SourceOverrides, build_context, load_inputs
from bidopt.plugins import build_registry, get_plugin_manager
from bidopt.seasonality import DayFactors
from bidopt.simulate import simulate_shop, write_shop
from bidopt.strategies import (
    crowd_premium,
    long_tail,
    pc_floor,
    region_exclusion,
    roi_rule,
    top3_quality,
)
from conftest import report_paths

NIGHT = dt.date(2026, 11, 25)
KEYS = ["campaign", "item", "keyword", "platform"]
FLOOR = 2.0


def context_for(files: dict[str, Path], **config) -> RunContext:
    """The run context a strategy sees, built the way `bidopt run` builds it."""
    registry = build_registry(get_plugin_manager(entry_points=False))
    sources = SourceOverrides([Path(p) for p in report_paths(files)], files["items"],
                              files["candidates"])
    cfg = parse_config({"constraints": {"roi_floor": FLOOR}, **config})
    inputs = load_inputs(registry, sources, lambda _: None)
    return build_context(cfg, inputs, NIGHT, lambda _: None)


@pytest.fixture(scope="module")
def ctx(shop_files) -> RunContext:
    return context_for(shop_files)


@pytest.fixture(scope="module")
def thin(tmp_path_factory):
    """Two days of 30 keywords: a few hundred clicks, nothing has enough data to judge."""
    shop = simulate_shop(seed=5, days=2, n_keywords=30, end_date=dt.date(2026, 11, 24))
    files = write_shop(shop, tmp_path_factory.mktemp("thin"))
    return shop, context_for(files)


def truth_region_roi(shop) -> pd.DataFrame:
    """Each campaign x region's true ROI at the current plan (campaign ROI x CVR / CPC)."""
    market = shop.market
    totals = market.campaign_totals(market.expected()).set_index("campaign")
    regions = market.regions.copy()
    regions["roi_truth"] = (regions["campaign"].map(totals["roi"]) * regions["cvr_mult"]
                            / regions["cpc_mult"])
    return regions


# ---------------------------------------------------------------- region_exclusion
def test_competitor_strongholds_are_excluded_and_normal_regions_are_not(ctx, shop):
    proposals = region_exclusion.propose(ctx, region_exclusion.RegionExclusionParams())
    regions = truth_region_roi(shop)
    clicks = ctx.model.region_effects_[["campaign", "region", "clicks"]]
    regions = regions.merge(clicks, on=["campaign", "region"], how="left")
    excluded = proposals[proposals["action"] == "exclude_region"]
    pairs = set(zip(excluded["campaign"], excluded["region"], strict=True))
    strong = regions[regions["stronghold"] & (regions["clicks"] >= 200)]
    found = [(c, r) in pairs for c, r in zip(strong["campaign"], strong["region"], strict=True)]
    # Posterior at 90%: a stronghold seen with few orders may wait for more evidence.
    assert len(strong) >= 4 and np.mean(found) >= 0.8
    # Every exclusion made on evidence is truly below the floor.
    judged = excluded.merge(regions, on=["campaign", "region"])
    assert (judged["roi_truth"] < FLOOR).all()
    # The biggest normal region of each campaign stays on.
    normal = regions[~regions["stronghold"]].sort_values("share").groupby("campaign").tail(1)
    assert not any((c, r) in pairs for c, r in zip(normal["campaign"], normal["region"],
                                                    strict=True))
    # The proposals carry their slice forecast: excluding removes the region's traffic.
    assert (excluded["base_cost"] > 0).all() and (excluded["exp_cost"] == 0).all()
    assert excluded["reason"].str.contains("probability").all()


def stronghold_and_shipping(ctx: RunContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All proposals, and the first campaign's, with 北京 its stronghold and shipping terms
    on (and no exclusion on evidence)."""
    campaign = ctx.campaigns["campaign"].iloc[0]
    params = region_exclusion.RegionExclusionParams(
        strongholds={campaign: ["北京"]}, promotion_shipping=True, min_clicks=10**9)
    proposals = region_exclusion.propose(ctx, params)
    return proposals, proposals[proposals["campaign"] == campaign]


def test_configured_strongholds_and_shipping_terms_are_excluded(ctx):
    proposals, mine = stronghold_and_shipping(ctx)
    assert "北京" in set(mine["region"])
    assert mine.loc[mine["region"] == "北京", "reason"].str.contains("stronghold").all()
    shipping = proposals[proposals["reason"].str.contains("free shipping")]
    assert set(shipping["region"]) <= set(region_exclusion.SHIPPING_REGIONS)
    assert len(shipping) > 0


def test_official_region_names_in_a_report_match_the_short_names_of_the_config(
        shop_files, tmp_path):
    """Some exports write 浙江省, 北京市, 新疆维吾尔自治区: the configured 北京 and the
    built-in shipping list (新疆, 内蒙古, ...) must still find them."""
    full = {"北京": "北京市", "新疆": "新疆维吾尔自治区", "内蒙古": "内蒙古自治区",
            "宁夏": "宁夏回族自治区", "浙江": "浙江省", "甘肃": "甘肃省", "青海": "青海省"}
    files = dict(shop_files)
    report = pd.read_csv(shop_files["region_report"])
    report["region"] = report["region"].replace(full)
    files["region_report"] = tmp_path / "region_report.csv"
    report.to_csv(files["region_report"], index=False)
    proposals, mine = stronghold_and_shipping(context_for(files))
    assert "北京市" in set(mine["region"])
    shipping = set(proposals.loc[proposals["reason"].str.contains("free shipping"), "region"])
    assert {"新疆维吾尔自治区", "内蒙古自治区", "甘肃省"} <= shipping
    assert "notes" not in proposals.attrs


def test_a_misspelt_region_in_the_options_is_named(ctx):
    campaign = ctx.campaigns["campaign"].iloc[0]
    params = region_exclusion.RegionExclusionParams(
        strongholds={campaign: ["北京", "内蒙"]}, currently_excluded={"*": ["西藏"]})
    notes = region_exclusion.propose(ctx, params).attrs.get("notes", [])
    assert len(notes) == 1, notes
    assert "strongholds names region '内蒙'" in notes[0]
    assert "did you mean '内蒙古'" in notes[0]


def test_an_excluded_region_comes_back_when_its_evidence_turns(ctx):
    effects = ctx.model.region_effects_
    best = effects.sort_values("roi").iloc[-1]
    params = region_exclusion.RegionExclusionParams(
        currently_excluded={best["campaign"]: [best["region"]]})
    proposals = region_exclusion.propose(ctx, params)
    back = proposals[proposals["action"] == "include_region"]
    assert list(zip(back["campaign"], back["region"], strict=True)) == [
        (best["campaign"], best["region"])]
    assert back["exp_gmv"].iloc[0] > 0 and back["base_gmv"].iloc[0] == 0


def test_regions_are_never_excluded_on_thin_data(thin, ctx):
    _, thin_ctx = thin
    params = region_exclusion.RegionExclusionParams()
    assert len(region_exclusion.propose(thin_ctx, params)) == 0
    proposals = region_exclusion.propose(ctx, params)
    clicks = ctx.model.region_effects_.set_index(["campaign", "region"])["clicks"]
    seen = clicks.reindex(pd.MultiIndex.from_frame(proposals[["campaign", "region"]]))
    assert (seen >= params.min_clicks).all()


# ---------------------------------------------------------------- pc_floor
def test_pc_goes_to_the_floor_unless_its_own_roi_proves_out(ctx, shop):
    params = pc_floor.PcFloorParams(min_clicks=20, min_orders=2)
    proposals = pc_floor.propose(ctx, params)
    assert (proposals["platform"] == "pc").all()
    assert (proposals["proposed"] == ctx.config.bids.pc.min).all()
    pc = ctx.keywords[(ctx.keywords["platform"] == "pc") & (ctx.keywords["bid"] > 0.055)]
    spared = pc.merge(proposals[KEYS], on=KEYS, how="left", indicator=True)
    spared = spared[spared["_merge"] == "left_only"]
    assert 1 <= len(spared) <= 0.05 * len(pc)
    assert (spared["clicks"] >= 20).all() and (spared["orders"] >= 2).all()
    truth = shop.market.expected(spared[KEYS].assign(bid=spared["bid"]))
    assert truth["gmv"].sum() >= FLOOR * truth["cost"].sum()
    assert proposals["reason"].str.contains("does not prove out").all()
    assert not (proposals["platform"] == "mobile").any()


def test_thin_pc_data_never_proves_out(thin):
    _, thin_ctx = thin
    proposals = pc_floor.propose(thin_ctx, pc_floor.PcFloorParams())
    pc = thin_ctx.keywords[(thin_ctx.keywords["platform"] == "pc")
                           & (thin_ctx.keywords["bid"] > 0.055)]
    assert len(proposals) == len(pc)
    assert np.all(proposals["proposed"] == 0.05)


def test_a_pc_floor_below_the_platform_minimum_holds_the_minimum(ctx):
    """floor_bid 0.01 where PC takes 0.05: proposing 0.01 failed the run as a plugin error."""
    proposals = pc_floor.propose(ctx, pc_floor.PcFloorParams(floor_bid=0.01))
    assert len(proposals) and (proposals["proposed"] == ctx.config.bids.pc.min).all()


# ---------------------------------------------------------------- crowd_premium
def test_the_crowd_that_converts_twice_as_well_gets_the_highest_premium(ctx, shop):
    proposals = crowd_premium.propose(ctx, crowd_premium.CrowdPremiumParams())
    premiums = proposals[proposals["action"] == "set_crowd_premium"]
    assert len(premiums) >= 10
    raised = premiums[premiums["proposed"] > 0]
    assert ((raised["proposed"] >= 5) & (raised["proposed"] <= 300)).all()
    table = (premiums.pivot_table(index="item", columns="crowd", values="proposed")
             .reindex(columns=shop.market.crowds["crowd"].unique()).fillna(0.0))
    # In the simulator 收藏加购人群 converts about 2x its item; 男性 and 低价敏感人群 about 0.5x.
    double = table["收藏加购人群"]
    rest = table.drop(columns="收藏加购人群")
    assert double.mean() >= 2 * rest.to_numpy().mean() + 10
    assert (table[["男性", "低价敏感人群"]] == 0).all().all()
    # On the truth, the premiums buy GMV at better than the floor.
    market = shop.market
    before = market.expected()
    after = market.expected(crowd_premiums=premiums[["item", "crowd"]].assign(
        premium=premiums["proposed"]))
    d_cost = after["cost"].sum() - before["cost"].sum()
    d_gmv = after["gmv"].sum() - before["gmv"].sum()
    assert d_cost > 0 and d_gmv >= FLOOR * d_cost
    # ... and the base bids of those items are proposed lower (低出价高溢价).
    cuts = proposals[proposals["action"] == "set_bid"]
    assert (cuts["proposed"] < cuts["current"]).all()
    assert set(cuts["item"]) == set(raised["item"])


def test_a_premium_in_force_that_no_longer_pays_comes_down_even_with_evidence(ctx):
    """Every crowd at 300% and a margin no premium meets: crowds with evidence come down by
    max_step (to 200), crowds without it go to 0; none of this cuts base bids."""
    crowds = ctx.model.crowd_effects_["crowd"].unique()
    params = crowd_premium.CrowdPremiumParams(roi_margin=50.0,
                                              current_premiums=dict.fromkeys(crowds, 300.0))
    proposals = crowd_premium.propose(ctx, params)
    premiums = proposals[proposals["action"] == "set_crowd_premium"]
    assert len(premiums) == ctx.model.crowd_effects_[["item", "crowd"]].drop_duplicates().shape[0]
    lowered, removed = premiums[premiums["proposed"] == 200], premiums[premiums["proposed"] == 0]
    assert len(lowered) and len(removed) and len(lowered) + len(removed) == len(premiums)
    assert lowered["reason"].str.contains("lower it to 200%").all()
    assert removed["reason"].str.endswith("remove it").all()
    clicks = ctx.model.crowd_effects_.set_index(["item", "crowd"])["clicks"]
    seen = clicks.reindex(pd.MultiIndex.from_frame(lowered[["item", "crowd"]]))
    assert (seen >= params.min_clicks).all()  # only crowds with evidence keep some premium
    assert not (proposals["action"] == "set_bid").any()


def test_a_premium_set_on_one_item_is_that_item_s_current_premium(ctx):
    """Last night's plan set premiums per item x crowd; the config says so per item, and an
    item's own entry wins over the crowd's value for every item."""
    effects = ctx.model.crowd_effects_
    item, crowd = effects[["item", "crowd"]].iloc[0]
    given = {crowd: 10.0, str(item): {crowd: 250.0}}
    current = crowd_premium._premiums_in_force(effects, given)
    mine = ((effects["item"] == item) & (effects["crowd"] == crowd)).to_numpy()
    assert (current[mine] == 250).all()
    assert (current[~mine & (effects["crowd"] == crowd).to_numpy()] == 10).all()
    assert (current[(effects["crowd"] != crowd).to_numpy()] == 0).all()
    # with a margin no premium meets, every premium in force is proposed down from its value
    params = crowd_premium.CrowdPremiumParams(current_premiums=given, roi_margin=50.0)
    premiums = crowd_premium.propose(ctx, params).query("action == 'set_crowd_premium'")
    of_crowd = premiums[premiums["crowd"] == crowd].set_index("item")["current"]
    assert of_crowd[item] == 250 and (of_crowd.drop(item) == 10).all() and len(of_crowd) > 1


def test_crowd_premiums_carry_their_slice_forecast(ctx):
    proposals = crowd_premium.propose(ctx, crowd_premium.CrowdPremiumParams())
    premiums = proposals[proposals["action"] == "set_crowd_premium"]
    up = premiums["proposed"] > premiums["current"]
    raised = premiums[up]
    assert len(raised) and (raised["exp_cost"] > raised["base_cost"]).all()
    # sized to the floor at today's base bids (the ROI its reason quotes); its added spend is
    # counted as if tonight's raises took the item's bids to the limit too, where that is more
    quoted = raised["reason"].str.extract(r"forecast ROI at ([\d.]+)")[0].astype(float)
    assert (quoted >= FLOOR).all()
    compounded = raised["reason"].str.contains("bid x \\(1 \\+ premium\\) compounds")
    assert compounded.any()
    roi = raised["exp_gmv"] / raised["exp_cost"]
    assert (roi[compounded] < quoted[compounded]).all()
    assert np.allclose(roi[~compounded], quoted[~compounded], rtol=0.01)


def test_no_premium_on_thin_crowd_data(thin):
    _, thin_ctx = thin
    params = crowd_premium.CrowdPremiumParams()
    proposals = crowd_premium.propose(thin_ctx, params)
    clicks = thin_ctx.model.crowd_effects_.set_index(["item", "crowd"])["clicks"]
    premiums = proposals[proposals["action"] == "set_crowd_premium"]
    seen = clicks.reindex(pd.MultiIndex.from_frame(premiums[["item", "crowd"]]))
    assert (seen >= params.min_clicks).all()


# ---------------------------------------------------------------- long_tail
def test_new_items_get_long_tail_adds_and_no_head_words(ctx, shop):
    proposals = long_tail.propose(ctx, long_tail.LongTailParams())
    adds = proposals[proposals["action"] == "add_keyword"]
    truth = shop.market.candidates_truth
    truth = truth[truth["platform"] == "mobile"][["item", "keyword", "ring"]]
    adds = adds.merge(truth, on=["item", "keyword"]).merge(ctx.items[["item", "sales_30d"]],
                                                           on="item")
    new = adds[adds["sales_30d"] == 0]
    assert new["item"].nunique() >= 5
    assert (new["ring"] == 2).all()  # the simulator's truth: long-tail words only
    assert (adds["ring"] > 0).sum() > 0.9 * len(adds)
    # Starting bids never exceed what a click is worth at the floor, nor the market price.
    cand = ctx.candidates.set_index(["item", "keyword"])["market_cpc"]
    market_cpc = cand.reindex(pd.MultiIndex.from_frame(adds[["item", "keyword"]])).to_numpy()
    assert (adds["proposed"].to_numpy() <= market_cpc + 1e-9).all()
    # Added on the truth, the new words earn above the floor.
    added = shop.market.expected(added_keywords=adds[["item", "keyword"]].assign(
        platform="mobile", bid=adds["proposed"]))
    mine = added.merge(adds[["item", "keyword"]], on=["item", "keyword"])
    assert mine["gmv"].sum() >= FLOOR * mine["cost"].sum()


def test_never_more_than_the_cap_of_keywords_per_item(ctx):
    cap = 25
    params = long_tail.LongTailParams(max_keywords_per_item=cap, max_adds_per_item=50)
    adds = long_tail.propose(ctx, params)
    adds = adds[adds["action"] == "add_keyword"]
    bought = ctx.keywords.groupby("item")["keyword"].nunique()
    total = bought.add(adds.groupby("item")["keyword"].nunique(), fill_value=0)
    assert (total[total.index.isin(adds["item"])] <= cap).all()
    assert not adds["item"].isin(bought[bought >= cap].index).any()
    default = long_tail.propose(ctx, long_tail.LongTailParams(max_adds_per_item=500))
    per_item = bought.add(default[default["action"] == "add_keyword"].groupby("item").size(),
                          fill_value=0)
    assert per_item.max() <= 200


def test_promotion_entrance_words_come_from_the_template(ctx):
    params = long_tail.LongTailParams(promotion={"promos": ["双十一"]})
    adds = long_tail.propose(ctx, params)
    entrance = adds[adds["reason"].str.contains("entrance")]
    assert len(entrance) > 0
    assert entrance["keyword"].str.startswith("双十一").all()
    assert (entrance["proposed"] >= 0.05).all()


def test_entrance_words_open_only_in_the_phases_named(ctx):
    """Entrance words of Double 11 belong to its run-up: after it they are added no more."""
    calendar = [{"name": "warm-up", "start": "11-20", "end": "11-30"},
                {"name": "slump", "start": "12-01", "end": "12-10"}]
    params = long_tail.LongTailParams(promotion={"promos": ["双十一"],
                                                 "phases": ["warm-up", "burst"]})

    def entrance(night_calendar):
        config = ctx.config.model_copy(update={"calendar": [
            long_tail_phase(p) for p in night_calendar]})
        adds = long_tail.propose(dataclasses.replace(ctx, config=config, warnings=[]), params)
        return adds, adds[adds["reason"].str.contains("entrance")]

    adds, words = entrance(calendar)  # the night (11-25) is in the warm-up
    assert len(words) > 0
    assert adds.attrs["notes"] == ["long_tail.promotion.phases names 'burst', not in the "
                                   "config's calendar: ignored"]
    _, words = entrance([{**calendar[0], "start": "11-01", "end": "11-11"}, calendar[1]])
    assert len(words) == 0, "the night is in no phase named"


def long_tail_phase(data: dict):
    from bidopt.config import Phase

    return Phase.model_validate(data)


def test_entrance_words_take_the_items_file_category_where_it_gives_one(ctx):
    import dataclasses

    items = ctx.items.copy()
    first = items["item"].iloc[0]
    # a name is used; an empty cell or a category number (类目ID) falls back to the campaign
    items["category"] = np.where(items["item"] == first, "大衣",
                                 np.where(np.arange(len(items)) % 2 == 0, "", "16"))
    params = long_tail.LongTailParams(promotion={"promos": ["双十一"]})
    adds = long_tail.propose(dataclasses.replace(ctx, items=items), params)
    entrance = adds[adds["reason"].str.contains("entrance")]
    mine = entrance[entrance["item"] == first]
    others = entrance[entrance["item"] != first]
    assert len(mine) and (mine["keyword"] == "双十一大衣").all()
    assert len(others) and not others["keyword"].str.contains("大衣|16", regex=True).any()


def test_pauses_only_inner_ring_words_that_spend_without_orders(ctx, shop):
    params = long_tail.LongTailParams()
    pauses = long_tail.propose(ctx, params)
    pauses = pauses[pauses["action"] == "pause_keyword"]
    assert len(pauses) > 0
    state = ctx.keywords.merge(pauses[KEYS], on=KEYS)
    assert (state["clicks"] >= params.pause_min_clicks).all() and (state["orders"] == 0).all()
    truth = shop.market.expected()
    truth = truth.merge(pauses[KEYS], on=KEYS)
    assert truth["gmv"].sum() < FLOOR * truth["cost"].sum()


def test_nothing_is_paused_on_thin_data(thin):
    _, thin_ctx = thin
    proposals = long_tail.propose(thin_ctx, long_tail.LongTailParams())
    assert not (proposals["action"] == "pause_keyword").any()


# ---------------------------------------------------------------- top3_quality
def test_nurtured_keywords_reach_the_top_only_in_the_push_hours(ctx, shop):
    params = top3_quality.Top3QualityParams(max_per_campaign=5, hours=[10, 11, 20, 21, 22],
                                            traffic=False)
    proposals = top3_quality.propose(ctx, params)
    bids = proposals[proposals["action"] == "set_bid"]
    assert len(bids) >= 6
    assert (bids["proposed"] > bids["current"]).all()
    state = ctx.keywords.merge(bids[KEYS], on=KEYS)
    assert (state["quality_score"] < params.target_quality).all()
    market = shop.market
    rank = market.rank_for_bid(bids[KEYS], bids["proposed"].to_numpy())
    before = market.rank_for_bid(bids[KEYS], bids["current"].to_numpy())
    # On the truth the nurture bid reaches the top 3 (the model's rank has a margin): here 8
    # of 9, the ninth at 3.01.
    assert np.mean(rank <= 3.0) >= 0.85 and np.all(rank <= 3.2)
    assert np.all(rank <= before + 1e-9)
    # Outside the push hours a campaign discount takes the keyword back to about today's bid,
    # from the nurture bid tonight's change limit lets through.
    hours = proposals[proposals["action"] == "set_hour_discount"]
    assert set(hours["campaign"]) == set(bids["campaign"])
    limit = 1 + ctx.config.bids.max_change_pct / 100
    for campaign, rows in hours.groupby("campaign"):
        assert set(rows["hour"].astype(int)) == set(range(24)) - set(params.hours)
        mine = bids[bids["campaign"] == campaign]
        tonight = np.minimum(mine["proposed"].to_numpy(), mine["current"].to_numpy() * limit)
        off_bid = tonight * rows["proposed"].iloc[0] / 100
        assert np.all(off_bid <= mine["current"].to_numpy() * 1.01 + 0.01)
        off_rank = market.rank_for_bid(mine[KEYS], off_bid)
        on_rank = market.rank_for_bid(mine[KEYS], tonight)
        assert np.all(off_rank >= on_rank - 1e-9)
    assert bids["reason"].str.contains("10,11,20,21,22").all()


def test_hour_discounts_in_force_are_where_the_schedule_starts(ctx):
    """The hour report already ran at the discounts in force: a schedule that asks for them
    again proposes nothing, and a move from one is priced from it."""
    params = top3_quality.Top3QualityParams(max_per_campaign=5, traffic=False)
    hours = top3_quality.propose(ctx, params)
    hours = hours[hours["action"] == "set_hour_discount"]
    asked = hours.groupby("campaign")["proposed"].first()
    assert len(asked) >= 1 and (hours["current"] == 100).all()
    campaign = asked.index[0]
    in_force = {campaign: {h: float(asked[campaign]) for h in range(24)}}
    again = top3_quality.propose(ctx, params.model_copy(update={
        "current_hour_discounts": in_force}))
    again = again[again["action"] == "set_hour_discount"]
    assert campaign not in set(again["campaign"]), "the schedule in force is not proposed again"
    assert set(again["campaign"]) == set(asked.index) - {campaign}
    deeper = {campaign: {h: float(asked[campaign]) - 20 for h in range(24)}}
    back = top3_quality.propose(ctx, params.model_copy(update={"current_hour_discounts": deeper}))
    back = back[(back["action"] == "set_hour_discount") & (back["campaign"] == campaign)]
    assert len(back) and (back["current"] == asked[campaign] - 20).all()
    assert (back["exp_cost"] > back["base_cost"]).all(), "a lighter discount spends more"
    mine = hours[hours["campaign"] == campaign]
    assert (mine["exp_cost"] < mine["base_cost"]).all()


def test_nurturing_stops_at_the_target_quality_score(ctx):
    params = top3_quality.Top3QualityParams(target_quality=6, max_per_campaign=50, traffic=False)
    proposals = top3_quality.propose(ctx, params)
    bids = proposals[proposals["action"] == "set_bid"]
    state = ctx.keywords.merge(bids[KEYS], on=KEYS)
    assert (state["quality_score"] < 6).all()
    lowest = ctx.keywords.groupby("keyword")["quality_score"].min()
    listed = lowest[lowest >= 10].index[:3].tolist()
    assert listed
    listed_only = top3_quality.propose(ctx, top3_quality.Top3QualityParams(
        keywords=listed, max_per_campaign=0, traffic=False))
    assert len(listed_only) == 0


def traffic_rows(proposals: pd.DataFrame) -> pd.DataFrame:
    return proposals[proposals["reason"].str.startswith("traffic:")].reset_index(drop=True)


def test_traffic_keywords_below_the_first_page_are_raised_to_about_rank_10(ctx, shop):
    params = top3_quality.Top3QualityParams(max_per_campaign=5)
    proposals = top3_quality.propose(ctx, params)
    raised = traffic_rows(proposals)
    # 6 here: each must forecast its floor at the new rank; 9 before the conversion tilt by
    # keyword length (docs/model.md), and the three now left out reach ROI 1.47, 1.53 and
    # 2.11 on truth at their raised bids
    assert len(raised) >= 6
    assert (raised["action"] == "set_bid").all()
    assert (raised["proposed"] > raised["current"]).all()
    assert (raised["proposed"] <= params.max_bid_ratio * raised["current"] + 0.01).all()
    assert (raised["platform"] == params.platform).all()
    market = shop.market
    after = market.rank_for_bid(raised[KEYS], raised["proposed"].to_numpy())
    before = market.rank_for_bid(raised[KEYS], raised["current"].to_numpy())
    # On the truth: the raise reaches the first page (the model's rank keeps a margin) ...
    assert np.mean(after <= 10.5) >= 0.8 and np.all(after <= 12)
    # ... and nobody clearly on the first page already is raised for traffic.
    assert np.all(before > 9.5)
    mobile = ctx.keywords[ctx.keywords["platform"] == "mobile"].reset_index(drop=True)
    on_page = mobile[market.rank_for_bid(mobile[KEYS], mobile["bid"].to_numpy()) <= 9.5]
    assert len(on_page) > 100
    assert len(on_page.merge(raised[KEYS], on=KEYS)) == 0
    # Nurtured keywords get their nurture bid only: one set_bid per keyword.
    bids = proposals[proposals["action"] == "set_bid"]
    assert not bids.duplicated(KEYS).any()
    nurtured = bids[bids["reason"].str.startswith("养分")]
    assert len(nurtured) >= 6 and len(nurtured.merge(raised[KEYS], on=KEYS)) == 0
    assert raised["reason"].str.contains(r"below the first page \(rank \d", regex=True).all()
    # A below-the-page keyword listed for nurturing is nurtured, not raised for traffic.
    state = ctx.keywords.merge(raised[KEYS], on=KEYS)
    word = state.loc[state["quality_score"] < params.target_quality, "keyword"].iloc[0]
    listed = top3_quality.propose(ctx, params.model_copy(update={"keywords": [word]}))
    mine = listed[(listed["keyword"] == word) & (listed["action"] == "set_bid")]
    assert len(mine) and mine["reason"].str.startswith("养分").all()
    assert raised["reason"].str.contains("vs floor 2.0").all()


def test_thin_keywords_get_no_traffic_raise(thin, ctx):
    _, thin_ctx = thin
    params = top3_quality.Top3QualityParams()
    assert len(traffic_rows(top3_quality.propose(thin_ctx, params))) == 0
    # (without the evidence rule the same thin shop would be pushed)
    loose = params.model_copy(update={"traffic_min_clicks": 0, "traffic_min_impressions": 0})
    assert len(traffic_rows(top3_quality.propose(thin_ctx, loose))) > 0
    raised = traffic_rows(top3_quality.propose(ctx, params))
    state = ctx.keywords.merge(raised[KEYS], on=KEYS)
    assert len(state) == len(raised) > 0
    assert (state["clicks"] >= params.traffic_min_clicks).all()
    assert (state["impressions"] >= params.traffic_min_impressions).all()
    off = params.model_copy(update={"traffic": False})
    assert len(traffic_rows(top3_quality.propose(ctx, off))) == 0


# ---------------------------------------------------------------- end to end
SAMPLE = Path(__file__).resolve().parents[1] / "configs" / "sample.yaml"


def run_sample(tmp_path, **changes):
    """`bidopt run` on the bundled sample shop with the sample config (plus changes)."""
    import yaml
    from click.testing import CliRunner

    from bidopt.cli import cli

    data = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    data.update(changes)
    config = tmp_path / "sample.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "recs.csv"
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--date", "2026-11-25",
                                      "--out", str(out)], catch_exceptions=False,
                           env={"BIDOPT_DISABLE_PLUGINS": "1"})  # built-ins only
    assert result.exit_code == 0, result.output
    return result.output, pd.read_csv(out, encoding="utf-8-sig", dtype={"hour": str})


def test_sample_run_shows_the_strategies_actions(tmp_path):
    text, recs = run_sample(tmp_path)
    assert set(recs["strategy"]) >= {"long_tail", "crowd_premium"}
    kinds = set(recs["action"])
    # The sample's daily budget binds, so spend freed by a pause is worth re-spending
    # elsewhere. The nurture schedule's campaign-wide hour discounts cost more GMV than they
    # save, and so do the region exclusions: both are rejected (listed in the proposals table
    # below; with the profit objective they are taken: the test after this one).
    taken = {"set_bid", "add_keyword", "set_crowd_premium", "pause_keyword"}
    assert taken <= kinds
    actions_line = next(line for line in text.splitlines() if line.startswith("actions:"))
    for kind in taken:
        assert kind in actions_line
    premiums = recs[recs["action"] == "set_crowd_premium"]
    assert premiums["crowd"].notna().all() and premiums["exp_roi"].ge(FLOOR).all()
    # Below the proposals line, one line per strategy x action kind with what became of
    # them, including kinds the optimiser rejected entirely.
    table = proposal_table(text)
    assert {("region_exclusion", "exclude_region"), ("pc_floor", "set_bid"),
            ("long_tail", "add_keyword"), ("crowd_premium", "set_crowd_premium")} <= set(table.index)
    assert table.loc[("region_exclusion", "exclude_region"), "proposed"] > 0
    assert table.loc[("pc_floor", "set_bid"), "proposed"] > 0
    statuses = ["accepted", "scaled", "overridden", "rejected"]
    assert (table[statuses].sum(axis=1) == table["proposed"]).all()
    line = next(line for line in text.splitlines() if line.startswith("proposals:"))
    numbers = [int(n.replace(",", "")) for n in re.findall(r"[\d,]+\d|\d", line)]
    assert table["proposed"].sum() == numbers[0]
    assert list(table[statuses].sum()) == numbers[1:]


def proposal_table(text: str) -> pd.DataFrame:
    """The per-strategy table the run summary prints below the proposals line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("proposals:"))
    header = lines[start + 1].split()
    assert header == ["strategy", "action", "proposed", "accepted", "scaled", "overridden",
                      "rejected"]
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("  "):
            break
        name, kind, *counts = line.split()
        rows.append([name, kind, *(int(c.replace(",", "")) for c in counts)])
    return pd.DataFrame(rows, columns=header).set_index(["strategy", "action"])


def test_sample_run_for_profit_takes_regions_and_hours_too(tmp_path):
    text, recs = run_sample(tmp_path, objective={"target": "profit"},
                            output={"include_rejected": True})
    taken = recs[~recs["reason"].str.contains("; rejected|; overridden", regex=True)]
    assert {"set_bid", "add_keyword", "set_crowd_premium", "exclude_region",
            "set_hour_discount"} <= set(taken["action"])
    actions_line = next(line for line in text.splitlines() if line.startswith("actions:"))
    for kind in ("exclude_region", "set_hour_discount", "set_crowd_premium", "add_keyword"):
        assert kind in actions_line
    regions = taken[taken["action"] == "exclude_region"]
    assert regions["region"].notna().all() and regions["reason"].str.contains("floor").all()
    # Pauses are proposed on evidence, but the optimiser keeps or moves those bids rather
    # than stopping them (its model still expects some orders); every one is judged, and a
    # rejected one is listed with its reason.
    judged = proposal_table(text).loc[("long_tail", "pause_keyword")]
    assert judged["proposed"] >= 1
    assert judged["proposed"] == judged[["accepted", "scaled", "overridden", "rejected"]].sum()
    pauses = recs[(recs["action"] == "pause_keyword") & (recs["strategy"] == "long_tail")]
    assert pauses["reason"].str.contains("without an order").all()
    # a rejected row changes nothing on upload (action keep, proposed = current) and says
    # what was asked
    rejected = recs[recs["reason"].str.contains("; rejected")]
    assert len(rejected) and (rejected["proposed"] == rejected["current"]).all()
    assert (rejected["action"] == "keep").all()
    assert (rejected["change_pct"] == 0).all()
    # a rejected slice shows the forecast of what stays, not of the rejected value
    slices = rejected[rejected["reason"].str.contains(
        r"\(asked (?:set_hour_discount|exclude_region|set_crowd_premium) ")]
    assert len(slices) and (slices["exp_cost"] > 0).all()
    assert rejected["reason"].str.contains(r"\(asked \w+ [\d.]+\)$", regex=True).all()


def test_long_tail_runs_without_an_items_file(tmp_path: Path) -> None:
    """Google Ads and Amazon users have no items file: long_tail must still run (it fell
    over on the item prices, and every such run ended partial, exit 6)."""
    from bidopt.testing import make_config, run_night, simulated_shop

    files = simulated_shop(tmp_path)
    del files["items"]
    result = run_night(make_config(files), strategies={"long_tail": {}})
    assert not result.plugin_failures


def test_a_bid_the_optimiser_moved_elsewhere_names_what_the_strategies_asked(tmp_path):
    """A reviewer of the CSV sees, on the optimiser's row, that roi_rule asked another bid
    for that keyword; the overridden proposal was in the summary's count only."""
    from bidopt.testing import make_config, run_night, simulated_shop

    config = make_config(simulated_shop(tmp_path), strategies={"roi_rule": {}})
    result = run_night(config)
    proposals = result.decision.proposals
    overridden = proposals[proposals["status"] == "overridden"]
    assert len(overridden)
    recs = result.recommendations
    first = overridden.iloc[0]
    row = recs[(recs["campaign"] == first["campaign"]) & (recs["item"] == first["item"])
               & (recs["keyword"] == first["keyword"]) & (recs["platform"] == first["platform"])]
    assert len(row) == 1 and row["strategy"].iloc[0] == "optimiser"
    assert f"strategies asked: roi_rule {first['proposed']:.2f}" in row["reason"].iloc[0]
    # rows a strategy moved say nothing of the kind
    assert not recs.loc[recs["strategy"] == "roi_rule", "reason"].str.contains(
        "strategies asked").any()


# ---------------------------------------------------------------- promotion nights
@pytest.mark.parametrize("module", [roi_rule, region_exclusion, long_tail, pc_floor, crowd_premium],
                         ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_a_night_converting_twice_as_well_at_twice_the_floor_is_judged_alike(ctx, module):
    """The history holds ordinary days (a calendar phase's days are divided by its factors);
    a night in a phase with conversion x2 earns twice the ROI at the same bids. Every ROI
    judgement against the floor (observed ROI, region ROI, affordable CPC, pauses, premiums)
    must therefore give the same proposals as an ordinary night at half that floor."""
    night = dataclasses.replace(ctx, day=DayFactors(traffic=2.0, conversion=2.0),
                                campaigns=ctx.campaigns.assign(roi_floor=2 * ctx.campaigns["roi_floor"]),
                                warnings=[])
    name = module.__name__.rsplit(".", 1)[-1]
    params = build_registry(get_plugin_manager(entry_points=False)).strategies[name].params()
    columns = [*KEYS, "crowd", "region", "action", "proposed"]

    def table(context):
        out = module.propose(context, params)
        return out.reindex(columns=columns).astype(str).sort_values(columns).reset_index(drop=True)

    ordinary = table(ctx)
    assert len(ordinary) > 0
    pd.testing.assert_frame_equal(table(night), ordinary)


def test_a_bought_word_keeps_its_ring_on_a_promotion_night(ctx):
    """Bought words missing from the candidates file are sized by the model's impressions at
    a top bid; a night with 2.5x the searches must not move them toward the head ring."""
    params = long_tail.LongTailParams()
    burst = dataclasses.replace(ctx, day=DayFactors(traffic=2.5, conversion=2.0), warnings=[])
    volume, competition = long_tail._bought_market(ctx)
    night_volume, night_competition = long_tail._bought_market(burst)
    np.testing.assert_allclose(night_volume, volume)
    assert (long_tail.keyword_ring(night_volume, night_competition, params)
            == long_tail.keyword_ring(volume, competition, params)).all()


def test_hours_raised_or_switched_off_by_another_strategy_are_taken_as_in_force(ctx):
    """The state file records every hour discount uploaded, also a dayparting plugin's 110%
    or an hour switched off (0): the options take them, and an hour off is left off."""
    params = top3_quality.Top3QualityParams(max_per_campaign=5, traffic=False)
    hours = top3_quality.propose(ctx, params)
    campaign = hours.loc[hours["action"] == "set_hour_discount", "campaign"].iloc[0]
    in_force = {campaign: {0: 110.0, 1: 0.0}}
    params = top3_quality.Top3QualityParams.model_validate(
        {"max_per_campaign": 5, "traffic": False, "current_hour_discounts": in_force})
    again = top3_quality.propose(ctx, params)
    mine = again[(again["action"] == "set_hour_discount") & (again["campaign"] == campaign)]
    assert 1 not in set(mine["hour"].astype(int)), "an hour switched off stays off"
    assert (mine.loc[mine["hour"].astype(int) == 0, "current"] == 110).all()
    assert len(mine[mine["hour"].astype(int) == 0]) == 1
