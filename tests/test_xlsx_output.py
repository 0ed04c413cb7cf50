"""``output.format: xlsx``: the recommendations as an Excel workbook that keeps 12-digit and
zero-led IDs exact, holds the CSV's rows and values, is read back by ``bidopt applied``,
and is written as atomically as the CSV."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from click.testing import CliRunner
from xlsxwriter.exceptions import FileCreateError

from bidopt.cli import cli
from bidopt.errors import ExitCode, OutputError
from bidopt.io.workbook import write_recommendations_xlsx
from bidopt.io.writer import FORMULA_PREFIXES, write_recommendations_csv
from conftest import NIGHT, write_config
from test_review_excel import with_item_ids

STRATEGIES = {"roi_rule": {}, "long_tail": {}, "crowd_premium": {}, "region_exclusion": {}}
TEXT_COLUMNS = ["date", "campaign", "item", "keyword", "crowd", "region", "platform",
                "action", "strategy", "reason"]
WORKBOOK = f"recommendations-{NIGHT}.xlsx"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def shop_config(folder: Path, files: dict[str, Path], fmt: str) -> Path:
    """The shop's config in a folder of its own (its own state file), writing ``fmt`` to
    the default path."""
    folder.mkdir()
    # a floor that makes the plan pause keywords, so that pauses go through the workbook too
    return write_config(folder, files, strategies=STRATEGIES, constraints={"roi_floor": 2.5},
                        output={"format": fmt, "include_rejected": True})


@pytest.fixture(scope="module")
def both_runs(shop_files, tmp_path_factory):
    """One shop with numeric item IDs, planned once as CSV and once as a workbook."""
    root = tmp_path_factory.mktemp("xlsx")
    files, ids = with_item_ids(shop_files, root)
    runs = {}
    for fmt in ("csv", "xlsx"):
        config = shop_config(root / fmt, files, fmt)
        result = invoke("run", "--config", str(config), "--date", NIGHT)
        assert result.exit_code == 0, result.output
        runs[fmt] = config, result.output
    return runs, ids


def unescaped(text: str) -> str:
    """A CSV text cell as given: the CSV quotes names Excel would run as formulas."""
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def test_the_workbook_holds_the_csv_rows_with_the_ids_as_text(both_runs):
    runs, ids = both_runs
    (csv_config, csv_output), (xlsx_config, xlsx_output) = runs["csv"], runs["xlsx"]
    path = xlsx_config.parent / WORKBOOK  # the default name follows the format
    assert f"wrote {path}" in xlsx_output
    csv = pd.read_csv(csv_config.parent / f"recommendations-{NIGHT}.csv",
                      encoding="utf-8-sig", dtype=str, keep_default_na=False)

    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["recommendations"]
    sheet = book["recommendations"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:AA{len(csv) + 1}"
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == list(csv.columns)
    assert len(rows) == len(csv) + 1
    for cells, (_, expected) in zip(rows[1:], csv.iterrows(), strict=True):
        for cell, name in zip(cells, csv.columns, strict=True):
            text = expected[name]
            if text == "":
                assert cell.value is None, (cell.coordinate, cell.value)
            elif name in TEXT_COLUMNS:
                assert (cell.data_type, cell.value) == ("s", unescaped(text)), cell.coordinate
                assert cell.number_format == "@"
            else:
                assert cell.data_type == "n" and cell.value == float(text), cell.coordinate

    items = [row[2].value for row in rows[1:] if row[2].value is not None]
    assert set(items) <= set(ids.values()) | {"all"}  # a region or hour row of a campaign
    assert any(len(i) == 12 for i in items) and any(i.startswith("00") for i in items)
    first = next(row for row in rows[1:] if row[8].value == "set_bid")
    assert first[10].number_format == "0.00##" and first[15].number_format == "#,##0.00"
    assert all(book["recommendations"].column_dimensions[c].width > 0 for c in "ABCDN")

    # the CSV run names the way out of Excel's changes; the workbook run has none to report
    note = next(line for line in csv_output.splitlines() if line.startswith("note: item"))
    assert "output.format: xlsx" in note
    assert "numbers to Excel" not in xlsx_output


def test_applied_records_the_same_settings_from_the_workbook(both_runs):
    runs, ids = both_runs
    recorded = {}
    for fmt, (config, _) in runs.items():
        result = invoke("applied", "--config", str(config),
                        str(config.parent / f"recommendations-{NIGHT}.{fmt}"))
        assert result.exit_code == 0, result.output
        with sqlite3.connect(config.parent / "bidopt-state.sqlite") as con:
            recorded[fmt] = pd.read_sql_query(
                "SELECT kind, campaign, item, name, value, night FROM in_force "
                "ORDER BY kind, campaign, item, name", con)
    assert set(recorded["xlsx"]["kind"]) >= {"crowd_premium", "paused"}
    pd.testing.assert_frame_equal(recorded["xlsx"], recorded["csv"])
    premiums = recorded["xlsx"][recorded["xlsx"]["kind"] == "crowd_premium"]
    assert set(premiums["item"]) <= set(ids.values())


def test_a_failed_write_leaves_no_file_and_keeps_the_last_good_one(shop_files, tmp_path,
                                                                   monkeypatch):
    """A disk that fills while the workbook is written: exit 7, no half file, no temporary
    file, and the workbook written before stays as it was."""
    config = write_config(tmp_path, shop_files, output={"format": "xlsx"})
    out = tmp_path / WORKBOOK

    def fill_the_disk(self):
        Path(self.filename).write_bytes(b"PK\x03\x04 half a workbook")
        raise FileCreateError(OSError(28, "No space left on device"))

    scratch = tmp_path / "scratch"  # where the writer streams the sheet's rows
    scratch.mkdir()
    with monkeypatch.context() as patch:
        patch.setattr(xlsxwriter.Workbook, "close", fill_the_disk)
        patch.setattr(tempfile, "tempdir", str(scratch))
        failed = invoke("run", "--config", str(config), "--date", NIGHT)
    assert failed.exit_code == ExitCode.OUTPUT_FAILURE, failed.output
    assert f"cannot write {out}" in failed.output and "No space left" in failed.output
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))
    assert not list(scratch.iterdir())

    assert invoke("run", "--config", str(config), "--date", NIGHT).exit_code == 0
    good = out.read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(xlsxwriter.Workbook, "close", fill_the_disk)
        failed = invoke("run", "--config", str(config), "--date", NIGHT)
    assert failed.exit_code == ExitCode.OUTPUT_FAILURE, failed.output
    assert out.read_bytes() == good and not list(tmp_path.glob(".*.tmp"))


def test_a_workbook_is_never_named_csv(tmp_path):
    """A workbook named .csv opens in Excel as garbage: refused before any work, in the
    config (exit 4, with the name to use) and on the command line (exit 2)."""
    config = tmp_path / "shop.yaml"
    config.write_text("constraints: {roi_floor: 2.0}\n"
                      "output: {format: xlsx, path: 'plans/recs-{date}.csv'}\n", encoding="utf-8")
    result = invoke("validate", "--config", str(config))
    assert result.exit_code == ExitCode.BAD_CONFIG
    assert "name it plans/recs-{date}.xlsx" in result.output
    config.write_text("constraints: {roi_floor: 2.0}\noutput: {format: xlsx}\n", encoding="utf-8")
    result = invoke("run", "--config", str(config), "--date", NIGHT,
                    "--out", str(tmp_path / "recs.csv"))
    assert result.exit_code == 2 and "name it .xlsx" in result.output
    assert not list(tmp_path.glob("recs*"))


def test_names_that_look_like_formulas_stay_text(tmp_path):
    frame = pd.DataFrame({"campaign": ["=HYPERLINK(\"http://x\")", "007"],
                          "item": [623456789012, None], "proposed": [1.875, 0.5],
                          "exp_roi": [3.0, 9.0], "exp_cost": [1.0, 0.001]})
    path = tmp_path / "recs.xlsx"
    write_recommendations_xlsx(frame, path)
    sheet = openpyxl.load_workbook(path)["recommendations"]
    values = [[(c.data_type, c.value) for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values == [
        [("s", "=HYPERLINK(\"http://x\")"), ("s", "623456789012"), ("n", 1.875), ("n", 3),
         ("n", 1)],
        # exp_roi is left empty beside a spend that shows as 0.00, as in the CSV
        [("s", "007"), ("n", None), ("n", 0.5), ("n", None), ("n", 0)],
    ]
    with pytest.raises(OutputError, match="campaign 'a\\\\x07b' in row 2 holds a control"):
        write_recommendations_xlsx(frame.assign(campaign=["a\x07b", "b"]), path)


def test_hours_are_numbers_beside_rows_without_an_hour(tmp_path):
    """Hour discounts in a plan that also moves bids: the hours are numbers in the workbook
    (format 0) and the other rows' hour cells empty, as in the CSV."""
    frame = pd.DataFrame({"campaign": ["a", "a"], "hour": [float("nan"), 13.0],
                          "action": ["set_bid", "set_hour_discount"], "proposed": [1.2, 0.8]})
    path = tmp_path / "recs.xlsx"
    write_recommendations_xlsx(frame, path)
    sheet = openpyxl.load_workbook(path)["recommendations"]
    assert [(c.value, c.data_type) for c in sheet["B"][1:]] == [(None, "n"), (13, "n")]
    assert sheet["B3"].number_format == "0"
    write_recommendations_csv(frame, tmp_path / "recs.csv")
    csv = pd.read_csv(tmp_path / "recs.csv", encoding="utf-8-sig", dtype=str,
                      keep_default_na=False)
    assert csv["hour"].tolist() == ["", "13"]


