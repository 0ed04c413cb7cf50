"""Whole-column parsers for cells as exports write them.

Each parser works on the distinct values of a column (a report of millions of rows holds
few distinct dates, platforms or click counts), then spreads the result back with the
factorize codes, so parsing costs one hash pass per column plus work per distinct value.
Every parser returns the parsed values and a mask of cells it could not parse; the caller
turns that mask into problems.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from bidopt.io.aliases import ALL_ALIASES, PLATFORM_ALIASES
from bidopt.schema import ALL

EMPTY_NUMBER_TEXT = frozenset({"", "-", "--", "—", "–"})  # "n/a" is an error, not a zero
# Currency marks of the marketplaces Google Ads and Amazon sell in: "CA$", "MX$", "R$",
# "S$", "₹", "4,50 kr", "4,50 zł", "AED 4.50" (ISO codes as some exports prefix them).
_CURRENCY = re.compile(r"(?:us|hk|cn|nt|au|ca|mx|nz|sg|a|c|r|s)?[$¥￥]|[\s\u00a0\u3000€£₹₺₩₽]"
                       r"|cny|rmb|usd|eur|gbp|cad|aud|mxn|brl|inr|jpy|sek|nok|dkk|pln|aed|sar"
                       r"|sgd|egp|kr\.?|zł|元", flags=re.IGNORECASE)
_NUMBER_NOISE = re.compile(r"[,'’]")
# Values no thousands separator can write: a comma before the last one or two digits
# ("14,71", "0,5 %") or a dot-grouped number with a comma decimal ("1.234,56").
_DECIMAL_COMMA = re.compile(r"^[^.,]*\d,\d{1,2}\s*[%)]?\s*$|\d\.\d{3},\d+\s*[%)]?\s*$")
_DOT_GROUPED = re.compile(r"^\d{1,3}(?:\.\d{3})+$")  # 1.234 or 12.345.678: thousands
_HOUR = re.compile(r"^(\d{1,2})(?:\.0+)?(?:\s*(?:[:：]\d{2}.*|[点时].*|h|hr))?$", re.IGNORECASE)
_EXCEL_SERIAL = re.compile(r"^\d{5}(?:\.0+)?$")
_PLATFORMS = {k.lower(): v for k, v in PLATFORM_ALIASES.items()}
_ALL_TEXT = frozenset(a.lower() for a in ALL_ALIASES)


def _distinct(column: pd.Series) -> tuple[np.ndarray, pd.Series]:
    codes, uniques = pd.factorize(column.astype(str), use_na_sentinel=False)
    return codes, pd.Series(np.asarray(uniques, dtype=object), dtype=str)


def _spread(text: pd.Series, codes: np.ndarray) -> pd.Series:
    """Distinct values back to one per row (Arrow ``take``: no Python objects per row)."""
    return text.astype(str).take(codes).reset_index(drop=True)


def constant_text(value: str, n: int) -> pd.Series:
    """A string column holding ``value`` on every one of ``n`` rows."""
    return _spread(pd.Series([value], dtype=str), np.zeros(n, dtype=np.intp))


def parse_numbers(
    column: pd.Series, *, percent_header: bool = False, whole: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse export numbers: ``1,234.5``, ``12.5%``, ``¥3.20``, ``(4.00)``, ``CNY 5``, and
    decimal commas (``14,71``, ``1.234,56``: spreadsheets in European locales).

    A value is read with a decimal comma only where no thousands separator could have
    written it (a comma before its last one or two digits); ``1,234`` stays one thousand
    two hundred and thirty-four. Returns ``(values, empty, bad)``: float64 values (NaN where
    the cell is empty or bad), a mask of empty cells (``""``, ``-``...) and a mask of cells
    that are not numbers. ``percent_header`` divides every value by 100 (the header said
    ``(%)``). ``whole`` columns count whole things (impressions, clicks): there ``1.234``
    is 1234 with the dots European exports group thousands with, never 1.234 impressions.
    """
    codes, text = _distinct(column)
    # full-width digits and signs (１２３，５) read as their ASCII forms; currency marks go
    # before the decimal-comma test so that "38,09 €" is read like "38,09"
    text = text.str.normalize("NFKC").str.replace(_CURRENCY, "", regex=True)
    if whole:
        grouped = text.str.match(_DOT_GROUPED)
        text = text.where(~grouped, text.str.replace(".", "", regex=False))
    comma = text.str.contains(_DECIMAL_COMMA).to_numpy()
    if comma.any():
        text = text.where(~comma, text.str.replace(".", "", regex=False)
                          .str.replace(",", ".", regex=False))
    empty = text.str.lower().isin(EMPTY_NUMBER_TEXT).to_numpy()
    negative = (text.str.startswith("(") & text.str.endswith(")")).to_numpy()
    percent = text.str.endswith("%").to_numpy()
    cleaned = text.str.replace(_NUMBER_NOISE, "", regex=True)
    cleaned = cleaned.str.replace("−", "-", regex=False).str.strip("()%")
    values = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    values = np.where(percent | percent_header, values / 100.0, values)
    values = np.where(negative, -np.abs(values), values)
    bad = ~empty & ~np.isfinite(values)
    values[empty | bad] = np.nan
    return values[codes], empty[codes], bad[codes]


