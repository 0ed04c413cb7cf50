"""The recommendations CSV: BOM, column order, formula escaping, number formats, atomicity."""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bidopt.errors import OutputError
from bidopt.io import atomic_output, write_recommendations_csv
from bidopt.schema import RECOMMENDATION_COLUMNS


def recommendations() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-02", "2024-01-02", "2024-01-02"]),
            "campaign": ["计划A", "=cmd|' /C calc'!A0", "C"],
            "item": ["宝贝1", "@SUM(1)", None],
            "keyword": ["连衣裙", "-2+3", "+shoes"],
            "crowd": [None, None, None],
            "region": [None, None, "新疆"],
            "platform": ["mobile", "pc", None],
            "hour": [np.nan, np.nan, 7.0],
            "action": ["set_bid", "set_bid", "set_hour_discount"],
            "current": [1.234, 0.5, 100.0],
            "proposed": [1.5, 0.45, 80.0],
            "change_pct": [21.5559, -10.0, -20.0],
            "strategy": ["roi_rule", "roi_rule", "dayparting"],
            "reason": ["ROI 3.1 > 2.0", "\tleading tab", "low ROI at 7h"],
            "exp_clicks": [12.345, 3.0, np.nan],
            "exp_cost": [10.0 / 3, 1.0, np.nan],
            "exp_gmv": [99.999, 0.0, np.nan],
            "exp_roi": [2.98765, 0.0, np.nan],
            "d_clicks": [2.345, -1.0, np.nan],
            "d_cost": [10.0 / 3 - 2, -0.5, np.nan],
            "d_gmv": [49.999, -0.001, np.nan],
            "clicks_low": [5.0, 0.0, np.nan],
            "clicks_high": [21.0, 7.5, np.nan],
            "cost_low": [1.004, 0.0, np.nan],
            "cost_high": [7.0 / 3, 2.5, np.nan],
            "gmv_low": [0.0, 0.0, np.nan],
            "gmv_high": [180.456, 0.0, np.nan],
        }
    )
    return frame[list(RECOMMENDATION_COLUMNS)]


def read_back(path: Path, encoding: str = "utf-8-sig") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


def test_bom_column_order_and_formats(tmp_path: Path) -> None:
    path = tmp_path / "recs.csv"
    write_recommendations_csv(recommendations(), path)
    assert path.read_bytes().startswith(codecs.BOM_UTF8)
    rows = read_back(path)
    assert rows[0] == list(RECOMMENDATION_COLUMNS)
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["date"] == "2024-01-02"
    assert first["current"] == "1.234" and first["proposed"] == "1.50"  # bids as they are
    assert first["change_pct"] == "21.6"
    assert first["exp_cost"] == "3.33" and first["exp_gmv"] == "100.00"
    assert first["exp_clicks"] == "12.3"
    assert (first["d_clicks"], first["d_cost"], first["d_gmv"]) == ("2.3", "1.33", "50.00")
    second = dict(zip(rows[0], rows[2], strict=True))
    assert (second["d_cost"], second["d_gmv"]) == ("-0.50", "0.00")  # no "-0.00"
    # the ranges: clicks as exp_clicks, money to the cent; empty on a slice row
    assert [first[f"{n}_{e}"] for n in ("clicks", "cost", "gmv") for e in ("low", "high")] == [
        "5.0", "21.0", "1.00", "2.33", "0.00", "180.46"]
    assert (second["clicks_high"], second["gmv_high"]) == ("7.5", "0.00")
    assert first["crowd"] == "" and first["hour"] == ""
    third = dict(zip(rows[0], rows[3], strict=True))
    assert third["hour"] == "7"
    assert third["exp_roi"] == "" and third["item"] == "" and third["cost_low"] == ""


def test_formula_cells_escaped_but_negative_numbers_intact(tmp_path: Path) -> None:
    path = tmp_path / "recs.csv"
    write_recommendations_csv(recommendations(), path)
    rows = read_back(path)
    second = dict(zip(rows[0], rows[2], strict=True))
    assert second["campaign"] == "'=cmd|' /C calc'!A0"
    assert second["item"] == "'@SUM(1)"
    assert second["keyword"] == "'-2+3"
    assert second["reason"] == "'\tleading tab"
    assert second["change_pct"] == "-10.0"  # numeric column: a number, not text
    third = dict(zip(rows[0], rows[3], strict=True))
    assert third["keyword"] == "'+shoes" and third["change_pct"] == "-20.0"


