"""Built-in reader plugin: CSV (any common encoding), Excel and Parquet; a .xls export that
is really text is read as CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bidopt.hookspecs import hookimpl
from bidopt.io.readers import read_raw_table

SUFFIXES = {".csv", ".tsv", ".txt", ".xls", ".xlsx", ".xlsm", ".parquet", ".pq"}


@hookimpl(trylast=True)
def bidopt_read_source(path: Path, kind: str) -> pd.DataFrame | None:
    if path.suffix.lower() not in SUFFIXES:
        return None
    return read_raw_table(path)
