"""The same report given twice: by a pattern and by its name, or by --reports twice."""

from __future__ import annotations

from click.testing import CliRunner

from bidopt.cli import cli
from conftest import NIGHT, write_config


def test_a_report_given_twice_is_read_once(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files)
    report = str(shop_files["keyword_report"])
    pattern = str(shop_files["keyword_report"].parent / "*_report.csv")
    runner = CliRunner()
    once = runner.invoke(cli, ["validate", "--config", str(config), "--date", NIGHT,
                               "--reports", pattern])
    twice = runner.invoke(cli, ["validate", "--config", str(config), "--date", NIGHT,
                                "--reports", pattern, "--reports", report])
    assert once.exit_code == twice.exit_code == 0, twice.output
    assert "are also in" not in twice.output
    summary = [line for line in twice.output.splitlines() if line.startswith("ok:")]
    assert summary == [line for line in once.output.splitlines() if line.startswith("ok:")]
