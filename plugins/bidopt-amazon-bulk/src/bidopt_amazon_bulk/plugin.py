"""bidopt writer plugin: output formats ``amazon_bulk_csv`` and ``amazon_bulk_xlsx``.

Enable with ``output: {format: amazon_bulk_xlsx, path: "bulk-{date}.xlsx"}``. Output
options (``output.options``): ``amazon_ids``, a bulk file downloaded from the account that
gives Amazon's IDs and real bids (see ``bulk.read_ids``), and ``amazon_match_type``, the
match type of plain keywords; each falls back to its environment variable (``IDS_ENV``,
``MATCH_TYPE_ENV``). Skipped actions are reported as a ``UserWarning`` (printed on stderr
by ``bidopt run``) with their count per action; ``Update`` rows written without Amazon's
IDs are warned about once.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd
from bidopt import hookimpl
from bidopt.errors import OutputError

from bidopt_amazon_bulk.bulk import (
    MATCH_TYPES,
    read_ids,
    to_bulk_rows,
    write_csv,
    write_xlsx,
)

# The hook contract this plugin was written for; bidopt refuses it if that changes.
BIDOPT_HOOK_VERSION = 1
IDS_ENV = "BIDOPT_AMAZON_BULK_IDS"
MATCH_TYPE_ENV = "BIDOPT_AMAZON_MATCH_TYPE"
WRITERS = {"amazon_bulk_csv": write_csv, "amazon_bulk_xlsx": write_xlsx}


class SkippedActions(UserWarning):
    """Recommendations were left out: the Amazon bulk sheet cannot express them, they find
    no keyword in the IDs file, or they change nothing."""


class MissingIds(UserWarning):
    """Update rows carry names instead of Amazon's IDs: Amazon rejects them on upload."""


@hookimpl
def bidopt_output_formats() -> list[str]:
    return sorted(WRITERS)


@hookimpl
def bidopt_check_output(format: str, options: dict) -> list[str] | None:
    """Before the run: an IDs file that is not there, a match type Amazon does not have."""
    if format not in WRITERS:
        return None
    problems = []
    ids_file = options.get("amazon_ids") or os.environ.get(IDS_ENV)
    if ids_file and not Path(ids_file).is_file():
        problems.append(f"the Amazon IDs file (amazon_ids or {IDS_ENV}) {ids_file} does not "
                        f"exist (a relative path is read from {Path.cwd()})")
    match_type = options.get("amazon_match_type") or os.environ.get(MATCH_TYPE_ENV)
    if match_type and match_type.lower() not in MATCH_TYPES:
        problems.append(f"amazon_match_type (or {MATCH_TYPE_ENV}) {match_type!r} is not one "
                        f"of {', '.join(MATCH_TYPES)}")
    return problems


@hookimpl
def bidopt_write_output(recommendations: pd.DataFrame, path: Path, format: str,
                        options: dict) -> list | None:
    if format not in WRITERS:
        return None
    ids_file = options.get("amazon_ids") or os.environ.get(IDS_ENV)
    ids = _read_ids(Path(ids_file)) if ids_file else None
    match_type = (options.get("amazon_match_type") or os.environ.get(MATCH_TYPE_ENV)
                  or "exact").lower()
    sheet = to_bulk_rows(recommendations, ids, default_match_type=match_type)
    WRITERS[format](sheet, Path(path))
    if sheet.skipped:
        warnings.warn(
            f"{format}: {sum(sheet.skipped.values())} recommendation(s) were not written to "
            f"the Amazon bulk sheet: {sheet.skipped_text()}",
            SkippedActions, stacklevel=2,
        )
    no_ids = int(((sheet.rows["Operation"] == "Update") & (sheet.rows["Keyword ID"] == "")).sum())
    if no_ids:
        warnings.warn(
            f"{format}: {no_ids} Update row(s) carry campaign and ad group names, not Amazon's "
            f"IDs, and Amazon rejects Update rows without IDs; download a bulk file from the "
            f"account (Bulk operations) and give it as output option amazon_ids or in "
            f"{IDS_ENV}",
            MissingIds, stacklevel=2,
        )
    return sheet.sources  # the rows the sheet holds: `bidopt applied` records only those


def _read_ids(path: Path) -> pd.DataFrame:
    """The IDs file, or an error that names it as the IDs file (a missing one read as
    'cannot write <the output>: No such file', a wrong one as a bare column name)."""
    try:
        return read_ids(path)
    except FileNotFoundError:
        raise OutputError(f"the Amazon IDs file (amazon_ids or {IDS_ENV}) {path} does not "
                          f"exist (a relative path is read from {Path.cwd()})") from None
    except (OSError, ValueError) as exc:
        raise OutputError(f"the Amazon IDs file (amazon_ids or {IDS_ENV}) {path} cannot be "
                          f"read: {exc}") from exc
