"""A workbook with one sheet per platform, each ending in its own 合计 row."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from bidopt.io import normalise_table, read_raw_table

HEADER = ["日期", "推广计划", "推广单元", "关键词", "投放平台", "出价", "展现量", "点击量", "花费",
          "成交笔数", "成交金额"]


def test_summary_rows_skipped_on_several_sheets_name_their_sheets(tmp_path: Path) -> None:
    path = tmp_path / "kw.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["本报表由直通车导出"])
    for platform in ["无线", "计算机"]:
        sheet = book.create_sheet(platform)
        sheet.append(["关键词报表"])
        sheet.append(HEADER)
        sheet.append(["2026-11-23", "计划A", "宝贝1", "连衣裙", platform, 1.2, 100, 5, 3.5, 1, 99])
        sheet.append(["合计", "", "", "", "", "", 100, 5, 3.5, 1, 99])
    book.save(path)
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert len(frame) == 2 and frame["cost"].sum() == 7.0
    (warning,) = [p for p in problems if "summary rows" in p.message]
    assert "4 on sheet '无线'" in warning.message
    assert "4 on sheet '计算机'" in warning.message


def test_sheets_holding_another_report_are_named_as_not_read(tmp_path: Path) -> None:
    path = tmp_path / "reports.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "关键词"
    book.active.append(HEADER)
    book.active.append(["2026-11-23", "计划A", "宝贝1", "连衣裙", "无线", 1.2, 100, 5, 3.5, 1, 99])
    crowd = book.create_sheet("人群")
    crowd.append(["日期", "推广计划", "推广单元", "人群", "展现量", "点击量", "花费", "成交笔数",
                  "成交金额"])
    crowd.append(["2026-11-23", "计划A", "宝贝1", "女性25-34岁", 50, 2, 1.5, 0, 0])
    notes = book.create_sheet("说明")
    notes.append(["本报表由直通车导出"])
    book.save(path)
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert len(frame) == 1
    (warning,) = [p for p in problems if "not read" in p.message]
    assert warning.severity == "warning"
    assert "'人群'" in warning.message and "说明" not in warning.message
