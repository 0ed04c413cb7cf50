"""Whole-column parsers and the derived-ratio cross-check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bidopt.io import normalise_table, read_raw_table
from bidopt.io.parsing import (
    date_ranges,
    parse_dates,
    parse_hours,
    parse_numbers,
    parse_platforms,
)


@settings(max_examples=200, deadline=None)
@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False),
    st.sampled_from(["", "¥", "￥", "$", "€", "£", "CNY "]),
)
def test_exported_money_round_trips(value, sign) -> None:
    text = f"{sign}{value:,.2f}"
    values, empty, bad = parse_numbers(pd.Series([text]))
    assert not bad[0] and not empty[0]
    assert values[0] == float(value)


def test_numbers_empty_bad_and_percent() -> None:
    values, empty, bad = parse_numbers(pd.Series(["12.5%", "(4.00)", "-", "", "abc", "1e3"]))
    np.testing.assert_allclose(values[[0, 1, 5]], [0.125, -4.0, 1000.0])
    assert empty.tolist() == [False, False, True, True, False, False]
    assert bad.tolist() == [False, False, False, False, True, False]


def test_dates_platforms_hours() -> None:
    dates, bad = parse_dates(pd.Series(["2024-01-05", "2024/1/5", "20240105", "45296", "x"]))
    assert pd.Series(dates[:4]).dt.strftime("%Y-%m-%d").tolist() == ["2024-01-05"] * 4
    assert bad.tolist() == [False, False, False, False, True]
    english, bad = parse_dates(pd.Series(["Nov 20, 2026", "November 3, 2026", "20 Nov 2026"]))
    assert pd.Series(english).dt.strftime("%Y-%m-%d").tolist() == [
        "2026-11-20", "2026-11-03", "2026-11-20"] and not bad.any()
    platforms, bad = parse_platforms(pd.Series(["无线", "计算机", "Mobile phones", "TV", ""]))
    assert platforms.tolist()[:3] == ["mobile", "pc", "mobile"] and platforms.iloc[4] == "all"
    assert bad.tolist() == [False, False, False, True, False]
    hours, bad = parse_hours(pd.Series(["0", "07", "7:00-8:00", "23", "24", "-1", "全部"]))
    assert hours.tolist() == ["0", "7", "7", "23", "", "", "all"]
    assert bad.tolist() == [False, False, False, False, True, True, False]
    # numbered 1..24 (24, no 0, most of the day): each hour named by its end
    day = [str(h) for h in range(1, 25)]
    hours, bad = parse_hours(pd.Series([*day, "24", "全部"]))
    assert hours.tolist() == [str(h) for h in range(24)] + ["23", "all"] and not bad.any()


def test_a_period_is_not_a_date() -> None:
    """Two dates with a mark between, as a total row's date holds the report's period: not
    read as its first day (the part after a space was dropped as a time)."""
    periods = ["2026-11-01~2026-11-14", "2026-11-01 至 2026-11-14", "2026-11-01 - 2026-11-14",
               "2026/11/01-2026/11/14", "2026-11-01-2026-11-14", "20261101-20261114",
               "2026年11月1日-2026年11月14日", "Nov 1, 2026 - Nov 14, 2026",
               "11/01/2026 to 11/02/2026", "2026-11-01 00:00:00 ~ 2026-11-14 23:59:59"]
    days = ["2026-11-01", "11-01-2026", "Nov 20, 2026 12:00 AM", "45292"]
    others = ["合计", "", "a~b", "1 - 2"]
    column = pd.Series(periods + days + others)
    assert date_ranges(column).tolist() == [True] * len(periods) + [False] * 8
    _, bad = parse_dates(column, "month_first")
    assert bad.tolist() == [True] * len(periods) + [False] * 4 + [True] * 4


def test_full_width_unit_headers(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "日期,推广计划,关键词,展现量,点击量,花费（元）,成交笔数,成交金额(分)\n"
        "2024-01-01,A,k,10,1,2.5,1,12345\n",
        encoding="utf-8",
    )
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert problems == []
    assert frame.loc[0, "cost"] == 2.5 and frame.loc[0, "gmv"] == 123.45


def test_ratio_columns_cross_checked_against_counts(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "日期,推广计划,关键词,展现量,点击量,花费,成交笔数,成交金额,投入产出比,点击率\n"
        "2024-01-01,A,k1,100,5,300,1,600,200,5%\n"  # cost exported in 分: ROI 2 reads 200
        "2024-01-01,A,k2,100,4,250,2,1000,400,4.00\n",  # CTR as a plain percent number: fine
        encoding="utf-8",
    )
    _, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert [(p.column, p.severity) for p in problems] == [("投入产出比", "warning")]
    assert "2 of 2 rows" in problems[0].message and "分" in problems[0].message


@pytest.mark.parametrize(("column", "expected"), [
    (["11/20/2026", "11/03/2026"], ["2026-11-20", "2026-11-03"]),  # 20 > 12: month first (US)
    (["20/11/2026", "03/11/2026"], ["2026-11-20", "2026-11-03"]),  # 20 > 12: day first
])
def test_slash_dates_are_read_when_the_column_shows_the_order(column, expected) -> None:
    dates, bad = parse_dates(pd.Series(column))
    assert pd.Series(dates).dt.strftime("%Y-%m-%d").tolist() == expected and not bad.any()


def test_slash_dates_that_never_show_the_order_are_not_guessed() -> None:
    _, bad = parse_dates(pd.Series(["11/10/2026", "10/11/2026"]))
    assert bad.all()


@pytest.mark.parametrize(("order", "expected"), [
    ("month_first", ["2026-11-10", "2026-10-11"]), ("day_first", ["2026-10-11", "2026-11-10"]),
])
def test_slash_dates_follow_the_configured_order(order, expected) -> None:
    dates, bad = parse_dates(pd.Series(["11/10/2026", "10/11/2026"]), order)
    assert pd.Series(dates).dt.strftime("%Y-%m-%d").tolist() == expected and not bad.any()
    _, bad = parse_dates(pd.Series(["20/11/2026"]), "month_first")
    assert bad.all(), "a day-first date in a month-first file is an error, not a guess"


def test_decimal_commas_are_read_where_the_column_writes_them() -> None:
    """A European spreadsheet writes 14,71 and 1.234,56: read as decimals, not 1471 and
    1.23456. Thousands separators (1,234) and dot decimals beside them stay as they are."""
    values, _, bad = parse_numbers(pd.Series(["14,71", "1.234,56", "0,5", "€3,20", "12,5 %"]))
    np.testing.assert_allclose(values, [14.71, 1234.56, 0.5, 3.2, 0.125])
    assert not bad.any()
    values, _, _ = parse_numbers(pd.Series(["1,234", "2,000,000", "1,234.5", "1,2", "$0.05"]))
    np.testing.assert_allclose(values, [1234.0, 2_000_000.0, 1234.5, 1.2, 0.05])


def test_currency_marks_after_a_decimal_comma_and_full_width_digits_are_read() -> None:
    """'38,09 €' (a German Amazon export) is 38.09, not 3809; 'US$', 'HK$' and 'CN¥' are
    currency marks; full-width digits (１２３) are digits."""
    values, _, bad = parse_numbers(pd.Series(
        ["38,09 €", "1.234,56 €", "12,50 元", "38,09 EUR", "US$1,234.50", "HK$ 12", "CN¥3.2",
         "１２３", "１，２３４．５"]))
    np.testing.assert_allclose(values, [38.09, 1234.56, 12.5, 38.09, 1234.5, 12.0, 3.2, 123.0,
                                        1234.5])
    assert not bad.any()


ENGLISH_HEADER = "date,campaign,item,keyword,platform,bid,impressions,clicks,cost,orders,gmv"


def _report(tmp_path: Path, dates: list[str]) -> Path:
    """A keyword report with one row on each of ``dates``."""
    path = tmp_path / "kw.csv"
    rows = [f'"{d}",Campaign A,Item 1,red shoes,mobile,1.20,100,5,3.50,1,99.00' for d in dates]
    path.write_text("\n".join([ENGLISH_HEADER, *rows]) + "\n", encoding="utf-8")
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


@pytest.mark.parametrize("dates", [
    ["11/20/2026 0:00", "11/21/2026 0:00"],
    ["20/11/2026 00:00:00", "21/11/2026 00:00:00"],
    ["Nov 20, 2026 12:00 AM", "Nov 21, 2026 12:00 AM"],
])
def test_a_time_after_the_date_is_dropped(tmp_path: Path, dates: list[str]) -> None:
    path = _report(tmp_path, dates)
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert not [p for p in problems if p.severity == "error"], problems
    assert list(frame["date"]) == [pd.Timestamp("2026-11-20"), pd.Timestamp("2026-11-21")]


def test_an_undecided_order_with_a_time_is_named_as_undecided(tmp_path: Path) -> None:
    path = _report(tmp_path, [f"12/{d}/2026 0:00" for d in (1, 2)])
    _, problems = normalise_table(read_raw_table(path), "report", str(path))
    errors = [p for p in problems if p.severity == "error"]
    assert len(errors) == 2
    assert all("could be month/day or day/month" in p.message for p in errors)


def test_dot_grouped_impressions_and_clicks_are_thousands(tmp_path: Path) -> None:
    path = tmp_path / "kw.csv"
    rows = ["21.11.2026;Kampagne A;Gruppe 1;laufschuhe;mobile;1,20;2.495;29;31,90;1;89,50",
            "21.11.2026;Kampagne A;Gruppe 1;wanderschuhe;mobile;0,80;1.234.567;1.002;1.234,56;3;"
            "240,00",
            "21.11.2026;Kampagne A;Gruppe 1;sandalen;mobile;0,50;812;4;2,10;0;0"]
    header = ENGLISH_HEADER.replace(",", ";")
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert [p for p in problems if p.severity == "error"] == []
    assert frame["impressions"].tolist() == [2495, 1234567, 812]
    assert frame["clicks"].tolist() == [29, 1002, 4]
    assert frame["cost"].tolist() == [31.9, 1234.56, 2.1]


def test_fractional_conversions_keep_their_dot(tmp_path: Path) -> None:
    path = tmp_path / "kw.csv"
    path.write_text("Day,Campaign,Ad group,Keyword,Impr.,Clicks,Cost,Conversions,Conv. value\n"
                    "2026-11-21,Brand,Shoes,running shoes,650,4,3.53,1.500,11.39\n",
                    encoding="utf-8")
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert [p for p in problems if p.severity == "error"] == []
    assert frame["orders"].tolist() == [1.5]
