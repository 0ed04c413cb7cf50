"""End to end: the CLI on simulated shops, checked against the simulator's ground truth."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from bidopt.cli import cli
from bidopt.config import Optimiser
from bidopt.schema import RECOMMENDATION_COLUMNS
from conftest import NIGHT, report_paths, write_config


def run_cli(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def english_run(shop_files, tmp_path_factory):
    folder = tmp_path_factory.mktemp("run_en")
    config = write_config(folder, shop_files)
    out = folder / "recs.csv"
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out))
    return result, out


def read_recs(path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"hour": str})


def test_run_writes_the_documented_csv(english_run):
    result, out = english_run
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 BOM"
    recs = read_recs(out)
    assert list(recs.columns) == list(RECOMMENDATION_COLUMNS)
    assert len(recs) > 0
    assert (recs["date"] == NIGHT).all()
    assert set(recs["action"]) <= {"set_bid", "pause_keyword", "add_keyword"}
    assert recs["reason"].notna().all() and recs["strategy"].notna().all()


def test_bids_end_within_bounds_on_the_grid_within_the_nightly_limit(english_run):
    recs = read_recs(english_run[1])
    bids = recs[recs["action"] == "set_bid"]
    proposed = bids["proposed"].to_numpy(float)
    current = bids["current"].to_numpy(float)
    assert ((proposed >= 0.05) & (proposed <= 100)).all()
    assert np.allclose(np.round(proposed / 0.01) * 0.01, proposed, atol=1e-6)
    assert (np.abs(proposed - current) <= 0.30 * current + 1e-6).all()
    assert np.allclose(bids["change_pct"], (proposed - current) / current * 100, atol=0.051)


def test_expected_roi_matches_expected_gmv_and_cost(english_run):
    recs = read_recs(english_run[1])
    has_cost = recs["exp_cost"] >= 1  # the CSV rounds money to cents
    roi = recs.loc[has_cost, "exp_gmv"] / recs.loc[has_cost, "exp_cost"]
    assert np.allclose(recs.loc[has_cost, "exp_roi"], roi, rtol=0.01, atol=0.01)


def summary_rows(output: str) -> pd.DataFrame:
    """Parse the per-campaign table the run prints."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("campaign"))
    rows = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        parts = line.split()
        rows.append(parts)
        if parts[0] == "TOTAL":
            break
    return rows


def test_summary_reports_counts_and_holds_the_roi_floor(english_run, shop):
    result, out = english_run
    recs = read_recs(out)
    text = result.output
    n_keywords = shop.keyword_report[["campaign", "item", "keyword", "platform"]].drop_duplicates().shape[0]
    assert f"{n_keywords:,} keyword x platform" in text
    assert f"({len(recs):,} rows)" in text
    rows = summary_rows(text)
    campaigns = [r for r in rows if r[0] != "TOTAL"]
    total = next(r for r in rows if r[0] == "TOTAL")
    assert int(total[2]) == len(recs)  # actions column
    assert sum(int(r[2]) for r in campaigns) == len(recs)
    confidence = Optimiser().floor_confidence
    for r in campaigns:
        roi_after, floor, planned = float(r[8]), float(r[9]), float(r[10])
        roi_before = float(r[7])
        # The plan never takes a campaign below its floor (unless it started below it).
        assert roi_after >= min(floor, roi_before) - 0.01
        # each floor is planned at least roi_margin_pct above it
        assert planned >= floor * (1 + Optimiser().roi_margin_pct / 100) - 0.005
    # every campaign says which limit holds it back, if any
    assert "held by" in text
    held = {r[12] if len(r) > 12 else "" for r in campaigns}
    assert held <= {"", "floor", "budget", "floor+budget"}
    assert held & {"floor", "floor+budget"}, "at floor 2.0 with no budget the floor should bind somewhere"
    # ... and the legend says the limits are met with the default margins
    assert "held by: the limit as the plan meets it" in text
    words = " ".join(text.split())  # the legend is wrapped
    margin = Optimiser().added_spend_margin_pct
    assert f"where the spend a keyword adds counts {margin:g}% more" in words
    assert "of the budget" not in words, "no budget is set: its margin is not named"
    assert f"so that the floor holds with probability {confidence:g}" in words


