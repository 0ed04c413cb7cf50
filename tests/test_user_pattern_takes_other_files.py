"""A reports pattern (exports/*.csv) that also takes an items or candidates file the config
does not name."""

from __future__ import annotations

import shutil

from click.testing import CliRunner

from bidopt.cli import cli
from conftest import NIGHT, write_config


def test_items_and_candidates_files_taken_as_reports_are_named_once_each(shop_files, tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    for name in ("keyword_report", "items", "candidates"):
        shutil.copy(shop_files[name], exports / shop_files[name].name)
    config = write_config(tmp_path, None, sources={"reports": ["exports/*.csv"]})
    result = CliRunner().invoke(cli, ["validate", "--config", str(config), "--date", NIGHT])
    assert result.exit_code == 3, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 2, result.output
    items = next(line for line in lines if shop_files["items"].name in line)
    assert "looks like the items file" in items and "sources.items" in items
    candidates = next(line for line in lines if shop_files["candidates"].name in line)
    assert "looks like the candidates file" in candidates
    assert "required column" not in result.output
