"""The decision step on a simulated shop: limits hold on the forecast, proposals are judged."""

from __future__ import annotations

import datetime as dt
import types

import numpy as np
import pandas as pd
import pytest

from bidopt import Strategy, hookimpl
from bidopt.config import parse_config
from bidopt.loop import SourceOverrides, plan_night
from bidopt.plugins import build_registry, get_plugin_manager
from conftest import report_paths

NIGHT = dt.date(2026, 11, 25)
KEYS = ["campaign", "item", "keyword", "platform"]


def plan(shop_files, proposals: pd.DataFrame | None = None, **config):
    """Run the night with one test strategy that proposes the given rows."""
    pm = get_plugin_manager(entry_points=False)
    if proposals is not None:
        @hookimpl
        def bidopt_register_strategies(register):
            register(Strategy(name="scripted", propose=lambda ctx, params: proposals))

        module = types.ModuleType("scripted")
        module.bidopt_register_strategies = bidopt_register_strategies
        pm.register(module, "scripted")
    data = {"constraints": {"roi_floor": 2.0}, "strategies": {"scripted": {}} if proposals is not None else {}}
    data.update(config)
    sources = SourceOverrides([*map(__import__("pathlib").Path, report_paths(shop_files))],
                              shop_files["items"], shop_files["candidates"])
    return plan_night(parse_config(data), build_registry(pm), date=NIGHT, sources=sources)


def test_every_campaign_holds_its_floor_and_budget_on_the_forecast(shop_files):
    result = plan(shop_files, constraints={"roi_floor": 2.5, "daily_budget": 300})
    campaigns = result.decision.campaigns
    assert result.decision.feasible
    assert (campaigns["cost_after"] <= 300 + 1e-6).all()
    assert (campaigns["gmv_after"] >= 2.5 * campaigns["cost_after"] - 1e-6).all()


def test_guard_repairs_a_campaign_that_breaks_its_floor_when_bids_are_kept(shop_files):
    result = plan(shop_files, constraints={"roi_floor": 3.5}, optimiser={"bids": "proposals"})
    campaigns = result.decision.campaigns
    broken = campaigns[campaigns["roi_before"] < 3.5]
    assert len(broken), "the test needs a campaign below the floor"
    assert (broken["roi_after"] >= 3.5 - 1e-6).all()
    recs = result.recommendations
    assert set(recs["strategy"]) == {"roi_guard"}
    assert (recs["proposed"] < recs["current"]).all()


def test_a_guard_cut_says_what_it_gives_up_per_unit_of_spend(shop_files):
    """A cut keyword can keep a ROI far above the floor at its new bid; the reason names the
    marginal ROI of the cut, which is what falls short of the floor."""
    result = plan(shop_files, constraints={"roi_floor": 3.5}, optimiser={"bids": "proposals"})
    recs = result.recommendations
    cuts = recs[recs["reason"].str.startswith("cut so that")]
    assert len(cuts)
    terms = cuts["reason"].str.extract(
        r": saves ([\d.]+) spend for ([\d.]+) GMV \(marginal ROI ([\d.]+)\)$").astype(float)
    assert terms.notna().all().all(), cuts["reason"].head().tolist()
    saved, lost, marginal = terms[0], terms[1], terms[2]
    assert ((lost / saved.where(saved > 0) - marginal).abs() < 0.05).all()


def test_proposals_are_accepted_scaled_or_rejected_with_reasons(shop_files):
    state = plan(shop_files).context.keywords
    sample = state[state["clicks"] > 20].head(3)
    proposals = sample[KEYS].assign(
        action="set_bid", current=sample["bid"], proposed=sample["bid"] * 1.1, reason="test raise",
    )
    unknown = pd.DataFrame([{"campaign": "nope", "item": "x", "keyword": "y", "platform": "mobile",
                             "action": "set_bid", "current": 1.0, "proposed": 1.2, "reason": "?"}])
    result = plan(shop_files, pd.concat([proposals, unknown], ignore_index=True),
                  optimiser={"bids": "proposals", "min_gain": 0})
    judged = result.decision.proposals
    assert set(judged["status"]) <= {"accepted", "scaled", "rejected", "overridden"}
    assert judged.loc[judged["campaign"] == "nope", "decision"].str.contains("not in the keyword report").all()
    taken = judged[judged["status"] == "accepted"]
    recs = result.recommendations.merge(taken[KEYS], on=KEYS)
    assert len(recs) == len(taken)
    assert recs["reason"].str.startswith("test raise").all()