def test_recommendations_move_bids_in_the_right_direction_on_the_truth(english_run, shop):
    """Raised keywords truly earn above the planned floor (the floor 2.0 plus the default
    margin); lowered ones truly earn below it."""
    recs = read_recs(english_run[1])
    bids = recs[recs["action"] == "set_bid"]
    keys = ["campaign", "item", "keyword", "platform"]
    truth = shop.market.expected(bids[keys].assign(bid=bids["current"]))
    merged = bids.merge(truth[[*keys, "cost", "gmv"]], on=keys, suffixes=("", "_truth"))
    up = merged[merged["proposed"] > merged["current"]]
    down = merged[merged["proposed"] < merged["current"]]
    assert len(up) > 5 and len(down) > 5
    roi_up = up["gmv"].sum() / up["cost"].sum()
    roi_down = down["gmv"].sum() / down["cost"].sum()
    planned_floor = 2.0 * (1 + Optimiser().roi_margin_pct / 100)
    assert roi_up > planned_floor > roi_down


def test_chinese_gbk_exports_give_the_same_plan(english_run, shop_files_chinese, tmp_path):
    config = write_config(tmp_path, None)
    out = tmp_path / "recs.csv"
    files = shop_files_chinese
    result = run_cli(
        "run", "--config", str(config), "--date", NIGHT, "--out", str(out),
        *[arg for p in report_paths(files) for arg in ("--reports", p)],
        "--items", str(files["items"]), "--candidates", str(files["candidates"]),
    )
    assert result.exit_code == 0, result.output
    english = read_recs(english_run[1])
    chinese = read_recs(out)
    pd.testing.assert_frame_equal(english, chinese)


def test_dry_run_writes_nothing(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files)
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run: nothing written" in result.output
    assert not list(tmp_path.glob("*.csv"))


def test_default_output_is_named_by_date_next_to_the_config(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files)
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--quiet")
    assert result.exit_code == 0, result.output
    expected = tmp_path / f"recommendations-{NIGHT}.csv"
    assert expected.exists()
    assert result.output.strip() == str(expected)


def test_quiet_still_prints_the_warnings(shop_files, tmp_path):
    """--quiet keeps errors, warnings (the notes) and the output path: a nightly job run -q on
    reports three days old must see that, on stderr, while stdout stays the path alone."""
    config = write_config(tmp_path, shop_files)
    result = run_cli("run", "--config", str(config), "--date", "2026-11-28", "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(tmp_path / "recommendations-2026-11-28.csv")
    assert ("note: the latest report day is 2026-11-24, 4 days before the planned night "
            "2026-11-28") in result.stderr


def test_out_may_be_a_folder(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files)
    folder = tmp_path / "nightly"
    folder.mkdir()
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", str(folder), "-q")
    assert result.exit_code == 0, result.output
    assert (folder / f"recommendations-{NIGHT}.csv").exists()


@pytest.mark.parametrize("spelling", ["new/", "new"])
def test_out_may_be_a_folder_not_made_yet(shop_files, tmp_path, spelling):
    """``--out nightly/`` (as the README shows) or ``--out nightly`` makes the folder and
    writes the default name into it, rather than a file called 'nightly'."""
    config = write_config(tmp_path, shop_files)
    out = str(tmp_path / "a") + "/" + spelling
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", out, "-q")
    assert result.exit_code == 0, result.output
    written = tmp_path / "a" / "new" / f"recommendations-{NIGHT}.csv"
    assert written.is_file()
    assert result.output.strip() == str(written)


def test_planning_a_night_again_says_it_replaced_the_plan(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files)
    out = tmp_path / "recs.csv"
    first = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out), "-q")
    assert first.exit_code == 0 and "replaced" not in first.output
    again = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out), "-q")
    assert again.exit_code == 0 and "note: replaced the plan written there at" in again.output


def test_a_folder_in_output_path_and_a_date_in_out_are_understood(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files, output={"path": "nightly/"})
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "nightly" / f"recommendations-{NIGHT}.csv").is_file()
    out = str(tmp_path / "plans" / "bids-{date}.csv")
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", out, "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "plans" / f"bids-{NIGHT}.csv").is_file()
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--date", NIGHT,
                                      "--out", "-"])
    assert result.exit_code == 7 and "not to standard output" in result.output
    assert not Path("-").exists()


