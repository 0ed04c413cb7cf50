"""Which of a user's headers give which canonical column, per kind of file.

One header can mean different things in different files: 点击率 (CTR) is a derived ratio to
ignore in a report but the market CTR in a keyword candidates file. So each kind gets its
own lookup built from ``COLUMN_ALIASES`` restricted to that kind's columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bidopt.errors import Problem
from bidopt.io.aliases import (
    ALIAS_SCALES,
    COLUMN_ALIASES,
    DERIVED_COLUMNS,
    INFORMATIONAL_KEYS,
    PREFERRED_ALIASES,
    header_key,
)
from bidopt.schema import (
    CANDIDATE_COLUMNS,
    ITEM_COLUMNS,
    REPORT_COLUMNS,
    REQUIRED_CANDIDATE_COLUMNS,
    REQUIRED_ITEM_COLUMNS,
    REQUIRED_REPORT_COLUMNS,
)

KIND_COLUMNS = {"report": REPORT_COLUMNS, "items": ITEM_COLUMNS, "candidates": CANDIDATE_COLUMNS}
KIND_REQUIRED = {
    "report": REQUIRED_REPORT_COLUMNS,
    "items": REQUIRED_ITEM_COLUMNS,
    "candidates": REQUIRED_CANDIDATE_COLUMNS,
}
MONEY_COLUMNS = frozenset({"cost", "gmv", "bid", "price", "unit_cost", "market_cpc"})
# Header suffixes that give the unit of a money column: 花费(分) is in hundredths.
UNIT_SUFFIXES = {"分": 0.01, "元": 1.0, "micros": 1e-6}
PERCENT_COLUMNS = frozenset({"market_ctr", "market_cvr"})
# Ignored columns that still shape the rows: match type, Amazon's search term, and an end
# date (a row spanning several days is not a daily report).
# (Google Ads names the keyword's match type "Search keyword match type" since the Search
# keyword rename.)
MATCH_TYPE_KEYS = frozenset({"matchtype", "criteriontype", "searchkeywordmatchtype"})
SEARCH_TERM_KEYS = frozenset({"customersearchterm", "searchterm"})
# Google Ads' search terms report: its "Match type" is how the search term matched
# ("Phrase match (close variant)"), not the keyword's match type, which that report does not
# give. Amazon's search term report ("Customer Search Term") gives the keyword's.
QUERY_MATCH_KEYS = frozenset({"searchterm"})
END_DATE_KEYS = frozenset({"enddate", "结束日期"})


@dataclass(frozen=True)
class SourceColumn:
    """Where a canonical column comes from in the user's file."""

    header: str  # the user's header text, for messages
    position: int
    scale: float = 1.0
    percent: bool = False


def _kind_lookup(kind: str) -> dict[str, tuple[str, int]]:
    """Header key -> (canonical, priority) for the columns this kind of file may hold."""
    lookup: dict[str, tuple[str, int]] = {}
    for canonical in KIND_COLUMNS[kind]:
        for name in PREFERRED_ALIASES.get(canonical, ()):
            lookup[header_key(name)] = (canonical, -1)
    for canonical in KIND_COLUMNS[kind]:
        for rank, name in enumerate((canonical, *COLUMN_ALIASES.get(canonical, ()))):
            lookup.setdefault(header_key(name), (canonical, rank))
    return lookup


_LOOKUPS = {kind: _kind_lookup(kind) for kind in KIND_COLUMNS}
_ALIAS_SCALES = {header_key(name): scale for name, scale in ALIAS_SCALES.items()}
_SILENT = {
    kind: (frozenset(header_key(h) for h in DERIVED_COLUMNS) | INFORMATIONAL_KEYS) - set(lookup)
    for kind, lookup in _LOOKUPS.items()
}


# Keyword Planner's searches of each month ("Searches: Nov 2025"): the average is read
_MONTHLY_SEARCHES = re.compile(r"^\s*Searches:\s", flags=re.IGNORECASE)


def map_headers(
    headers: list[str], kind: str, file: str
) -> tuple[dict[str, SourceColumn], list[Problem]]:
    """Match the user's headers to canonical columns of ``kind``; warn about the rest.

    When two headers mean one column (宝贝ID and 宝贝名称), the one listed first in
    ``COLUMN_ALIASES`` wins and the other is reported as ignored.
    """
    lookup = _LOOKUPS[kind]
    chosen: dict[str, tuple[int, SourceColumn]] = {}
    problems: list[Problem] = []
    ignored: list[tuple[str, str]] = []
    for position, header in enumerate(headers):
        key = header_key(header)
        match, scale = lookup.get(key), _ALIAS_SCALES.get(key, 1.0)
        if match is None:
            for suffix, unit in UNIT_SUFFIXES.items():
                base = lookup.get(key.removesuffix(suffix)) if key.endswith(suffix) else None
                if base is not None and base[0] in MONEY_COLUMNS:
                    match, scale = base, unit
                    break
        if match is None:
            if key and key not in _SILENT[kind] and not _MONTHLY_SEARCHES.match(header):
                ignored.append((header, "not a column bidopt uses"))
            continue
        canonical, rank = match
        source = SourceColumn(
            header=header,
            position=position,
            scale=scale,
            percent=canonical in PERCENT_COLUMNS and "%" in header,
        )
        if canonical in chosen:
            other_rank, other = chosen[canonical]
            if rank < other_rank:
                chosen[canonical] = (rank, source)
                ignored.append((other.header, f"'{header}' gives {canonical}"))
            else:
                ignored.append((header, f"'{other.header}' gives {canonical}"))
            continue
        chosen[canonical] = (rank, source)
    for header, why in ignored:
        problems.append(
            Problem(file=file, column=header, message=f"column ignored: {why}", severity="warning")
        )
    return {name: source for name, (_, source) in chosen.items()}, problems


def side_column(headers: list[str], keys: frozenset[str]) -> int | None:
    """Position of an ignored column that still matters (match type, search term)."""
    return next((i for i, h in enumerate(headers) if header_key(h) in keys), None)
