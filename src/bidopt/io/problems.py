"""Collecting row problems without drowning the user (or the CPU) in them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bidopt.errors import Problem

MAX_LISTED_ROWS = 20


class ProblemLog:
    """Collects problems, listing at most ``MAX_LISTED_ROWS`` rows per column."""

    def __init__(self, file: str, row_numbers: np.ndarray, sheets: np.ndarray | None = None):
        self.file = file
        self.row_numbers = row_numbers
        self.sheets = sheets  # per row, where the rows come from several sheets
        self.problems: list[Problem] = []
        # per (column, severity): a column's warnings do not use up room for its errors
        self._listed: dict[tuple[str | None, str], int] = {}
        self._unlisted: dict[tuple[str | None, str], int] = {}

    def add(self, message: str, **fields: object) -> None:
        self.problems.append(Problem(file=self.file, message=message, **fields))

    def rows(
        self,
        mask: np.ndarray,
        column: str | None,
        message: Callable[[int], str],
        *,
        expected: str | None = None,
        severity: str = "error",
    ) -> None:
        """Add one problem per offending row; ``message(position)`` words it."""
        positions = np.flatnonzero(mask)
        if positions.size == 0:
            return
        key = (column, severity)
        room = max(MAX_LISTED_ROWS - self._listed.get(key, 0), 0)
        for position in positions[:room]:
            self.problems.append(
                Problem(
                    file=self.file,
                    row=int(self.row_numbers[position]),
                    column=column,
                    message=message(int(position)),
                    expected=expected,
                    severity=severity,
                    sheet=None if self.sheets is None else str(self.sheets[position]),
                )
            )
        self._listed[key] = self._listed.get(key, 0) + min(room, positions.size)
        self._unlisted[key] = self._unlisted.get(key, 0) + max(positions.size - room, 0)

    def finish(self) -> list[Problem]:
        for (column, severity), count in self._unlisted.items():
            if count:
                self.add(f"... and {count} more rows with problems in this column",
                         column=column, severity=severity)
        return self.problems
