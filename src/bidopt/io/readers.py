"""Built-in table reader: CSV in whatever encoding the export used, Excel and Parquet.

Every cell comes back as a string with the file's own headers, so that one normaliser
(:mod:`bidopt.io.normalise`) parses numbers and dates the same way whatever the format.
Exports sometimes put a title or a date-range line above the header (Google Ads does); the
reader looks for the header in the first lines and records its 1-based line number in
``frame.attrs["header_row"]`` so that problems point at the row a spreadsheet shows.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
from pathlib import Path

import charset_normalizer
import numpy as np
import pandas as pd

from bidopt.errors import DataError, Problem
from bidopt.io.aliases import DERIVED_KEYS, HEADER_LOOKUP, header_key

HEADER_SEARCH_LINES = 20  # title lines an export may put above the header
SAMPLE_BYTES = 1 << 20  # bytes read to detect the encoding and the delimiter
DELIMITERS = (",", "\t", ";", "|")
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
ARROW_ENCODINGS = {"utf-8", "utf-8-sig", "gb18030"}
_CHINESE_ENCODINGS = {"gb2312", "gbk", "gb18030", "hz", "cp936", "euc_cn"}


def read_raw_table(path: Path) -> pd.DataFrame:
    """Read CSV/TSV (encoding and delimiter detected), .xlsx or .parquet as strings.

    NaN and missing cells become ``""``. Raises :class:`DataError` for a missing, empty or
    unreadable file, so the CLI reports one line instead of a traceback.
    """
    path = Path(path)
    where = str(path)
    if not path.exists():
        raise DataError([Problem(file=where, message="file not found")])
    if path.is_dir():
        raise DataError([Problem(file=where, message="is a folder, not a file")])
    if path.name.startswith("~$"):  # Excel's owner file beside a workbook open in Excel
        raise DataError([Problem(
            file=where, message=f"this is the lock file Excel keeps while {path.name[2:]} is "
            "open, not a report", expected="the workbook closed in Excel, or a pattern in "
            "sources.reports that does not match '~$' files")])
    if path.stat().st_size == 0:
        raise DataError([Problem(file=where, message="file is empty (no header, no rows)")])
    suffix = path.suffix.lower()
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
        if problem := _misnamed_problem(path, suffix, head):
            raise DataError([problem])
        if suffix in EXCEL_SUFFIXES:
            frame = _read_excel(path)
        elif suffix in PARQUET_SUFFIXES:
            frame = _read_parquet(path)
        elif suffix == ".xls" and (problem := _old_excel_problem(path, head)):
            raise DataError([problem])
        else:  # a ".xls" export that is really tab- or comma-separated text is read as such
            frame = _read_delimited(path)
    except DataError:
        raise
    except (OSError, ValueError, UnicodeError, csv.Error, ImportError) as exc:
        message = f"cannot read the file: {type(exc).__name__}: {exc}".strip()
        raise DataError([Problem(file=where, message=message)]) from exc
    except Exception as exc:  # openpyxl/pyarrow raise their own types for corrupt files
        message = f"cannot read the file: {type(exc).__name__}: {exc}".strip()
        raise DataError([Problem(file=where, message=message)]) from exc
    if len(frame.columns) == 0 or all(str(c).strip() == "" for c in frame.columns):
        raise DataError([Problem(file=where, message="file is empty (no header, no rows)")])
    return frame


def _content(head: bytes) -> tuple[str, str, str]:
    """What a file's first bytes say it is: (kind, its name for people, how to have it read)."""
    if head.startswith(b"PK\x03\x04"):
        return "excel", "an Excel workbook (a zip file)", "rename it to .xlsx"
    if head.startswith(b"PAR1"):
        return "parquet", "a Parquet file", "rename it to .parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls", "a binary Excel 97-2003 .xls file", "save it as .xlsx or .csv in Excel"
    if b"\0" not in head or _utf16(head):
        return "text", "CSV text", "rename it to .csv"
    return "other", "binary data of an unknown kind", "export the report again"


