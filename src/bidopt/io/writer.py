"""The recommendations CSV, written so that Excel opens it correctly and safely.

Excel guesses a CSV's encoding from its BOM (without one, Chinese text turns to mojibake)
and runs any cell starting with ``=``, ``+``, ``-`` or ``@`` as a formula: a keyword such as
``=HYPERLINK(...)`` from a search-term report would execute on the operator's machine. Text
cells are therefore quoted with a leading ``'``; numeric columns are left alone so that a
negative ``change_pct`` stays a number.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from bidopt.errors import OutputError

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Decimal places per column; floats not listed get up to 4, trailing zeros dropped.
DECIMALS = {
    "current": 2,
    "proposed": 2,
    "exp_cost": 2,
    "exp_gmv": 2,
    "change_pct": 1,
    "exp_roi": 2,
    "exp_clicks": 1,
    "d_cost": 2,
    "d_gmv": 2,
    "d_clicks": 1,
    "clicks_low": 1,  # whole numbers, but a calendar phase's factor scales them
    "clicks_high": 1,
    "cost_low": 2,
    "cost_high": 2,
    "gmv_low": 2,
    "gmv_high": 2,
}
INTEGER_COLUMNS = frozenset({"hour"})
# Bids are written as planned: two decimals, more where the bid has them (a bids.step of
# 0.005 plans 1.875, which two decimals would turn into another bid, off the grid).
EXACT_COLUMNS = frozenset({"current", "proposed"})


def as_text(column: pd.Series) -> pd.Series:
    """The column's cells as text, empty where missing."""
    return column.astype(str).where(column.notna(), "")


def escape_formula(column: pd.Series) -> pd.Series:
    """Prefix text cells that Excel would run as a formula with a single quote."""
    text = as_text(column)
    risky = text.str.startswith(FORMULA_PREFIXES)
    return text.where(~risky, "'" + text)


def unescape_formula(column: pd.Series) -> pd.Series:
    """``escape_formula`` undone: a cell it quoted ('+red +shoes) back to its text; missing
    cells stay missing, other cells as they are."""
    text = column.astype("string")
    quoted = (text.str.startswith("'") & text.str[1:].str.startswith(FORMULA_PREFIXES)
              ).fillna(False).to_numpy(bool)
    return column.mask(quoted, text.str[1:].astype(object))


def _format_float(column: pd.Series, decimals: int | None, exact: bool = False) -> pd.Series:
    values = pd.to_numeric(column, errors="coerce").astype(float)
    missing = ~np.isfinite(values.to_numpy())
    if decimals is None:
        text = values.round(4).map(lambda v: f"{v:.4f}".rstrip("0").rstrip("."))
    elif exact:  # at least ``decimals``, up to 4 where the value has them
        text = values.round(4).map(lambda v: _at_least(f"{v:.4f}".rstrip("0"), decimals))
    else:
        text = values.round(decimals).map(lambda v: f"{v:.{decimals}f}")
    text = text.astype(str).str.replace(r"^-(0\.?0*)$", r"\1", regex=True)  # no "-0.00"
    return text.where(~missing, "")


def _at_least(text: str, decimals: int) -> str:
    """'1.5' -> '1.50' for 2 decimals; '1.875' stays."""
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(decimals, '0')}"


def _format_column(name: str, column: pd.Series) -> pd.Series:
    values = format_values(name, column)
    return escape_formula(column) if values is None else values


def format_values(name: str, column: pd.Series) -> pd.Series | None:
    """The CSV text of a column of numbers, dates or booleans; None for a text column.
    The workbook writer stores what this returns as numbers where it reads as numbers,
    so both files hold the same rounded values."""
    if pd.api.types.is_bool_dtype(column):
        return column.map({True: "true", False: "false"}).fillna("")
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.dt.strftime("%Y-%m-%d").fillna("")
    if pd.api.types.is_integer_dtype(column):
        return _whole_numbers(column)
    if pd.api.types.is_float_dtype(column):
        if name in INTEGER_COLUMNS:
            values = column.to_numpy(dtype=float)
            whole = np.isfinite(values) & (np.mod(np.nan_to_num(values), 1) == 0)
            if whole[np.isfinite(values)].all():
                return _whole_numbers(column)
        return _format_float(column, DECIMALS.get(name), name in EXACT_COLUMNS)
    if name in DECIMALS or name in INTEGER_COLUMNS:
        # An object column of numbers (None where an action has no value) is numeric too.
        numbers = pd.to_numeric(column, errors="coerce")
        if (numbers.notna() | column.isna() | (column.astype(str) == "")).all():
            if name in INTEGER_COLUMNS:
                return format_values(name, numbers)
            return _format_float(numbers, DECIMALS.get(name), name in EXACT_COLUMNS)
    return None


def _whole_numbers(column: pd.Series) -> pd.Series:
    """'13' for 13.0, empty where missing (pandas 3 turns a missing Int64 to NaN as text,
    pandas 2 to '<NA>')."""
    numbers = column.astype("Int64")
    return numbers.astype(str).where(numbers.notna(), "")


