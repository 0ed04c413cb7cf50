"""The market simulator: determinism, report shapes, GSP mechanics and the ground truth."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from bidopt.io.aliases import ZTC_HEADERS
from bidopt.schema import CANDIDATE_COLUMNS, ITEM_COLUMNS, METRICS, PLATFORMS, REPORT_COLUMNS
from bidopt.simulate import SimulatedShop, simulate_shop, write_shop

KEYS = ["campaign", "item", "keyword", "platform"]
FRAMES = ("keyword_report", "crowd_report", "region_report", "hour_report", "items", "candidates")


@pytest.fixture(scope="module")
def shop() -> SimulatedShop:
    return simulate_shop(seed=11, days=14, size="small")


@pytest.fixture(scope="module")
def market(shop):
    return shop.market


def mobile_head_words(market, n: int = 10) -> pd.DataFrame:
    kw = market.keywords
    heads = kw[(kw["platform"] == "mobile") & (kw["n_competitors"] >= 20)]
    return heads.head(n)[KEYS].reset_index(drop=True)


# -- determinism and shapes ----------------------------------------------------------------
def test_same_seed_gives_identical_frames_and_other_seeds_differ():
    a, b = simulate_shop(seed=5, days=3), simulate_shop(seed=5, days=3)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    pd.testing.assert_frame_equal(a.market.keywords, b.market.keywords)
    pd.testing.assert_frame_equal(a.market.expected(), b.market.expected())
    c = simulate_shop(seed=6, days=3)
    assert not a.keyword_report["clicks"].equals(c.keyword_report["clicks"])
    assert not a.items["price"].equals(c.items["price"])


def test_small_shop_has_the_documented_shape_and_columns(shop):
    kr = shop.keyword_report
    expected_cols = [c for c in REPORT_COLUMNS if c not in ("crowd", "region", "hour")]
    assert list(kr.columns) == expected_cols
    assert len(kr) == 14 * 600 * 2
    assert kr["date"].dtype.kind == "M" and (kr["date"] == kr["date"].dt.normalize()).all()
    assert kr["date"].max() == pd.Timestamp("2026-11-24") and kr["date"].nunique() == 14
    assert set(kr["platform"]) == set(PLATFORMS)
    assert kr["campaign"].nunique() == 3 and kr["item"].nunique() == 30
    assert not kr.duplicated(["date", *KEYS]).any()
    for col in ("impressions", "clicks", "orders", "carts", "favorites", "quality_score"):
        assert kr[col].dtype.kind == "i", col
    assert np.allclose(kr["cost"], kr["cost"].round(2)) and np.allclose(kr["gmv"], kr["gmv"].round(2))
    assert (kr["clicks"] <= kr["impressions"]).all() and (kr["orders"] <= kr["clicks"]).all()
    assert kr["quality_score"].between(1, 10).all()
    assert kr["bid"].between(0.05, 100).all()
    assert np.allclose(kr["bid"], kr["bid"].round(2))
    assert list(shop.crowd_report.columns) == ["date", "campaign", "item", "crowd", *METRICS]
    assert list(shop.region_report.columns) == ["date", "campaign", "region", *METRICS]
    assert list(shop.hour_report.columns) == ["date", "campaign", "hour", *METRICS]
    assert set(shop.hour_report["hour"]) == set(range(24))
    assert shop.market.regions["region"].nunique() == 34
    assert {"北京", "上海", "广东", "内蒙古", "新疆"} <= set(shop.market.regions["region"])
    assert list(shop.items.columns) == list(ITEM_COLUMNS)
    assert list(shop.candidates.columns) == list(CANDIDATE_COLUMNS)
    last = kr[kr["date"] == kr["date"].max()].reset_index(drop=True)
    truth = shop.market.keywords
    assert (last[KEYS] == truth[KEYS]).all().all()
    assert np.allclose(last["bid"], truth["bid"])  # current bid = last report day's bid
    assert (last["quality_score"] == truth["quality_score"]).all()


def test_shop_is_realistic_names_items_and_candidates(shop):
    kr = shop.keyword_report
    assert kr["item"].str.match(r"^\S+-\d{4}$").all()
    words = kr["keyword"].drop_duplicates()
    assert (words.str.count(" ") == 2).any() and (words.str.count(" ") == 0).any()
    items = shop.items
    assert (items["sales_30d"] == 0).any() and (items["sales_30d"] >= 200).any()
    assert (items["unit_cost"] < items["price"]).all()
    cand = shop.candidates
    assert cand.groupby("item").size().min() >= 5
    assert cand["keyword"].str.contains("双十一|双11|双十二|双12|年货节").any()
    bought = set(zip(kr["item"], kr["keyword"], strict=True))
    assert not any(pair in bought for pair in zip(cand["item"], cand["keyword"], strict=True))
    assert not cand.duplicated(["item", "keyword"]).any()


def test_n_keywords_scales_the_shop():
    shop = simulate_shop(seed=2, days=2, n_keywords=150, end_date=dt.date(2026, 3, 1))
    kr = shop.keyword_report
    assert kr[KEYS].drop_duplicates().shape[0] == 300
    assert kr["date"].max() == pd.Timestamp("2026-03-01")
    assert 1 <= kr["item"].nunique() <= 15 and kr["campaign"].nunique() >= 1
    assert len(shop.market.keywords) == 300


# -- auction mechanics on the truth --------------------------------------------------------
def test_higher_bid_never_worsens_rank_nor_lowers_price_and_price_stays_below_bid(market):
    keys = market.keywords[KEYS]
    grid = np.round(np.geomspace(0.05, 30, 40), 2)
    ranks = np.stack([market.rank_for_bid(keys, b) for b in grid])
    prices = np.stack([market.cpc_for_bid(keys, b) for b in grid])
    assert (np.diff(ranks, axis=0) <= 1e-9).all()
    assert (np.diff(prices, axis=0) >= -1e-9).all()
    assert (prices <= grid[:, None] + 1e-9).all()
    assert (ranks >= 1).all()


def test_clicks_at_rank_one_dwarf_rank_ten_and_vanish_past_ten_on_mobile(market):
    keys = mobile_head_words(market)
    assert len(keys) >= 3
    grid = np.round(np.geomspace(0.05, 100, 300), 2)
    ranks = np.stack([market.rank_for_bid(keys, b) for b in grid])

    no_premium = market.crowds[["item", "crowd"]].assign(premium=0.0)

    def clicks_at(target: float) -> np.ndarray:
        bids = grid[np.abs(ranks - target).argmin(axis=0)]
        out = market.expected(keys.assign(bid=bids), crowd_premiums=no_premium).set_index(KEYS)
        return out.loc[pd.MultiIndex.from_frame(keys), "clicks"].to_numpy()

    top, tenth, deep = clicks_at(1.0), clicks_at(10.0), clicks_at(14.0)
    assert (top > 10 * tenth).all()
    assert (deep < 0.02 * top).all()


def test_crowd_premium_buys_that_crowds_traffic(market):
    items = market.keywords["item"].unique()[:5]
    base = market.expected()
    crowd = "收藏加购人群"
    boosted = market.expected(crowd_premiums=pd.DataFrame(
        {"item": items, "crowd": crowd, "premium": 300.0}))
    on = base["item"].isin(items)
    assert boosted.loc[on, "clicks"].sum() > base.loc[on, "clicks"].sum()
    assert boosted.loc[on, "cost"].sum() > base.loc[on, "cost"].sum()
    assert np.allclose(boosted.loc[~on, "clicks"], base.loc[~on, "clicks"])


def test_one_crowd_converts_about_twice_as_well(market):
    by_crowd = market.crowds.groupby("crowd")["cvr_mult"].mean()
    assert by_crowd.max() >= 1.8
    assert by_crowd.idxmax() == "收藏加购人群"
    assert market.crowds["crowd"].nunique() == 6


def test_excluding_a_competitor_stronghold_raises_campaign_roi(market):
    regions = market.regions
    current = regions.loc[regions["excluded"], ["campaign", "region"]]
    strongholds = regions.loc[regions["stronghold"], ["campaign", "region"]]
    assert strongholds.groupby("campaign").size().between(1, 2).all()
    before = market.campaign_totals(market.expected()).set_index("campaign")
    after = market.campaign_totals(market.expected(
        excluded_regions=pd.concat([current, strongholds]))).set_index("campaign")
    assert (after["roi"] > before["roi"] + 0.03).all()
    assert (after["cost"] < before["cost"]).all()


def test_plan_changes_pause_add_and_switch_off_hours(market, shop):
    base = market.expected()
    pause = base[KEYS].head(7)
    paused = market.expected(paused_keywords=pause)
    assert len(paused) == len(base) - 7
    add = shop.candidates[["keyword", "item"]].head(4).assign(bid=1.0)
    added = market.expected(added_keywords=add)
    assert len(added) == len(base) + 8  # both platforms
    assert added.tail(8)["clicks"].sum() > 0
    campaign = base["campaign"].iloc[0]
    night_off = pd.DataFrame({"campaign": campaign, "hour": range(24), "discount": 0.0})
    off = market.expected(hour_discounts=night_off)
    assert off.loc[off["campaign"] == campaign, "clicks"].sum() == 0
    half = market.expected(hour_discounts=night_off.assign(discount=50.0))
    mine = half["campaign"] == campaign
    assert half.loc[mine, "cost"].sum() < base.loc[mine, "cost"].sum()
    with pytest.raises(ValueError, match="not in the market"):
        market.expected(pd.DataFrame({"item": ["x"], "keyword": ["y"], "platform": ["pc"],
                                      "bid": [1.0]}))


def test_campaign_rois_are_realistic_with_winners_and_losers(market):
    expected = market.expected()
    totals = market.campaign_totals(expected)
    assert totals["roi"].between(1.2, 5.0).all()
    busy = expected[expected["cost"] > 1.0]
    roi = busy["gmv"] / busy["cost"]
    assert (roi < 1.0).mean() > 0.05 and (roi > 3.0).mean() > 0.2


def test_history_is_drawn_from_the_truth(market, shop):
    """Reports summed over days match the truth evaluated at each day's bids (within noise)."""
    kr = shop.keyword_report
    exp = sum(market.expected(day[[*KEYS, "bid"]])[["clicks", "cost", "orders"]].sum()
              for _, day in kr.groupby("date"))
    hist = kr[["clicks", "cost", "orders"]].sum()
    assert np.allclose(hist["clicks"], exp["clicks"], rtol=0.10)
    assert np.allclose(hist["cost"], exp["cost"], rtol=0.12)
    assert np.allclose(hist["orders"], exp["orders"], rtol=0.20)


