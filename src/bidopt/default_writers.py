"""Built-in writer plugin: the recommendations as a CSV that Excel opens correctly, or as
an Excel workbook that keeps all-digit IDs exact (``output.format: xlsx``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bidopt.hookspecs import hookimpl
from bidopt.io.workbook import write_recommendations_xlsx
from bidopt.io.writer import write_recommendations_csv

FORMATS = ("csv", "xlsx")  # bidopt's own recommendations; any other format is a plugin's


@hookimpl
def bidopt_output_formats() -> list[str]:
    return list(FORMATS)


@hookimpl(trylast=True)
def bidopt_write_output(
    recommendations: pd.DataFrame, path: Path, format: str, options: dict
) -> bool | None:
    if format == "csv":
        write_recommendations_csv(recommendations, path,
                                  encoding=options.get("encoding", "utf-8-sig"))
    elif format == "xlsx":
        write_recommendations_xlsx(recommendations, path)
    else:
        return None
    return True
