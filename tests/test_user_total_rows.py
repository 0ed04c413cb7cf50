"""ZTC total rows: 合计 under 推广计划 with the 日期 cell empty, or a total row (ZTC's or
an English export's) with the report's period as its date."""

from __future__ import annotations

from pathlib import Path

import pytest

from bidopt.io import normalise_table, read_raw_table

HEADER = "日期,推广计划,推广单元,关键词,投放平台,出价,展现量,点击量,花费,成交笔数,成交金额"
ROWS = ["2026-11-23,计划A,宝贝1,连衣裙,无线,1.2,100,5,3.5,1,99",
        "2026-11-23,Total 计划,宝贝1,连衣裙,无线,0.9,80,4,2.5,0,0"]


def test_a_total_row_under_the_header_with_no_date_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "kw.csv"
    total = ",合计,,,,,180,9,6.0,1,99"
    path.write_text("\n".join([HEADER, total, *ROWS]) + "\n", encoding="gbk")
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert [p for p in problems if p.severity == "error"] == []
    assert "summary rows skipped (rows 2)" in [p.message for p in problems]
    # a campaign whose name starts like a total label, on a dated row, is data
    assert frame["campaign"].tolist() == ["计划A", "Total 计划"]
    assert frame["cost"].sum() == 6.0


PERIODS = ["2026-11-01~2026-11-14", "2026-11-01 至 2026-11-14", "2026-11-01 - 2026-11-14",
           "2026/11/01-2026/11/14", "2026-11-01 ～ 2026-11-14"]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
@pytest.mark.parametrize("period", PERIODS)
def test_a_total_row_dated_with_the_report_period_is_skipped(
        tmp_path: Path, period: str, encoding: str) -> None:
    """直通车 ends some exports with 合计 and the report's period as its 日期; read as data
    (2026-11-01 至 ... as 2026-11-01) it would count the period's spend twice."""
    path = tmp_path / "kw.csv"
    total = f"{period},合计,,,,,180,9,6.0,1,99"
    path.write_text("\n".join([HEADER, *ROWS, total]) + "\n", encoding=encoding)
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert [p for p in problems if p.severity == "error"] == []
    assert "summary rows skipped (rows 4)" in [p.message for p in problems]
    assert len(frame) == 2 and frame["cost"].sum() == 6.0


@pytest.mark.parametrize("footer", [
    "2026-11-01~2026-11-14,,,总计,,,180,9,6.0,1,99",           # the label under 关键词
    "2026-11-01 至 2026-11-14,汇总: 全部计划,,,,,180,9,6.0,1,99",
])
def test_a_period_row_with_a_total_label_in_any_cell_is_skipped(tmp_path: Path,
                                                                footer: str) -> None:
    path = tmp_path / "kw.csv"
    path.write_text("\n".join([HEADER, *ROWS, footer]) + "\n", encoding="gbk")
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert [p for p in problems if p.severity == "error"] == []
    assert "summary rows skipped (rows 4)" in [p.message for p in problems]
    assert len(frame) == 2


@pytest.mark.parametrize(("header", "data", "total"), [
    ("Campaign,Day,Keyword,Impr.,Clicks,Cost,Conversions,Conv. value",
     "Shoes,2026-11-01,running shoes,100,5,4.50,1,80",
     "Total: Account,2026-11-01 - 2026-11-14,,100,5,4.50,1,80"),
    ("Date,Campaign Name,Targeting,Impressions,Clicks,Spend,7 Day Total Orders (#),"
     "7 Day Total Sales",
     "11/13/2026,Shoes,running shoes,100,5,4.50,1,80",
     "11/01/2026 - 11/14/2026,Total,,100,5,4.50,1,80"),
    ("Date,Campaign Name,Targeting,Impressions,Clicks,Spend,7 Day Total Orders (#),"
     "7 Day Total Sales",
     "Nov 1 2026,Shoes,running shoes,100,5,4.50,1,80",
     '"Nov 1, 2026 - Nov 14, 2026",Total,,100,5,4.50,1,80'),
])
def test_an_english_total_with_a_period_is_skipped(tmp_path: Path, header: str, data: str,
                                                   total: str) -> None:
    path = tmp_path / "report.csv"
    path.write_text("\n".join([header, data, total]) + "\n", encoding="utf-8")
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert [p for p in problems if p.severity == "error"] == []
    assert "summary rows skipped (rows 3)" in [p.message for p in problems]
    assert len(frame) == 1 and frame["cost"].sum() == 4.5


@pytest.mark.parametrize("period", PERIODS)
def test_a_period_on_a_row_without_a_total_label_is_an_error(tmp_path: Path,
                                                              period: str) -> None:
    path = tmp_path / "kw.csv"
    row = f"{period},计划A,宝贝2,半身裙,无线,1.0,60,3,2.0,0,0"
    path.write_text("\n".join([HEADER, *ROWS, row]) + "\n", encoding="gbk")
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    (error,) = [p for p in problems if p.severity == "error"]
    assert (error.file, error.row, error.column) == (str(path), 4, "日期")
    assert error.message == f"'{period}' is a period, not one day"
    assert not any("summary rows" in p.message for p in problems)