# -- report grains and files ---------------------------------------------------------------
def test_report_grains_add_up_to_the_keyword_report(shop):
    by = ["date", "campaign"]
    keyword = shop.keyword_report.groupby(by)[list(METRICS)].sum()
    for name in ("crowd_report", "region_report", "hour_report"):
        other = getattr(shop, name).groupby(by)[list(METRICS)].sum().reindex(keyword.index)
        for m in ("impressions", "clicks", "orders", "carts", "favorites"):
            assert (other[m] == keyword[m]).all(), (name, m)
        assert np.allclose(other["cost"], keyword["cost"], atol=0.5), name
        assert np.allclose(other["gmv"], keyword["gmv"], atol=0.5), name
    items = shop.keyword_report.groupby(["date", "item"])["clicks"].sum()
    crowd_items = shop.crowd_report.groupby(["date", "item"])["clicks"].sum()
    assert crowd_items.reindex(items.index).eq(items).all()
    excluded = shop.market.regions.loc[shop.market.regions["excluded"], ["campaign", "region"]]
    shown = shop.region_report.merge(excluded, on=["campaign", "region"])
    assert shown.empty


def test_write_shop_english_utf8(shop, tmp_path):
    files = write_shop(shop, tmp_path / "en")
    assert set(files) == set(FRAMES)
    kr = pd.read_csv(files["keyword_report"], encoding="utf-8")
    assert list(kr.columns) == list(shop.keyword_report.columns)
    assert kr["date"].iloc[0] == "2026-11-11"
    assert len(kr) == len(shop.keyword_report)
    assert kr["keyword"].tolist() == shop.keyword_report["keyword"].tolist()
    items = pd.read_csv(files["items"], encoding="utf-8")
    assert list(items.columns) == list(ITEM_COLUMNS)