def test_pinned_bids_never_move(shop_files):
    state = plan(shop_files).context.keywords
    row = state.sort_values("cost", ascending=False).iloc[0]
    pin = {key: row[key] for key in KEYS} | {"bid": round(float(row["bid"]) * 1.5, 2)}
    result = plan(shop_files, bids={"pinned": [pin]})
    recs = result.recommendations
    mine = recs.merge(pd.DataFrame([pin])[KEYS], on=KEYS)
    assert len(mine) == 1 and mine.iloc[0]["proposed"] == pytest.approx(pin["bid"])
    assert mine.iloc[0]["strategy"] == "pinned"


def test_slice_actions_are_taken_only_when_their_forecast_pays(shop_files):
    campaign = plan(shop_files).context.campaigns["campaign"].iloc[0]
    base = {"campaign": campaign, "item": "all", "action": "exclude_region", "current": 1.0,
            "proposed": 0.0, "base_clicks": 100.0, "base_cost": 100.0, "base_gmv": 120.0,
            "exp_clicks": 0.0, "exp_cost": 0.0, "exp_gmv": 0.0}
    good = dict(base, region="新疆", reason="ROI 1.2 below the floor")
    bad = dict(base, region="广东", reason="excluding a profitable region", base_gmv=600.0)
    missing = {k: v for k, v in dict(base, region="西藏", reason="no forecast").items()
               if not k.startswith(("base_", "exp_"))}
    # With a profit objective, dropping a region below the floor pays; dropping a
    # profitable one does not. (Under a GMV objective, cutting spend only pays where the
    # freed ROI headroom buys GMV elsewhere.)
    result = plan(shop_files, pd.DataFrame([good, bad, missing]), optimiser={"bids": "proposals"},
                  objective={"target": "profit"})
    judged = result.decision.proposals.set_index("region")
    assert judged.loc["新疆", "status"] == "accepted"
    assert judged.loc["广东", "status"] == "rejected"
    assert "carries no forecast" in judged.loc["西藏", "decision"]
    recs = result.recommendations
    excluded = recs[recs["action"] == "exclude_region"]
    assert list(excluded["region"]) == ["新疆"]
    assert np.isnan(excluded["exp_roi"]).all() or (excluded["exp_cost"] == 0).all()


def test_a_rejection_names_a_limit_only_when_the_move_would_use_it(shop_files):
    campaigns = plan(shop_files).decision.campaigns
    assert campaigns["floor_binds"].any(), "the test needs a campaign held back by its floor"
    bound = campaigns[campaigns["floor_binds"]].iloc[0]
    assert bound["roi_after"] >= bound["planned_floor"] - 1e-6
    row = {"campaign": bound["campaign"], "item": "all", "reason": "test"}
    # Excluding a region with ROI 1.5 under the floor 2.0 raises the campaign's ROI: the floor
    # cannot be why it is rejected (under a GMV objective it gives up GMV). Including a
    # region with ROI 0.3 would spend ROI headroom: that one is held back by the floor.
    exclude = dict(row, action="exclude_region", region="新疆", current=1.0, proposed=0.0,
                   base_clicks=100.0, base_cost=100.0, base_gmv=150.0,
                   exp_clicks=0.0, exp_cost=0.0, exp_gmv=0.0)
    include = dict(row, action="include_region", region="西藏", current=0.0, proposed=1.0,
                   base_clicks=0.0, base_cost=0.0, base_gmv=0.0,
                   exp_clicks=100.0, exp_cost=100.0, exp_gmv=30.0)
    result = plan(shop_files, pd.DataFrame([exclude, include]))
    judged = result.decision.proposals.set_index("region")
    assert (judged["status"] == "rejected").all()
    assert "floor" not in judged.loc["新疆", "decision"]
    assert "budget" not in judged.loc["新疆", "decision"]
    assert judged.loc["新疆", "decision"].startswith("rejected: keeping it gives a higher expected gmv")
    assert "would fall below its ROI floor" in judged.loc["西藏", "decision"]


