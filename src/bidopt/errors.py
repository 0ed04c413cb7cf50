"""Typed errors raised by the library; the CLI maps each to one message and one exit code."""

from __future__ import annotations

from dataclasses import dataclass


class ExitCode:
    """Documented exit codes of the ``bidopt`` command."""

    OK = 0
    USAGE = 2  # click's own code for a bad command line
    BAD_INPUT = 3  # an input file is missing, unreadable or fails validation
    BAD_CONFIG = 4  # the YAML config is malformed or fails its schema
    PLUGIN_FAILURE = 5  # a plugin failed to load, or failed during a --strict run
    PARTIAL = 6  # the run finished but some plugin's proposals were dropped
    OUTPUT_FAILURE = 7  # the recommendations could not be written
    INTERNAL_ERROR = 70  # a bug (sysexits' EX_SOFTWARE): the CLI writes a crash report


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what was expected."""

    file: str
    message: str
    row: int | None = None  # 1-based data row as a spreadsheet shows it (header is row 1)
    column: str | None = None
    expected: str | None = None
    severity: str = "error"  # "error" stops the run; "warning" is reported only
    sheet: str | None = None  # the workbook's sheet, where a file's rows come from several

    def __str__(self) -> str:
        parts = [self.file] if self.file else []
        if self.sheet is not None:
            parts.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        text = f"{', '.join(parts)}: {self.message}" if parts else self.message
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class BidoptError(Exception):
    """Base class of every error the CLI reports without a traceback."""

    exit_code = 1


class DataError(BidoptError):
    """An input file is missing, unreadable, or its rows fail validation."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(file="", message=problems)]
        self.problems = [p for p in problems if p.severity == "error"] or list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(BidoptError):
    """The YAML config is malformed or fails its schema."""

    exit_code = ExitCode.BAD_CONFIG

    def __init__(self, messages: list[str] | str, path: str | None = None):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        self.path = path
        prefix = f"{path}: " if path else ""
        super().__init__("\n".join(prefix + m for m in self.messages))


class PluginError(BidoptError):
    """A plugin could not be loaded, or misbehaved during a strict run."""

    exit_code = ExitCode.PLUGIN_FAILURE


class OutputError(BidoptError):
    """The recommendations could not be written."""

    exit_code = ExitCode.OUTPUT_FAILURE