def test_write_shop_chinese_gbk(shop, tmp_path):
    files = write_shop(shop, tmp_path / "zh", chinese=True)
    kr = pd.read_csv(files["keyword_report"], encoding="gbk")
    assert list(kr.columns) == [ZTC_HEADERS[c] for c in shop.keyword_report.columns]
    assert set(kr["投放平台"]) == {"无线", "计算机"}
    assert kr["关键词"].tolist() == shop.keyword_report["keyword"].tolist()
    regions = pd.read_csv(files["region_report"], encoding="gbk")
    assert "地域" in regions.columns and "新疆" in set(shop.market.regions["region"])
    crowds = pd.read_csv(files["crowd_report"], encoding="gbk")
    assert set(crowds["人群"]) == set(shop.market.crowds["crowd"])
    cand = pd.read_csv(files["candidates"], encoding="gbk")
    assert list(cand.columns) == [ZTC_HEADERS[c] for c in CANDIDATE_COLUMNS]
    with pytest.raises(UnicodeDecodeError):
        files["keyword_report"].read_bytes().decode("utf-8")


def test_a_next_day_is_drawn_at_the_bids_in_force_and_paused_keywords_show_no_row(market):
    from bidopt.simulate import next_day_reports

    bids = market.keywords["bid"].to_numpy(float)
    paused = np.zeros(len(bids), dtype=bool)
    paused[:10] = True
    day = dt.date(2026, 11, 25)
    low = next_day_reports(market, day, bids, paused=paused, seed=3)
    again = next_day_reports(market, day, bids, paused=paused, seed=3)
    pd.testing.assert_frame_equal(low.keyword_report, again.keyword_report)
    report = low.keyword_report
    assert len(report) == len(bids) - 10
    assert (report["date"] == pd.Timestamp(day)).all()
    shown = set(map(tuple, report[KEYS].to_numpy()))
    assert not shown & set(map(tuple, market.keywords.loc[paused, KEYS].to_numpy()))
    # every grain adds up to the keyword report, as on the history's days
    for grain in ("crowd_report", "region_report", "hour_report"):
        assert getattr(low, grain)["cost"].sum() == pytest.approx(report["cost"].sum(), abs=0.5)
    # twice the bids buy more traffic at a higher price, as the truth says
    high = next_day_reports(market, day, bids * 2, paused=paused, seed=3).keyword_report
    assert high["clicks"].sum() > report["clicks"].sum()
    assert high["cost"].sum() > 1.5 * report["cost"].sum()


