"""Weekday factors of search volume: measured on the reports, used in the forecast."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import bidopt.simulate._calendar as calendar
from bidopt.budgets import days_at_budget
from bidopt.cli import cli
from bidopt.simulate import simulate_shop
from bidopt.simulate._calendar import WEEKDAY_VOLUME
from bidopt.simulate._history import simulate_reports
from bidopt.simulate._truth import build_truth, shop_dimensions
from bidopt.weekdays import WeekdayFactors, estimate_weekdays
from conftest import write_config

END = dt.date(2026, 11, 24)


def log_error(factors) -> np.ndarray:
    return np.abs(np.log(np.asarray(factors) / WEEKDAY_VOLUME))


@pytest.mark.parametrize("seed", [0, 1])
def test_four_weeks_recover_the_simulator_s_weekday_pattern(seed):
    shop = simulate_shop(seed=seed, days=28, size="small", end_date=END)
    found = estimate_weekdays(shop.keyword_report)
    assert found.used, found.reason
    assert found.days == 28
    assert log_error(found.factors).max() < 0.03, found.factors
    # the weekend is told apart from the week: Saturday and Sunday above every other day
    assert min(found.factors[5:]) > max(found.factors[:5]), found.factors
    assert np.mean(found.factors) == pytest.approx(1.0)


def test_two_weeks_are_shrunk_toward_1_and_still_closer_than_no_factors():
    shop = simulate_shop(seed=2, days=14, size="small", end_date=END)
    found = estimate_weekdays(shop.keyword_report)
    assert found.used, found.reason
    flat = np.sqrt(np.mean(log_error(np.ones(7)) ** 2))
    assert np.sqrt(np.mean(log_error(found.factors) ** 2)) < flat / 2
    # shrunk: every factor between 1 and its weekday's unshrunk mean
    for factor, measured in zip(found.factors, found.measured, strict=True):
        assert min(1.0, measured) - 0.01 <= factor <= max(1.0, measured) + 0.01


@pytest.mark.parametrize("days", [14, 28])
def test_a_shop_without_a_weekday_pattern_gets_factors_of_1(monkeypatch, days):
    monkeypatch.setattr(calendar, "WEEKDAY_VOLUME", np.ones(7))
    shop = simulate_shop(seed=0, days=days, size="small", end_date=END)
    found = estimate_weekdays(shop.keyword_report)
    assert not found.used
    assert found.factors == (1.0,) * 7
    assert "not distinguishable" in found.reason
    assert found.summary_line(dt.date(2026, 11, 28)) == []


def test_fewer_than_two_full_weeks_are_not_measured():
    shop = simulate_shop(seed=0, days=13, size="small", end_date=END)
    found = estimate_weekdays(shop.keyword_report)
    assert not found.used and found.factors == (1.0,) * 7
    assert "13 report days" in found.reason


def test_days_at_the_budget_are_left_out():
    """Campaign-days whose spend reached the budget show less than a day's searches: they
    are not measured, so with every campaign's Saturdays at the budget no Saturday is
    left, and nothing is measured."""
    shop = simulate_shop(seed=0, days=15, size="small", end_date=END)
    keywords = shop.keyword_report
    assert estimate_weekdays(keywords).used
    dates = pd.DatetimeIndex(keywords["date"].unique())
    saturdays = dates[dates.day_of_week == 5][:2]
    at_budget = pd.DataFrame([(c, d) for c in keywords["campaign"].unique() for d in saturdays],
                             columns=["campaign", "date"])
    found = estimate_weekdays(keywords, at_budget)
    assert not found.used and "13 report days" in found.reason


def test_a_shop_whose_budget_binds_on_some_days_is_measured_on_the_others():
    """Budgets at 1.2x the average day's spend stop some campaign-days (more of them at the
    weekend); without those the pattern is still found."""
    draw = {"seed": 1, "days": 14, "size": "small", "end_date": END}
    spend = simulate_shop(**draw).keyword_report.groupby("campaign")["cost"].sum() / 14
    budgets = (spend * 1.2).round(2)
    shop = simulate_shop(**draw, budgets=budgets.to_dict())
    at_budget = days_at_budget(shop.keyword_report, budgets)
    assert len(at_budget) >= 3
    found = estimate_weekdays(shop.keyword_report, at_budget)
    assert found.used, found.reason
    assert np.sqrt(np.mean(log_error(found.factors) ** 2)) < 0.02, found.factors


def test_a_weekend_bid_push_is_not_read_as_weekend_searches():
    """Bids raised 30% on Fridays to Sundays lift those days' impressions (the keywords
    climb the page); the bid's exponent takes that out of the weekday factors."""
    n_kw, n_items, n_campaigns = shop_dimensions("small", None)
    truth_seed, history_seed = np.random.SeedSequence(0).spawn(2)
    days = 28
    truth = build_truth(np.random.default_rng(truth_seed), n_kw, n_items, n_campaigns, days)
    dates = pd.date_range(end=pd.Timestamp(END), periods=days, freq="D")
    bids = truth.bid_paths.copy()
    weekend = dates.day_of_week.to_numpy() >= 4
    bids[weekend] = np.round(bids[weekend] * 1.3, 2)
    report = simulate_reports(truth.market, np.random.default_rng(history_seed), dates, bids,
                              truth.quality_paths, False)["keyword_report"]
    daily = report.groupby("date")["impressions"].sum()
    naive = daily.groupby(pd.DatetimeIndex(daily.index).day_of_week).mean()
    naive = naive / naive.mean()
    assert naive[5] > 1.15  # the push shows as a third more impressions on Saturdays
    found = estimate_weekdays(report)
    assert log_error(found.factors).max() < 0.06, found.factors


