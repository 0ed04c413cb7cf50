"""A config that names no input files plans the bundled sample shop: run and validate say so."""

from __future__ import annotations

from click.testing import CliRunner

from bidopt.cli import cli


def test_a_config_without_sources_names_the_sample_shop(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["init", "--roi-floor", "2", "--budget", "800",
                                 "--out", str(tmp_path / "acme.yaml")])
    assert result.exit_code == 0, result.output
    config = str(tmp_path / "acme.yaml")
    for command in (["validate"], ["run", "--dry-run"]):
        result = runner.invoke(cli, [*command, "--config", config, "--date", "2026-11-25"])
        assert result.exit_code == 0, result.output
        assert "bundled sample shop, simulated data" in result.output
        assert "set sources.reports" in result.output


def test_a_config_with_reports_says_nothing_of_the_sample(shop_files, tmp_path):
    from conftest import NIGHT, write_config

    config = write_config(tmp_path, shop_files)
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--date", NIGHT,
                                      "--dry-run"])
    assert result.exit_code == 0 and "sample shop" not in result.output, result.output