def test_a_group_of_slice_actions_is_taken_whole(shop_files):
    campaign = plan(shop_files).context.campaigns["campaign"].iloc[0]
    row = {"campaign": campaign, "item": "all", "action": "set_hour_discount", "current": 100.0,
           "base_clicks": 50.0, "exp_clicks": 50.0}
    # Raising the evening pays (profit), cutting the night alone would lose some; together
    # they are a schedule that pays, so both are taken.
    evening = dict(row, hour=20, proposed=130.0, reason="evening converts best",
                   base_cost=50.0, exp_cost=65.0, base_gmv=150.0, exp_gmv=260.0, group="schedule")
    night = dict(row, hour=3, proposed=70.0, reason="night converts worst",
                 base_cost=40.0, exp_cost=28.0, base_gmv=120.0, exp_gmv=95.0, group="schedule")
    alone = dict(night, hour=4, group=None, exp_gmv=70.0)
    result = plan(shop_files, pd.DataFrame([evening, night, alone]),
                  optimiser={"bids": "proposals"}, objective={"target": "profit"})
    judged = result.decision.proposals.set_index("hour")
    assert judged.loc[20, "status"] == judged.loc[3, "status"] == "accepted"
    assert judged.loc[4, "status"] == "rejected"
    hours = result.recommendations.query("action == 'set_hour_discount'")["hour"]
    assert sorted(hours.astype(int)) == [3, 20]


def test_roi_standard_error_reflects_day_to_day_spread():
    from bidopt.context import campaign_evidence

    days = pd.date_range("2026-11-01", periods=9)
    steady = pd.DataFrame({"campaign": "steady", "date": days, "cost": 100.0, "gmv": 200.0,
                           "orders": 1.0})
    bursty = pd.DataFrame({"campaign": "bursty", "date": days, "cost": 100.0,
                           "gmv": [50.0, 350.0, 200.0] * 3, "orders": 1.0})
    thin = pd.DataFrame({"campaign": "thin", "date": days[:2], "cost": 10.0, "gmv": 20.0,
                         "orders": 1.0})
    se = campaign_evidence(pd.concat([steady, bursty, thin]))["roi_se"]
    assert se["steady"] == pytest.approx(0.0)
    expected = np.std([0.5, 3.5, 2.0] * 3, ddof=1) / 2.0 / 3.0
    assert se["bursty"] == pytest.approx(expected)
    assert np.isnan(se["thin"])


def test_campaigns_are_planned_above_their_floor_by_the_margin(shop_files):
    result = plan(shop_files, optimiser={"roi_margin_pct": 20, "floor_confidence": 0.9})
    campaigns = result.decision.campaigns
    moved = campaigns[campaigns["actions"] > 0]
    assert len(moved)
    assert (campaigns["planned_floor"] >= 1.2 * campaigns["roi_floor"] - 1e-9).all()
    feasible_before = campaigns["roi_before"] >= campaigns["planned_floor"]
    after = campaigns.loc[feasible_before]
    assert (after["roi_after"] >= after["planned_floor"] - 1e-6).all()


def test_two_proposals_for_one_keyword_each_get_their_own_level():
    from bidopt.decide import _place_targets

    levels = np.array([[0.8, 0.9, 1.0, 1.05, 1.1, 1.15, 1.2]] * 2)
    grid_ok = np.ones(levels.shape, dtype=bool)
    allowed = grid_ok.copy()
    rows = np.array([0, 0, 1, 0])
    targets = np.array([1.14, 1.13, 0.85, 1.1])  # the last one is already a level
    _place_targets(levels, grid_ok, allowed, rows, targets, np.array([1.0, 1.0, 1.0, 1.0]))
    assert {1.13, 1.14, 1.1} <= set(levels[0].round(2))
    assert 0.85 in set(levels[1].round(2))
    assert (np.diff(levels, axis=1) > 0).all()  # still sorted
    assert (levels[:, 2] == 1.0).all()  # the keep level did not move


