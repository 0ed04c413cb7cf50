"""The views of ``benchmarks/plan_gap.py`` (``bench_plan.py --gap``) see what they say they
see: each is the truth or bidopt's forecast with exactly one error put in or taken out."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bidopt.baselines import oracle_plan, truth_outcome
from bidopt.config import parse_config
from bidopt.loop import SourceOverrides, plan_night
from bidopt.plugins import build_registry, get_plugin_manager
from bidopt.simulate import simulate_shop, write_shop

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import plan_gap  # noqa: E402

NIGHT = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    shop = simulate_shop(seed=2, days=14, size="small", end_date=NIGHT - dt.timedelta(days=1))
    files = write_shop(shop, tmp_path_factory.mktemp("gap"))
    sources = SourceOverrides([p for n, p in sorted(files.items()) if n.endswith("report")],
                              files["items"], files["candidates"])
    config = parse_config({"constraints": {"roi_floor": 2.5}})
    run = plan_night(config, build_registry(get_plugin_manager(entry_points=False)),
                     date=NIGHT, sources=sources)
    return shop, run, run.context.keywords.reset_index(drop=True)


def _outcome(view, state: pd.DataFrame, bids: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(truth_outcome(view, state, bids))[list(plan_gap.LEVEL_METRICS)]


def test_views_are_truth_or_forecast_with_one_error(night):
    shop, run, state = night
    window = plan_gap.window_levels(shop.keyword_report, shop.market, None, False)
    today = plan_gap.at_todays_bids(run.context.forecast, shop.market, state)
    seen = plan_gap.views(shop.market, run.context.forecast, today, window)
    today = state["bid"].to_numpy(float)
    raised = today * 1.3
    truth_today, truth_raised = _outcome(shop.market, state, today), _outcome(shop.market, state, raised)
    ours = plan_gap.forecast_outcome(run.context.forecast)
    fc_today = _outcome(plan_gap.ScaledView(ours), state, today)
    fc_raised = _outcome(plan_gap.ScaledView(ours), state, raised)
    own = (truth_today["clicks"] >= plan_gap.MIN_CLICKS).to_numpy()

    # fc_level: bidopt's level at today's bids (own ratio where the truth has the clicks),
    # the truth's answer to the raise
    level = _outcome(seen["fc_level"], state, today)
    np.testing.assert_allclose(level["gmv"][own], fc_today["gmv"][own], rtol=1e-9)
    ratio = _outcome(seen["fc_level"], state, raised) / truth_raised
    np.testing.assert_allclose(ratio["gmv"][own], (fc_today["gmv"] / truth_today["gmv"])[own],
                               rtol=1e-9)
    # fc_shape: the truth's level at today's bids, bidopt's answer to the raise
    shape = _outcome(seen["fc_shape"], state, today)
    np.testing.assert_allclose(shape["cost"][own], truth_today["cost"][own], rtol=1e-9)
    ratio = _outcome(seen["fc_shape"], state, raised) / fc_raised
    np.testing.assert_allclose(ratio["cost"][own], (truth_today["cost"] / fc_today["cost"])[own],
                               rtol=1e-9)
    # forecast: bidopt's own forecast
    np.testing.assert_allclose(_outcome(seen["forecast"], state, raised)["gmv"], fc_raised["gmv"])
    # window: the truth times each keyword's window level, which is about 1 over the shop
    # (a window is as likely lucky as unlucky) and spread where the evidence is thin
    assert set(window.columns) == set(plan_gap.LEVEL_METRICS)
    assert 0.85 < float(np.exp(np.log(window["gmv"]).mean())) < 1.15
    assert window["gmv"].std() > 0.01


def test_an_unbiased_view_at_no_margin_is_the_oracle(night):
    shop, run, state = night
    config = run.context.config
    truth_seen = plan_gap.ScaledView(shop.market.expected)
    oracle = oracle_plan(state, shop.market, config).bids
    same = plan_gap.gap_plans(state, {"truth": truth_seen}, config, (0.0,))["truth+0%"]
    np.testing.assert_allclose(same["bid"], oracle["bid"])
    # a floor margin raises every floor and the plan spends less on truth
    higher = plan_gap.gap_plans(state, {"truth": truth_seen}, config, (20.0,))["truth+20%"]
    spend = {name: truth_outcome(shop.market, state, plan["bid"].to_numpy(float))["cost"].sum()
             for name, plan in (("oracle", oracle), ("margin", higher))}
    assert spend["margin"] < spend["oracle"]
    raised = plan_gap.with_floor_margin(config, 20.0)
    assert raised.constraints.roi_floor == pytest.approx(config.constraints.roi_floor * 1.2)


def test_window_levels_pool_toward_the_campaigns_rates_not_the_truth(night):
    shop, _, _ = night
    history = shop.keyword_report
    window = plan_gap.window_levels(history, shop.market, None, False)
    keys = ["campaign", "item", "keyword", "platform"]
    sums = history.groupby(keys)[["clicks", "orders", "gmv"]].sum()
    sums.index = window.index
    # the truth the ratios are taken against: the same days (weekdays) at the same bids
    bids = history.pivot_table(index=keys, columns="date", values="bid").ffill(axis=1).bfill(axis=1)
    truth = (pd.concat(shop.market.on_day(pd.Timestamp(day).date(), seasonal=False)
                       .expected(bids[day].rename("bid").reset_index()) for day in bids.columns).groupby(keys)["gmv"].sum())
    truth.index = window.index  # grouped the same way as the history's sums
    read_gmv = window["gmv"] * truth
    # keywords with clicks but no order in their window read their campaign's GMV per click,
    # shrunk by the clicks they showed: the same for every such keyword of a campaign x
    # platform whatever its true conversion
    blank = (sums["clicks"] > 0) & (sums["orders"] == 0) & (truth > 1e-9)
    per_click = (read_gmv / sums["clicks"])[blank]
    cvr = (sums["orders"].groupby(level=["campaign", "platform"]).sum()
           / sums["clicks"].groupby(level=["campaign", "platform"]).sum())
    prior_clicks = plan_gap.ORDERS_STRENGTH / cvr
    k = prior_clicks.reindex(pd.MultiIndex.from_frame(
        per_click.index.to_frame(index=False)[["campaign", "platform"]])).to_numpy()
    rate = per_click * (sums["clicks"][blank].to_numpy() + k) / k
    spread = rate.groupby(level=["campaign", "platform"]).agg(lambda r: r.max() / r.min())
    assert len(rate) > 20
    np.testing.assert_allclose(spread, 1.0, rtol=1e-9)
    # and the keywords that did convert read more than those that did not
    converted = (sums["orders"] > 0) & (truth > 1e-9)
    assert (read_gmv / sums["clicks"])[converted].median() > per_click.median()


def test_level_errors_read_each_keyword_against_the_truth(night):
    shop, run, state = night
    history = shop.keyword_report
    window = plan_gap.window_levels(history, shop.market, None, False)
    today = plan_gap.at_todays_bids(run.context.forecast, shop.market, state)
    errors = plan_gap.level_errors(window, today, state)
    clicked = history.groupby(["campaign", "item", "keyword", "platform"], observed=True)["clicks"].sum()
    assert 0 < len(errors) <= int((clicked > 0).sum())
    # the window's clicks are the state's: every keyword kept has a click in the reports
    keys = state.loc[errors.index, ["campaign", "item", "keyword", "platform"]]
    assert (clicked.reindex(pd.MultiIndex.from_frame(keys)).to_numpy() > 0).all()
    np.testing.assert_allclose(errors["window_clicks"], clicked.reindex(pd.MultiIndex.from_frame(keys)).to_numpy())
    # bidopt's error is its own forecast's ROI over the truth's, keyword by keyword
    bids = state["bid"].to_numpy(float)
    fc = plan_gap.forecast_outcome(run.context.forecast)(
        state[["campaign", "item", "keyword", "platform"]].assign(bid=bids))
    true = pd.DataFrame(truth_outcome(shop.market, state, bids))
    expected = np.log(fc["gmv"] / fc["cost"] / (true["gmv"] / true["cost"]))
    np.testing.assert_allclose(errors["forecast"], expected[errors.index], rtol=1e-9)
    # a window that reads every level right has no error
    exact = plan_gap.level_errors(window * 0 + 1.0, today, state)
    assert (exact["window"] == 0).all()
    table = plan_gap.level_error_table(errors)
    assert set(table.index.get_level_values("platform")) <= {"mobile", "pc"}
    assert (table[["window", "forecast"]] > 0).all().all()


def test_level_error_table_is_a_cost_weighted_root_mean_square():
    errors = pd.DataFrame({"platform": ["mobile"] * 3, "true_clicks": [1.0, 1.5, 0.01],
                           "true_cost": [1.0, 3.0, 5.0], "window": [0.2, -0.4, 9.0],
                           "forecast": [0.1, 0.1, 9.0]})
    table = plan_gap.level_error_table(errors)
    row = table.loc[("mobile", "10-30")]  # 14 and 21 clicks in 14 days; the third has under 1
    assert row["keywords"] == 2 and row["true_cost"] == 4.0
    assert row["window"] == pytest.approx(np.sqrt((0.04 * 1 + 0.16 * 3) / 4))
    assert row["forecast"] == pytest.approx(0.1)


def test_calibration_table_reads_slopes_per_band():
    rng = np.random.default_rng(1)
    n = 4000
    truth = np.exp(rng.normal(0.0, 0.5, n))
    reading = np.log(truth) + rng.normal(0.0, 0.5, n)
    errors = pd.DataFrame({
        "platform": "mobile", "campaign": rng.choice(["a", "b"], n),
        "window_clicks": np.where(np.arange(n) < n // 2, 5.0, 50.0),
        "true_cost": 1.0, "true_per_click": truth, "true_roi": truth,
        # the thin half shrunk as its noise calls for, the thick half not shrunk at all
        "forecast_per_click": np.where(np.arange(n) < n // 2, np.exp(0.5 * reading),
                                       np.exp(reading)),
        "forecast_roi": truth})
    table = plan_gap.calibration_table(errors)
    assert table.loc[("mobile", "1-9"), "per_click"] == pytest.approx(1.0, abs=0.1)
    assert table.loc[("mobile", "30-99"), "per_click"] == pytest.approx(0.5, abs=0.05)
    assert table.loc[("mobile", "1-9"), "roi"] == pytest.approx(1.0)
    assert table.loc[("mobile", "30-99"), "keywords"] == n // 2
