"""Every hook bidopt calls, in one place.

A plugin is a module or object with functions marked ``@bidopt.hookimpl`` whose names
match these specs; it is found through the ``bidopt`` entry-point group. bidopt's own
strategies, readers and writer are registered through exactly these hooks.

``HOOK_VERSION`` is raised when a hook's signature or contract changes incompatibly; a
plugin may declare the version it was built for as a module attribute
``BIDOPT_HOOK_VERSION`` and is refused at load when it does not match.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import pandas as pd

    from bidopt.strategy import Strategy

HOOK_VERSION = 1

hookspec = pluggy.HookspecMarker("bidopt")
hookimpl = pluggy.HookimplMarker("bidopt")


@hookspec
def bidopt_register_strategies(register: Callable[[Strategy], None]) -> None:
    """Register strategies by calling ``register(Strategy(...))`` once per strategy.

    Called once when the plugin manager is built. A strategy's name is how the config
    enables it (``strategies: {name: {...}}``); its ``params`` model validates that
    section; its ``propose`` function is called once per run in which it is enabled, with
    the :class:`~bidopt.context.RunContext` and the validated parameters, and returns a
    frame of proposed actions (see ``bidopt.schema.PROPOSAL_COLUMNS``). Two strategies
    with one name are an error naming both plugins.

    :param register: callback taking a :class:`bidopt.strategy.Strategy`.
    """


@hookspec(firstresult=True)
def bidopt_read_source(path: Path, kind: str) -> pd.DataFrame | None:
    """Read one input file into a frame of raw strings, or return None if not yours.

    Called for every input file of a run (``kind`` is ``"report"``, ``"items"`` or
    ``"candidates"``). The first plugin that returns a frame wins. Return the cells as
    strings with the file's own headers; bidopt maps headers, parses numbers and validates.

    :param path: the file to read.
    :param kind: what the file holds.
    :return: the table, or None to let another reader try.
    """


@hookspec
def bidopt_output_formats() -> list[str]:
    """Name the output formats this plugin writes (e.g. ``["csv"]``).

    Called when the config is validated and by ``bidopt plugins``, so that an unknown
    ``output.format`` is caught before a run starts.
    """


@hookspec
def bidopt_check_output(format: str, options: dict) -> list[str] | None:
    """Problems with the output settings of ``format`` that would make your writer fail:
    a file an option names that does not exist, a value the writer does not take.

    Called by ``bidopt validate`` and by ``bidopt run`` before it reads any report, so that
    a nightly run does not plan for minutes and then fail at the writer. Return each
    problem as a sentence (it is shown as a config error, exit 4), or None when ``format``
    is not yours or nothing is wrong. Optional: a writer without it is checked when it
    writes.

    :param options: as ``bidopt_write_output`` gets them.
    """


@hookspec(firstresult=True)
def bidopt_write_output(
    recommendations: pd.DataFrame, path: Path, format: str, options: dict
) -> bool | list | None:
    """Write the recommendations to ``path`` in ``format``; return True if handled, or the
    index labels of the rows your file holds where it cannot hold them all.

    Called once at the end of a run that is not a dry run. ``recommendations`` has the
    columns of ``bidopt.schema.RECOMMENDATION_COLUMNS`` in that order. ``path`` is a
    temporary file next to the final one: bidopt renames it into place only after the
    writer returns, so a writer that fails never leaves a half file behind. Return None
    when ``format`` is not yours. Beside a plugin's file bidopt writes its own
    recommendations CSV (``bidopt.io.review_file``), which ``bidopt applied`` records; the
    two are put in place together. Where you return the labels of the rows written, the
    review file marks each row ``in_upload_file`` yes or no, and ``bidopt applied`` records
    only the rows marked yes (a pause your file could not carry is then not recorded as in
    force).

    :param options: the ``output`` section of the config (encoding, ...), as a dict.
    """