def write_recommendations_csv(
    recommendations: pd.DataFrame, path: Path, *, encoding: str = "utf-8-sig"
) -> None:
    """Write the frame's columns in order as an Excel-safe CSV (BOM by default, or 'gbk').

    Money 2 decimals, bids 2 to 4 (as planned), ``change_pct`` 1, other floats up to 4; text
    cells that look like formulas are quoted; empty values are empty cells. ``exp_roi`` is
    left empty where the spend it divides by shows as 0.00.
    """
    recommendations = without_roi_of_no_cost(recommendations)
    text = pd.DataFrame(
        {
            name: _format_column(str(name), recommendations[name])
            for name in recommendations.columns
        },
        columns=list(recommendations.columns),
    )
    try:
        text.to_csv(Path(path), index=False, encoding=encoding, lineterminator="\r\n")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end] if isinstance(exc.object, str) else "?"
        raise OutputError(
            f"{path}: cannot write {bad!r} in encoding {encoding}"
            f"{_unencodable_cells(text, encoding)}; use utf-8-sig"
        ) from exc
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc}") from exc


def without_roi_of_no_cost(recommendations: pd.DataFrame) -> pd.DataFrame:
    """``exp_roi`` emptied where the ``exp_cost`` it divides by shows as 0.00: a reviewer
    could not check that ROI against the row's own gmv and cost."""
    if not {"exp_roi", "exp_cost"} <= set(recommendations.columns):
        return recommendations
    cost = pd.to_numeric(recommendations["exp_cost"], errors="coerce").round(2)
    return recommendations.assign(exp_roi=pd.to_numeric(
        recommendations["exp_roi"], errors="coerce").where(cost != 0))


def _unencodable_cells(text: pd.DataFrame, encoding: str) -> str:
    """Where the cells the encoding cannot hold are, as the file would number its rows
    (the header is row 1), so that the name to fix can be found: ' (campaign 'x' in row 2,
    and 3 more rows)'."""
    def fails(value) -> bool:
        try:
            str(value).encode(encoding)
        except UnicodeEncodeError:
            return True
        return False

    bad = pd.DataFrame({name: text[name].map(fails).astype(bool) for name in text.columns})
    rows = np.flatnonzero(bad.to_numpy().any(axis=1))
    if not len(rows):
        return ""
    first = rows[0]
    column = bad.columns[bad.iloc[first].to_numpy().argmax()]
    more = f", and {len(rows) - 1:,} more rows" if len(rows) > 1 else ""
    return f" ({column} {text[column].iloc[first]!r} in row {first + 2}{more})"


REVIEW_SUFFIX = ".recommendations.csv"
IN_FILE = "in_upload_file"
"""The review file's column saying whether the plugin's file holds the row (yes / no), where
the writer says which rows it wrote; ``bidopt applied`` records only the rows marked yes."""


def review_file(path: Path) -> Path:
    """Where the review file of a writer plugin's output goes: beside it, its name with
    ``.recommendations.csv`` in place of its suffix (``amazon-bulk-2026-12-05.xlsx`` ->
    ``amazon-bulk-2026-12-05.recommendations.csv``). It is bidopt's own recommendations CSV
    of the night, which ``bidopt applied`` records (a plugin's file, such as a bulk sheet,
    holds neither the night nor the reasons and forecasts)."""
    path = Path(path)
    return path.with_name(path.stem + REVIEW_SUFFIX)


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only on success.

    On an exception the temporary file is deleted and an existing ``path`` is untouched,
    so a failed run never leaves a half-written recommendations file for upload.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create a file in {folder}: {exc}") from exc
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        _sync(temporary)  # on disk before it is named: a power cut cannot leave it empty
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    with contextlib.suppress(OSError):  # the rename itself (not on every system)
        _sync(folder, directory=True)


def _sync(path: Path, *, directory: bool = False) -> None:
    if directory and os.name == "nt":
        return
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


@contextlib.contextmanager
def output_lock(path: Path) -> Iterator[None]:
    """Hold ``path`` for one run: a second run planning into the same file at the same time
    (cron starting tonight's job while last night's still runs, or a manual run beside the
    nightly one) stops at once with :class:`OutputError` naming the first, instead of
    planning twice on a machine with room for one run and racing to replace the file.

    The lock is ``.<name>.lock`` beside the output (its folder is made if needed), locked
    with ``flock`` (released by the system however the run ends) and removed afterwards.
    Where ``fcntl`` does not exist (Windows) nothing is locked.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    path = Path(path)
    lock = path.parent / f".{path.name}.lock"
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        while True:
            handle = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(handle, 200).decode("utf-8", "replace").strip()
                os.close(handle)
                raise OutputError(
                    f"another bidopt run is writing {path} ({holder or 'lock ' + str(lock)}): "
                    "this run stops and writes nothing") from None
            # the run that held it may have removed it between our open and our lock
            with contextlib.suppress(FileNotFoundError):
                if os.stat(lock).st_ino == os.fstat(handle).st_ino:
                    break
            os.close(handle)
    except OSError as exc:
        raise OutputError(f"cannot lock {path} for this run: {exc}") from exc
    try:
        os.ftruncate(handle, 0)
        started = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        os.write(handle, f"pid {os.getpid()}, started {started}".encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()
        os.close(handle)


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current