def _misnamed_problem(path: Path, suffix: str, head: bytes) -> Problem | None:
    """A file whose bytes are not what its suffix says (a CSV saved as .xlsx, a workbook
    named .csv), named with the rename that fixes it rather than with a zip or decode error.
    Text suffixes only object to a known binary format: odd text is the CSV reader's job."""
    found, what, advice = _content(head)
    if suffix in EXCEL_SUFFIXES:
        expected, name = "excel", "an Excel workbook"
    elif suffix in PARQUET_SUFFIXES:
        expected, name = "parquet", "a Parquet file"
    elif found in {"excel", "parquet"} or (found == "xls" and suffix != ".xls"):
        expected, name = "text", "an old .xls file" if suffix == ".xls" else "CSV text"
    else:
        return None
    if found == expected:
        return None
    return Problem(file=str(path), message=f"cannot read the file: it is not {name} but {what}; "
                   f"{advice}")


def _old_excel_problem(path: Path, head: bytes) -> Problem | None:
    """What is wrong with a ``.xls`` file, or None when it is text a CSV reader can take.

    Ad platforms often export ``.xls`` files that are tab-separated text or an HTML table;
    only the text kind can be read without another library.
    """
    if _content(head)[0] == "xls":
        return Problem(file=str(path), message="a binary Excel 97-2003 .xls file",
                       expected="save it as .xlsx or .csv")
    text = head.lstrip(codecs.BOM_UTF8).lstrip().lower()
    if text.startswith((b"<", b"\xff\xfe<", b"\xfe\xff\x00<")):
        return Problem(file=str(path), message="an HTML table saved as .xls",
                       expected="open it in Excel and save it as .xlsx or .csv")
    return None


# --- CSV ---------------------------------------------------------------------------------