def test_gbk_encoding_and_unencodable_text(tmp_path: Path) -> None:
    path = tmp_path / "recs.csv"
    write_recommendations_csv(recommendations(), path, encoding="gbk")
    assert not path.read_bytes().startswith(codecs.BOM_UTF8)
    assert read_back(path, "gbk")[1][1] == "计划A"
    frame = recommendations()
    frame.loc[0, "keyword"] = "emoji \U0001f600"
    with pytest.raises(OutputError, match="gbk"):
        write_recommendations_csv(frame, tmp_path / "bad.csv", encoding="gbk")


def test_object_columns_of_numbers_are_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame({"action": ["set_bid", "add_keyword"], "current": [-1.5, None]})
    frame["current"] = frame["current"].astype(object)
    path = tmp_path / "recs.csv"
    write_recommendations_csv(frame, path)
    assert read_back(path)[1:] == [["set_bid", "-1.50"], ["add_keyword", ""]]


def test_atomic_output_replaces_on_success(tmp_path: Path) -> None:
    target = tmp_path / "recs.csv"
    target.write_text("old", encoding="utf-8")
    with atomic_output(target) as temporary:
        assert temporary.parent == tmp_path and temporary != target
        write_recommendations_csv(recommendations(), temporary)
        assert target.read_text(encoding="utf-8") == "old"
    assert read_back(target)[0] == list(RECOMMENDATION_COLUMNS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recs.csv"]


def test_atomic_output_keeps_old_file_when_body_raises(tmp_path: Path) -> None:
    target = tmp_path / "recs.csv"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as temporary:
            temporary.write_text("half", encoding="utf-8")
            raise RuntimeError("writer failed")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recs.csv"]


def test_atomic_output_new_file_gets_normal_permissions(tmp_path: Path) -> None:
    target = tmp_path / "new.csv"
    with atomic_output(target) as temporary:
        temporary.write_text("x", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "x"
    assert target.stat().st_mode & 0o044  # readable by others, not mkstemp's 0600


def test_unencodable_text_names_its_column_row_and_how_many_rows(tmp_path: Path) -> None:
    """GBK cannot hold '€' or emoji: the message says where, so the name can be fixed."""
    frame = recommendations()
    frame.loc[1, "campaign"] = "外套€推广"
    frame.loc[2, "keyword"] = "连衣裙 \U0001f600"
    with pytest.raises(OutputError) as caught:
        write_recommendations_csv(frame, tmp_path / "bad.csv", encoding="gbk")
    message = str(caught.value)
    assert "cannot write '€' in encoding gbk" in message
    assert "(campaign '外套€推广' in row 3, and 1 more rows)" in message


def test_bids_keep_the_decimals_of_a_finer_step(tmp_path: Path) -> None:
    """With bids.step 0.005 the plan bids 1.875: two decimals would write another bid (off
    the grid, past the nightly limit when rounded up); a kept bid of 1.234 written as 1.23
    would change it on upload."""
    frame = pd.DataFrame({"action": ["set_bid"] * 3, "current": [1.234, 2.0, 0.1 + 0.2],
                          "proposed": [1.234, 1.875, 1.4850000000000001],
                          "exp_cost": [1.0 / 3, 0.006, 2.0]})
    path = tmp_path / "recs.csv"
    write_recommendations_csv(frame, path)
    assert read_back(path)[1:] == [["set_bid", "1.234", "1.234", "0.33"],
                                   ["set_bid", "2.00", "1.875", "0.01"],
                                   ["set_bid", "0.30", "1.485", "2.00"]]


def test_no_roi_is_shown_for_a_spend_that_shows_as_zero(tmp_path):
    """exp_cost 0.004 is written 0.00: an ROI of 5.0 beside it cannot be checked in Excel."""
    frame = pd.DataFrame({"keyword": ["a", "b"], "exp_cost": [0.004, 2.0],
                          "exp_gmv": [0.02, 6.0], "exp_roi": [5.0, 3.0]})
    path = tmp_path / "r.csv"
    write_recommendations_csv(frame, path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1:] == ["a,0.00,0.02,", "b,2.00,6.00,3.00"]


def test_a_quoted_formula_cell_reads_back_as_its_text():
    """`bidopt applied` reads back what the writer quoted: '+red +shoes is +red +shoes."""
    from bidopt.io.writer import escape_formula, unescape_formula

    names = pd.Series(["+red +shoes", "-sale", "=SUM(A1)", "@home", "plain", "'quoted"])
    assert unescape_formula(escape_formula(names)).tolist() == names.tolist()
