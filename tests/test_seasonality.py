"""Promotion days: the calendar's traffic and conversion factors, judged on the truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from bidopt.cli import cli
from bidopt.config import parse_config
from bidopt.errors import ConfigError
from bidopt.model import Forecast
from bidopt.seasonality import DayFactors, measure_factors, ordinary_days, scale_forecast
from bidopt.simulate import calendar_config, simulate_shop, write_shop

KEYS = ["campaign", "item", "keyword", "platform"]
BURST = {"name": "burst", "start": "11-11", "end": "11-11", "traffic_factor": 2.5,
         "conversion_factor": 2.0, "cart_factor": 1.2}


def config_with(*phases: dict):
    return parse_config({"constraints": {"roi_floor": 2.0}, "calendar": list(phases)})


@pytest.mark.parametrize("value", [0, 0.01, -1, True, float("inf"), 50])
def test_phase_factors_are_checked_at_load(value):
    with pytest.raises(ConfigError, match="traffic_factor"):
        config_with({**BURST, "traffic_factor": value})


def test_a_phase_without_factors_is_an_ordinary_day():
    config = config_with({"name": "warm", "start": "11-01", "end": "11-10", "roi_floor": 1.5})
    assert DayFactors.of(config.phase_for(dt.date(2026, 11, 5))).ordinary
    assert DayFactors.of(None).ordinary


def test_the_history_s_promotion_days_are_divided_by_their_factors():
    days = pd.to_datetime(["2026-11-10", "2026-11-11"])
    keywords = pd.DataFrame({"date": days, "campaign": "c", "item": "i", "keyword": "k",
                             "platform": "mobile", "bid": 1.0, "impressions": [100, 250],
                             "clicks": [10, 25], "cost": [8.0, 20.0], "orders": [1, 5],
                             "gmv": [50.0, 250.0], "carts": [2, 6], "favorites": [1, 3]})
    crowds = keywords.drop(columns=["keyword", "platform", "bid"]).assign(crowd="new")
    history = {"keywords": keywords, "crowds": crowds, "regions": pd.DataFrame()}
    out, notes = ordinary_days(history, config_with(BURST))
    burst = out["keywords"].iloc[1]
    assert burst["clicks"] == pytest.approx(10) and burst["cost"] == pytest.approx(8)
    assert burst["orders"] == pytest.approx(1) and burst["gmv"] == pytest.approx(50)
    assert burst["carts"] == pytest.approx(2) and burst["bid"] == 1.0
    assert out["crowds"]["orders"].tolist() == pytest.approx([1, 1])
    assert out["keywords"].iloc[0]["clicks"] == 10, "an ordinary day is left as it is"
    assert keywords["clicks"].tolist() == [10, 25], "the input is not modified"
    assert len(notes) == 1 and "burst 2026-11-11 (traffic x2.5, conversion x2, carts x1.2)" in notes[0]
    assert ordinary_days(history, config_with()) == (history, [])


def test_a_forecast_is_scaled_metric_by_metric():
    ones = {m: np.ones((2, 3)) for m in ("impressions", "clicks", "cost", "orders", "gmv",
                                         "carts", "favorites")}
    forecast = Forecast(bids=np.ones((2, 3)), rank=np.ones((2, 3)), **ones,
                        low={"gmv": np.ones((2, 3))}, high={"clicks": np.full((2, 3), 2)})
    scaled = scale_forecast(forecast, DayFactors(traffic=2.5, conversion=2.0, carts=1.2))
    assert scaled.clicks[0, 0] == 2.5 and scaled.cost[0, 0] == 2.5
    assert scaled.gmv[0, 0] == 5.0 and scaled.orders[0, 0] == 5.0
    assert scaled.carts[0, 0] == pytest.approx(3.0)
    assert scaled.low["gmv"][0, 0] == 5.0 and scaled.high["clicks"][0, 0] == 5.0
    assert scaled.rank[0, 0] == 1.0 and scaled.bids[0, 0] == 1.0


def test_the_simulated_truth_on_a_promotion_day():
    shop = simulate_shop(seed=1, days=2, size="small", end_date=dt.date(2026, 11, 10))
    ordinary = shop.market.expected()
    burst = shop.market.on_day(dt.date(2026, 11, 11), seasonal=True).expected()
    weekday = 0.97  # 2026-11-11 is a Wednesday
    assert burst["clicks"].sum() == pytest.approx(2.5 * weekday * ordinary["clicks"].sum())
    assert burst["cost"].sum() == pytest.approx(2.5 * weekday * ordinary["cost"].sum())
    assert burst["orders"].sum() == pytest.approx(5 * weekday * ordinary["orders"].sum(),
                                                  rel=0.01)


def plan_on_truth(market, recs: pd.DataFrame) -> pd.DataFrame:
    """Per campaign cost and GMV of a bids-only plan on the truth."""
    bids = recs[recs["action"] == "set_bid"][KEYS].assign(bid=recs["proposed"].astype(float))
    paused = recs[recs["action"] == "pause_keyword"][KEYS]
    truth = market.expected(bids, paused_keywords=paused)
    return truth.groupby("campaign")[["cost", "gmv"]].sum()


def test_a_burst_night_planned_with_the_calendar_s_factors_earns_more_on_truth(tmp_path):
    """Double 11 after a warm-up: without factors the warm-up's low conversion makes the
    plan cut bids on the one night that converts twice as well; with the factors it buys
    the traffic, and every campaign still holds its floor on the burst day's truth."""
    shop = simulate_shop(seed=0, days=14, size="small", seasonal=True,
                         end_date=dt.date(2026, 11, 10))
    files = write_shop(shop, tmp_path / "shop")
    truth = shop.market.on_day(dt.date(2026, 11, 11), seasonal=True)
    keep = truth.expected().groupby("campaign")[["cost", "gmv"]].sum()
    totals, outputs = {}, {}
    for label, calendar in (("plain", []), ("factors", calendar_config())):
        config = tmp_path / f"{label}.yaml"
        config.write_text(yaml.safe_dump({
            "constraints": {"roi_floor": 2.0}, "calendar": calendar,
            "sources": {"reports": [str(p) for n, p in files.items() if n.endswith("report")],
                        "items": str(files["items"]), "candidates": str(files["candidates"])},
        }, allow_unicode=True), encoding="utf-8")
        out = tmp_path / f"{label}.csv"
        result = CliRunner().invoke(cli, ["run", "--config", str(config), "--date",
                                          "2026-11-11", "--out", str(out)],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        outputs[label] = result.output
        totals[label] = plan_on_truth(truth, pd.read_csv(out, encoding="utf-8-sig"))
    assert "scales the forecast: traffic x2.5, conversion x2, carts x1.2" in outputs["factors"]
    assert "divided by them before the fit" in outputs["factors"]
    factors = totals["factors"]
    assert (factors["gmv"] / factors["cost"] >= 2.0 * 0.995).all(), factors
    assert factors["gmv"].sum() > 1.3 * keep["gmv"].sum()
    assert factors["gmv"].sum() > 1.3 * totals["plain"]["gmv"].sum()


def test_factors_are_measured_from_a_past_season(tmp_path):
    """`bidopt factors` on a simulated season: every measured factor is within three of its
    standard errors of the simulator's own, and the lines to paste come with them."""
    shop = simulate_shop(seed=6, days=50, size="small", seasonal=True,
                         end_date=dt.date(2025, 11, 20))
    files = write_shop(shop, tmp_path / "last-year")
    plain = [{k: v for k, v in phase.items() if not k.endswith("_factor")}
             for phase in calendar_config()]
    config = tmp_path / "shop.yaml"
    config.write_text(yaml.safe_dump({
        "constraints": {"roi_floor": 2.0}, "calendar": plain,
        "sources": {"reports": [str(files["keyword_report"])]}}), encoding="utf-8")
    truth = {phase["name"]: phase for phase in calendar_config()}
    table = measure_factors(shop.keyword_report, parse_config({
        "constraints": {"roi_floor": 2.0}, "calendar": plain}))
    measured = table[table["days"] > 0]
    assert set(measured["phase"]) == {"pre-sale", "warm-up", "burst", "afterglow", "slump"}
    for row in measured.to_dict("records"):
        for name, key in (("traffic", "traffic_factor"), ("conversion", "conversion_factor"),
                          ("carts", "cart_factor")):
            assert abs(row[name] - truth[row["phase"]][key]) <= 3 * row[f"{name}_se"], row
    result = CliRunner().invoke(cli, ["factors", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "double-12           0  no day of this phase" in result.output
    burst = measured.set_index("phase").loc["burst"]
    assert f"traffic_factor: {burst['traffic']:.2f}" in result.output
    wrong = CliRunner().invoke(cli, ["factors", "--config", str(config), "--ordinary", "bust"])
    assert wrong.exit_code == 4 and "did you mean 'burst'" in wrong.output


def test_a_campaign_s_own_limits_that_stand_in_for_the_phase_s_are_named(shop_files):
    """A phase replaces the shop defaults only: a campaign with its own budget keeps it on
    Double 11, and the run says so instead of leaving the table's 2,000 unexplained."""
    from bidopt.testing import make_config, run_night

    campaign = sorted(pd.read_csv(shop_files["keyword_report"])["campaign"].unique())[0]
    burst = {"name": "burst", "start": "11-25", "end": "11-25", "roi_floor": 1.2,
             "daily_budget": 6000}
    config = make_config(shop_files, constraints={"daily_budget": 1500, "campaigns": {
        campaign: {"daily_budget": 2000}, "no such campaign": {"daily_budget": 100}}},
        calendar=[burst])
    notes = run_night(config, date=dt.date(2026, 11, 25)).context.warnings
    named = [n for n in notes if "calendar phase 'burst' sets the daily budget 6,000" in n]
    assert len(named) == 1 and f"'{campaign}' (2,000) keeps its own" in named[0], notes
    assert "no such campaign" not in named[0]
    assert not any("sets the ROI floor" in n for n in notes)
    later = run_night(config, date=dt.date(2026, 11, 26)).context.warnings
    assert not any("calendar phase" in n for n in later)


def test_a_phase_that_lifts_the_budget_names_the_campaigns_that_keep_theirs(shop_files,
                                                                            tmp_path):
    """`daily_budget: null` in a phase lifts the shop's budget for its nights; a campaign's
    own budget still holds, and `bidopt run` says so as it does for a phase's number."""
    from conftest import NIGHT, write_config

    campaign = sorted(pd.read_csv(shop_files["keyword_report"])["campaign"].unique())[0]
    burst = {"name": "burst", "start": NIGHT[5:], "end": NIGHT[5:], "daily_budget": None}
    config = write_config(tmp_path, shop_files, constraints={
        "roi_floor": 2.0, "daily_budget": 1500, "campaigns": {campaign: {"daily_budget": 2000}}},
        calendar=[burst])
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--date", NIGHT,
                                      "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (f"calendar phase 'burst' lifts the daily budget (null), but '{campaign}' (2,000) "
            "keeps its own from constraints.campaigns tonight") in result.output, result.output


def factors_of_a_slump(shop_files, tmp_path, orders_left: int):
    """`bidopt factors` on the shop's keyword report with its last 3 days a phase 'slump'
    that keeps only ``orders_left`` of its rows with orders. Returns the report, its path,
    the phase, the config and the command's result."""
    from conftest import write_config

    report = pd.read_csv(shop_files["keyword_report"])
    slump = sorted(report["date"].unique())[-3:]
    on = report["date"].isin(slump) & (report["orders"] > 0)
    report.loc[report.index[on][orders_left:], ["orders", "gmv"]] = 0
    path = tmp_path / "kw.csv"
    report.to_csv(path, index=False)
    phase = {"name": "slump", "start": slump[0][5:], "end": slump[-1][5:]}
    config = write_config(tmp_path, shop_files, calendar=[phase])
    result = CliRunner().invoke(cli, ["factors", "--config", str(config),
                                      "--reports", str(path)])
    assert result.exit_code == 0, result.output
    return report, path, phase, config, result


def test_the_lines_to_paste_pass_validate_when_a_factor_is_out_of_range(shop_files, tmp_path):
    """A phase with a handful of orders measures a conversion factor below the 0.1 a
    config accepts: the line `bidopt factors` prints is held at 0.1 (with the measured
    value beside it), so the config it is pasted into still validates."""
    from conftest import write_config

    report, path, phase, config, result = factors_of_a_slump(shop_files, tmp_path, 2)
    measured = measure_factors(report.assign(date=pd.to_datetime(report["date"])),
                               parse_config(yaml.safe_load(config.read_text("utf-8"))))
    assert measured.loc[0, "conversion"] < 0.095, measured
    snippet = result.output[result.output.index("  - name: slump"):]
    assert "conversion_factor: 0.1   # measured" in snippet, snippet
    phase.update(yaml.safe_load(snippet)[0])
    pasted = write_config(tmp_path, {"items": shop_files["items"],
                                     "candidates": shop_files["candidates"],
                                     "keyword_report": path}, calendar=[phase])
    check = CliRunner().invoke(cli, ["validate", "--config", str(pasted)])
    assert check.exit_code == 0, check.output


def test_a_factor_that_cannot_be_measured_says_why_in_the_lines_to_paste(shop_files,
                                                                          tmp_path):
    """A phase without a single order prints n/a for its conversion; its line to paste used
    to be left out without a word."""
    _, _, phase, _, result = factors_of_a_slump(shop_files, tmp_path, 0)
    snippet = result.output[result.output.index("  - name: slump"):]
    assert ("# conversion_factor: not measured (n/a): no orders in the phase's days or on "
            "the ordinary days to compare") in snippet, snippet
    assert "    traffic_factor: " in snippet and "    cart_factor: " in snippet
    phase.update(yaml.safe_load(snippet)[0])  # the comment pastes as nothing
    assert "conversion_factor" not in phase


def test_factors_say_why_a_phase_dated_to_this_year_has_no_day_in_last_year_s_reports(
        shop_files, tmp_path):
    """A phase written with its year (2027-11-11) holds no day of last year's reports:
    `bidopt factors` says that is why, and how to write it for every year."""
    from conftest import write_config

    phase = {"name": "burst", "start": "2099-11-11", "end": "2099-11-11"}
    config = write_config(tmp_path, shop_files, calendar=[phase])
    result = CliRunner().invoke(cli, ["factors", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert ("burst               0  no day of this phase in the reports: its dates "
            "2099-11-11 .. 2099-11-11 are of that year only (write 11-11 .. 11-11: every year)"
            ) in result.output, result.output


def test_two_phases_of_one_name_are_a_config_error(shop_files, tmp_path):
    """Double 11's and Double 12's burst both written `name: burst`: `bidopt factors`
    pooled their days and printed the same factors for each; validate now names the
    clash."""
    from conftest import write_config

    phases = [{"name": "burst", "start": "11-11", "end": "11-11"},
              {"name": "burst", "start": "12-12", "end": "12-12", "roi_floor": 1.5}]
    config = write_config(tmp_path, shop_files, calendar=phases)
    for command in ("validate", "factors"):
        result = CliRunner().invoke(cli, [command, "--config", str(config)])
        assert result.exit_code == 4, result.output
        assert ("two calendar phases are named 'burst' (11-11 .. 11-11 and 12-12 .. 12-12): "
                "give each its own name") in result.output, result.output


def test_a_promotion_night_without_factors_says_it_is_forecast_as_an_ordinary_day(
        shop_files, tmp_path):
    """Double 12 written with its floor and budget but no factors (none measured: last
    year's reports ended before it): the run says the night is forecast as an ordinary
    day, as it names the factors of a phase that has them. A phase that only names
    ordinary days (exposure) gets no such note."""
    from conftest import NIGHT, write_config

    day = NIGHT[5:]
    for phase, noted in (({"name": "double-12", "start": day, "end": day, "roi_floor": 1.5,
                           "daily_budget": 3000}, True),
                         ({"name": "exposure", "start": day, "end": day}, False)):
        config = write_config(tmp_path, shop_files, calendar=[phase])
        result = CliRunner().invoke(cli, ["run", "--config", str(config), "--date", NIGHT,
                                          "--dry-run"])
        assert result.exit_code == 0, result.output
        note = (f"the planned night's phase '{phase['name']}' has no traffic, conversion or "
                "cart factors: it is forecast as an ordinary day")
        assert (note in result.output) == noted, result.output


def test_factors_pasted_as_a_new_entry_are_named_as_such(shop_files, tmp_path):
    """`bidopt factors` prints `- name: burst` and the factors to add to burst's entry;
    pasted below the calendar as an entry of its own, validate says so instead of
    'calendar.1.start is required'."""
    from conftest import write_config

    phases = [{"name": "burst", "start": "11-11", "end": "11-11", "roi_floor": 1.2},
              {"name": "burst", "traffic_factor": 2.1, "conversion_factor": 2.16}]
    config = write_config(tmp_path, shop_files, calendar=phases)
    result = CliRunner().invoke(cli, ["validate", "--config", str(config)])
    assert result.exit_code == 4, result.output
    assert ("calendar phase 'burst' is listed again, without start and end: add its other "
            "lines (conversion_factor, traffic_factor) to its first entry") in result.output, \
        result.output  # (the test's YAML writer sorts the keys)


def test_factors_of_a_config_without_sources_warn_that_they_are_the_sample_shop_s(tmp_path):
    """configs/double11.yaml names no reports: `bidopt factors --config double11.yaml`
    without --reports measures the bundled sample shop, and says so as validate and run
    do, rather than print factors that look like the shop's."""
    from bidopt.loop import SAMPLE_NOTE

    double11 = Path(__file__).resolve().parents[1] / "configs" / "double11.yaml"
    result = CliRunner().invoke(cli, ["factors", "--config", str(double11)])
    assert result.exit_code == 0, result.output
    assert f"warning: {SAMPLE_NOTE}" in result.output, result.output