def detect_encoding(sample: bytes) -> str:
    """Name the codec of a CSV sample: BOM first, then strict UTF-8, strict GB18030, and
    only then charset-normalizer.

    GB18030 (a superset of GB2312 and GBK) is tried before guessing because on a few lines
    charset-normalizer calls GBK cp949 or cp932, and Chinese exports are never Korean or
    Japanese. Chinese guesses are widened to GB18030 too, so that a rare character beyond
    the sample does not fail the read.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if utf16 := _utf16(sample):
        return utf16
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    try:
        sample.decode("gb18030")
        if not _western_single_byte(sample):
            return "gb18030"
    except UnicodeDecodeError:
        pass
    else:  # Excel's "CSV (Comma delimited)" on a Western Windows: 'größe', 'crème'
        try:
            sample.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            return "latin-1"
    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        return "gb18030"
    encoding = best.encoding.lower().replace("-", "_")
    if encoding in _CHINESE_ENCODINGS:
        return "gb18030"
    if encoding.startswith("utf_16"):
        return "utf-16"
    return best.encoding


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_INSIDE_A_WORD = re.compile(r"(?<=[A-Za-z])[^\x00-\x7f]+(?=[A-Za-z])")


def _western_single_byte(sample: bytes) -> bool:
    """True where bytes that GB18030 happens to decode are Western single-byte text.

    GB18030 takes almost any high byte followed by a letter as one character, so
    Windows-1252 text such as 'größe' or 'crème' decodes without error, as 'gr鲞e' and
    'cr鑝e': Chinese characters inside a Latin word. Chinese text has its characters in
    runs beside digits, spaces and punctuation ('2026新款 外套', 'T恤-日常推广'), rarely with a
    Latin letter on both sides.
    """
    text = sample.decode("gb18030", errors="replace")
    runs = len(_NON_ASCII_RUN.findall(text))
    return runs > 0 and len(_INSIDE_A_WORD.findall(text)) > 0.5 * runs


def _utf16(sample: bytes) -> str | None:
    """The UTF-16 codec of a sample, or None. Without a BOM (some exporters write none), the
    NUL high bytes of ASCII delimiters, digits and line ends give the byte order away."""
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = sample[:4096]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if max(even, odd) > len(head) / 16 and min(even, odd) <= max(even, odd) / 8:
        return "utf-16-le" if odd > even else "utf-16-be"
    return None


def _read_sample(path: Path) -> bytes:
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if len(sample) == SAMPLE_BYTES and not _utf16(sample):
        cut = sample.rfind(b"\n")
        if cut > 0:
            sample = sample[: cut + 1]
    return sample


def _known_cells(cells: list[str]) -> int:
    return sum(1 for c in cells if (k := header_key(c)) in HEADER_LOOKUP or k in DERIVED_KEYS)


def _find_header(lines: list[list[str]]) -> int:
    """Index of the first line that looks like a header (two or more known columns)."""
    for index, cells in enumerate(lines[:HEADER_SEARCH_LINES]):
        if _known_cells(cells) >= 2:
            return index
    for index, cells in enumerate(lines[:HEADER_SEARCH_LINES]):
        if any(c.strip() for c in cells):
            return index
    return 0


def _sniff(text: str, suffix: str) -> tuple[str, int]:
    """Pick the delimiter and the header line from the first lines of the text."""
    head = text.splitlines()[:HEADER_SEARCH_LINES]
    best: tuple[int, int, str] | None = None  # (known cells, -line, delimiter)
    for delimiter in DELIMITERS:
        lines = list(csv.reader(head, delimiter=delimiter))
        for index, cells in enumerate(lines):
            known = _known_cells(cells)
            if known >= 2:
                score = (known, -index, delimiter)
                if best is None or score[:2] > best[:2]:
                    best = score
                break
    if best is not None:
        return best[2], -best[1]
    first = next((line for line in head if line.strip()), "")
    default = "\t" if suffix == ".tsv" else ","
    counts = {d: first.count(d) for d in DELIMITERS}
    delimiter = max(counts, key=lambda d: (counts[d], d == default))
    if counts[delimiter] == 0:
        delimiter = default
    return delimiter, _find_header(list(csv.reader(head, delimiter=delimiter)))


def _read_delimited(path: Path) -> pd.DataFrame:
    sample = _read_sample(path)
    if not sample.strip().strip(codecs.BOM_UTF8):
        raise DataError([Problem(file=str(path), message="file is empty (no header, no rows)")])
    encoding = detect_encoding(sample)
    text = sample.decode(encoding, errors="replace")
    if not text.strip("\ufeff \r\n\t"):
        raise DataError([Problem(file=str(path), message="file is empty (no header, no rows)")])
    delimiter, header_index = _sniff(text.lstrip("\ufeff"), path.suffix.lower())
    options = dict(
        sep=delimiter,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skiprows=header_index,
        skip_blank_lines=False,  # see _trim_blank_tail
        encoding=encoding,
    )
    header = next(csv.reader(text.lstrip("\ufeff").splitlines()[:1], delimiter=delimiter), [])
    frame = _read_with_arrow(path, encoding, delimiter, header) if header_index == 0 else None
    try:
        if frame is None:
            frame = pd.read_csv(path, **options)
    except UnicodeDecodeError:
        # The sample looked like UTF-8 but a later byte is not: let charset-normalizer
        # look at the whole file (this only happens on unusual files).
        options["encoding"] = detect_encoding(path.read_bytes()[: SAMPLE_BYTES * 16])
        if options["encoding"] == "utf-8":
            options["encoding"] = "gb18030"
        frame = pd.read_csv(path, **options)
    except pd.errors.EmptyDataError as exc:
        raise DataError(
            [Problem(file=str(path), message="file is empty (no header, no rows)")]
        ) from exc
    except pd.errors.ParserError as exc:
        raise DataError(
            [
                Problem(
                    file=str(path),
                    message=f"malformed CSV: {exc}".strip(),
                    expected=f"one value per column, separated by {delimiter!r}",
                )
            ]
        ) from exc
    if not isinstance(frame.index, pd.RangeIndex):
        frame = _without_extra_values(path, frame, header_index)
    frame.columns = [str(c).lstrip("\ufeff").strip() for c in frame.columns]
    _check_not_cut_off(path, options["encoding"], delimiter, len(frame.columns), len(frame),
                       header_index)
    if any(frame[c].hasnans for c in frame.columns):  # short rows and blank lines
        frame = frame.fillna("")
    frame = _trim_blank_tail(frame)
    frame.attrs["header_row"] = header_index + 1
    frame.attrs["encoding"] = encoding
    return frame


def _without_extra_values(path: Path, frame: pd.DataFrame, header_index: int) -> pd.DataFrame:
    """Rows with more values than the header has names. pandas takes the first values of
    such rows as an index and shifts every column by that many places (the dates land
    under 'campaign'). Empty extra values (a delimiter at the end of every row, as some
    tools write) are dropped; a filled one is a value that held the delimiter unquoted."""
    names = list(frame.columns)
    extra = frame.index.nlevels
    cells = frame.reset_index().set_axis(range(len(names) + extra), axis=1)
    tail = cells.iloc[:, len(names):].fillna("").astype(str)
    filled = tail.apply(lambda c: c.str.strip() != "").any(axis=1).to_numpy()
    if filled.any():
        first = int(np.flatnonzero(filled)[0])
        raise DataError([Problem(
            file=str(path), row=header_index + 2 + first,
            message=(f"this row has more values than the header's {len(names)} columns: "
                     "a value holds the delimiter without quotes"),
            expected='one value per column; quote values with a delimiter in them, e.g. '
                     '"Nov 20, 2026" or "1,234.50"',
        )])
    frame = cells.iloc[:, : len(names)].set_axis(names, axis=1)
    return frame.fillna("")


def _check_not_cut_off(path: Path, encoding: str, delimiter: str, width: int, rows: int,
                       header_index: int) -> None:
    """A file whose last line stops short of the header's columns and has no line end was
    cut off (a download or a copy that did not finish): its missing values would read as
    zeros and the rest of the day would be missing, so the file is refused."""
    if rows == 0 or encoding.startswith("utf-16"):
        return
    with path.open("rb") as handle:
        handle.seek(max(path.stat().st_size - SAMPLE_BYTES // 16, 0))
        tail = handle.read()
    if tail.endswith((b"\n", b"\r")):
        return  # whatever the last row holds, it was written to its end
    last = tail.decode(encoding, errors="replace").splitlines()[-1]
    try:
        cells = next(csv.reader([last], delimiter=delimiter), [])
    except csv.Error:
        return
    if len(cells) >= width:
        return
    raise DataError([Problem(
        file=str(path), row=header_index + 1 + rows,
        message=(f"the file ends in the middle of this row ({len(cells)} of {width} "
                 "values, no line end): it looks cut off"),
        expected="the whole export: download or copy it again",
    )])


def _trim_blank_tail(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop the blank rows at the end only. Blank rows between data rows are kept: the
    normaliser skips them but counts them, so that a problem names the row a spreadsheet or
    a text editor shows; at the end they would pass for note lines."""
    end = len(frame)
    while end and all(str(v).strip() == "" for v in frame.iloc[end - 1]):
        end -= 1
    return frame if end == len(frame) else frame.iloc[:end]


