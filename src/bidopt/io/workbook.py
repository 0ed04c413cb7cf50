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
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError

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
}
MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header
MAX_WIDTH = 60


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
        cells[name] = text.astype(object).where(text != "", None)
    return cells


def write_recommendations_xlsx(recommendations: pd.DataFrame, path: Path) -> None:
    """One sheet, ``recommendations``: the CSV's columns and rows in order, header frozen,
    an autofilter over it, columns as wide as their content (up to 60 characters).

    Written in openpyxl's streaming mode with one reused cell per column (a row is written
    as it is appended), so that a plan of hundreds of thousands of rows needs no workbook
    in memory.
    """
    if len(recommendations) > MAX_ROWS:
        raise OutputError(f"{path}: {len(recommendations):,} rows are more than an Excel sheet "
                          f"holds ({MAX_ROWS:,} below the header); use output.format: csv")
    cells = workbook_cells(recommendations)
    names = list(cells)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    for number, name in enumerate(names, 1):
        sheet.column_dimensions[get_column_letter(number)].width = _width(name, cells[name])
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(names))}{len(recommendations) + 1}"
    header = []
    for name in names:
        header.append(WriteOnlyCell(sheet, name))
        header[-1].font = Font(bold=True)
    sheet.append(header)
    styled = []
    for name in names:
        styled.append(WriteOnlyCell(sheet))
        styled[-1].number_format = (NUMBER_FORMATS.get(name, "General")
                                    if pd.api.types.is_float_dtype(cells[name]) else TEXT_FORMAT)
    try:
        for row, values in enumerate(zip(*cells.values(), strict=True), 2):
            sheet.append([_fill(cell, value, name, row, path)
                          for name, cell, value in zip(names, styled, values, strict=True)])
        book.save(path)
    except BaseException:
        _discard(sheet)
        raise


def _fill(cell: WriteOnlyCell, value, name: str, row: int, path: Path) -> WriteOnlyCell | None:
    """The column's cell holding ``value``, or None for an empty cell."""
    if value is None or value != value:  # empty, or NaN
        return None
    try:
        cell.value = value
    except IllegalCharacterError:
        raise OutputError(f"{path}: {name} {value!r} in row {row} holds a control character, "
                          "which a workbook cannot hold; use output.format: csv") from None
    if isinstance(value, str):
        cell.data_type = "s"  # '=HYPERLINK(...)' is a name here, never a formula
    return cell


def _discard(sheet) -> None:
    """openpyxl streams the sheet through a temporary file of its own, removed only when
    the process exits: remove it now, so that a failed write leaves nothing behind."""
    with contextlib.suppress(Exception):
        sheet.close()
        sheet._writer.cleanup()


def _width(name: str, cells: pd.Series) -> float:
    """Characters to show the header and the longest cell (CJK characters count twice),
    up to MAX_WIDTH: a long reason is cut at its column's edge (the cell holds it all)
    rather than pushing the columns after it off the screen."""
    shown = cells.dropna().map(lambda v: v if isinstance(v, str) else f"{v:,.2f}")
    text = pd.concat([pd.Series([name]), shown], ignore_index=True).astype(str)
    wide = text.str.count(r"[\u2e80-\ua4cf\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
    return float(min(MAX_WIDTH, (text.str.len() + wide).max() + 2))
