"""Readers, header aliases, number parsing, validation and writers."""

from __future__ import annotations

from bidopt.io.grains import split_report_grains
from bidopt.io.normalise import normalise_table
from bidopt.io.readers import read_raw_table
from bidopt.io.writer import (
    atomic_output,
    output_lock,
    review_file,
    write_recommendations_csv,
)

__all__ = [
    "atomic_output",
    "normalise_table",
    "output_lock",
    "read_raw_table",
    "review_file",
    "split_report_grains",
    "write_recommendations_csv",
]