def test_bundled_sample_runs_out_of_the_box(tmp_path):
    sample = Path(__file__).parent.parent / "configs" / "sample.yaml"
    out = tmp_path / "sample.csv"
    result = run_cli("run", "--config", str(sample), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert re.search(r"read [\d,]+ rows from 6 files", result.output)
    assert len(read_recs(out)) > 0


def test_calendar_phase_sets_the_floor_of_the_night(shop_files, tmp_path):
    calendar = [{"name": "afterglow", "start": "11-25", "end": "11-26", "roi_floor": 3.0}]
    config = write_config(tmp_path, shop_files, calendar=calendar)
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "calendar phase 'afterglow'" in result.output
    campaigns = [r for r in summary_rows(result.output) if r[0] != "TOTAL"]
    assert campaigns and all(float(r[9]) == 3.0 and float(r[10]) > 3.0 for r in campaigns)
    for r in campaigns:
        assert float(r[8]) >= min(3.0, float(r[7])) - 0.01


def test_a_warm_up_phase_names_its_weights_in_the_objective_line(shop_files, tmp_path):
    calendar = [{"name": "warm-up", "start": "11-25", "end": "11-25",
                 "objective": {"cart_weight": 1.0, "favorite_weight": 0.5}}]
    config = write_config(tmp_path, shop_files, calendar=calendar)
    out = tmp_path / "recs.csv"
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert ("objective (gmv + carts x1 + favourites x0.5 (as orders at the item price), "
            "net of 0.3 per change)") in result.output
    # the optimiser's reasons show the carts and favourites its moves buy, not GMV alone
    reasons = read_recs(out).query("strategy == 'optimiser'")["reason"]
    assert len(reasons) and reasons.str.contains(r"GMV, [+-]\d+\.\d+ carts, [+-]\d+\.\d+ "
                                                 r"favourites", regex=True).all()


def test_a_strategy_without_its_report_is_named_in_a_note(shop_files, tmp_path):
    """crowd_premium reads the crowd report: without it the run still plans, and says the
    strategy proposed nothing rather than leaving the user to wonder."""
    config = write_config(tmp_path, shop_files, strategies={"crowd_premium": {}, "roi_rule": {}})
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--dry-run",
                     "--reports", str(shop_files["keyword_report"]))
    assert result.exit_code == 0, result.output
    note = next(line for line in result.output.splitlines() if "proposed nothing" in line)
    assert "crowd_premium (no crowd report rows among the sources)" in note
    assert "roi_rule" not in note


def test_overrides_and_pins_that_match_nothing_are_named(shop, shop_files, tmp_path):
    """A misspelt campaign override or pinned keyword would otherwise do nothing, silently."""
    real = str(shop.keyword_report["campaign"].iloc[0])
    typo = real[:-1] + "X"
    pin = {"campaign": real, "item": "no-such-item", "keyword": "no such word", "bid": 1.0}
    config = write_config(tmp_path, shop_files,
                          constraints={"roi_floor": 2.0, "campaigns": {typo: {"roi_floor": 3.0}}},
                          bids={"pinned": [pin]})
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--dry-run")
    assert result.exit_code == 0, result.output
    assert (f"note: constraints.campaigns names '{typo}', which is not in the reports: its "
            f"limits apply to nothing; did you mean '{real}'?") in result.output
    assert "note: bids.pinned: no keyword 'no such word' of item 'no-such-item'" in result.output
    checked = run_cli("validate", "--config", str(config))
    assert checked.exit_code == 0 and f"names '{typo}'" in checked.output
    assert "warning: bids.pinned: no keyword 'no such word' of item 'no-such-item'" in (
        checked.output)  # validate and run agree


def test_a_pin_on_a_candidate_not_bought_says_so(shop, shop_files, tmp_path):
    """A pinned keyword that is in candidates.csv but not bought (and not added tonight) does
    nothing; the note must not claim it is missing from the candidates."""
    bought = set(zip(shop.keyword_report["item"], shop.keyword_report["keyword"],
                     strict=True))
    candidate = next(row for row in shop.candidates.itertuples()
                     if (row.item, row.keyword) not in bought)
    campaign = shop.items.set_index("item").loc[candidate.item, "campaign"]
    pin = {"campaign": campaign, "item": candidate.item, "keyword": candidate.keyword,
           "bid": 1.0}
    config = write_config(tmp_path, shop_files, strategies={"roi_rule": {}},
                          bids={"pinned": [pin]})
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--dry-run")
    assert result.exit_code == 0, result.output
    note = next(line for line in result.output.splitlines() if "bids.pinned" in line)
    assert "in the reports or candidates" not in note
    assert "is a keyword candidate not bought yet" in note


def test_a_misspelt_strategy_option_names_the_config_file(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files, strategies={"long_tail": {"max_add_per_item": 3}})
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--dry-run")
    assert result.exit_code == 4
    line = next(i for i, text in enumerate(config.read_text(encoding="utf-8").splitlines(), 1)
                if "max_add_per_item" in text)
    assert (f"{config}: line {line}: unknown key 'strategies.long_tail.max_add_per_item'; "
            "did you mean 'max_adds_per_item'?") in result.output