def _read_with_arrow(
    path: Path, encoding: str, delimiter: str, header: list[str]
) -> pd.DataFrame | None:
    """Fast path for well-formed files (4x faster than pandas on UTF-8); None otherwise.

    Anything unusual (ragged rows, duplicate headers, a codec pyarrow cannot use) returns
    None and the pandas parser, with its clearer messages, reads the file instead.
    """
    names = [h.strip() for h in header]
    if not names or len(set(names)) != len(names) or encoding not in ARROW_ENCODINGS:
        return None
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    columns = [f"c{i}" for i in range(len(names))]
    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(
                encoding="utf8" if encoding.startswith("utf-8") else encoding,
                skip_rows=1,
                column_names=columns,
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(columns, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )
    except (pa.ArrowException, UnicodeError, LookupError, ValueError):
        return None
    frame = table.to_pandas(
        types_mapper={pa.string(): pd.StringDtype("pyarrow", na_value=np.nan)}.get
    )
    frame.columns = names
    return frame


# --- Excel -------------------------------------------------------------------------------


def _excel_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.strftime("%Y-%m-%d")
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    text = str(value)
    return (unescape_xml_text(text) if "_x" in text else text).strip()


_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape_xml_text(text: str) -> str:
    """A workbook's text as Excel shows it: the file escapes characters as ``_xHHHH_``
    (ECMA-376 ST_Xstring): ``_x000D_`` is a carriage return, and text that itself reads
    ``_x0041_`` is stored as ``_x005F_x0041_`` (``_x005F_`` is the underscore)."""
    return _ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)


