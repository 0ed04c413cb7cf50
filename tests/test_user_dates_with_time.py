"""Slash and month-name dates with a time of day, as Excel writes date-time cells to CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bidopt.io import normalise_table, read_raw_table

HEADER = "date,campaign,item,keyword,platform,bid,impressions,clicks,cost,orders,gmv"


@pytest.mark.parametrize("dates", [
    ["11/20/2026 0:00", "11/21/2026 0:00"],
    ["20/11/2026 00:00:00", "21/11/2026 00:00:00"],
    ["Nov 20, 2026 12:00 AM", "Nov 21, 2026 12:00 AM"],
])
def test_a_time_after_the_date_is_dropped(tmp_path: Path, dates: list[str]) -> None:
    path = tmp_path / "kw.csv"
    rows = [f'"{d}",Campaign A,Item 1,red shoes,mobile,1.20,100,5,3.50,1,99.00' for d in dates]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert not [p for p in problems if p.severity == "error"], problems
    assert list(frame["date"]) == [pd.Timestamp("2026-11-20"), pd.Timestamp("2026-11-21")]


def test_an_undecided_order_with_a_time_is_named_as_undecided(tmp_path: Path) -> None:
    path = tmp_path / "kw.csv"
    rows = [f"12/{d}/2026 0:00,Campaign A,Item 1,red shoes,mobile,1.20,100,5,3.50,1,99.00"
            for d in (1, 2)]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    _, problems = normalise_table(read_raw_table(path), "report", str(path))
    errors = [p for p in problems if p.severity == "error"]
    assert len(errors) == 2
    assert all("could be month/day or day/month" in p.message for p in errors)
