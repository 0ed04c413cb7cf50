"""A folder given where a file belongs (--reports exports)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bidopt.cli import cli
from conftest import NIGHT, write_config


@pytest.mark.parametrize(("option", "says"), [
    ("--reports", "is a folder, not a file (expected a file, or a pattern such as "),
    ("--items", "is a folder, not a file (expected the items file)"),
])
def test_a_folder_given_as_an_input_file_is_named_as_a_folder(shop_files, tmp_path, option,
                                                              says):
    (tmp_path / "exports").mkdir()
    config = write_config(tmp_path, shop_files)
    result = CliRunner().invoke(cli, ["validate", "--config", str(config), "--date", NIGHT,
                                      option, str(tmp_path / "exports")])
    assert result.exit_code == 3, result.output
    assert says in " ".join(result.output.split())
    assert "no reader for this file type" not in result.output
    if option == "--reports":
        assert "exports/*.csv" in result.output