def test_slices_are_repriced_at_the_plans_bids():
    # An exclusion priced at today's bids saves a region's full spend; when the plan halves
    # the campaign's keyword spend, the same exclusion saves half as much.
    from bidopt.decide import Choices, _reprice_slices

    entities = pd.DataFrame({"campaign": ["A", "A", "A"], "item": ["i", "i", "all"],
                             "kind": ["bought", "bought", "slice"]})
    levels = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 1.0]])
    allowed = np.ones(levels.shape, dtype=bool)
    choices = Choices(entities, levels, allowed, np.array([1, 1, 0]), allowed)
    zeros = np.zeros((3, 2))
    outcome = {name: zeros.copy() for name in ("clicks", "orders", "carts", "favorites")}
    outcome["cost"] = np.array([[5.0, 10.0], [5.0, 10.0], [0.0, -4.0]])
    outcome["gmv"] = np.array([[15.0, 20.0], [15.0, 20.0], [0.0, -6.0]])
    as_proposed = {name: values[2:].copy() for name, values in outcome.items()}
    plan, group = np.array([0, 0, 1]), np.zeros(3, dtype=int)
    assert _reprice_slices(outcome, as_proposed, choices, plan, group)
    assert outcome["cost"][2, 1] == pytest.approx(-2.0)  # keyword cost 20 -> 10
    assert outcome["gmv"][2, 1] == pytest.approx(-4.5)  # keyword GMV 40 -> 30
    assert (outcome["cost"][:2] == [[5.0, 10.0], [5.0, 10.0]]).all()  # keywords untouched
    # repriced again at the same plan: scaled from the proposal, not compounded, so unchanged
    assert not _reprice_slices(outcome, as_proposed, choices, plan, group)
    assert outcome["cost"][2, 1] == pytest.approx(-2.0)


def test_the_output_shows_slices_at_the_traffic_the_plan_buys(shop_files):
    # A high floor makes the plan cut every campaign's bids; an evening boost priced at
    # today's bids then moves less traffic, and the CSV says what the decision counted.
    campaign = plan(shop_files).context.campaigns["campaign"].iloc[0]
    evening = {"campaign": campaign, "item": "all", "action": "set_hour_discount", "hour": 20,
               "current": 100.0, "proposed": 130.0, "reason": "evening converts best",
               "base_clicks": 50.0, "exp_clicks": 60.0, "base_cost": 50.0, "exp_cost": 60.0,
               "base_gmv": 150.0, "exp_gmv": 400.0}
    result = plan(shop_files, pd.DataFrame([evening]), constraints={"roi_floor": 3.5})
    judged = result.decision.proposals.iloc[0]
    assert judged["status"] == "accepted"
    campaigns = result.decision.campaigns.set_index("campaign")
    ratio = campaigns.loc[campaign, "cost_after"] / campaigns.loc[campaign, "cost_before"]
    assert ratio < 0.9, "the test needs a campaign whose bids the plan cuts"
    row = result.recommendations.query("action == 'set_hour_discount'").iloc[0]
    assert row["exp_cost"] < 0.95 * evening["exp_cost"]
    assert row["exp_cost"] == pytest.approx(judged["exp_cost"])
    assert judged["exp_cost"] - judged["base_cost"] < evening["exp_cost"] - evening["base_cost"]


def test_new_keywords_count_toward_the_floor_at_their_own_margin():
    from bidopt.decide import _floor_weights

    ctx = types.SimpleNamespace(config=parse_config({"constraints": {"roi_floor": 2.0},
                                                      "optimiser": {"new_keyword_margin_pct": 100}}))
    entities = pd.DataFrame({"kind": ["bought", "added", "added", "slice"]})
    margin = np.array([1.25, 2.5])  # planned floor / floor per campaign
    weights = _floor_weights(ctx, entities, margin, np.array([0, 0, 1, 0]))
    # an add in a campaign planned 25% above its floor counts as if planned 100% above it;
    # a campaign already planned further above keeps its own margin
    assert weights == pytest.approx([1.0, 1.25 / 2.0, 1.0, 1.0])


