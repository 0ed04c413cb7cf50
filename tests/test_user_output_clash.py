"""--out (or output.path) naming the config itself or its state file."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bidopt.cli import cli
from conftest import NIGHT, write_config


@pytest.mark.parametrize("name, says", [("shop.yaml", "is the config of this run"),
                                        ("bidopt-state.sqlite", "is the config's state_file")])
def test_the_plan_is_not_written_over_the_config_or_its_state(shop_files, tmp_path, name, says):
    config = write_config(tmp_path, shop_files, strategies={"roi_rule": {}})
    target = tmp_path / name
    target.write_bytes(before := (config.read_bytes() if name == "shop.yaml" else b"state"))
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--date", NIGHT,
                                      "--out", str(target), "-q"])
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert target.read_bytes() == before


def test_output_path_naming_the_config_is_a_config_error(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files, output={"path": "shop.yaml"})
    before = config.read_bytes()
    for command in ("run", "validate"):
        result = CliRunner().invoke(cli, [command, "--config", str(config), "--date", NIGHT])
        assert result.exit_code == 4, result.output
        assert "is the config of this run" in result.output
    assert config.read_bytes() == before
