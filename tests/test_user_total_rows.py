"""ZTC total rows with 合计 under 推广计划 and the 日期 cell empty."""

from __future__ import annotations

from pathlib import Path

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