def _open_workbook(path: Path):
    """The workbook in openpyxl's read-only mode, with its shared strings as the file holds
    them. openpyxl decodes no ``_xHHHH_`` escape in text stored in the cells (as XlsxWriter
    writes bidopt's workbook) and only removes ``x005F_`` from shared strings (as Excel
    saves them), which turns a name that reads ``_x0041_`` into one that reads ``A`` once
    decoded: every string is decoded once, here, by ``unescape_xml_text``."""
    from openpyxl.cell.text import Text
    from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    item = f"{{{SHEET_MAIN_NS}}}si"

    class Reader(ExcelReader):
        def read_strings(self) -> None:
            part = self.package.find(SHARED_STRINGS)
            if part is None:
                return
            strings = []
            with self.archive.open(part.PartName[1:]) as source:
                for _, node in iterparse(source):
                    if node.tag == item:
                        strings.append(Text.from_tree(node).content)
                        node.clear()
            self.shared_strings = strings

    reader = Reader(path, read_only=True, data_only=True)
    reader.read()
    return reader.wb


def _read_excel(path: Path) -> pd.DataFrame:
    workbook = _open_workbook(path)
    try:
        sheets, others = _report_sheets(workbook)
        frames = [_rows_frame(path, _sheet_rows(sheet)) for sheet in sheets]
    finally:
        workbook.close()
    if len(frames) == 1:
        frames[0].attrs["other_sheets"] = others
        return frames[0]
    frame = pd.concat(frames, ignore_index=True)
    frame.attrs["other_sheets"] = others
    frame.attrs["header_row"] = frames[0].attrs["header_row"]
    # each sheet counts its own rows (a title line may sit above one sheet's header only)
    frame.attrs["row_numbers"] = np.concatenate(
        [np.arange(len(f)) + f.attrs["header_row"] + 1 for f in frames])
    frame.attrs["sheets"] = np.repeat([sheet.title for sheet in sheets], [len(f) for f in frames])
    return frame


def _rows_frame(path: Path, rows: list[list[str]]) -> pd.DataFrame:
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise DataError([Problem(file=str(path), message="file is empty (no header, no rows)")])
    header_index = _find_header(rows)
    header = _header_cells(rows[header_index])
    width = len(header)
    body = [row[:width] + [""] * (width - len(row)) for row in rows[header_index + 1 :]]
    while body and not any(body[-1]):  # blank rows inside stay, as in _trim_blank_tail
        body.pop()
    columns = list(header)
    frame = (
        pd.DataFrame(body, columns=columns, dtype=str)
        if body
        else pd.DataFrame({c: pd.Series([], dtype=str) for c in columns})
    )
    frame.attrs["header_row"] = header_index + 1
    return frame


def _header_cells(row: list[str]) -> tuple[str, ...]:
    """The header's cells up to its last named column."""
    width = max((i + 1 for i, c in enumerate(row) if c), default=0)
    return tuple(str(c).strip() for c in row[:width])


