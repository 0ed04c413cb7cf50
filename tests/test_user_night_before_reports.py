"""A --date before every report day: run stops (exit 3); validate says so too."""

from __future__ import annotations

from click.testing import CliRunner

from bidopt.cli import cli
from conftest import write_config

EARLY = "2026-11-01"  # the shop's reports run 2026-11-11 .. 2026-11-24


def test_run_names_the_days_the_reports_hold(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files)
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--date", EARLY,
                                      "--dry-run"])
    assert result.exit_code == 3, result.output
    assert "no day before the planned night 2026-11-01" in result.output
    assert "2026-11-11 .. 2026-11-24" in result.output


def test_validate_on_that_night_fails_as_run_does(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files)
    for extra in ([], ["--allow-stale"]):
        result = CliRunner().invoke(cli, ["validate", "--config", str(config), "--date", EARLY,
                                          *extra])
        assert result.exit_code == 3, result.output
        assert "no day before the planned night 2026-11-01" in result.output
        assert "ok: config valid" not in result.output