def test_new_keywords_promise_no_headroom_for_raises_elsewhere(shop_files):
    def headroom(margin: float) -> float:
        result = plan(shop_files, strategies={"long_tail": {}},
                      optimiser={"new_keyword_margin_pct": margin})
        summary = result.decision.campaigns
        assert (result.recommendations["action"] == "add_keyword").any()
        return float((summary["gmv_after"] - summary["planned_floor"] * summary["cost_after"]).sum())

    # counted at full weight, the adds' forecast ROI pays for raises up to the floor; at a
    # margin of their own, what they add stays above it
    assert headroom(100.0) > headroom(0.0) + 1.0


def test_added_spend_counts_with_its_own_margin_against_the_limits():
    from bidopt.decide import _as_limits_count

    ctx = types.SimpleNamespace(config=parse_config({"constraints": {"roi_floor": 2.0},
                                                      "optimiser": {"added_spend_margin_pct": 30}}))
    cost = np.array([[10.0, 6.0, 14.0], [0.0, 0.0, 5.0]])
    gmv = np.array([[30.0, 20.0, 38.0], [0.0, 0.0, 20.0]])
    # row 0 a bought keyword, row 1 one not bought yet (its GMV weighted 0.5)
    gmv_counted, cost_counted = _as_limits_count(ctx, {"cost": cost, "gmv": gmv}, np.array([0, 0]),
                                                 np.array([1.0, 0.5]))
    # a raise's 4 extra spend counts 30% more (14 + 1.2); a cut adds none; an add adds all
    # of its spend, and its GMV is weighted as well
    assert cost_counted[0] == pytest.approx([10.0, 6.0, 15.2])
    assert cost_counted[1] == pytest.approx([0.0, 0.0, 6.5])
    assert gmv_counted[0] == pytest.approx(gmv[0])
    assert gmv_counted[1] == pytest.approx([0.0, 0.0, 10.0])


def test_a_margin_on_added_spend_holds_raises_back(shop_files):
    def added_spend(margin: float) -> float:
        campaigns = plan(shop_files, optimiser={"added_spend_margin_pct": margin}).decision.campaigns
        return float((campaigns["cost_after"] - campaigns["cost_before"]).clip(lower=0).sum())

    assert added_spend(60.0) < added_spend(0.0)


def test_items_without_price_or_cost_are_valued_from_the_history_and_named(shop_files, shop):
    """Carts weighed like orders need a price; without one an item's carts are worth its
    order value in the history (not nothing), and profit without a unit cost uses the
    default margin. Both say so."""
    from bidopt.decide import item_economics

    ctx = plan(shop_files, objective={"target": "profit", "cart_weight": 1.0}).context
    ctx.items = ctx.items.assign(price=np.nan, unit_cost=np.nan)
    ctx.warnings.clear()
    items = ctx.keywords["item"]
    price, margin = item_economics(ctx, items)
    history = shop.keyword_report.groupby("item")[["gmv", "orders"]].sum()
    sold = history[history["orders"] > 0]
    order_value = (sold["gmv"] / sold["orders"]).to_dict()
    row = int(np.flatnonzero(items.isin(order_value).to_numpy())[0])
    assert price[row] == pytest.approx(order_value[items.iloc[row]], rel=1e-6)
    assert (price > 0).all() and (margin == 0.3).all()
    assert any("have no price in the items file" in w for w in ctx.warnings)
    assert any("default_margin 0.3" in w for w in ctx.warnings)


def test_a_budget_the_solver_prices_holds_the_plan_back_even_with_slack_left():
    from bidopt.decide import Choices
    from bidopt.explain import LIMIT_COST, LIMIT_GMV, Plan

    entities = pd.DataFrame({"campaign": ["A"], "item": ["i"], "kind": ["bought"]})
    allowed = np.ones((1, 2), dtype=bool)
    choices = Choices(entities, np.array([[1.0, 2.0]]), allowed, np.array([0]), allowed)
    outcome = {LIMIT_COST: np.array([[50.0, 95.0]]), LIMIT_GMV: np.array([[300.0, 500.0]])}
    limits = pd.DataFrame({"campaign": ["A"], "roi_floor": [2.0], "planned_floor": [2.0],
                           "daily_budget": [100.0], "planned_budget": [100.0],
                           "floor_price": [0.0], "budget_price": [1.5]})
    plan = Plan(choices, outcome, np.array([1]), np.array([0]), limits)
    assert plan.binds() == (np.array([False]), np.array([False]))  # 5% left: not "within 2%"
    budget, floor = plan.binds(priced=True)
    assert budget.tolist() == [True] and floor.tolist() == [False]