def _sheet_rows(sheet) -> list[list[str]]:
    """The cells of a read-only sheet, merged ranges filled with their top-left value (a ZTC
    report may merge 推广单元 down each item's block; read-only mode leaves all but the first
    row of the block empty)."""
    from openpyxl.utils import range_boundaries

    rows = [[_excel_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    width = max(map(len, rows), default=0)
    for ref in _merged_ranges(sheet):
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        max_col = min(max_col, width)  # a title merged across A1:XFD1 adds no columns
        if min_row > len(rows) or min_col > len(rows[min_row - 1]):
            continue
        value = rows[min_row - 1][min_col - 1]
        for row in rows[min_row - 1 : max_row]:
            row.extend([""] * (max_col - len(row)))
            row[min_col - 1 : max_col] = [value] * (max_col - min_col + 1)
    return rows


_MERGE_CELLS = re.compile(rb"<(?:\w+:)?mergeCells\b")
_MERGE_REF = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Z]+[0-9]+:[A-Z]+[0-9]+)\"")


def _merged_ranges(sheet) -> list[str]:
    """Merged ranges ("A2:A5") of a read-only sheet, which openpyxl does not expose there.

    They sit in ``<mergeCells>`` after the cell data of the sheet's XML, which is streamed
    through in blocks rather than parsed, so a large plain sheet stays fast.
    """
    tail, found = b"", b""
    with sheet._get_source() as source:  # the sheet's XML inside the workbook's zip
        while block := source.read(1 << 20):
            if found:
                found += block
                continue
            text = tail + block
            if match := _MERGE_CELLS.search(text):
                found = text[match.start() :]
            tail = text[-32:]
    return [ref.decode() for ref in _MERGE_REF.findall(found)]


def _report_sheets(workbook) -> list:
    """The sheets holding the report: the one whose header names the most known columns
    (exports may put a notes sheet first; then one with any data; then the active one), and
    every other sheet with that same header, in tab order (a workbook may hold one sheet per
    day or per platform, and reading only one of them lost the rest without a word); and the
    titles of the sheets left out that have a report header of their own (a crowd report
    beside the keyword report), for the normaliser to name."""
    sheets = list(workbook.worksheets)
    active = workbook.active if workbook.active in sheets else sheets[0]
    scored = []
    for sheet in sheets:
        head = [[_excel_cell(v) for v in row]
                for row in sheet.iter_rows(max_row=HEADER_SEARCH_LINES, values_only=True)]
        known = max((_known_cells(row) for row in head), default=0)
        header = _header_cells(head[_find_header(head)]) if head else ()
        scored.append(((known, any(any(row) for row in head), sheet is active), header, sheet))
    score, header, best = max(scored, key=lambda s: s[0])
    if score[0] < 2:  # no sheet has a header this reader knows: do not guess at more
        return [best], []
    return ([sheet for _, other, sheet in scored if other == header],
            [sheet.title for known, other, sheet in scored if other != header and known[0] >= 2])


# --- Parquet -----------------------------------------------------------------------------


def _column_as_text(column: pd.Series) -> pd.Series:
    missing = column.isna()
    if pd.api.types.is_datetime64_any_dtype(column):
        text = column.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_float_dtype(column):
        values = column.to_numpy(dtype=float, na_value=np.nan)
        finite = values[np.isfinite(values)]
        if finite.size and np.all(np.mod(finite, 1) == 0) and np.all(np.abs(finite) < 1e15):
            text = pd.Series(
                np.where(np.isfinite(values), values, 0).astype(np.int64), index=column.index
            ).astype(str)
        else:
            text = column.astype(str)
    else:
        text = (
            column.map(_excel_cell, na_action="ignore")
            if column.dtype == object
            else (column.astype(str))
        )
    return text.where(~missing, "").astype(str)


def _read_parquet(path: Path) -> pd.DataFrame:
    """Named index levels (a frame saved with ``set_index(["date", "campaign"])``) are
    columns of the report; only an unnamed index, pandas' row positions, is dropped."""
    frame = pd.read_parquet(path)
    named = [n for n in frame.index.names if n is not None and n not in frame.columns]
    frame = frame.reset_index(level=named) if named else frame
    frame = frame.reset_index(drop=True)
    text = pd.DataFrame({str(c).strip(): _column_as_text(frame[c]) for c in frame.columns})
    text.attrs["header_row"] = 1
    return text
