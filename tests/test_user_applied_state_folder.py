"""`bidopt applied` with a state_file in a folder that does not exist yet."""

from __future__ import annotations

import sqlite3

from click.testing import CliRunner

from bidopt.cli import cli
from conftest import NIGHT, write_config


def test_applied_makes_the_state_file_s_folder(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files, state_file="state/acme.sqlite",
                          strategies={"roi_rule": {}})
    plan = tmp_path / "plan.csv"
    runner = CliRunner()
    result = runner.invoke(cli, ["run", "--config", str(config), "--date", NIGHT,
                                 "--out", str(plan), "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["applied", "--config", str(config), str(plan)])
    assert result.exit_code == 0, result.output
    state = tmp_path / "state" / "acme.sqlite"
    assert f"in {state}" in result.output
    with sqlite3.connect(state) as con:
        assert con.execute("SELECT COUNT(*) FROM planned").fetchone()[0] > 0
