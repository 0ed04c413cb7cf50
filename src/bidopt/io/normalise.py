"""Turn a raw table of strings into a canonical, validated frame.

Every problem is collected (not just the first) so a user fixes a file in one pass; each
names the file, the row as a spreadsheet shows it and the user's own header. Checks run on
whole columns; problems are built only for the offending rows, at most
``MAX_LISTED_ROWS`` per column, then one "... and N more rows" line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bidopt.errors import Problem
from bidopt.io.aliases import COLUMN_ALIASES, GOOGLE_DEVICES, PLATFORM_ALIASES
from bidopt.io.crosscheck import cross_check_ratios
from bidopt.io.grains import group_ids, split_report_grains
from bidopt.io.headers import (
    END_DATE_KEYS,
    KIND_COLUMNS,
    KIND_REQUIRED,
    MATCH_TYPE_KEYS,
    QUERY_MATCH_KEYS,
    SEARCH_TERM_KEYS,
    SourceColumn,
    map_headers,
    side_column,
)
from bidopt.io.parsing import (
    DATE_ORDER_SETTING,
    EMPTY_NUMBER_TEXT,
    ambiguous_dates,
    constant_text,
    date_ranges,
    parse_dates,
    parse_dimension,
    parse_hours,
    parse_numbers,
    parse_platforms,
    parse_text,
    with_match_type,
)
from bidopt.io.problems import MAX_LISTED_ROWS, ProblemLog
from bidopt.schema import (
    ALL,
    DIMENSIONS,
    METRICS,
    REQUIRED_REPORT_COLUMNS,
)

# A report must be split by at least one of these, or it says nothing a strategy can act on.
REPORT_SPLITS = ("item", "keyword", "crowd", "region", "hour")
# Counts: an empty or "-" cell means zero.
COUNT_COLUMNS = frozenset(METRICS) | {"sales_30d", "search_volume"}
# Counts of whole things: 1.234 there is one thousand two hundred and thirty-four.
WHOLE_COLUMNS = frozenset({"impressions", "clicks"})
# Counts a report may show below zero: a refund (退款) books negative orders and GMV on the
# day it is made (直通车 reports do), which sums right over the window.
REFUNDED = frozenset({"orders", "gmv"})
_TOTAL_LABELS = ("total", "合计", "总计", "汇总", "小计", "grand total", "subtotal")


def _empty_frame(kind: str) -> pd.DataFrame:
    frame = pd.DataFrame(
        {name: pd.Series([], dtype=_dtype(name, kind)) for name in KIND_COLUMNS[kind]}
    )
    return frame


def _dtype(name: str, kind: str) -> str:
    if name == "date":
        return "datetime64[ns]"
    if name in {"campaign", "item", "keyword", "crowd", "region", "platform", "hour", "tier",
                "category"}:
        return "str"
    return "float64"


def normalise_table(raw: pd.DataFrame, kind: str, file: str, *,
                    date_order: str = "auto") -> tuple[pd.DataFrame, list[Problem]]:
    """Map headers, parse cells and validate one raw table of ``kind``.

    ``kind`` is ``"report"``, ``"items"`` or ``"candidates"``; ``date_order`` reads dates
    like 03/12/2026 (``sources.date_order``). Returns the canonical frame
    (every canonical column of the kind, in schema order) and every problem found, errors
    and warnings; the caller decides whether errors stop the run.
    """
    if kind not in KIND_COLUMNS:
        raise ValueError(f"unknown file kind {kind!r}; expected one of {sorted(KIND_COLUMNS)}")
    headers = [str(h) for h in raw.columns]
    sources, problems = map_headers(headers, kind, file)
    if others := raw.attrs.get("other_sheets"):
        names = ", ".join(f"'{name}'" for name in others)
        problems.append(Problem(
            file=file, severity="warning",
            message=f"sheet{'s' if len(others) > 1 else ''} {names} not read: another header "
                    "than the sheet read (one kind of report per workbook)",
            expected="each report (keyword, crowd, region, hour) in a file of its own"))
    missing = [c for c in KIND_REQUIRED[kind] if c not in sources]
    for name in missing:
        aliases = ", ".join(COLUMN_ALIASES.get(name, ())[:4])
        period = _period_column(headers) if name == "date" else None
        problems.append(
            Problem(
                file=file,
                column=name,
                message=f"required column '{name}' is missing"
                        + (f" (the report is by {period}, not by day)" if period else ""),
                expected=f"a column named {name} or one of: {aliases}"
                         + ("; export the report by day (one row per day)" if period else ""),
            )
        )
    if kind == "report" and not any(s in sources for s in REPORT_SPLITS):
        problems.append(
            Problem(
                file=file,
                message="the report is not split by item, keyword, crowd, region or hour",
                expected="at least one of the columns " + ", ".join(REPORT_SPLITS),
            )
        )
    if len(raw.columns) == 0 or len(raw) == 0:
        # a day without activity exports a header alone: among other files it is no error
        # (a run whose reports hold no keyword row at all still fails)
        problems.append(Problem(file=file, message="the file has no data rows: nothing read "
                                "from it", severity="warning"))
        return _empty_frame(kind), problems

    cells = raw.set_axis(range(len(headers)), axis=1).astype(str)
    first_data_row = int(raw.attrs.get("header_row", 1)) + 1
    row_numbers = np.asarray(raw.attrs.get("row_numbers", np.arange(len(cells)) + first_data_row))
    keep = ~_blank_rows(cells)
    if kind == "report":
        keep &= ~_summary_rows(cells, sources, problems, file, row_numbers, keep,
                               raw.attrs.get("sheets"))
    if not keep.all():
        cells, row_numbers = cells[keep].reset_index(drop=True), row_numbers[keep]
    if len(cells) == 0:
        # a day without activity exports a header alone: among other files it is no error
        # (a run whose reports hold no keyword row at all still fails)
        problems.append(Problem(file=file, message="the file has no data rows: nothing read "
                                "from it", severity="warning"))
        return _empty_frame(kind), problems

    sheets = raw.attrs.get("sheets")
    log = ProblemLog(file, row_numbers, None if sheets is None else np.asarray(sheets)[keep])
    frame = _parse_columns(cells, kind, sources, log, date_order)
    _check_scientific_ids(frame, sources, log)
    if kind == "report":
        match_type = side_column(headers, MATCH_TYPE_KEYS)
        if (match_type is not None and "keyword" in sources
                and side_column(headers, QUERY_MATCH_KEYS) is None):
            frame["keyword"] = with_match_type(frame["keyword"], cells[match_type])
        search_term = side_column(headers, SEARCH_TERM_KEYS)
        extra = None if search_term is None else cells[search_term].str.strip()
        problems += _google_device_split(cells, sources, file)
        device = _merged_devices(cells, sources)
        if device is not None:
            extra = device if extra is None else extra + "\x1f" + device
        _check_report(frame, sources, log, extra)
        end_date = side_column(headers, END_DATE_KEYS)
        if end_date is not None and "date" in sources:
            _check_one_day_per_row(frame, cells[end_date], sources, log, date_order)
        problems += cross_check_ratios(frame, cells, headers, row_numbers, file)
    elif kind == "items":
        _check_items(frame, sources, log, cells)
    else:
        _check_candidates(frame, sources, log)
    return frame, problems + log.finish()


def _blank_rows(cells: pd.DataFrame) -> np.ndarray:
    """Rows with nothing in any cell (Excel leaves them between blocks)."""
    blank = np.ones(len(cells), dtype=bool)
    for position in cells.columns:
        blank &= (cells[position].str.strip() == "").to_numpy()
        if not blank.any():
            break
    return blank


NOTE_SCAN_ROWS = 64  # rows looked at per step, from the end, for trailing note lines


def _trailing_notes(cells: pd.DataFrame) -> int:
    """How many rows at the end hold text in their first cell only. Scanned from the end in
    small blocks: the answer is a few rows, and a report can hold millions."""
    if cells.shape[1] < 2:
        return 0
    count = 0
    for end in range(len(cells), 0, -NOTE_SCAN_ROWS):
        block = cells.iloc[max(0, end - NOTE_SCAN_ROWS):end, 1:]
        only_first = block.apply(lambda c: c.str.strip() == "").all(axis=1).to_numpy()
        if not only_first.all():
            return count + len(only_first) - 1 - int(np.flatnonzero(~only_first)[-1])
        count += len(only_first)
    return count


def _starts_with_total(column: pd.Series) -> np.ndarray:
    """Cells that start with a total's label (Total, 合计, ...), judged per distinct value:
    a column of millions of rows holds a few thousand."""
    codes, values = pd.factorize(column, use_na_sentinel=False)
    text = pd.Series(values, dtype=str).str.strip().str.lower()
    return text.str.startswith(_TOTAL_LABELS).fillna(False).to_numpy(bool)[codes]


def _undated(column: pd.Series) -> np.ndarray:
    return ~column.str.strip().str.match(r"^\d").fillna(False).to_numpy(bool)


_PERIOD_HEADERS = {"week": "week", "month": "month", "quarter": "quarter", "year": "year",
                   "周": "week", "月": "month", "月份": "month", "季度": "quarter", "年": "year",
                   "年份": "year"}


def _period_column(headers: list[str]) -> str | None:
    """The period a report without a date column is split by instead (Google Ads' 'Week',
    'Month'; 直通车's 周, 月), or None."""
    for header in headers:
        period = _PERIOD_HEADERS.get(header.strip().lower())
        if period:
            return period
    return None


def _with_a_total(cells: pd.DataFrame) -> np.ndarray:
    """Rows with a total's label in any cell."""
    found = np.zeros(len(cells), dtype=bool)
    for position in cells.columns:
        found |= _starts_with_total(cells[position])
    return found


def _summary_rows(
    cells: pd.DataFrame,
    sources: dict[str, SourceColumn],
    problems: list[Problem],
    file: str,
    row_numbers: np.ndarray,
    filled: np.ndarray,
    sheets: np.ndarray | None = None,
) -> np.ndarray:
    """Footer rows such as Google Ads' "Total: Account" or ZTC's 合计, with no date or with
    the report's period as their date (2026-11-01~2026-11-14), and note lines at the end
    with text in the first cell only ("数据更新时间：..."), skipped with a warning that names
    them (blank rows among them, ``~filled``, are skipped without a word), with their
    sheet where a workbook's rows come from several."""
    mask = _starts_with_total(cells[0])
    if "date" in sources:
        dates = cells[sources["date"].position]
        if sources["date"].position != 0 and mask.any():  # a total row has no date
            rows = np.flatnonzero(mask)
            mask[rows] = _undated(dates.iloc[rows])
        if "campaign" in sources and sources["campaign"].position != 0:
            # 合计 under 推广计划 and no date: a total row whose first cell is the empty 日期
            rows = np.flatnonzero(_starts_with_total(cells[sources["campaign"].position]))
            mask[rows[_undated(dates.iloc[rows])]] = True
        # 合计 or Total with the report's period as its date (2026-11-01~2026-11-14)
        rows = np.flatnonzero(date_ranges(dates) & ~mask)
        if rows.size:
            mask[rows[_with_a_total(cells.iloc[rows])]] = True
    notes = _trailing_notes(cells)
    if notes:  # a trailing block of notes, not data rows missing their cells
        mask[len(mask) - notes:] = True
    if (mask & filled).any():
        skipped = np.flatnonzero(mask & filled)[:MAX_LISTED_ROWS]
        rows = ", ".join(str(row_numbers[i]) if sheets is None
                         else f"{row_numbers[i]} on sheet '{sheets[i]}'" for i in skipped)
        problems.append(
            Problem(file=file, message=f"summary rows skipped (rows {rows})", severity="warning")
        )
    return mask


CODED_COLUMNS = {
    "date": (parse_dates, "'{}' is not a date",
             "a date like 2024-01-31, 2024/01/31, 20240131 or Nov 20, 2026 (11/20/2026 only "
             "when a day above 12 in the column shows the order, or with sources.date_order: "
             "month_first or day_first in the config)"),
    "platform": (parse_platforms, "unrecognised platform '{}'", "mobile/无线 or pc/计算机"),
    "hour": (parse_hours, "'{}' is not an hour of the day", "a whole number from 0 to 23 (or 1 to 24)"),
}
"""Columns read by a parser of their own: (parser, problem for a bad cell, what is expected)."""


def _periods(column: pd.Series, bad: np.ndarray, header: str, log: ProblemLog) -> np.ndarray:
    """Dates such as 2026-11-01~2026-11-14 on a row with no total's label: problems saying
    the row covers a period, not one day. Returns ``bad`` without them."""
    if not bad.any():
        return bad
    positions = np.flatnonzero(bad)
    period = np.zeros(len(bad), dtype=bool)
    period[positions[date_ranges(column.iloc[positions])]] = True
    if not period.any():
        return bad
    log.rows(period, header, lambda p: f"'{column.iat[p]}' is a period, not one day",
             expected="one row per day: export the report by day (time unit: daily); a total "
                      "row (合计, Total) with the period as its date is skipped")
    return bad & ~period


def _ambiguous_dates(column: pd.Series, bad: np.ndarray, date_order: str, header: str,
                     log: ProblemLog) -> np.ndarray:
    """Dates such as 12/1/2026 in a column where no day above 12 tells whether the month or
    the day comes first: problems saying so, naming the setting that decides, rather
    than "is not a date". Returns ``bad`` without them."""
    if date_order != "auto" or not bad.any():
        return bad
    positions = np.flatnonzero(bad)
    ambiguous = ambiguous_dates(column.iloc[positions])
    if not ambiguous.any():
        return bad
    mask = np.zeros(len(bad), dtype=bool)
    mask[positions[ambiguous]] = True
    log.rows(mask, header, lambda p: (
        f"'{column.iat[p]}' could be month/day or day/month: no date in the column has a day "
        "above 12 to tell"), expected=DATE_ORDER_SETTING)
    rest = bad.copy()
    rest[positions[ambiguous]] = False
    return rest


def _parse_columns(
    cells: pd.DataFrame, kind: str, sources: dict[str, SourceColumn], log: ProblemLog,
    date_order: str = "auto",
) -> pd.DataFrame:
    out: dict[str, object] = {}
    n = len(cells)
    for name in KIND_COLUMNS[kind]:
        source = sources.get(name)
        if source is None:
            out[name] = _absent(name, kind, n)
            continue
        column, header = cells[source.position], source.header
        if name in CODED_COLUMNS:
            parse, problem, expected = CODED_COLUMNS[name]
            values, bad = parse(column, date_order) if name == "date" else parse(column)
            if name == "date":
                bad = _periods(column, bad, header, log)
                bad = _ambiguous_dates(column, bad, date_order, header, log)
            log.rows(bad, header, lambda p, c=column, m=problem: m.format(c.iat[p]),
                     expected=expected)
        elif name in {"item", "keyword", "crowd", "region"} and name not in KIND_REQUIRED[kind]:
            values = parse_dimension(column)
        elif _dtype(name, kind) == "str":
            values = parse_text(column)
            if name in KIND_REQUIRED[kind]:
                log.rows(
                    (values == "").to_numpy(),
                    header,
                    lambda p, n=name: f"empty {n}",
                    expected=f"a {name} on every row",
                )
        else:
            values, empty, bad = parse_numbers(column, percent_header=source.percent,
                                               whole=name in WHOLE_COLUMNS)
            values = values * source.scale if source.scale != 1.0 else values
            if name in COUNT_COLUMNS:
                values = np.where(empty, 0.0, values)
            log.rows(
                bad,
                header,
                lambda p, c=column: f"'{c.iat[p]}' is not a number",
                expected="a number such as 1234.5, 1,234.5 or 12.5%",
            )
        out[name] = values
    frame = pd.DataFrame(
        {name: pd.Series(values, copy=False) for name, values in out.items()}, copy=False
    )
    for name in frame.columns:
        if frame[name].dtype != _dtype(name, kind):
            frame[name] = frame[name].astype(_dtype(name, kind))
    return frame


def _absent(name: str, kind: str, n: int) -> object:
    """Fill for a column the file does not have."""
    if kind == "report" and name in DIMENSIONS and name != "date":
        return constant_text(ALL, n)
    if kind == "candidates" and name == "item":
        return constant_text(ALL, n)
    if _dtype(name, kind) == "str":
        return constant_text("", n)
    if name == "date":
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    if kind == "report" and name in METRICS and name not in REQUIRED_REPORT_COLUMNS:
        return np.zeros(n)
    return np.full(n, np.nan)


def _check_negative(
    frame: pd.DataFrame, sources: dict[str, SourceColumn], log: ProblemLog, names: tuple[str, ...]
) -> None:
    for name in names:
        if name not in sources:
            continue
        values = frame[name].to_numpy()
        if name in REFUNDED:
            log.rows(
                values < 0,
                sources[name].header,
                lambda p, v=values, n=name: (
                    f"negative {n} {v[p]:g}: a refund (退款) booked on this day, read as it "
                    "is and netted against the other days of the window"),
                expected="0 or more, except a refund's adjustment",
                severity="warning",
            )
            continue
        log.rows(
            values < 0,
            sources[name].header,
            lambda p, v=values, n=name: f"negative {n} {v[p]:g}",
            expected="0 or more",
        )


def _merged_devices(cells: pd.DataFrame, sources: dict[str, SourceColumn]) -> pd.Series | None:
    """The device column where several of its values are one platform (Google's "Mobile
    phones" and "Tablets with full browsers" are both mobile): rows apart only in it are
    summed later, not duplicates. None where each platform has one spelling (the usual case;
    checked on the distinct values, so a large report pays nothing)."""
    if "platform" not in sources:
        return None
    device = cells[sources["platform"].position]
    spellings = pd.Series(device.unique(), dtype=str).str.strip().drop_duplicates()
    platforms, _ = parse_platforms(spellings)
    if platforms.nunique() == len(spellings):
        return None
    return device.str.strip()


def _google_device_split(cells: pd.DataFrame, sources: dict[str, SourceColumn],
                         file: str) -> list[Problem]:
    """A warning for a Google Ads report with the Device segment: bidopt then plans a mobile
    and a pc bid for each keyword (and pc_floor holds pc at the floor), but a Google Ads
    keyword has one max CPC for every device."""
    if "platform" not in sources:
        return []
    source = sources["platform"]
    names = pd.Series(cells[source.position].unique(), dtype=str).str.strip().str.lower()
    platforms = set(names.map(PLATFORM_ALIASES).dropna())
    if not names.isin(GOOGLE_DEVICES).any() or not {"mobile", "pc"} <= platforms:
        return []
    return [Problem(
        file=file, column=source.header, severity="warning",
        message="a Google Ads report split by device: bidopt plans a separate mobile and pc "
                "bid for each keyword, but a Google Ads keyword has one max CPC for every device",
        expected="the report exported without the Device segment")]


def _check_one_day_per_row(frame: pd.DataFrame, end: pd.Series,
                           sources: dict[str, SourceColumn], log: ProblemLog,
                           date_order: str = "auto") -> None:
    """A summary export (Amazon's Start Date / End Date over 14 days) is not a daily report:
    read as one day, its spend would count fourteen times over."""
    last, bad = parse_dates(end, date_order)
    start = frame["date"].to_numpy()
    log.rows(
        ~bad & ~np.isnat(start) & (last != start),
        sources["date"].header,
        lambda p: (f"the row covers {pd.Timestamp(start[p]):%Y-%m-%d} .. "
                   f"{pd.Timestamp(last[p]):%Y-%m-%d}, not one day"),
        expected="one row per day: export the report by day (time unit: daily)",
    )


def _check_duplicates(
    frame: pd.DataFrame, keys: list[str], log: ProblemLog, what: str, extra: pd.Series | None = None
) -> None:
    """Error on every row whose key repeats an earlier row, naming that row.

    ``extra`` is a finer split the canonical frame does not keep (Amazon's customer search
    term): rows differing only there are not duplicates; they are summed later.
    """
    if not keys:
        return
    key_frame = frame[keys] if extra is None else frame[keys].assign(_extra=extra.to_numpy())
    combined = group_ids(key_frame, list(key_frame.columns))
    first = np.empty(combined.max() + 1 if len(combined) else 0, dtype=np.int64)
    first[combined[::-1]] = np.arange(len(combined))[::-1]
    first_position = first[combined]
    duplicate = first_position != np.arange(len(combined))
    if "date" in keys:  # an unreadable date is its own error, not a repeat of another row's
        duplicate &= frame["date"].notna().to_numpy()
    rows = log.row_numbers
    log.rows(
        duplicate,
        None,
        lambda p: f"duplicate {what}: same {', '.join(keys)} as row {rows[first_position[p]]}",
        expected="one row per " + " x ".join(keys),
    )


def _check_report(
    frame: pd.DataFrame,
    sources: dict[str, SourceColumn],
    log: ProblemLog,
    extra: pd.Series | None = None,
) -> None:
    _check_negative(frame, sources, log, METRICS)
    if "clicks" in sources and "impressions" in sources:
        clicks, shown = frame["clicks"].to_numpy(), frame["impressions"].to_numpy()
        log.rows(
            clicks > shown,
            sources["clicks"].header,
            lambda p: f"clicks {clicks[p]:g} exceed impressions {shown[p]:g}",
            expected="clicks <= impressions",
        )
    if "quality_score" in sources:
        score = frame["quality_score"].to_numpy()
        log.rows(
            (score < 1) | (score > 10),
            sources["quality_score"].header,
            lambda p: f"quality score {score[p]:g} outside 1..10",
            expected="1 to 10",
        )
    if "bid" in sources:
        bid = frame["bid"].to_numpy()
        log.rows(
            bid < 0,
            sources["bid"].header,
            lambda p: f"negative bid {bid[p]:g}",
            expected="0 or more",
        )
    # money without what it is paid for or brought by: a glitch worth a look, not a stop
    for money, count, label, why in (("cost", "clicks", "cost", " (pay per click)"),
                                     ("gmv", "orders", "GMV", "")):
        if money in sources and count in sources:
            amount = frame[money].to_numpy()
            log.rows(
                (amount > 0) & (frame[count].to_numpy() == 0),
                sources[money].header,
                lambda p, a=amount, m=label, c=count, w=why: (
                    f"{m} {a[p]:g} on a row without {c}{w}"),
                expected=f"{label} only where there are {count}",
                severity="warning",
            )
    keys = [d for d in DIMENSIONS if d in sources]
    if "date" in keys:
        _check_duplicates(frame, keys, log, "row", extra)


# A long number Excel displays in scientific notation and writes so when it saves a CSV:
# 623456789012 becomes 6.23457E+11, its last digits gone.
_SCIENTIFIC_ID = r"^\d\.\d+E\+\d{2}$"


def _check_scientific_ids(frame: pd.DataFrame, sources: dict[str, SourceColumn],
                          log: ProblemLog) -> None:
    """Campaign and item IDs (宝贝ID, 计划ID) that Excel saved in scientific notation: their
    last digits are lost and different items may now share one, which otherwise shows as
    'duplicate row' errors, or as items the items file does not list."""
    for name in ("campaign", "item"):
        if name not in sources or name not in frame:
            continue
        codes, uniques = pd.factorize(frame[name].astype(str))
        mangled = pd.Series(uniques, dtype=str).str.match(_SCIENTIFIC_ID, case=False).to_numpy()
        if mangled.any():
            column = frame[name]
            log.rows(mangled[codes], sources[name].header, lambda p, c=column, n=name: (
                f"'{c.iat[p]}' is an ID that Excel showed in scientific notation and saved so: "
                f"its last digits are lost, and different {n}s may now share it"),
                expected="the export as downloaded, not saved from Excel, or saved with the "
                         "column formatted as Text")


def _check_items(frame: pd.DataFrame, sources: dict[str, SourceColumn], log: ProblemLog,
                 cells: pd.DataFrame) -> None:
    if "price" in sources:
        price = frame["price"].to_numpy()
        # a price that is not a number is named as such already, not again as missing
        text = cells[sources["price"].position].str.strip().str.lower()
        unread = np.isnan(price) & ~text.isin(EMPTY_NUMBER_TEXT).to_numpy()
        log.rows(
            ~(price > 0) & ~unread,
            sources["price"].header,
            lambda p: (
                "missing price" if np.isnan(price[p]) else f"price {price[p]:g} is not positive"
            ),
            expected="a price above 0",
        )
    _check_negative(frame, sources, log, ("unit_cost", "sales_30d"))
    if "item" in sources:
        _check_duplicates(frame, ["item"], log, "item")


def _check_candidates(
    frame: pd.DataFrame, sources: dict[str, SourceColumn], log: ProblemLog
) -> None:
    _check_negative(
        frame,
        sources,
        log,
        ("search_volume", "competition", "market_ctr", "market_cvr", "market_cpc"),
    )
    for name in ("market_ctr", "market_cvr"):
        if name in sources:
            rate = frame[name].to_numpy()
            log.rows(
                rate > 1,
                sources[name].header,
                lambda p, r=rate: f"a rate of {r[p]:g} is above 100%; a percent number "
                "without its % sign?",
                expected="a share such as 0.0182 or 1.82%",
            )


__all__ = ["map_headers", "normalise_table", "split_report_grains"]
