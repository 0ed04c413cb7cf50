"""Messy account histories, as real 直通车 accounts export them: the CLI end to end on a
simulated shop's GBK reports, edited the way real accounts differ from a clean export."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from bidopt.cli import cli
from bidopt.config import load_config
from bidopt.loop import plan_night
from bidopt.plugins import build_registry, get_plugin_manager
from conftest import NIGHT, write_config

METRIC_HEADERS = ["展现量", "点击量", "花费", "成交笔数", "成交金额", "总购物车数", "收藏宝贝数"]


@pytest.fixture
def files(shop_files_chinese, tmp_path) -> dict[str, Path]:
    """A fresh copy of the simulated shop's Chinese (GBK) files, to edit."""
    folder = tmp_path / "shop"
    folder.mkdir()
    return {name: Path(shutil.copy(path, folder / path.name))
            for name, path in shop_files_chinese.items()}


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="gbk", dtype=str, keep_default_na=False)


def write(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, encoding="gbk", index=False)


def numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column])


def run(config: Path, *args: str):
    return CliRunner().invoke(cli, [*args, "--config", str(config), "--date", NIGHT],
                              catch_exceptions=False)


def plan(config: Path):
    registry = build_registry(get_plugin_manager(entry_points=False))
    return plan_night(load_config(config), registry, date=dt.date.fromisoformat(NIGHT))


def recommendations(config: Path) -> pd.DataFrame:
    return pd.read_csv(config.parent / f"recommendations-{NIGHT}.csv", encoding="utf-8-sig",
                       dtype={"hour": str})


def test_refunds_are_read_netted_with_a_warning(files, tmp_path):
    # 直通车 books a refund (退款) as negative orders and GMV on the day it is made: the
    # night must not stop on it, and the window's sums must net it
    path = files["keyword_report"]
    report = read(path)
    sold = report.index[numbers(report, "成交笔数") > 0][:2]
    report.loc[sold[0], ["成交笔数", "成交金额"]] = ["-1", "-120.50"]
    report.loc[sold[1], "成交金额"] = "-35.5"
    write(report, path)
    config = write_config(tmp_path, files)

    checked = run(config, "validate")
    assert checked.exit_code == 0, checked.output
    row = sold[0] + 2  # as a spreadsheet numbers it: the header is row 1
    assert (f"row {row}, column '成交金额': negative gmv -120.5: a refund" in checked.output)
    assert f"row {row}, column '成交笔数': negative orders -1: a refund" in checked.output
    result = run(config, "run")
    assert result.exit_code == 0, result.output

    used = plan(config).context.keywords.groupby("campaign")[["orders", "gmv"]].sum()
    expected = report.assign(orders=numbers(report, "成交笔数"), gmv=numbers(report, "成交金额")
                             ).groupby("推广计划")[["orders", "gmv"]].sum()
    pd.testing.assert_frame_equal(used, expected.rename_axis("campaign"), check_dtype=False)
