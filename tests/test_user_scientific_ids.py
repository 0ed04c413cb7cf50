"""宝贝ID / campaign IDs that Excel saved in scientific notation (6.23457E+11)."""

from __future__ import annotations

from pathlib import Path

from bidopt.io import normalise_table, read_raw_table

HEADER = "日期,推广计划,宝贝ID,关键词,投放平台,出价,展现量,点击量,花费,成交笔数,成交金额"


def test_ids_in_scientific_notation_are_named_before_the_duplicates_they_make(tmp_path: Path):
    path = tmp_path / "kw.csv"
    rows = ["2026-11-23,计划A,6.23457E+11,连衣裙,无线,1.2,100,5,3.5,1,99",
            "2026-11-23,计划A,6.23457E+11,连衣裙,无线,0.9,80,4,2.5,0,0",
            "2026-11-23,计划A,623456789999,连衣裙,无线,0.9,80,4,2.5,0,0"]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    _, problems = normalise_table(read_raw_table(path), "report", str(path))
    named = [p for p in problems if "scientific notation" in p.message]
    assert [(p.row, p.column, p.severity) for p in named] == [(2, "宝贝ID", "error"),
                                                              (3, "宝贝ID", "error")]
    assert "'6.23457E+11'" in named[0].message


def test_plain_ids_and_names_are_not_taken_for_scientific_notation(tmp_path: Path):
    path = tmp_path / "kw.csv"
    rows = ["2026-11-23,1E+10 计划,623456789012,连衣裙,无线,1.2,100,5,3.5,1,99",
            "2026-11-23,计划A,T恤-0001,2.5E+10,无线,1.2,100,5,3.5,1,99"]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    _, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert [p for p in problems if p.severity == "error"] == []
