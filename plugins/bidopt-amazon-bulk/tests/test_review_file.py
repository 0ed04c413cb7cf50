"""An Amazon shop's night as its user runs it: `bidopt run` writes the bulk sheet to upload
and, beside it, bidopt's own recommendations (the review file), which `bidopt applied`
records after the upload; given the bulk sheet, `applied` names the review file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
import yaml
from bidopt.cli import cli
from bidopt.errors import ExitCode
from bidopt.schema import RECOMMENDATION_COLUMNS
from click.testing import CliRunner

from bidopt_amazon_bulk.bulk import BULK_COLUMNS, SHEET_NAME

NIGHT = "2026-11-25"
# the simulated shop has pc bids and crowd premiums, and no IDs file: the sheet says so
pytestmark = [pytest.mark.filterwarnings("ignore::bidopt_amazon_bulk.plugin.SkippedActions"),
              pytest.mark.filterwarnings("ignore::bidopt_amazon_bulk.plugin.MissingIds")]
STRATEGIES = {"roi_rule": {}, "long_tail": {}, "crowd_premium": {}}


def shop_config(folder: Path, shop: dict[str, Path], fmt: str, **output) -> Path:
    """A config for the simulated shop writing ``fmt`` to plans/bulk-{date}.<ext>, its
    state file in ``folder``."""
    suffix = ".xlsx" if fmt.endswith("xlsx") else ".csv"
    data = {"shop": "amazon-shop", "constraints": {"roi_floor": 2.0},
            "sources": {"reports": [str(p) for n, p in sorted(shop.items()) if
                                    n.endswith("report")],
                        "items": str(shop["items"]), "candidates": str(shop["candidates"])},
            "strategies": STRATEGIES,
            "output": {"format": fmt, "path": f"plans/bulk-{{date}}{suffix}", **output}}
    path = folder / "shop.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def bidopt(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("fmt", ["amazon_bulk_csv", "amazon_bulk_xlsx"])
def test_a_run_writes_the_bulk_sheet_and_its_review_file(bidopt_shop, tmp_path, fmt):
    config = shop_config(tmp_path, bidopt_shop, fmt)
    done = bidopt("run", "--config", str(config), "--date", NIGHT)
    assert done.exit_code == 0, done.output
    bulk = tmp_path / "plans" / (f"bulk-{NIGHT}.xlsx" if fmt.endswith("xlsx") else
                                 f"bulk-{NIGHT}.csv")
    review = tmp_path / "plans" / f"bulk-{NIGHT}.recommendations.csv"
    assert sorted(p.name for p in bulk.parent.iterdir()) == sorted([bulk.name, review.name])
    if fmt.endswith("xlsx"):
        assert pd.read_excel(bulk, sheet_name=None, dtype=str).keys() == {SHEET_NAME}
    else:
        assert tuple(pd.read_csv(bulk, dtype=str, encoding="utf-8-sig").columns) == BULK_COLUMNS
    recs = pd.read_csv(review, encoding="utf-8-sig", dtype=str)
    assert tuple(recs.columns) == (*RECOMMENDATION_COLUMNS, "in_upload_file")
    # which rows the sheet holds: every one marked yes is a row of the sheet, and the
    # crowd premiums and pc bids it cannot hold are marked no
    sheet = (pd.read_excel(bulk, dtype=str) if fmt.endswith("xlsx")
             else pd.read_csv(bulk, dtype=str, encoding="utf-8-sig"))
    assert (recs["in_upload_file"] == "yes").sum() == len(sheet) > 0
    outside = recs[recs["in_upload_file"] == "no"]
    assert set(outside["action"]) | {"set_crowd_premium"} == {"set_bid", "set_crowd_premium"}
    assert (outside.loc[outside["action"] == "set_bid", "platform"] == "pc").all()
    assert set(recs["date"]) == {NIGHT} and recs["reason"].notna().all()
    assert f"wrote {bulk} (output format {fmt})" in done.stdout
    assert f"wrote {review}, its review file ({len(recs):,} rows)" in done.stdout

    quiet = bidopt("run", "--config", str(config), "--date", NIGHT, "-q")
    assert quiet.exit_code == 0 and quiet.stdout == f"{bulk}\n", "-q: the file to upload"


def test_applied_records_the_review_file_and_names_it_for_the_bulk_sheet(bidopt_shop,
                                                                         tmp_path):
    config = shop_config(tmp_path, bidopt_shop, "amazon_bulk_csv")
    assert bidopt("run", "--config", str(config), "--date", NIGHT).exit_code == 0
    bulk = tmp_path / "plans" / f"bulk-{NIGHT}.csv"
    review = tmp_path / "plans" / f"bulk-{NIGHT}.recommendations.csv"
    state = tmp_path / "bidopt-state.sqlite"

    wrong = bidopt("applied", "--config", str(config), str(bulk))
    assert wrong.exit_code == ExitCode.BAD_INPUT, wrong.output
    assert (f"{bulk}: not a bidopt recommendations file (no column 'date'" in wrong.stderr
            and f"but a writer plugin's output: record its review file, which `bidopt run` "
                f"wrote beside it, instead: {review}" in wrong.stderr), wrong.stderr
    assert not state.exists(), "nothing recorded"

    done = bidopt("applied", "--config", str(config), str(review))
    assert done.exit_code == 0, done.output
    recs = pd.read_csv(review, encoding="utf-8-sig")
    uploaded = recs[recs["in_upload_file"] == "yes"]
    pauses = uploaded[(uploaded["action"] == "pause_keyword") & (uploaded["proposed"] == 0)]
    changes = uploaded[uploaded["action"].isin(["set_bid", "add_keyword", "pause_keyword"])]
    outside = recs[recs["in_upload_file"] == "no"]
    assert len(pauses) and len(changes)
    assert (recs["action"] == "set_crowd_premium").any(), "premiums the sheet cannot hold"
    # only what the sheet carried is in force: no crowd premium, no pc bid
    assert (f"recorded 0 crowd premiums, 0 hour discounts, 0 region settings, "
            f"{len(pauses):,} paused keywords from {review}") in done.stdout
    assert f"; {len(changes):,} keyword changes for the next runs" in done.stdout
    assert (f"note: {len(outside):,} rows marked in_upload_file: no (the writer plugin's file "
            "could not hold them) were not recorded") in done.stderr
    with sqlite3.connect(state) as con:
        paused = pd.read_sql_query("SELECT campaign, item FROM in_force WHERE kind = 'paused'",
                                   con)
        nights = con.execute("SELECT night, source FROM planned_night").fetchall()
    assert sorted(zip(paused["campaign"], paused["item"], strict=True)) == sorted(
        zip(pauses["campaign"], pauses["item"], strict=True))
    assert nights == [(NIGHT, str(review.resolve()))]

    again = bidopt("run", "--config", str(config), "--date", NIGHT)
    plural = "keywords" if len(pauses) > 1 else "keyword"
    assert f"note: {len(pauses)} {plural} recorded as paused (state file)" in again.stdout


def test_a_writer_failure_leaves_the_last_pair_as_it_was(bidopt_shop, tmp_path):
    """The second night's IDs file is not a bulk download: the plugin fails (exit 7), and
    neither the bulk sheet nor its review file of the last good run is replaced, nor a new
    one left."""
    config = shop_config(tmp_path, bidopt_shop, "amazon_bulk_csv")
    assert bidopt("run", "--config", str(config), "--date", NIGHT).exit_code == 0
    plans = tmp_path / "plans"
    good = {p.name: p.read_bytes() for p in plans.iterdir()}
    assert len(good) == 2

    wrong = tmp_path / "wrong-download.csv"
    wrong.write_text("Campaign,Clicks\nx,1\n", encoding="utf-8")
    broken = shop_config(tmp_path, bidopt_shop, "amazon_bulk_csv",
                         options={"amazon_ids": str(wrong)})
    failed = bidopt("run", "--config", str(broken), "--date", NIGHT)
    assert failed.exit_code == ExitCode.OUTPUT_FAILURE, failed.output
    assert "wrong-download.csv cannot be read" in failed.stderr
    assert {p.name: p.read_bytes() for p in plans.iterdir()} == good, "no file replaced or left"

    failed = bidopt("run", "--config", str(broken), "--date", "2026-11-26")
    assert failed.exit_code == ExitCode.OUTPUT_FAILURE, failed.output
    assert {p.name: p.read_bytes() for p in plans.iterdir()} == good, "no half pair of a night"


def test_a_missing_ids_file_and_a_wrong_match_type_stop_the_run_before_it_plans(
        bidopt_shop, tmp_path, monkeypatch):
    """A nightly run used to plan for minutes and then fail at the writer (exit 7) on an
    IDs file that was not there; validate said ok. Both now name it before any report is
    read, with a match type Amazon does not have."""
    monkeypatch.delenv("BIDOPT_AMAZON_BULK_IDS", raising=False)
    monkeypatch.chdir(tmp_path)
    config = shop_config(tmp_path, bidopt_shop, "amazon_bulk_xlsx",
                         options={"amazon_ids": "downloads/bulk.xlsx",
                                  "amazon_match_type": "exactly"})
    needles = ("downloads/bulk.xlsx does not exist", "'exactly' is not one of exact")
    for command in (["validate"], ["run", "-v"]):
        done = bidopt(*command, "--config", str(config), "--date", NIGHT)
        assert done.exit_code == ExitCode.BAD_CONFIG, done.output
        assert all(needle in done.output for needle in needles), done.output
        assert "reading" not in done.output  # stopped before the reports
    assert not (tmp_path / "plans").exists()