# -- daily budgets -------------------------------------------------------------------------
def _campaign_costs(market, **plan) -> pd.DataFrame:
    return market.campaign_totals(market.expected(**plan)).set_index("campaign")


def test_a_budget_caps_spend_and_a_loose_one_changes_nothing(market):
    free = _campaign_costs(market)
    tight = (free["cost"] * 0.7).to_dict()
    loose = (free["cost"] * 1.01).to_dict()
    capped = _campaign_costs(market, budgets=tight)
    assert (capped["cost"] <= pd.Series(tight) * (1 + 1e-9)).all()
    np.testing.assert_allclose(capped["cost"], pd.Series(tight)[capped.index], rtol=1e-9)
    pd.testing.assert_frame_equal(_campaign_costs(market, budgets=loose), free, rtol=1e-12)
    # a budget on one campaign leaves the others alone
    one = free.index[0]
    part = _campaign_costs(market, budgets={one: tight[one]})
    pd.testing.assert_frame_equal(part.drop(one), free.drop(one), rtol=1e-12)


def test_a_budget_loses_the_late_hours_orders_at_their_conversion(market):
    from bidopt.simulate._market import online_hours

    free = _campaign_costs(market)
    tight = free["cost"] * 0.7
    capped = _campaign_costs(market, budgets=tight.to_dict())
    share, cvr = market.hours["share"].to_numpy(), market.hours["cvr_mult"].to_numpy()
    online = online_hours(np.outer(np.ones(len(free)), share) * free["cost"].to_numpy()[:, None],
                          tight.to_numpy())
    # the ads stop in the evening: hours before are fully online, later ones not at all
    assert (online[:, :12] == 1).all() and (online[:, -1] == 0).all()
    expected_orders = free["orders"].to_numpy() * (online * share * cvr).sum(axis=1)
    np.testing.assert_allclose(capped["orders"], expected_orders, rtol=1e-9)
    # the evening converts better: a 30% spend cut loses more than 30% of the orders
    assert (capped["orders"] / free["orders"] < 0.7).all()
    np.testing.assert_allclose(capped["clicks"] / free["clicks"], 0.7, rtol=1e-9)


