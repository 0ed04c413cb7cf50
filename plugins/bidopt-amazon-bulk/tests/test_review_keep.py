"""Rejected proposals listed with output.include_rejected (action 'keep') are not uploaded
and not reported as recommendations left out."""

from __future__ import annotations

import warnings

import pandas as pd

import bidopt_amazon_bulk.plugin as amazon_bulk
from bidopt_amazon_bulk.bulk import to_bulk_rows


def recs(*rows: dict) -> pd.DataFrame:
    base = {"campaign": "Shoes", "item": "Runners", "keyword": "running shoes",
            "platform": "mobile", "action": "set_bid", "current": 1.0, "proposed": 1.2}
    return pd.DataFrame([{**base, **row} for row in rows])


def test_keep_rows_are_left_out_without_a_warning(tmp_path):
    frame = recs(
        {"keyword": "trail shoes", "action": "keep", "current": 0.7, "proposed": 0.7},
        {"keyword": "barefoot shoes", "action": "keep", "current": 0.0, "proposed": 0.0},
        {"keyword": "road shoes", "current": 1.0, "proposed": 1.1},
    )
    sheet = to_bulk_rows(frame)
    assert sheet.rows["Keyword Text"].tolist() == ["road shoes"]
    assert sheet.skipped == {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", amazon_bulk.SkippedActions)
        warnings.simplefilter("ignore", amazon_bulk.MissingIds)
        amazon_bulk.bidopt_write_output(frame, tmp_path / "bulk.csv", "amazon_bulk_csv", {})
    written = pd.read_csv(tmp_path / "bulk.csv", dtype=str, encoding="utf-8-sig")
    assert written["Keyword Text"].tolist() == ["road shoes"]


def test_a_night_with_rejected_proposals_uploads_only_the_plan(bidopt_run, tmp_path):
    out = tmp_path / "bulk.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = bidopt_run(amazon_bulk, out=out,
                            output={"format": "amazon_bulk_csv", "include_rejected": True})
    recs_ = result.recommendations
    assert (recs_["action"] == "keep").any()
    sheet = pd.read_csv(out, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    taken = recs_[recs_["action"].isin(["set_bid", "pause_keyword", "add_keyword"])]
    written = set(zip(sheet["Campaign Name"], sheet["Ad Group Name"], sheet["Keyword Text"],
                      strict=True))
    assert written == set(zip(taken["campaign"], taken["item"], taken["keyword"], strict=True))