def recorded_names(config: Path) -> pd.DataFrame:
    """The names `bidopt applied` recorded: settings in force and keyword changes."""
    with sqlite3.connect(config.parent / "bidopt-state.sqlite") as con:
        return pd.read_sql_query(
            "SELECT kind AS what, campaign, item, name FROM in_force UNION ALL "
            "SELECT action, campaign, item, keyword FROM planned ORDER BY 1, 2, 3, 4", con)


def test_names_that_read_like_excel_escapes_round_trip(shop_files, tmp_path):
    """A workbook stores text that reads _x0041_ as _x005F_x0041_ (its escaped underscore):
    XlsxWriter does in the cells of bidopt's workbook, Excel in its shared strings when a
    reviewer saves it. openpyxl decodes neither (it only drops x005F_ from shared strings),
    so `bidopt applied` recorded campaigns no report names (..._x005F_x0041_)."""
    files = {}
    for name, path in shop_files.items():
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if "campaign" in frame:
            frame["campaign"] = frame["campaign"] + " _x0041_ _x005F_"
        files[name] = tmp_path / path.name
        frame.to_csv(files[name], index=False)
    configs = {fmt: shop_config(tmp_path / fmt, files, fmt) for fmt in ("csv", "xlsx")}
    for config in configs.values():
        assert invoke("run", "--config", str(config), "--date", NIGHT).exit_code == 0
    plan = pd.read_csv(tmp_path / "csv" / f"recommendations-{NIGHT}.csv", encoding="utf-8-sig",
                       dtype=str, keep_default_na=False)
    # the plan as Excel saves it: every text in the shared strings, escaped there
    resaved = shop_config(tmp_path / "resaved", files, "xlsx").parent / "saved-by-excel.xlsx"
    with pd.ExcelWriter(resaved, engine="xlsxwriter") as book:
        plan.to_excel(book, sheet_name="recommendations", index=False)
    plans = {"csv": configs["csv"].parent / f"recommendations-{NIGHT}.csv",
             "xlsx": configs["xlsx"].parent / WORKBOOK, "resaved": resaved}
    recorded = {}
    for fmt, path in plans.items():
        config = path.parent / "shop.yaml"
        result = invoke("applied", "--config", str(config), str(path))
        assert result.exit_code == 0, result.output
        recorded[fmt] = recorded_names(config)
    names = set(recorded["csv"]["campaign"])
    assert names and all(name.endswith(" _x0041_ _x005F_") for name in names)
    pd.testing.assert_frame_equal(recorded["xlsx"], recorded["csv"])
    pd.testing.assert_frame_equal(recorded["resaved"], recorded["csv"])