def test_a_budget_with_hour_discounts_counts_the_hours_spend(market):
    camp = market.campaigns["campaign"].iloc[0]
    evening = pd.DataFrame({"campaign": camp, "hour": [20, 21, 22], "discount": [200, 200, 200]})
    free = _campaign_costs(market, hour_discounts=evening)
    budget = {camp: free.loc[camp, "cost"] * 0.9}
    capped = _campaign_costs(market, hour_discounts=evening, budgets=budget)
    assert capped.loc[camp, "cost"] == pytest.approx(budget[camp], rel=1e-9)
    # hours switched off spend nothing, so a budget they would have crossed now holds
    off = pd.DataFrame({"campaign": camp, "hour": range(12, 24), "discount": 0})
    half = _campaign_costs(market, hour_discounts=off)
    pd.testing.assert_frame_equal(
        _campaign_costs(market, hour_discounts=off,
                        budgets={camp: half.loc[camp, "cost"] * 1.001}), half, rtol=1e-12)


def test_a_budget_capped_history_stops_at_the_budget_and_its_hour_report_ends_early():
    plain = simulate_shop(seed=3, days=6)
    spend = plain.keyword_report.groupby("campaign")["cost"].sum() / 6
    budgets = (spend * 0.8).to_dict()
    capped = simulate_shop(seed=3, days=6, budgets=budgets)
    daily = capped.keyword_report.groupby(["campaign", "date"])["cost"].sum()
    budget = daily.index.get_level_values("campaign").map(budgets).to_numpy(float)
    assert (daily.to_numpy() <= budget + 0.1).all()  # each keyword's cost is rounded to cents
    hit = daily.to_numpy() >= budget * 0.97
    assert hit.mean() > 0.8
    # the hour report ends early on those days and adds up to the keyword report
    hours = capped.hour_report
    last = hours[hours["clicks"] > 0].groupby(["campaign", "date"])["hour"].max()
    assert (last.reindex(daily.index)[hit] < 23).mean() > 0.8
    for name in ("clicks", "orders", "cost"):
        np.testing.assert_allclose(hours.groupby(["campaign", "date"])[name].sum(),
                                   capped.keyword_report.groupby(["campaign", "date"])[name].sum())
    assert capped.crowd_report["clicks"].sum() == capped.keyword_report["clicks"].sum()
    # a budget no day reaches draws the same reports as none
    loose = simulate_shop(seed=3, days=6, budgets=(spend * 10).to_dict())
    for name in ("keyword_report", "crowd_report", "region_report", "hour_report"):
        pd.testing.assert_frame_equal(getattr(loose, name), getattr(plain, name))
    # and a capped day is a part of the day drawn without budgets; other days are that day
    keys = ["campaign", "date", "item", "keyword", "platform"]
    free = plain.keyword_report.set_index(keys).sort_index()
    cut = capped.keyword_report.set_index(keys).sort_index()
    for name in ("clicks", "orders", "impressions"):
        assert (cut[name] <= free[name]).all()
    not_hit = ~daily.index.isin(daily.index[hit])
    days_free = free.groupby(level=[0, 1])["cost"].sum().reindex(daily.index)
    np.testing.assert_allclose(daily[not_hit], days_free[not_hit])