def test_a_shop_budget_is_planned_with_the_budget_margin_and_reported(shop_files, tmp_path):
    """The shop's budget is planned 15% below (no platform stops a shop's spend at it, as
    one stops a campaign's); the summary says what the plan spends against it and that it
    holds the plan back."""
    config = write_config(tmp_path, shop_files, constraints={"roi_floor": 2.0, "shop_budget": 300})
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--dry-run")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("shop budget"))
    match = re.fullmatch(r"shop budget 300\.00 \(planned to 255\.00\): cost after ([\d,.]+); "
                         r"held by the shop budget", line)
    assert match, line
    total = next(r for r in summary_rows(result.output) if r[0] == "TOTAL")
    assert match.group(1) == total[4]  # the TOTAL line's cost after
    assert float(total[4].replace(",", "")) <= 255.0


def test_report_days_on_or_after_the_planned_night_are_named(shop_files, tmp_path):
    """The reports end 2026-11-24 and the night planned is 2026-11-24 (a wrong --date, or a
    UTC server clock for a shop in China): the newest day is left out, and the run says so."""
    config = write_config(tmp_path, shop_files)
    result = run_cli("run", "--config", str(config), "--date", "2026-11-24", "--dry-run")
    assert result.exit_code == 0, result.output
    assert ("note: the reports hold 1 day on or after the planned night 2026-11-24 "
            "(2026-11-24 .. 2026-11-24), not used") in result.output
    tonight = run_cli("run", "--config", str(config), "--date", NIGHT, "--dry-run")
    assert "on or after the planned night" not in tonight.output


