"""European exports group thousands with dots: 1.234 impressions are 1234."""

from __future__ import annotations

from pathlib import Path

from bidopt.io import normalise_table, read_raw_table

HEADER = "date;campaign;item;keyword;platform;bid;impressions;clicks;cost;orders;gmv"


def test_dot_grouped_impressions_and_clicks_are_thousands(tmp_path: Path) -> None:
    path = tmp_path / "kw.csv"
    rows = ["21.11.2026;Kampagne A;Gruppe 1;laufschuhe;mobile;1,20;2.495;29;31,90;1;89,50",
            "21.11.2026;Kampagne A;Gruppe 1;wanderschuhe;mobile;0,80;1.234.567;1.002;1.234,56;3;"
            "240,00",
            "21.11.2026;Kampagne A;Gruppe 1;sandalen;mobile;0,50;812;4;2,10;0;0"]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
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
