"""Dates such as 12/1/2026 whose order no day above 12 shows."""

from __future__ import annotations

from pathlib import Path

from bidopt.io import normalise_table, read_raw_table

HEADER = "date,campaign,item,keyword,platform,bid,impressions,clicks,cost,orders,gmv"


def _report(tmp_path: Path, dates: list[str]) -> Path:
    path = tmp_path / "kw.csv"
    rows = [f"{d},Campaign A,Item 1,red shoes,mobile,1.20,100,5,3.50,1,99.00" for d in dates]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_an_undecided_day_order_is_named_with_the_setting_that_decides(tmp_path: Path):
    path = _report(tmp_path, [f"12/{day}/2026" for day in range(1, 6)])
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    errors = [p for p in problems if p.severity == "error"]
    assert [(p.row, p.column) for p in errors] == [(r, "date") for r in range(2, 7)]
    assert "'12/1/2026' could be month/day or day/month" in errors[0].message
    assert all("is not a date" not in p.message for p in errors)
    assert all("sources.date_order" in p.expected for p in errors)


def test_a_day_order_set_in_the_config_reads_them(tmp_path: Path) -> None:
    path = _report(tmp_path, [f"12/{day}/2026" for day in range(1, 3)])
    frame, problems = normalise_table(read_raw_table(path), "report", str(path),
                                      date_order="month_first")
    assert not [p for p in problems if p.severity == "error"]
    assert [d.day for d in frame["date"]] == [1, 2]


def test_other_bad_dates_are_still_named_as_not_dates(tmp_path: Path) -> None:
    path = _report(tmp_path, ["12/1/2026", "yesterday"])
    _, problems = normalise_table(read_raw_table(path), "report", str(path))
    messages = sorted(p.message for p in problems if p.severity == "error")
    assert len(messages) == 2
    assert "'yesterday' is not a date" in messages[1]