DATE_ORDERS = ("auto", "month_first", "day_first")
DATE_ORDER_SETTING = ("sources.date_order in the config: month_first (US: 12/1/2026 is "
                      "December 1) or day_first (UK, EU: 12/1/2026 is 12 January)")
_DAY_AND_MONTH = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{4}(?:[ T].*)?$")


def ambiguous_dates(column: pd.Series) -> np.ndarray:
    """Cells such as 12/1/2026, where either of the first two numbers could be the month
    (both 1 to 12); judged per distinct value."""
    codes, text = _distinct(column)
    parts = text.str.extract(_DAY_AND_MONTH).astype(float)
    found = (parts.notna().all(axis=1) & parts.ge(1).all(axis=1)
             & parts.le(12).all(axis=1)).to_numpy()
    return found[codes]


def parse_dates(column: pd.Series, order: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Parse YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, 2024年1月5日, Excel serials (45292), and the
    English forms of Amazon and Google Ads exports (see ``_english_dates``; ``order`` says
    how to read 03/12/2026).

    A time part after the date is dropped. A period (``date_ranges``) is not a date.
    Returns ``(datetime64[ns] values, bad)``.
    """
    codes, text = _distinct(column)
    values = _parse_distinct_dates(text, order)
    values[_ranges(text)] = np.datetime64("NaT")
    bad = np.isnat(values)
    return values[codes], bad[codes]


def _parse_distinct_dates(text: pd.Series, order: str) -> np.ndarray:
    text = text.str.strip()
    serial = text.str.match(_EXCEL_SERIAL).to_numpy()
    day = text.str.split(r"[ T]", n=1, regex=True).str[0].fillna("")
    day = day.str.replace(r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3", regex=True)
    day = day.str.replace(r"[/.年月]", "-", regex=True).str.rstrip("日")
    parsed = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce").astype("datetime64[ns]")
    other = parsed.isna().to_numpy() & ~serial
    if other.any():
        parsed[other] = _english_dates(text[other], order).to_numpy()
    values = parsed.to_numpy().copy()
    if serial.any():
        days = pd.to_numeric(text[serial], errors="coerce").to_numpy(dtype=float)
        values[serial] = np.datetime64("1899-12-30", "ns") + (days * 86400e9).astype(
            "timedelta64[ns]"
        )
    return values


# Two dates and a mark between: "2026-11-01~2026-11-14", "2026-11-01 至 2026-11-14",
# "Nov 1, 2026 - Nov 14, 2026", "2026/11/01-2026/11/14", "11/01/2026 to 11/14/2026".
_RANGE_MARK = re.compile(r"[~～〜至到—–]|\s-\s|\bto\b|[\d日]-\d{4}", flags=re.IGNORECASE)
_DATE_RANGE = re.compile(r"^\s*(\S.*?)\s*(?:[~～〜至到—–]|\s-\s|\bto\b|(?<=[\d日])-(?=\d{4}))"
                         r"\s*(\S.*?)\s*$", flags=re.IGNORECASE)


def date_ranges(column: pd.Series) -> np.ndarray:
    """Cells holding a period rather than a day, two dates with a mark between (see
    ``_DATE_RANGE``), as the 日期 or Date cell of a total row does; judged per distinct
    value."""
    codes, text = _distinct(column)
    return _ranges(text)[codes]


def _ranges(text: pd.Series) -> np.ndarray:
    """Which of the distinct values ``text`` are periods: both sides of the mark a date,
    in either order of day and month."""
    out = np.zeros(len(text), dtype=bool)
    marked = np.flatnonzero(text.str.contains(_RANGE_MARK).fillna(False).to_numpy(bool))
    if not marked.size:
        return out
    sides = text.iloc[marked].str.extract(_DATE_RANGE)
    split = sides.notna().all(axis=1).to_numpy()
    if not split.any():
        return out
    halves = pd.concat([sides.loc[split, 0], sides.loc[split, 1]], ignore_index=True)
    dated = (~np.isnat(_parse_distinct_dates(halves, "month_first"))
             | ~np.isnat(_parse_distinct_dates(halves, "day_first")))
    n = int(split.sum())
    out[marked[split]] = dated[:n] & dated[n:]
    return out


_TIME_OF_DAY = re.compile(r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?)$")
_MONTH_NAME_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y")


def _english_dates(text: pd.Series, order: str = "auto") -> pd.Series:
    """'Nov 20, 2026', '20 November 2026'; and 11/20/2026 or 20/11/2026 in the given
    ``order`` (``sources.date_order``), or with ``auto`` only where the column itself tells
    the order (a first part above 12 means day first, a second part above 12 month first).
    ``text`` holds a column's distinct values, so one '25/11/2026' decides for all; a column
    that never tells stays unparsed rather than guessed."""
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    text = text.str.replace(_TIME_OF_DAY, "", regex=True)  # 11/20/2026 0:00 as Excel saves it
    for fmt in _MONTH_NAME_FORMATS:
        todo = out.isna()
        if not todo.any():
            return out
        out[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    parts = text.str.extract(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
    slash = parts.notna().all(axis=1) & out.isna()
    if slash.any():
        first, second, year = (parts.loc[slash, i].astype(int) for i in range(3))
        day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
        if order != "auto":
            day_first, month_first = order == "day_first", order == "month_first"
        if day_first != month_first:
            day, month = (first, second) if day_first else (second, first)
            out[slash] = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}),
                                        errors="coerce")
    return out


def parse_dimension(column: pd.Series) -> pd.Series:
    """Strip a dimension's text; 全部/all/total/empty become ``schema.ALL``."""
    codes, text = _distinct(column)
    text = text.str.strip()
    text = text.where(~text.str.lower().isin(_ALL_TEXT), ALL)
    return _spread(text, codes)


def parse_text(column: pd.Series) -> pd.Series:
    """Strip a text column (campaign, tier...) without reading 'all' into it."""
    codes, text = _distinct(column)
    return _spread(text.str.strip(), codes)


def parse_platforms(column: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Map 无线/计算机/Mobile phones/Computers... to ``mobile``/``pc``; empty is ``all``."""
    codes, text = _distinct(column)
    folded = text.str.strip().str.lower()
    mapped = folded.map(_PLATFORMS)
    mapped = mapped.where(~folded.isin(_ALL_TEXT), ALL)
    bad = mapped.isna().to_numpy()
    return _spread(mapped.fillna(""), codes), bad[codes]


def parse_hours(column: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse hours ``0``..``23`` (also ``07``, ``7:00-8:00``, ``7点``) to '0'..'23' or 'all'.

    A column numbered ``1``..``24`` (it holds 24, no 0 and at least half the day's hours:
    each hour named by its end, as some exports count) is read as ``0``..``23``; a lone 24
    among a few hours stays an error.
    """
    codes, text = _distinct(column)
    text = text.str.strip()
    is_all = text.str.lower().isin(_ALL_TEXT)
    number = pd.to_numeric(text.str.extract(_HOUR, expand=False), errors="coerce")
    seen = number.dropna()
    if (seen == 24).any() and seen.between(1, 24).all() and seen.nunique() >= 12:
        number = number - 1
    bad = (~is_all & ~number.between(0, 23)).to_numpy()
    values = np.where(
        is_all.to_numpy(), ALL, number.fillna(-1).astype(int).astype(str).to_numpy(dtype=object)
    ).astype(object)
    values[bad] = ""
    return _spread(pd.Series(values, dtype=str), codes), bad[codes]


def with_match_type(keyword: pd.Series, match_type: pd.Series) -> pd.Series:
    """Write exact and phrase keywords as Google Ads notation: ``[shoes]``, ``"shoes"``.

    One ad group may hold the same words in several match types with different bids;
    without this they would be duplicate rows. Broad keywords stay plain.
    """
    kind = match_type.str.strip().str.lower()
    plain = (keyword != ALL) & ~keyword.str.startswith(("[", '"'))
    exact = (plain & kind.str.startswith("exact")).to_numpy()
    phrase = (plain & kind.str.startswith("phrase")).to_numpy()
    keyword = keyword.where(~exact, "[" + keyword + "]")
    return keyword.where(~phrase, '"' + keyword + '"')
