"""Built-in writer plugin: the recommendations CSV that Excel opens correctly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bidopt.hookspecs import hookimpl
from bidopt.io.writer import write_recommendations_csv


@hookimpl
def bidopt_output_formats() -> list[str]:
    return ["csv"]


@hookimpl(trylast=True)
def bidopt_write_output(
    recommendations: pd.DataFrame, path: Path, format: str, options: dict
) -> bool | None:
    if format != "csv":
        return None
    write_recommendations_csv(recommendations, path, encoding=options.get("encoding", "utf-8-sig"))
    return True
