"""A folder given where a file belongs (--reports exports)."""

from __future__ import annotations

from click.testing import CliRunner

from bidopt.cli import cli
from conftest import NIGHT, write_config


def test_a_folder_given_as_reports_is_named_as_a_folder(shop_files, tmp_path):
    (tmp_path / "exports").mkdir()
    config = write_config(tmp_path, shop_files)
    result = CliRunner().invoke(cli, ["validate", "--config", str(config), "--date", NIGHT,
                                      "--reports", str(tmp_path / "exports")])
    assert result.exit_code == 3, result.output
    assert "is a folder, not a file" in result.output
    assert "exports/*.csv" in result.output
    assert "no reader for this file type" not in result.output


def test_a_folder_given_as_items_is_named_as_a_folder(shop_files, tmp_path):
    (tmp_path / "items").mkdir()
    config = write_config(tmp_path, shop_files)
    result = CliRunner().invoke(cli, ["validate", "--config", str(config), "--date", NIGHT,
                                      "--items", str(tmp_path / "items")])
    assert result.exit_code == 3, result.output
    assert "is a folder, not a file (expected the items file)" in result.output