def test_a_partial_last_day_is_named_in_a_note(english_run, shop, tmp_path):
    """The newest day exported before its data was complete (a tenth of one campaign's
    rows): the plan would take it for a full day, and the run says so."""
    from bidopt.simulate import write_shop

    report = shop.keyword_report
    last = report["date"].max()
    campaign = report["campaign"].iloc[0]
    mine = (report["date"] == last) & (report["campaign"] == campaign)
    cut = report[~mine | (mine.cumsum() <= mine.sum() // 10)]
    files = write_shop(shop, tmp_path / "shop")
    cut.to_csv(files["keyword_report"], index=False)
    config = write_config(tmp_path, files)
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--dry-run")
    assert result.exit_code == 0, result.output
    note = next((line for line in result.output.splitlines() if "partial export" in line), "")
    assert f"the last report day {last.date()} holds less than half" in note
    assert f"'{campaign}'" in note
    assert "partial export" not in english_run[0].output  # the whole day: no note


def test_clicks_that_cost_nothing_do_not_break_the_price_fit(english_run, shop, tmp_path):
    """Refunded invalid clicks, or a cost rounded to 0.00, leave report rows with clicks and
    no cost. Three such rows once made the price fit take log(0) and the run crash; now they
    carry no price, and the plan is the same shop's plan."""
    from bidopt.simulate import write_shop

    report = shop.keyword_report.copy()
    free = report.index[report["clicks"] > 0][[10, 500, 2000]]
    report.loc[free, "cost"] = 0.0
    files = write_shop(shop, tmp_path / "shop")
    report.to_csv(files["keyword_report"], index=False)
    out = tmp_path / "recs.csv"
    result = run_cli("run", "--config", str(write_config(tmp_path, files)), "--date", NIGHT,
                     "--out", str(out))
    assert result.exit_code == 0, result.output
    plan = read_recs(out)
    for column in ("exp_cost", "exp_gmv"):
        assert np.isfinite(plan[column]).all()
    # the shop's expected cost and GMV after the plan (the rows moved can differ by a
    # keyword whose gain sits at the min_gain threshold, so their sums are not compared)
    after, before = (summary_rows(r.output)[-1] for r in (result, english_run[0]))
    for column in (4, 6):  # cost after, GMV after
        assert float(after[column].replace(",", "")) == pytest.approx(
            float(before[column].replace(",", "")), rel=0.03)


def test_a_shop_whose_reports_hold_no_orders_plans_without_noise(shop, tmp_path):
    """No orders at all (a new shop, or an export without its order columns filled): the run
    says so, prints no numpy warning, and its bound is not below its own plan (it once
    printed 'divide by zero encountered in log' and 'within -0.19% of the optimum')."""
    from bidopt.simulate import write_shop

    files = write_shop(shop, tmp_path / "shop")
    for name in ("keyword_report", "crowd_report", "region_report", "hour_report"):
        report = getattr(shop, name).assign(orders=0, gmv=0.0)
        report.to_csv(files[name], index=False)
    config = write_config(tmp_path, files)
    with warnings.catch_warnings():  # bidopt prints a RuntimeWarning as a warning line
        warnings.simplefilter("error", RuntimeWarning)
        result = run_cli("run", "--config", str(config), "--date", NIGHT, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "no orders in the window" in result.output
    line = next(x for x in result.output.splitlines() if x.startswith("objective"))
    objective, bound = (float(re.search(pattern, line)[1].replace(",", "")) for pattern in
                        (r"\): (-?[\d,]+\.\d+);", r"proven bound (-?[\d,]+\.\d+)"))
    assert bound >= objective, line


def test_a_short_history_is_named_in_a_note(shop, tmp_path):
    """Three report days where the config looks back 14: the run plans, and says so."""
    from bidopt.simulate import write_shop

    report = shop.keyword_report
    days = sorted(report["date"].unique())[-3:]
    files = write_shop(shop, tmp_path / "shop")
    report[report["date"].isin(days)].to_csv(files["keyword_report"], index=False)
    config = write_config(tmp_path, files)
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "note: the reports hold 3 of the 14 days the config looks back" in result.output


def test_a_shop_budget_below_the_pinned_spend_is_flagged_not_bounded(shop, shop_files, tmp_path):
    """A bid pinned high on the busiest keyword spends more than the whole shop may: every
    other keyword is paused, the line says the budget is not met, and no bound is claimed."""
    busiest = shop.keyword_report.groupby(["campaign", "item", "keyword", "platform"])["clicks"].sum()
    campaign, item, keyword, platform = busiest.idxmax()
    pin = {"campaign": campaign, "item": item, "keyword": keyword, "platform": platform, "bid": 20}
    config = write_config(tmp_path, shop_files, constraints={"roi_floor": 2.0, "shop_budget": 5},
                          bids={"pinned": [pin]})
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "shop budget 5.00 (planned to 4.25): cost after" in result.output
    assert "!! limit not met" in result.output
    assert "no proven bound: no plan meets the shop budget tonight" in result.output
    assert "nan" not in result.output.lower()


def test_long_campaign_names_keep_their_distinct_ends_in_the_table():
    from bidopt.summary import _cell, _width

    a, b = (f"T恤-日常推广-双十一预热期-全店通投-测试计划{x}" for x in "AB")
    cells = [_cell(a, 24), _cell(b, 24)]
    assert cells[0] != cells[1] and cells[0].rstrip().endswith("计划A")
    assert all(_width(c) == 24 for c in cells) and "~" in cells[0]
    assert _cell("外套-日常推广", 24).rstrip() == "外套-日常推广"


def test_overlapping_exports_count_each_day_once(english_run, shop, shop_files, tmp_path):
    """A nightly folder of 10-day exports that overlap, one of them downloaded twice: the
    plan is the plan of one clean report, and the overlap is named."""
    report = shop.keyword_report
    days = sorted(report["date"].unique())
    exports = tmp_path / "exports"
    exports.mkdir()
    for name, span in (("kw_a.csv", days[:10]), ("kw_b.csv", days[4:]), ("kw_b (1).csv", days[4:])):
        report[report["date"].isin(span)].to_csv(exports / name, index=False)
    others = [p for p in report_paths(shop_files) if not p.endswith("keyword_report.csv")]
    config = write_config(tmp_path, shop_files)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace(str(shop_files["keyword_report"]), "exports/kw_*.csv"),
                      encoding="utf-8")
    assert others and "exports/kw_*.csv" in config.read_text(encoding="utf-8")
    out = tmp_path / "recs.csv"
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert re.search(r"kw_a\.csv.*are also in .*kw_b", result.output.replace("\n", " "))
    assert out.read_bytes() == english_run[1].read_bytes()


def test_an_amazon_report_without_device_or_bid_plans_with_every_strategy(shop, shop_files, tmp_path):
    """Amazon Sponsored Products reports have no device split and no bid: keywords are
    platform 'all', strategies propose for them, and the inferred bids sit on the step grid
    so that no row is a mere rounding."""
    keys = ["date", "campaign", "item", "keyword"]
    report = shop.keyword_report.groupby(keys, as_index=False)[
        ["impressions", "clicks", "cost", "orders", "gmv"]].sum()
    amazon = pd.DataFrame({
        "Date": report["date"].dt.strftime("%b %d, %Y"), "Campaign Name": report["campaign"],
        "Ad Group Name": report["item"], "Targeting": report["keyword"],
        "Impressions": report["impressions"], "Clicks": report["clicks"],
        "Spend": report["cost"].map("${:,.2f}".format), "7 Day Total Orders (#)": report["orders"],
        "7 Day Total Sales": report["gmv"].map("${:,.2f}".format),
    })
    path = tmp_path / "Sponsored Products Search term report.csv"
    amazon.to_csv(path, index=False)
    config = write_config(tmp_path, None, sources={"reports": [str(path)],
                                                   "items": str(shop_files["items"]),
                                                   "candidates": str(shop_files["candidates"])},
                          strategies={"roi_rule": {}, "long_tail": {}, "top3_quality": {}})
    out = tmp_path / "recs.csv"
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "failed" not in result.output
    recs = read_recs(out)
    bids = recs[recs["action"] == "set_bid"]
    assert len(bids) and set(bids["platform"]) == {"all"}
    assert (bids["proposed"] != bids["current"]).all()
    np.testing.assert_allclose(bids["current"] * 100, np.round(bids["current"] * 100), atol=1e-6)
    assert {"roi_rule", "optimiser"} & set(bids["strategy"])
    words = " ".join(result.output.split())
    assert "top3_quality (no mobile keywords in the reports" in words, "it says why it is quiet"


def test_bids_outside_the_configured_bounds_are_named(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files,
                          bids={"mobile": {"min": 0.05, "max": 2.0, "step": 0.01}},
                          strategies={"roi_rule": {}, "crowd_premium": {}})
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--dry-run")
    assert result.exit_code == 0, result.output  # crowd_premium's base cuts stay in bounds
    assert re.search(r"note: \d+ keywords bid outside the config's bid bounds today", result.output)


def test_a_bid_below_the_platform_minimum_is_raised_to_it_in_plain_words(shop, shop_files,
                                                                          tmp_path):
    # the keyword report bids 0.02 where the platform takes no less than 0.05: the plan's
    # row raises the bid to 0.05 and says that is why, not roi_rule's "bid x0.80" (a cut it
    # cannot make) or "bid x1.20" (a raise to 0.024 the platform would not take either)
    report = shop.keyword_report.copy()
    mobile = report[report["platform"] == "mobile"]
    sums = mobile.groupby(["campaign", "item", "keyword"])[["clicks", "cost", "gmv"]].sum()
    roi = sums["gmv"] / sums["cost"]
    judged = sums["clicks"] >= 30
    cuts, raises = sums[judged & (roi < 1.5)].index[:2], sums[judged & (roi > 3)].index[:2]
    low = pd.MultiIndex.from_tuples([*cuts, *raises])
    assert len(low) == 4
    keys = pd.MultiIndex.from_frame(report[["campaign", "item", "keyword"]])
    report.loc[keys.isin(low) & (report["platform"] == "mobile"), "bid"] = 0.02
    files = dict(shop_files, keyword_report=tmp_path / "keyword_report.csv")
    report.to_csv(files["keyword_report"], index=False)
    config = write_config(tmp_path, files)
    out = tmp_path / "recs.csv"

    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out))
    assert result.exit_code == 0, result.output
    recs = read_recs(out)
    rows = recs[pd.MultiIndex.from_frame(recs[["campaign", "item", "keyword"]]).isin(low)
                & (recs["platform"] == "mobile")]
    assert len(rows) == 4
    assert (rows["action"] == "set_bid").all()
    assert rows[["current", "proposed"]].values.tolist() == [[0.02, 0.05]] * 4
    assert (rows["strategy"] == "bid_rules").all()
    assert set(rows["reason"]) == {"raised to the platform minimum 0.05 (bids.mobile.min): "
                                   "the keyword report's bid 0.02 is below it"}


