"""Names Excel would change when a reviewer opens the CSV: Taobao item IDs of 12 digits
(shown as 6.23457E+11) and IDs with leading zeros. The CSV keeps them exactly; the run
says which column has them and how to open it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from bidopt.cli import cli
from conftest import NIGHT, write_config


def run_cli(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def with_item_ids(files: dict[str, Path], folder: Path) -> tuple[dict[str, Path], dict]:
    """The simulated shop with its items named by numeric IDs, as ZTC's 宝贝ID column gives
    them: 12 digits, or with leading zeros."""
    items = pd.read_csv(files["items"], dtype=str)["item"]
    ids = {item: (str(623456789012 + 7919 * i) if i % 2 else f"00{4711 + i}")
           for i, item in enumerate(items)}
    out = {}
    for name, path in files.items():
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if "item" in frame:
            frame["item"] = frame["item"].map(lambda v: ids.get(v, v))
        out[name] = folder / path.name
        frame.to_csv(out[name], index=False)
    return out, ids


def test_numeric_item_ids_are_kept_and_the_run_says_how_excel_shows_them(shop_files,
                                                                         tmp_path):
    files, ids = with_item_ids(shop_files, tmp_path)
    config = write_config(tmp_path, files)
    out = tmp_path / "recs.csv"
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out))
    assert result.exit_code == 0, result.output
    recs = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert set(recs["item"]) <= set(ids.values()) | {"all", ""}
    assert recs["item"].str.startswith("00").any()
    note = next(line for line in result.output.splitlines() if line.startswith("note: item"))
    assert "6.23457E+11" in note and "Data > From Text/CSV" in note
    changed = int(recs["item"].str.fullmatch(r"0\d+|\d{12,}").sum())
    assert f"({changed:,} rows)" in note
    # --quiet prints the notes on stderr; a dry run writes no CSV and needs none
    quiet = CliRunner().invoke(cli, ["run", "--config", str(config), "--date", NIGHT,
                                     "--out", str(out), "--quiet"])
    assert "note: item names such as" in quiet.stderr
    dry = run_cli("run", "--config", str(config), "--date", NIGHT, "--dry-run")
    assert "note: item names" not in dry.output


def test_a_shop_with_text_names_gets_no_such_note(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files)
    result = run_cli("run", "--config", str(config), "--date", NIGHT,
                     "--out", str(tmp_path / "recs.csv"))
    assert result.exit_code == 0, result.output
    assert "numbers to Excel" not in result.output
