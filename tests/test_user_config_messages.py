"""Config mistakes a shop operator makes, named with what to write instead."""

from __future__ import annotations

import pytest

from bidopt.config import parse_config
from bidopt.errors import ConfigError


@pytest.mark.parametrize("value", [True, False, 20])
def test_a_strategy_switched_on_or_off_with_a_flag_says_what_to_write(value) -> None:
    data = {"constraints": {"roi_floor": 2.0}, "strategies": {"pc_floor": value}}
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    (message,) = caught.value.messages
    assert "'strategies.pc_floor'" in message
    assert "'pc_floor: {}'" in message and "leave it out" in message
    assert "valid dictionary" not in message


def test_one_report_file_written_without_a_list_is_read(tmp_path) -> None:
    config = parse_config({"constraints": {"roi_floor": 2.0},
                           "sources": {"reports": "exports/kw_*.csv"}}, base_dir=tmp_path)
    assert [str(p) for p in config.sources.reports] == ["exports/kw_*.csv"]


def test_a_folder_given_as_the_config_is_named_as_a_folder(tmp_path) -> None:
    from bidopt.config import load_config

    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert "is a folder, not a config file" in str(caught.value)
    assert "Errno" not in str(caught.value)