def test_a_bid_above_the_platform_maximum_is_lowered_to_it_in_plain_words(shop_files, tmp_path):
    # a platform maximum of 1.00 below today's bids of some mobile keywords: a row that only
    # brings such a bid down to 1.00 says so, with the report's bid
    config = write_config(tmp_path, shop_files, bids={
        "mobile": {"min": 0.05, "max": 1.0, "step": 0.01}})
    out = tmp_path / "recs.csv"

    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out))
    assert result.exit_code == 0, result.output
    recs = read_recs(out)
    lowered = recs[(recs["platform"] == "mobile") & (recs["action"] == "set_bid")
                   & (recs["current"] > 1.0) & (recs["proposed"] == 1.0)]
    assert len(lowered) > 0
    assert (lowered["strategy"] == "bid_rules").all()
    assert lowered["reason"].tolist() == [
        f"lowered to the platform maximum 1 (bids.mobile.max): the keyword report's bid "
        f"{c:g} is above it" for c in lowered["current"]]

def test_a_campaign_without_orders_is_named_in_a_note(shop, tmp_path):
    from bidopt.simulate import write_shop

    files = write_shop(shop, tmp_path / "shop")
    report = shop.keyword_report.copy()
    campaign = report["campaign"].iloc[0]
    report.loc[report["campaign"] == campaign, ["orders", "gmv"]] = 0
    report.to_csv(files["keyword_report"], index=False)
    config = write_config(tmp_path, files)
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"note: no orders in the window for '{campaign}'" in result.output


