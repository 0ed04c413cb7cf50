"""The recommendations as an Excel workbook (``output.format: xlsx``).

Excel turns a CSV's all-digit names into numbers when it opens the file: a 12-digit item
ID shows as 6.23457E+11, ``004711`` loses its zeros, and a file saved from Excel keeps
them so. A workbook says which cells are text, so the names stay exact. It holds what the
CSV holds, row for row: the CSV writer's rounding decides the values, numbers are stored
as numbers with a display format, everything else as text cells in Excel's Text format
(``@``), so that a name is never run as a formula, not even after a reviewer edits it.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError

from bidopt.errors import OutputError
from bidopt.io.writer import as_text, format_values, without_roi_of_no_cost

SHEET = "recommendations"
# Names, whatever their dtype: an all-digit ID must stay text to stay exact.
ID_COLUMNS = frozenset({"campaign", "item", "keyword", "crowd", "region", "platform"})
TEXT_FORMAT = "@"
NUMBER_FORMATS = {
    "hour": "0",
    "current": "0.00##",  # bids as planned: 2 decimals, up to 4 on a finer bids.step
    "proposed": "0.00##",
    "change_pct": '0.0"%"',  # the CSV's number of percent points, shown with a % sign
    "exp_clicks": "#,##0.0",
    "d_clicks": "#,##0.0",
    "exp_cost": "#,##0.00",
    "exp_gmv": "#,##0.00",
    "d_cost": "#,##0.00",
    "d_gmv": "#,##0.00",
    "exp_roi": "0.00",
    "clicks_low": "#,##0.0",
    "clicks_high": "#,##0.0",
    "cost_low": "#,##0.00",
    "cost_high": "#,##0.00",
    "gmv_low": "#,##0.00",
    "gmv_high": "#,##0.00",
}
MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header
MAX_WIDTH = 60
CHUNK = 10_000  # rows turned to Python values at a time
PIXELS_PER_CHARACTER = 7  # a digit of Excel's default font (Calibri 11)
# What the XML of a workbook cannot hold: the C0 control characters but tab, LF and CR.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
WIDE = r"[\u2e80-\ua4cf\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]"  # CJK: two characters wide


def workbook_cells(recommendations: pd.DataFrame) -> dict[str, pd.Series]:
    """Per column, the cells to store: floats (NaN for empty) where the CSV writes numbers,
    rounded as it rounds them; else strings (None for empty), as the CSV writes dates and
    booleans, and names as given (a workbook needs no formula escape)."""
    recommendations = without_roi_of_no_cost(recommendations)
    cells = {}
    for name in map(str, recommendations.columns):
        column = recommendations[name]
        values = format_values(name, column)
        if values is not None and name not in ID_COLUMNS:
            numbers = pd.to_numeric(values, errors="coerce")
            if (numbers.notna() | (values == "")).all():  # numbers, not dates or booleans
                cells[name] = numbers.astype(float)
                continue
        text = as_text(column) if values is None else values
        cells[name] = text.astype(object).where(text.notna() & (text != ""), None)
    return cells


def write_recommendations_xlsx(recommendations: pd.DataFrame, path: Path) -> None:
    """One sheet, ``recommendations``: the CSV's columns and rows in order, header frozen,
    an autofilter over it, columns as wide as their content (up to 60 characters).

    Written with XlsxWriter in its constant-memory mode (each row goes to a temporary file
    as the next one starts), so that a plan of hundreds of thousands of rows needs no
    workbook in memory. Every cell is written by type: text with ``write_string`` (never
    read as a formula or a number), numbers with ``write_number``.
    """
    if len(recommendations) > MAX_ROWS:
        raise OutputError(f"{path}: {len(recommendations):,} rows are more than an Excel sheet "
                          f"holds ({MAX_ROWS:,} below the header); use output.format: csv")
    cells = workbook_cells(recommendations)
    names = list(cells)
    numeric = [pd.api.types.is_float_dtype(cells[name]) for name in names]
    _refuse_control_characters(cells, numeric, path)
    book = xlsxwriter.Workbook(os.fspath(path), {
        "constant_memory": True,
        "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
    })
    try:
        sheet = book.add_worksheet(SHEET)
        for number, name in enumerate(names):
            # the pixels Excel keeps for a width of that many characters
            sheet.set_column_pixels(number, number,
                                    PIXELS_PER_CHARACTER * _width(name, cells[name]))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, len(recommendations), len(names) - 1)
        bold = book.add_format({"bold": True})
        for number, name in enumerate(names):
            sheet.write_string(0, number, name, bold)
        formats = [book.add_format({"num_format": NUMBER_FORMATS.get(name, "General")
                                    if is_number else TEXT_FORMAT})
                   for name, is_number in zip(names, numeric, strict=True)]
        writers = [sheet.write_number if is_number else sheet.write_string
                   for is_number in numeric]
        plan = list(zip(range(len(names)), writers, formats, strict=True))
        for start in range(0, len(recommendations), CHUNK):
            # a block of rows as Python values (None for empty): fast to loop over, and
            # never the whole plan at once
            block = [cells[name].iloc[start:start + CHUNK] for name in names]
            columns = [part.astype(object).where(part.notna(), None).tolist()
                       for part in block]
            for row, values in enumerate(zip(*columns, strict=True), start + 1):
                for (column, write, cell_format), value in zip(plan, values, strict=True):
                    if value is not None:
                        write(row, column, value, cell_format)
        try:
            book.close()
        except FileCreateError as exc:  # the OSError saving met (a full disk), as it was
            if exc.args and isinstance(exc.args[0], OSError):
                raise exc.args[0] from None
            raise
    except BaseException:
        _discard(book)
        raise


def _refuse_control_characters(cells: dict[str, pd.Series], numeric: list[bool],
                               path: Path) -> None:
    """Raise OutputError naming the first text cell (in the sheet's order) that holds a
    control character: a workbook cannot hold one."""
    first = None
    for (name, column), is_number in zip(cells.items(), numeric, strict=True):
        if is_number:
            continue
        found = column.str.contains(CONTROL, na=False).to_numpy()
        if found.any():
            row = int(found.argmax())
            if first is None or row < first[0]:
                first = (row, name, column.iloc[row])
    if first is not None:
        row, name, value = first
        raise OutputError(f"{path}: {name} {value!r} in row {row + 2} holds a control character, "
                          "which a workbook cannot hold; use output.format: csv")


def _discard(book) -> None:
    """XlsxWriter streams the sheet's rows through a temporary file of its own, removed
    only when the workbook is saved: remove it now, so that a failed write leaves nothing
    behind."""
    for sheet in book.worksheets():
        with contextlib.suppress(Exception):
            sheet._opt_close()
        if sheet.row_data_filename:
            with contextlib.suppress(OSError):
                os.unlink(sheet.row_data_filename)


def _width(name: str, cells: pd.Series) -> int:
    """Characters to show the header and the longest cell (CJK characters count twice),
    up to MAX_WIDTH: a long reason is cut at its column's edge (the cell holds it all)
    rather than pushing the columns after it off the screen. A number counts as shown
    with thousands separators and 2 decimals: the longest is the largest or the smallest."""
    shown = cells.dropna()
    if pd.api.types.is_float_dtype(cells):
        shown = (pd.Series([f"{shown.min():,.2f}", f"{shown.max():,.2f}"]) if len(shown)
                 else shown.astype(str))
    else:
        shown = pd.Series(pd.unique(shown.astype(str)))
    text = pd.concat([pd.Series([name]), shown], ignore_index=True).astype(str)
    wide = text.str.count(WIDE)
    return int(min(MAX_WIDTH, (text.str.len() + wide).max() + 2))
