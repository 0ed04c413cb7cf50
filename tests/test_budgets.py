"""Budget-capped history days: found, measured by the hour report, and seen whole by the fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bidopt.budgets import capped_days, capped_notes, history_budgets, online_shares, uncapped
from bidopt.simulate import simulate_shop


@pytest.fixture(scope="module")
def shops():
    plain = simulate_shop(seed=1, days=14)
    spend = plain.keyword_report.groupby("campaign")["cost"].sum() / 14
    budgets = spend.round(2)
    return plain, simulate_shop(seed=1, days=14, budgets=budgets.to_dict()), budgets


def test_online_shares_read_the_hour_the_ads_stopped():
    profile = {"clicks": np.full(24, 1 / 24), "orders": np.r_[np.full(12, 0.5), np.full(12, 1.5)] / 24}
    clicks = np.r_[np.full(18, 10.0), 5.0, np.zeros(5)]
    click_share, order_share = online_shares(clicks, 18, profile)
    assert click_share == pytest.approx(18.5 / 24)
    # the evening carries more orders: what was lost is a larger share of them
    assert order_share == pytest.approx((12 * 0.5 + 6.5 * 1.5) / 24)
    assert online_shares(np.full(24, 10.0), 23, profile) == (pytest.approx(1.0), pytest.approx(1.0))


def test_capped_days_are_found_and_rescaled_to_about_the_uncapped_draw(shops):
    plain, capped, budgets = shops
    history = {"keywords": capped.keyword_report, "hours": capped.hour_report}
    days = capped_days(history, budgets)
    # every day the budget cut by more than a few percent is found (the uncapped draw spent
    # that much more than the budget); one it cut in its last minutes ran on, near enough
    free = plain.keyword_report.groupby(["campaign", "date"])["cost"].sum()
    budget = free.index.get_level_values(0).map(budgets)
    cut = free[free > budget * 1.05].index
    found = pd.MultiIndex.from_frame(days[["campaign", "date"]])
    assert cut.isin(found).all()
    assert found.isin(free[free > budget * 1.001].index).all()
    assert (days["click_share"] < 0.97).all() and (days["click_share"] < 0.95).sum() >= len(cut) // 2
    # rescaled, the capped history's traffic is within a few percent of what the bids bought
    sums = {name: frame.groupby("campaign")[["clicks", "cost", "orders"]].sum()
            for name, frame in (("free", plain.keyword_report), ("capped", capped.keyword_report),
                                ("rescaled", uncapped(capped.keyword_report, days)))}
    assert ((sums["capped"]["clicks"] / sums["free"]["clicks"]) < 0.93).all()
    np.testing.assert_allclose(sums["rescaled"]["clicks"], sums["free"]["clicks"], rtol=0.04)
    np.testing.assert_allclose(sums["rescaled"]["cost"], sums["free"]["cost"], rtol=0.04)


def test_no_budget_or_no_binding_day_changes_nothing(shops):
    plain, _, budgets = shops
    history = {"keywords": plain.keyword_report, "hours": plain.hour_report}
    assert capped_days(history, budgets * np.inf).empty
    none = capped_days(history, budgets * 3)
    assert none.empty and uncapped(plain.keyword_report, none) is plain.keyword_report


def test_without_an_hour_report_the_days_are_named_not_rescaled(shops):
    _, capped, budgets = shops
    days = capped_days({"keywords": capped.keyword_report, "hours": pd.DataFrame()}, budgets)
    assert len(days) and (days["click_share"] == 1).all()
    assert uncapped(capped.keyword_report, days) is capped.keyword_report
    notes = capped_notes(days, 14)
    assert len(notes) == days["campaign"].nunique()
    assert all("add the hour report" in n for n in notes)


def test_cli_on_a_budget_capped_shop_forecasts_what_its_bids_buy(tmp_path):
    """End to end: a campaign whose budget stopped its ads on most days. Its forecast cost at
    today's bids ("cost before") is what those bids buy on the uncapped truth, not the capped
    spend the reports show; the run names the capped days; the plan keeps it in its budget."""
    import datetime as dt
    import re

    from click.testing import CliRunner

    from bidopt.cli import cli
    from bidopt.simulate import write_shop
    from conftest import NIGHT, write_config

    end = dt.date(2026, 11, 24)
    plain = simulate_shop(seed=3, days=14, end_date=end)
    spend = plain.keyword_report.groupby("campaign")["cost"].sum() / 14
    camp = spend.index[0]
    budget = round(float(spend[camp]) * 0.85, 2)
    shop = simulate_shop(seed=3, days=14, end_date=end, budgets={camp: budget})
    daily = shop.keyword_report.groupby(["campaign", "date"])["cost"].sum()[camp]
    hit = int((daily >= budget * 0.97).sum())
    assert hit >= 10
    files = write_shop(shop, tmp_path / "shop")
    config = write_config(tmp_path, files, constraints={
        "roi_floor": 2.0, "campaigns": {camp: {"daily_budget": budget}}})
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--date", NIGHT,
                                      "--out", str(tmp_path / "recs.csv")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    row = re.search(rf"^{re.escape(camp)}\s+\d+\s+\d+\s+([\d,.]+)\s+([\d,.]+)", result.output,
                    re.MULTILINE)
    cost_before, cost_after = (float(v.replace(",", "")) for v in row.groups())
    market = shop.market
    true_cost = market.campaign_totals(market.expected()).set_index("campaign").loc[camp, "cost"]
    # the reports show at most the budget a day; today's bids buy more than that
    assert true_cost > budget * 1.2
    assert cost_before == pytest.approx(true_cost, rel=0.08)  # without the correction: -20%
    assert cost_after <= budget
    assert f"'{camp}' spent its daily budget ({budget:,.2f}) on {hit} of 14 days" in result.output


def test_each_history_day_is_held_to_the_budget_of_its_own_phase(shops):
    """A promotion phase with a larger budget: its days are not capped at the ordinary one,
    and the ordinary days are not held to the phase's (whatever night is planned)."""
    from bidopt.config import parse_config

    _, capped, budgets = shops
    camp = budgets.index[0]
    dates = pd.DatetimeIndex(sorted(capped.keyword_report["date"].unique()))
    history = {"keywords": capped.keyword_report[capped.keyword_report["campaign"] == camp],
               "hours": capped.hour_report}
    plain = capped_days(history, budgets[[camp]])
    first = pd.Timestamp(plain["date"].iloc[0])  # a day the ordinary budget stopped
    config = parse_config({
        "shop": "t", "constraints": {"roi_floor": 2.0, "daily_budget": float(budgets[camp])},
        "calendar": [{"name": "burst", "start": first.strftime("%m-%d"),
                      "end": first.strftime("%m-%d"), "daily_budget": float(budgets[camp]) * 3}]})
    per_day = history_budgets(config, [camp], dates)
    assert per_day.set_index("date").loc[first, "budget"] == pytest.approx(budgets[camp] * 3)
    assert (per_day.set_index("date").drop(first)["budget"] == budgets[camp]).all()
    held = capped_days(history, per_day)
    assert first not in set(held["date"]) and len(held)
    assert set(held["date"]) == set(plain["date"]) - {first}
    # the night planned in the phase applies its budget; past ordinary days keep theirs
    night = parse_config(config.model_dump()).for_night(first.date())
    assert night.constraints.daily_budget == pytest.approx(budgets[camp] * 3)


def test_a_day_that_spent_its_budget_by_midnight_is_not_capped(shops):
    # a budget just above the biggest day's spend: that day reaches it, but its hour report
    # runs to the day's end, so the ads were never stopped and nothing is said or rescaled
    plain, _, _ = shops
    daily = plain.keyword_report.groupby(["campaign", "date"])["cost"].sum()
    budgets = (daily.groupby(level="campaign").max() * 1.01).round(2)
    history = {"keywords": plain.keyword_report, "hours": plain.hour_report}
    assert ((daily >= daily.index.get_level_values(0).map(budgets) * 0.97).sum()) >= 3
    assert capped_days(history, budgets).empty
    assert capped_notes(capped_days(history, budgets), 14) == []