def test_option_names_that_match_nothing_are_named(shop, shop_files, tmp_path):
    """A crowd misspelt in current_premiums, a keyword not bought, a campaign not in the
    reports: each would be ignored without a word."""
    campaign = shop.keyword_report["campaign"].iloc[0]
    config = write_config(tmp_path, shop_files, strategies={
        "crowd_premium": {"current_premiums": {"收藏加购人群x": 30}},
        "top3_quality": {"keywords": ["no such keyword"]},
        "region_exclusion": {"strongholds": {campaign + "?": ["北京"]}},
    })
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--dry-run")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert ("crowd_premium: crowd_premium.current_premiums names '收藏加购人群x', not in the "
            "reports: ignored") in text
    assert "top3_quality: top3_quality.keywords names 'no such keyword'" in text
    assert f"region_exclusion: region_exclusion.strongholds names '{campaign}?'" in text


def test_the_wrote_line_separates_rejected_rows_from_actions(shop_files, tmp_path):
    """With include_rejected the file holds more rows than the plan's actions; the summary
    says how many of each, so its counts agree with the file."""
    config = write_config(tmp_path, shop_files, output={"include_rejected": True})
    out = tmp_path / "recs.csv"
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out))
    assert result.exit_code == 0, result.output
    recs = read_recs(out)
    rejected = recs["reason"].str.contains("; rejected").sum()
    actions = len(recs) - rejected
    assert rejected > 0
    assert (f"({len(recs):,} rows: {actions:,} actions and {rejected:,} rejected proposals "
            "that change nothing)") in result.output
    total = next(r for r in summary_rows(result.output) if r[0] == "TOTAL")
    assert int(total[2]) == actions


def test_a_config_without_sources_names_the_sample_shop(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["init", "--roi-floor", "2", "--budget", "800",
                                 "--out", str(tmp_path / "acme.yaml")])
    assert result.exit_code == 0, result.output
    config = str(tmp_path / "acme.yaml")
    for command in (["validate"], ["run", "--dry-run"]):
        result = runner.invoke(cli, [*command, "--config", config, "--date", "2026-11-25"])
        assert result.exit_code == 0, result.output
        assert "bundled sample shop, simulated data" in result.output
        assert "set sources.reports" in result.output


def test_a_config_with_reports_says_nothing_of_the_sample(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files)
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--date", NIGHT,
                                      "--dry-run"])
    assert result.exit_code == 0 and "sample shop" not in result.output, result.output


def test_reports_without_a_bid_column_plan_at_the_spend_they_show(shop, shop_files, tmp_path):
    """Amazon's reports carry no bid. Each keyword's bid is then taken as 1.2 x its cost per
    click, and the model is fitted on that bid too: fitted without any bid, it forecast
    'cost before' at about half the reports' spend, and its plans broke most floors on truth.
    Judged here on the simulator's truth, with each move applied to the real bid as the
    ratio proposed / current, as a bulk upload of a relative change would."""
    keys = ["campaign", "item", "keyword", "platform"]
    report = pd.read_csv(shop_files["keyword_report"])
    no_bid = tmp_path / "keywords_no_bid.csv"
    report.drop(columns=["bid"]).to_csv(no_bid, index=False)
    config = write_config(tmp_path, None)
    out = tmp_path / "recs.csv"
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out),
                     "--reports", str(no_bid), "--items", str(shop_files["items"]))
    assert result.exit_code == 0, result.output
    assert "have no bid in the reports" in result.output
    spent = report.groupby("campaign")["cost"].sum() / report["date"].nunique()
    rows = [r for r in summary_rows(result.output) if r[0] != "TOTAL"]
    for row in rows:
        before = float(row[3].replace(",", ""))
        assert before == pytest.approx(spent[row[0]], rel=0.15), (row, spent[row[0]])
    recs = read_recs(out)
    real = report.sort_values("date").groupby(keys)["bid"].last()
    moved = recs[recs["action"] == "set_bid"].set_index(keys)
    ratio = (moved["proposed"] / moved["current"]).reindex(real.index).fillna(1.0)
    paused = recs[recs["action"] == "pause_keyword"][keys]
    planned = (real * ratio).rename("bid").reset_index()
    live = ~planned.set_index(keys).index.isin(paused.set_index(keys).index)
    truth = shop.market.expected(planned[live], paused_keywords=paused)
    roi = truth.groupby("campaign")["gmv"].sum() / truth.groupby("campaign")["cost"].sum()
    kept = shop.market.expected(real.reset_index())
    kept_roi = kept.groupby("campaign")["gmv"].sum() / kept.groupby("campaign")["cost"].sum()
    assert (roi >= np.minimum(2.0, kept_roi) * 0.995).all(), (roi, kept_roi)
    assert truth["gmv"].sum() > kept["gmv"].sum()