def test_the_summary_counts_the_keywords_live_after_the_plan(shop_files):
    result = plan(shop_files, strategies={"long_tail": {}})
    recs, campaigns = result.recommendations, result.decision.campaigns
    bought = result.context.keywords.groupby("campaign").size()
    added = recs[recs["action"] == "add_keyword"].groupby("campaign").size()
    paused = recs[recs["action"] == "pause_keyword"].groupby("campaign").size()
    assert len(added), "the test needs long-tail adds"
    live = bought.add(added, fill_value=0).sub(paused, fill_value=0)
    assert campaigns.set_index("campaign")["keywords"].to_dict() == live.astype(int).to_dict()


def test_hour_discounts_never_save_more_than_the_plan_spends(shop_files):
    """A profit objective at the default margin cuts most bids; the nurture raises are
    rejected, and the off-hours discounts must not be credited with savings on them."""
    result = plan(shop_files, strategies={"top3_quality": {"hours": [9]}},
                  objective={"target": "profit"})
    recs, campaigns = result.recommendations, result.decision.campaigns
    assert (recs["action"] == "set_hour_discount").any(), "the test needs hour discounts"
    assert (campaigns["cost_after"] >= 0).all() and (campaigns["gmv_after"] >= 0).all()
    discounted = recs.loc[recs["action"] == "set_hour_discount", "campaign"].unique()
    cut = campaigns.set_index("campaign").loc[discounted]
    assert (cut["cost_after"] < cut["cost_before"]).all()
    # the table's actions are the output's rows: one per discounted hour, not per schedule
    rows = recs.groupby("campaign").size()
    assert campaigns.set_index("campaign")["actions"].to_dict() == rows.to_dict()


def test_a_bid_beyond_the_nightly_limit_says_it_was_capped(shop_files):
    state = plan(shop_files).context.keywords
    sample = state[state["clicks"] > 20].head(5)
    proposals = sample[KEYS].assign(action="set_bid", current=sample["bid"],
                                    proposed=sample["bid"] * 2, reason="double it")
    result = plan(shop_files, proposals, optimiser={"bids": "proposals", "min_gain": 0})
    recs = result.recommendations.merge(sample[KEYS], on=KEYS)
    recs = recs[recs["strategy"] == "scripted"]
    assert len(recs) and (recs["change_pct"] <= 30 + 1e-6).all()
    for row in recs.itertuples():
        assert row.reason.startswith("double it") and f"(asked {row.current * 2:.2f})" in row.reason


def test_min_gain_is_money_counted_at_the_shop_s_order_value_for_an_orders_objective(shop_files):
    """0.3 a day is a few cents of GMV but a third of an order: counted in orders, the
    orders objective changed almost nothing."""
    by_gmv = plan(shop_files)
    by_orders = plan(shop_files, objective={"target": "orders"})
    totals = by_orders.context.keywords[["gmv", "orders"]].sum()
    assert by_orders.decision.change_cost == pytest.approx(0.3 * totals["orders"] / totals["gmv"])
    assert len(by_orders.recommendations) >= 0.5 * len(by_gmv.recommendations)


def test_a_tiny_shop_budget_never_shows_negative_spend(shop_files):
    """Under a shop budget of 1, region and hour savings priced on tonight's traffic once
    exceeded what the cut campaigns still spent (cost after -1.33)."""
    result = plan(shop_files, constraints={"roi_floor": 2.0, "shop_budget": 1},
                  strategies={"roi_rule": {}, "top3_quality": {"hours": [9]},
                              "region_exclusion": {}})
    campaigns = result.decision.campaigns
    assert (campaigns["cost_after"] >= -1e-9).all() and (campaigns["gmv_after"] >= -1e-9).all()