def test_history_days_are_divided_by_their_weekday_factor():
    factors = WeekdayFactors(factors=(0.98, 0.97, 0.97, 0.98, 0.99, 1.05, 1.06))
    frame = pd.DataFrame({"date": pd.to_datetime(["2026-11-28", "2026-11-25"]),
                          "clicks": [105.0, 97.0], "cost": [21.0, 19.4], "gmv": [52.5, 48.5],
                          "bid": [1.0, 1.0]})
    out = factors.ordinary(frame)
    assert out["clicks"].tolist() == pytest.approx([100.0, 100.0])
    assert (out["gmv"] / out["cost"]).tolist() == pytest.approx((frame["gmv"] / frame["cost"])
                                                                .tolist())
    assert out["bid"].tolist() == [1.0, 1.0]
    assert frame["clicks"].tolist() == [105.0, 97.0]  # the input is not modified


def total_cost_before(output: str) -> float:
    line = next(line for line in output.splitlines() if line.startswith("TOTAL"))
    return float(line.split()[3].replace(",", ""))


@pytest.fixture(scope="module")
def runs(shop_files, tmp_path_factory):
    """The test shop's 14 days (to 2026-11-24) planned for a Saturday and a Wednesday night,
    with weekday factors and without (history.days 18: the Saturday's window holds them all)."""
    out = {}
    for weekdays in (True, False):
        folder = tmp_path_factory.mktemp(f"weekdays_{weekdays}")
        config = write_config(folder, shop_files, history={"days": 18, "weekdays": weekdays})
        for night in ("2026-11-28", "2026-11-25"):
            result = CliRunner().invoke(cli, ["run", "--config", str(config), "--date", night,
                                              "--dry-run"], catch_exceptions=False)
            assert result.exit_code == 0, result.output
            out[weekdays, night] = result.output
    return out


def test_a_saturday_night_is_forecast_above_a_wednesday_on_the_same_history(runs, shop):
    saturday, wednesday = runs[True, "2026-11-28"], runs[True, "2026-11-25"]
    found = estimate_weekdays(shop.keyword_report)
    assert found.factors[5] > 1.02 and found.factors[5] > found.factors[2] + 0.03, found.factors
    # the same fit, the night's factor: today's bids cost more on the Saturday
    ratio = total_cost_before(saturday) / total_cost_before(wednesday)
    assert ratio == pytest.approx(found.factors[5] / found.factors[2], rel=2e-3)
    assert f"weekday: Saturday, forecast at {found.factors[5]:.3f}x" in saturday
    assert f"weekday: Wednesday, forecast at {found.factors[2]:.3f}x" in wednesday


def test_history_weekdays_false_forecasts_every_night_as_an_average_day(runs):
    saturday, wednesday = runs[False, "2026-11-28"], runs[False, "2026-11-25"]
    assert "weekday:" not in saturday and "weekday:" not in wednesday
    assert total_cost_before(saturday) == pytest.approx(total_cost_before(wednesday), rel=1e-6)