def _summary_block(output: str, start: str) -> str:
    """A wrapped summary paragraph that begins with ``start``, joined into one line."""
    lines = output.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    block = [lines[first]]
    for line in lines[first + 1:]:
        if not line.startswith(" " * 9):
            break
        block.append(line.strip())
    return " ".join(block)


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def test_the_summary_separates_what_added_keywords_promise(shop, shop_files, tmp_path):
    """Added keywords are forecast from the candidates file's market figures, and that
    forecast errs by shop either way (0.55-1.7x the true GMV on simulated shops): the
    summary says how much of the after columns they take, as the CSV's add_keyword rows sum,
    and the shop's cost, GMV and ROI after without them."""
    config = write_config(tmp_path, shop_files, strategies={"long_tail": {}})
    out = tmp_path / "recs.csv"
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out))
    assert result.exit_code == 0, result.output
    recs = read_recs(out)
    added = recs[recs["action"] == "add_keyword"]
    assert len(added) > 10
    text = _summary_block(result.output, "of the after columns")
    match = re.match(r"of the after columns, ([\d,]+) added keywords \(not bought yet\) take "
                     r"cost ([\d,.]+) and GMV ([\d,.]+); without them the shop's cost after is "
                     r"([\d,.]+), GMV after ([\d,.]+), ROI after ([\d.]+)\. ", text)
    assert match, text
    count, cost, gmv, rest_cost, rest_gmv, rest_roi = match.groups()
    assert int(count.replace(",", "")) == len(added)
    # re-derived from the CSV: the rows' expected effects (an add's d_* is its forecast)
    assert _number(cost) == pytest.approx(added["d_cost"].sum(), abs=0.01 * len(added))
    assert _number(gmv) == pytest.approx(added["d_gmv"].sum(), abs=0.01 * len(added))
    total = next(r for r in summary_rows(result.output) if r[0] == "TOTAL")
    assert _number(rest_cost) == pytest.approx(_number(total[4]) - _number(cost), abs=0.02)
    assert _number(rest_gmv) == pytest.approx(_number(total[6]) - _number(gmv), abs=0.02)
    assert _number(rest_roi) == pytest.approx(_number(rest_gmv) / _number(rest_cost), abs=0.01)
    assert "errs either way by shop" in text
    # on the truth these keywords earn about what they were forecast to on this shop (their
    # forecast was 2.1x the true GMV when the market figures were calibrated on the bought
    # words with at least 5 clicks); the spread by shop is why the share is named
    truth = shop.market.expected(added_keywords=added[["item", "keyword", "platform"]].assign(
        bid=added["proposed"].to_numpy(float)))
    keys = ["item", "keyword", "platform"]
    true_gmv = truth.merge(added[keys].astype(str), on=keys)["gmv"].sum()
    assert 0.7 * true_gmv < added["exp_gmv"].sum() < 1.4 * true_gmv


def test_no_added_keywords_no_line(english_run):
    result, out = english_run
    assert (read_recs(out)["action"] != "add_keyword").all()
    assert "of the after columns" not in result.output


def test_the_bound_says_it_bounds_the_plan_on_its_own_forecast(english_run):
    """The gap printed is (bound - objective) / bound of the printed numbers, and the words
    say what it is the distance to: the best plan on this forecast and the planned limits,
    not what the night will earn (the forecast errs by far more than the gap)."""
    result, _ = english_run
    line = next(x for x in result.output.splitlines() if x.startswith("objective"))
    objective, bound, gap = (float(re.search(pattern, line)[1].replace(",", "")) for pattern in
                             (r"\): (-?[\d,]+\.\d+);", r"proven bound (-?[\d,]+\.\d+)",
                              r"within (-?[\d.]+)%"))
    assert bound >= objective
    assert gap == pytest.approx((bound - objective) / abs(bound) * 100, abs=0.006)
    assert re.search(r"proven bound [\d,]+\.\d\d \(on this forecast and the planned limits, "
                     r"the plan is within [\d.]+% of the best plan\)$", line), line
    assert "of the optimum" not in line
