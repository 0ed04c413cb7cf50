"""CSV rows with more values than the header: a delimiter at the end of every row, or a
value with the delimiter in it and no quotes (a Google Ads date written as Nov 20, 2026)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bidopt.errors import DataError
from bidopt.io import normalise_table, read_raw_table

HEADER = "date,campaign,item,keyword,platform,bid,impressions,clicks,cost,orders,gmv"
ROWS = [
    "2026-11-20,Campaign A,Item 1,red shoes,mobile,1.20,100,5,3.50,1,99.00",
    "2026-11-20,Campaign A,Item 1,red shoes,pc,0.05,10,0,0,0,0",
]


def test_a_delimiter_at_the_end_of_every_row_does_not_shift_the_columns(tmp_path: Path):
    path = tmp_path / "kw.csv"
    path.write_text("\n".join([HEADER, *(row + "," for row in ROWS)]) + "\n", encoding="utf-8")
    raw = read_raw_table(path)
    assert list(raw.columns) == HEADER.split(",")
    assert raw["date"].tolist() == ["2026-11-20"] * 2
    assert raw["campaign"].tolist() == ["Campaign A"] * 2
    frame, problems = normalise_table(raw, "report", str(path))
    assert [p for p in problems if p.severity == "error"] == []
    assert frame["cost"].tolist() == [3.5, 0.0]
    assert frame["platform"].tolist() == ["mobile", "pc"]


def test_a_value_holding_the_delimiter_unquoted_names_its_row(tmp_path: Path):
    path = tmp_path / "gads.csv"
    path.write_text(
        "Search keyword report\n"
        "Day,Campaign,Ad group,Search keyword,Impr.,Clicks,Cost,Conversions,Conv. value\n"
        "Nov 20, 2026,Brand,Shoes,running shoes,650,4,3.53,0.2,11.39\n"
        "Nov 21, 2026,Brand,Shoes,running shoes,610,3,2.53,0,0\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError) as caught:
        read_raw_table(path)
    problem = caught.value.problems[0]
    assert problem.row == 3
    assert "more values than the header" in problem.message
    assert "quote" in problem.expected
