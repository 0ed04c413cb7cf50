"""Google Ads and Amazon exports as their UIs write them today (English headers)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bidopt.errors import Problem
from bidopt.io import normalise_table, read_raw_table


def load(tmp_path: Path, text: str, kind: str = "report", encoding: str = "utf-8"
         ) -> tuple[pd.DataFrame, list[Problem]]:
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode(encoding))
    return normalise_table(read_raw_table(path), kind, str(path))


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def test_google_search_keyword_layout_reads_match_type_and_max_cpc(tmp_path: Path) -> None:
    """The Search keyword report of the current Google Ads UI: one ad group may hold the
    same words in three match types, each with its own max CPC ("Keyword max CPC")."""
    text = (
        "Search keyword report\n"
        '"December 1, 2026 - December 3, 2026"\n'
        "Search keyword,Search keyword status,Search keyword match type,Campaign,Ad group,"
        "Currency code,Keyword max CPC,Day,Clicks,Impr.,Cost,Conversions,Conv. value\n"
        "running shoes,Enabled,Broad match,Shoes,Running,USD,1.20,2026-12-01,5,100,4.50,1.00,80.00\n"
        "running shoes,Enabled,Exact match,Shoes,Running,USD,1.50,2026-12-01,4,50,5.00,1.00,75.00\n"
        "running shoes,Enabled,Phrase match,Shoes,Running,USD,1.30,2026-12-01,1,20,0.90,0.00,0.00\n"
    )
    frame, problems = load(tmp_path, text)
    assert problems == []
    assert list(frame["keyword"]) == ["running shoes", "[running shoes]", '"running shoes"']
    assert list(frame["bid"]) == pytest.approx([1.20, 1.50, 1.30])
