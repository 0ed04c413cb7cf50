"""An items file whose items the keyword report does not name the same way."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from bidopt.cli import cli
from conftest import NIGHT, write_config


def _validate(tmp_path, shop_files, items: pd.DataFrame, report: pd.DataFrame | None = None):
    files = dict(shop_files)
    files["items"] = tmp_path / "items.csv"
    items.to_csv(files["items"], index=False)
    if report is not None:
        files["keyword_report"] = tmp_path / "kw.csv"
        report.to_csv(files["keyword_report"], index=False)
    config = write_config(tmp_path, files)
    return CliRunner().invoke(cli, ["validate", "--config", str(config), "--date", NIGHT])


def test_items_named_otherwise_than_in_the_report_are_a_warning(shop_files, tmp_path):
    items = pd.read_csv(shop_files["items"], dtype=str)
    items["item"] = [f"{623456789012 + i}" for i in range(len(items))]
    result = _validate(tmp_path, shop_files, items)
    assert result.exit_code == 0, result.output
    assert f"none of the {len(items)} items in the keyword report is in this file" in result.output
    assert "'623456789012'" in result.output


def test_ids_excel_wrote_in_scientific_notation_are_named(shop_files, tmp_path):
    items = pd.read_csv(shop_files["items"], dtype=str)
    report = pd.read_csv(shop_files["keyword_report"], dtype=str)
    ids = {item: 623456789012 + i * 1_000_000 for i, item in enumerate(items["item"])}
    items["item"] = items["item"].map(ids).astype(str)
    report["item"] = report["item"].map(lambda item: f"{ids[item]:.5E}")
    result = _validate(tmp_path, shop_files, items, report)
    assert result.exit_code == 3, result.output
    assert "is an ID that Excel showed in scientific notation" in result.output


def test_some_items_missing_from_the_items_file_are_counted(shop_files, tmp_path):
    items = pd.read_csv(shop_files["items"], dtype=str)
    result = _validate(tmp_path, shop_files, items.iloc[2:])
    assert result.exit_code == 0, result.output
    assert f"2 of the {len(items)} items in the keyword report are not in this file" in result.output


def test_a_matching_items_file_says_nothing(shop_files, tmp_path):
    items = pd.read_csv(shop_files["items"], dtype=str)
    result = _validate(tmp_path, shop_files, items)
    assert result.exit_code == 0 and "items in the keyword report" not in result.output


def test_candidates_for_items_the_report_does_not_hold_are_a_warning(shop_files, tmp_path):
    candidates = pd.read_csv(shop_files["candidates"], dtype=str)
    candidates["item"] = "sku-" + candidates["item"]
    files = dict(shop_files)
    files["candidates"] = tmp_path / "candidates.csv"
    candidates.to_csv(files["candidates"], index=False)
    config = write_config(tmp_path, files)
    result = CliRunner().invoke(cli, ["validate", "--config", str(config), "--date", NIGHT])
    assert result.exit_code == 0, result.output
    assert "items its candidates are for is in the keyword report" in result.output
    assert "no candidate keyword can be added" in result.output


def test_candidates_without_an_item_column_say_nothing(shop_files, tmp_path):
    candidates = pd.read_csv(shop_files["candidates"], dtype=str).drop(columns="item")
    files = dict(shop_files)
    files["candidates"] = tmp_path / "candidates.csv"
    candidates.drop_duplicates("keyword").to_csv(files["candidates"], index=False)
    config = write_config(tmp_path, files)
    result = CliRunner().invoke(cli, ["validate", "--config", str(config), "--date", NIGHT])
    assert result.exit_code == 0 and "candidates are for" not in result.output, result.output