def test_a_bid_off_the_step_is_kept_as_it_is(shop_files):
    """With a step of 0.1 today's bids (1.23...) are off the grid: keeping one is no change."""
    result = plan(shop_files, constraints={"roi_floor": 0.5}, strategies={},
                  optimiser={"bids": "proposals"},
                  bids={"mobile": {"step": 0.1}, "pc": {"step": 0.1}})
    assert result.recommendations.empty


def test_kept_spend_above_the_bid_held_on_enough_days_counts_as_added(shop_files):
    """Yesterday's raise has one day of evidence: its spend carries the added-spend margin
    until the bid has held for ``evidence_days`` days of the window."""
    from bidopt.decide import _as_limits_count, _forecast, spend_seen

    ctx = plan(shop_files).context
    state = ctx.keywords
    entities = state[KEYS].assign(current=state["bid"].to_numpy(float), kind="bought")
    current = state["bid"].to_numpy(float)[:, None]
    outcome = _forecast(ctx, entities, np.hstack([current * 0.8, current, current * 1.2]))
    keep = np.ones(len(state), dtype=int)
    seen = spend_seen(ctx, entities)
    # the third-highest bid of each keyword's window, against today's
    daily = ctx.history["keywords"]
    third = (daily.sort_values("bid", ascending=False).groupby(KEYS, observed=True)["bid"]
             .apply(lambda b: b.iloc[min(2, len(b) - 1)]))
    held = third.reindex(pd.MultiIndex.from_frame(state[KEYS])).to_numpy(float)
    above = held < state["bid"].to_numpy(float) - 1e-9
    assert above.any() and (~above).any()
    assert np.isinf(seen[~above]).all()
    assert (seen[above] <= outcome["cost"][above, 1] + 1e-9).all()
    # at "keep", the spend above what the held bid buys counts the margin more; a cut below
    # it none
    _, counted = _as_limits_count(ctx, outcome, keep, np.ones(len(state)), seen)
    extra = outcome["cost"][above, 1] - seen[above]
    margin = ctx.config.optimiser.added_spend_margin_pct / 100
    assert margin > 0
    assert counted[above, 1] == pytest.approx(outcome["cost"][above, 1] + margin * extra)
    assert counted[~above, 1] == pytest.approx(outcome["cost"][~above, 1])
    off = plan(shop_files, optimiser={"evidence_days": 0}).context
    assert np.isinf(spend_seen(off, entities)).all()


def test_two_settings_for_one_hour_are_not_both_taken(shop_files):
    """Two proposals that set the same campaign-hour (two strategies' schedules) cannot both
    be uploaded: the one worth more is kept, the other is rejected and says why."""
    campaign = plan(shop_files).context.campaigns["campaign"].iloc[0]
    row = {"campaign": campaign, "item": "all", "action": "set_hour_discount", "current": 100.0,
           "hour": 20, "base_clicks": 50.0, "base_cost": 50.0, "base_gmv": 150.0}
    more = dict(row, proposed=130.0, reason="evening converts best", group="a",
                exp_clicks=60.0, exp_cost=62.0, exp_gmv=260.0)
    less = dict(row, proposed=120.0, reason="evening converts well", group="b",
                exp_clicks=55.0, exp_cost=57.0, exp_gmv=210.0)
    other_hour = dict(less, hour=21, group="c")
    result = plan(shop_files, pd.DataFrame([more, less, other_hour]),
                  optimiser={"bids": "proposals"}, objective={"target": "profit"})
    judged = result.decision.proposals.set_index("group")
    assert judged.loc["a", "status"] == "accepted"
    assert judged.loc["c", "status"] == "accepted", "another hour is no rival"
    assert judged.loc["b", "status"] == "rejected"
    assert "sets the same crowd, region or hour" in judged.loc["b", "decision"]
    hours = result.recommendations.query("action == 'set_hour_discount'")
    assert sorted(zip(hours["hour"].astype(int), hours["proposed"].astype(float),
                         strict=True)) == [
        (20, 130.0), (21, 120.0)]
