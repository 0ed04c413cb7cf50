"""The ``bidopt`` command. Commands parse options, call the library and print; every
library error is mapped to one message and one exit code in ``main``."""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import json
import os
import re
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import NoReturn

import click

from bidopt import __version__
from bidopt.errors import BidoptError, ConfigError, ExitCode

EXIT_CODES_HELP = """\b
Exit codes:
  0  success
  2  bad command line
  3  bad input data (file, row and column are listed)
  4  bad config
  5  a plugin failed to load (or failed during a --strict run)
  6  partial run: a plugin failed and its proposals were dropped
  7  the output could not be written (or another run is writing it)
  70 internal error (a bug): a crash report is written, its path printed
  130 interrupted (Ctrl-C or SIGTERM); nothing written unless the message says so
"""
def _exit_codes(*lines: str) -> str:
    """The exit-code epilog of a smaller command: 0, 2 and 70 as every command has them,
    with its own lines between."""
    return "\n".join(["\b", "Exit codes:", "  0  success", "  2  bad command line",
                      *(f"  {line}" for line in lines),
                      "  70 internal error (a bug): a crash report is written, its path printed",
                      "  130 interrupted (Ctrl-C or SIGTERM)", ""])


VALIDATE_EXIT_CODES_HELP = "\n".join(
    line for line in EXIT_CODES_HELP.splitlines() if line.split()[:1] not in (["6"], ["7"])
).replace(" (or failed during a --strict run)", "").replace(" unless the message says so",
                                                              "") + "\n"
# an unexpected exception (a bug) is reported in a file put here (default: the temporary folder)
CRASH_DIR_ENV = "BIDOPT_CRASH_DIR"
DEBUG_ENV = "BIDOPT_DEBUG"  # 1: print a bug's traceback too, as -v does
CRASH_REPORTS_KEPT = 20
"""The crash reports kept in their folder: writing one removes bidopt's older ones beyond
this many. A nightly cron job that hits the same bug every night would otherwise pile up a
report a night; 20 keep the last few weeks of such a job, or a burst of different crashes,
for a bug report."""
CRASH_REPORT_NAME = re.compile(r"bidopt-crash-[0-9]{8}-[0-9]{6}-[0-9]+\.txt")  # as written below


class Verbosity:
    """Progress for long runs: a live status line on a terminal, plain lines with -v."""

    def __init__(self, quiet: bool, verbose: bool):
        self.quiet, self.verbose = quiet, verbose
        self._status = None
        self._start = time.monotonic()

    def __enter__(self) -> Verbosity:
        if not self.quiet and not self.verbose and sys.stderr.isatty():
            from rich.console import Console

            self._status = Console(stderr=True).status("starting")
            self._status.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._status is not None:
            self._status.stop()

    def progress(self, message: str) -> None:
        if self.verbose:  # seconds since the start: a nightly log shows which stage was slow
            click.echo(f"... {time.monotonic() - self._start:6.1f}s {message}", err=True)
        elif self._status is not None:
            self._status.update(message)


def _sources_options(func, *, into: str = "replaces the config's",
                     into_reports: str = "replaces the config's reports"):
    func = click.option("--candidates", type=click.Path(path_type=Path),
                        help=f"Keyword candidates file ({into}).")(func)
    func = click.option("--items", type=click.Path(path_type=Path),
                        help=f"Items file ({into}).")(func)
    func = click.option("--reports", multiple=True, type=click.Path(path_type=Path),
                        help=f"A report file or pattern (exports/kw_*.csv); repeat for several "
                        f"({into_reports}).")(func)
    return func


def _init_sources_options(func):
    return _sources_options(func, into="written into the config",
                            into_reports="written into the config")


def _load(config_path: Path):
    from bidopt.config import load_config
    from bidopt.plugins import build_registry, get_plugin_manager

    config = load_config(config_path)
    registry = build_registry(get_plugin_manager())
    return config, registry


def _check_against_plugins(config, registry, config_path: Path, *, output: bool = True) -> None:
    """The config's strategies and (with ``output``) its output format against the installed
    plugins, every problem in one error: a user fixing a config sees all of them at once."""
    from bidopt.config import check_strategies
    from bidopt.loop import check_output_format

    checks = [lambda: check_strategies(config, registry.strategies, str(config_path))]
    if output:
        checks.append(lambda: check_output_format(config, registry, str(config_path)))
    problems: list[str] = []
    for check in checks:
        try:
            check()
        except ConfigError as exc:
            problems += exc.messages
    if problems:
        raise ConfigError(problems, str(config_path))


def _output_clash(config, path: Path, reports, items, candidates,
                  config_path: Path | None = None) -> str | None:
    """Why ``path``, or the review file written beside it for a writer plugin's format
    (``loop.review_output``), cannot hold the plan without breaking a night, or None: it is
    the config or its state file, one of the run's input files (``--out exports/items.csv``
    replaced the items file), or a report pattern matches it (the next night would read the
    plan as a report and fail)."""
    from bidopt.loop import output_files

    for file in output_files(config, path):
        if problem := _file_clash(config, file, reports, items, candidates, config_path):
            return problem if file == path else f"its review file {problem}"
    return None


def _file_clash(config, path: Path, reports, items, candidates,
                config_path: Path | None = None) -> str | None:
    """``_output_clash`` for one file written."""
    from bidopt.loop import resolve_sources
    from bidopt.state import state_path

    sources = resolve_sources(config, _overrides(reports, items, candidates))
    target = path.resolve()
    if config_path is not None and Path(config_path).resolve() == target:
        return f"{path} is the config of this run"
    if state_path(config).resolve() == target:
        return f"{path} is the config's state_file"
    if any(p is not None and Path(p).resolve() == target
           for p in (*sources.reports, sources.items, sources.candidates)):
        return f"{path} is an input file of this run"
    patterns = list(reports) or [config.resolve(Path(p)) for p in config.sources.reports]
    for pattern in patterns:
        if glob.has_magic(str(pattern)) and target.match(str(Path(pattern).resolve())):
            return (f"{path} is among the reports ({pattern}): the next run would read these "
                    "recommendations as a report and fail")
    return None


def _overrides(reports, items, candidates):
    from bidopt.loop import SourceOverrides

    return SourceOverrides(list(reports), items, candidates)


class BidoptGroup(click.Group):
    """One exit path: a library error becomes one message and its documented exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"config error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except BidoptError as exc:
            labels = {3: "input error", 5: "plugin error", 7: "output error"}
            click.echo(f"{labels.get(exc.exit_code, 'error')}: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=BidoptGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bidopt")
def cli() -> None:
    """bidopt: nightly bid recommendations that hold every campaign's ROI floor and budget."""


@cli.command(epilog=EXIT_CODES_HELP)
@click.option("-c", "--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="YAML config of the shop.")
@_sources_options
@click.option("--date", "night", type=click.DateTime(["%Y-%m-%d"]),
              help="Night being planned (default: today by this machine's clock and time "
                   "zone); the plan uses the report days before it.")
@click.option("--out", type=click.Path(),
              help="Output file, or folder for the default name: an existing folder, or a path "
                   "ending in '/' or without a file extension; {date} is the planned night "
                   "(default: from the config).")
@click.option("--dry-run", is_flag=True, help="Print the summary; write no file.")
@click.option("--strict", is_flag=True, help="Fail (exit 5) if any plugin fails.")
@click.option("--allow-stale", is_flag=True,
              help="Plan even when the reports end before the night's look-back window "
                   "(history.days; otherwise exit 3).")
@click.option("-q", "--quiet", is_flag=True,
              help="Print only errors, warnings, the run's notes (on stderr) and the output "
                   "path.")
@click.option("-v", "--verbose", is_flag=True, help="Print progress and every warning.")
def run(config_path, reports, items, candidates, night, out, dry_run, strict, allow_stale, quiet,
        verbose):
    """Plan one night: read the reports, forecast, propose, decide, write the CSV."""
    from bidopt.io import output_lock
    from bidopt.loop import (
        check_output_path,
        output_files,
        output_path,
        plan_night,
        write_recommendations,
    )
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose cannot be used together")
    config, registry = _load(config_path)
    _check_against_plugins(config, registry, config_path, output=not dry_run)
    date = night.date() if night else dt.date.today()
    path = None if dry_run else output_path(config, date, out)
    if path is not None:
        for file in output_files(config, path):
            check_output_path(file)
        if problem := _output_clash(config, path, reports, items, candidates, config_path):
            if out is not None:
                raise click.BadParameter(f"{problem}; write the plan elsewhere",
                                         param_hint="--out")
            raise ConfigError(f"'output.path': {problem}; write the plan elsewhere",
                              str(config_path))
        if config.output.format == "csv" and path.suffix.lower() in (".xlsx", ".xls", ".parquet"):
            click.echo(f"warning: {path.name} will hold CSV text (output.format is csv), which "
                       f"Excel will not open as {path.suffix}; name it .csv (or set "
                       "output.format: xlsx for a workbook)", err=True)
        if config.output.format == "xlsx" and path.suffix.lower() == ".csv":
            # the config's own path is checked when it loads (config.Output)
            raise click.BadParameter(f"{path.name} names a CSV, but output.format xlsx writes "
                                     "an Excel workbook: name it .xlsx", param_hint="--out")
    result, earlier = None, None
    # one run at a time per output file (a second one stops, exit 7)
    lock = output_lock(path) if path is not None else contextlib.nullcontext()
    try:
        with lock, Verbosity(quiet, verbose) as talk:
            result = plan_night(config, registry, date=date,
                                sources=_overrides(reports, items, candidates),
                                strict=strict, progress=talk.progress,
                                refuse_stale=not allow_stale)
            if path is not None:
                talk.progress(f"writing {path}")
                earlier = path.stat().st_mtime if path.is_file() else None
                write_recommendations(result, registry, config, path)
        _print_run(result, config, path, quiet, verbose)
        if path is not None and earlier is not None:  # the same night planned again
            written = dt.datetime.fromtimestamp(earlier).strftime("%Y-%m-%d %H:%M")
            click.echo(f"note: replaced the plan written there at {written}", err=True)
    except KeyboardInterrupt as exc:
        if result is not None and result.output is not None:
            raise InterruptedAfterWriting(_written(result)) from exc
        raise
    except Exception as exc:  # a bug once the new plan is in place: main must say so
        if result is not None and result.output is not None:
            exc.bidopt_output = _written(result)  # type: ignore[attr-defined]
        raise
    if result.partial:
        click.echo("the run was partial: proposals of failed plugins were dropped", err=True)
        sys.exit(ExitCode.PARTIAL)


def _written(result) -> str:
    """The files a run put in place: the output, and a writer plugin's review file."""
    return str(result.output) + (f" and {result.review}" if result.review else "")


class InterruptedAfterWriting(KeyboardInterrupt):
    """An interrupt that came once the new output was in place (while printing the summary):
    the message must not say that nothing was written. ``path``: the files written."""

    def __init__(self, path: Path | str):
        super().__init__(str(path))
        self.path = path


def _print_run(result, config, path: Path | None, quiet: bool, verbose: bool) -> None:
    from bidopt.summary import format_summary, run_notes

    if not quiet:
        click.echo(format_summary(result, config, verbose=verbose))
    else:  # the summary's notes, as it labels them: a nightly job run --quiet must see them
        for note in run_notes(result):
            click.echo(f"note: {note}", err=True)
        if path is not None:
            click.echo(str(path))
    for failure in result.plugin_failures:
        click.echo(f"warning: {failure}", err=True)
        if verbose and getattr(failure, "traceback", ""):  # where the plugin's code raised
            click.echo(failure.traceback.rstrip("\n"), err=True)


@cli.command(epilog=VALIDATE_EXIT_CODES_HELP)
@click.option("-c", "--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="YAML config of the shop.")
@_sources_options
@click.option("--date", "night", type=click.DateTime(["%Y-%m-%d"]),
              help="The night `run` will plan: reports that end before its look-back window "
                   "are then an error, as in `run` (default: today, and only a warning).")
@click.option("--allow-stale", is_flag=True, help="As in `run`: old reports are a warning only.")
def validate(config_path, reports, items, candidates, night, allow_stale):
    """Check the config and every input file; write nothing. Lists the problems found (up
    to 20 rows per column; warnings only when there is no error)."""
    from bidopt.context import unknown_campaign_notes
    from bidopt.errors import DataError, OutputError
    from bidopt.loop import (
        SAMPLE_NOTE,
        check_output_path,
        load_inputs,
        output_files,
        output_path,
        resolve_sources,
        sample_files,
    )
    from bidopt.state import read_state, state_path

    config, registry = _load(config_path)
    _check_against_plugins(config, registry, config_path)
    date = night.date() if night else dt.date.today()
    path = output_path(config, date, None)
    try:  # what `run` checks before any work: it must not pass here and fail there
        for file in output_files(config, path):
            check_output_path(file)
    except OutputError as exc:
        raise ConfigError(f"'output.path': {exc}", str(config_path)) from exc
    if problem := _output_clash(config, path, reports, items, candidates, config_path):
        raise ConfigError(f"'output.path': {problem}; write the plan elsewhere",
                          str(config_path))
    sources = resolve_sources(config, _overrides(reports, items, candidates))
    try:
        in_force = read_state(state_path(config), config.shop)
        inputs = load_inputs(registry, sources, lambda _: None,
                             date_order=config.sources.date_order)
    except DataError as exc:
        for problem in exc.problems:
            click.echo(f"{problem.severity}: {problem}", err=True)
        n_errors = sum(p.severity == "error" for p in exc.problems)
        click.echo(f"{n_errors} error(s) found", err=True)
        sys.exit(ExitCode.BAD_INPUT)
    history = inputs.history["keywords"]
    bundled = sources == sample_files()  # the sample shop's days are what they are
    if stale := _stale_note(history, date, config.history.days, given=night is not None,
                            allow=allow_stale or bundled):
        if stale.startswith("error: "):
            click.echo(f"{stale}\n1 error(s) found", err=True)
            sys.exit(ExitCode.BAD_INPUT)
    warnings = [*([SAMPLE_NOTE] if bundled else []), *map(str, inputs.warnings),
                *([stale] if stale else []),
                *_window_notes(inputs.history, date, config.history.days),
                *unknown_campaign_notes(config, sorted(history["campaign"].unique())),
                *_unmatched_pins(config, history, inputs.candidates)]
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"ok: config valid; {len(inputs.files)} files, {inputs.rows_read:,} rows, "
        f"{history[['campaign', 'item', 'keyword', 'platform']].drop_duplicates().shape[0]:,} "
        f"keyword x platform, days {history['date'].min().date()} .. "
        f"{history['date'].max().date()}, {len(warnings)} warning(s)"
        + (f"; {len(in_force):,} settings in force in {state_path(config)}" if len(in_force)
           else "")
    )


def _window_notes(history: dict, date: dt.date, days: int) -> list[str]:
    """What `run` would say of the days it plans ``date`` on: a last day exported before it
    ended, days missing or without impressions, campaigns quiet on the last day."""
    from bidopt.errors import DataError
    from bidopt.window import window_history

    try:
        return window_history(history, date, days, dated=False)[1]
    except DataError:  # no day before the night: _stale_note says so
        return []


def _stale_note(history, date: dt.date, days: int, *, given: bool, allow: bool) -> str | None:
    """What `run` would say of the reports' age on ``date``: None, a warning, or (for a
    ``--date`` given, where `run` would stop) an ``error: `` line."""
    import pandas as pd

    from bidopt.window import stale_reports

    dates = history["date"][history["date"] < pd.Timestamp(date)]
    if dates.empty:  # `run` stops on that night, --allow-stale or not
        note = (f"the reports hold no day before the planned night {date} (their days: "
                f"{history['date'].min().date()} .. {history['date'].max().date()}):")
        if given:
            return f"error: {note} `bidopt run` stops on them (exit 3); check --date"
        return f"{note} `bidopt run` on that night stops (exit 3)"
    note, stale = stale_reports(dates.max(), date, days)
    if not stale or allow:
        return note
    if given:
        return f"error: {note} `bidopt run` stops on them (exit 3) unless given --allow-stale"
    return f"{note} `bidopt run` on that night stops (exit 3) unless given --allow-stale"


def _unmatched_pins(config, history, candidates) -> list[str]:
    """The pins `run` would name as matching nothing (in the reports at all, here)."""
    import pandas as pd

    from bidopt.decide import unmatched_pin_notes

    if not config.bids.pinned:
        return []
    pins = pd.DataFrame([p.model_dump() for p in config.bids.pinned])
    keys = ["campaign", "item", "keyword", "platform"]
    bought = pd.MultiIndex.from_frame(history[keys].astype(str))
    found = pd.MultiIndex.from_frame(pins[keys].astype(str)).isin(bought)
    return unmatched_pin_notes(pins[~found], candidates, tonight=False)


@cli.command(epilog=_exit_codes("7  the config exists (use --force) or cannot be written"))
@click.option("--roi-floor", type=float, help="Lowest acceptable ROI (GMV / spend), e.g. 2.0.")
@click.option("--budget", type=float, help="Daily budget per campaign (0: none; asked if omitted).")
@_init_sources_options
@click.option("--out", type=click.Path(path_type=Path), default=Path("bidopt.yaml"),
              show_default=True, help="Where to write the config.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(roi_floor, budget, reports, items, candidates, out, force):
    """Write a commented starter config."""
    from bidopt.starter import starter_config

    if out.is_dir():
        raise click.BadParameter(f"{out} is a folder; give the config's file name, e.g. "
                                 f"{out / 'bidopt.yaml'}", param_hint="--out")
    from bidopt.errors import OutputError

    if out.exists() and not force:  # exit 7, as simulate's: documented, unlike click's 1
        raise OutputError(f"{out} exists; use --force to overwrite it")
    if roi_floor is None:
        roi_floor = _ask("ROI floor (GMV / spend)", 2.0)
    if budget is None:
        budget = _ask("Daily budget per campaign (0 = none)", 0.0)
    if roi_floor <= 0:
        raise click.BadParameter("must be greater than 0", param_hint="--roi-floor")
    if budget < 0:
        raise click.BadParameter("must be 0 or more", param_hint="--budget")
    # a report pattern (exports/kw_*.csv) is kept as written: the config expands it nightly
    missing = [str(p) for p in (*reports, items, candidates) if p is not None and not
               (p.is_file() or (p in reports and glob.has_magic(str(p)) and glob.glob(str(p))))]
    if missing:
        raise click.BadParameter("no such file (or no file matches the pattern): "
                                 + ", ".join(missing), param_hint="--reports/--items/--candidates")
    from bidopt.loop import (
        NAME_THE_REPORTS,
        SourceOverrides,
        expand_reports,
        reports_that_are_other_inputs,
    )

    clashes = reports_that_are_other_inputs(SourceOverrides(expand_reports(list(reports)), items,
                                                            candidates))
    if clashes:
        named = " and ".join(f"{path} (the {kind} file)" for path, kind in clashes)
        raise click.BadParameter(f"the pattern also matches {named}: {NAME_THE_REPORTS}",
                                 param_hint="--reports")
    text = starter_config(roi_floor, budget or None, list(reports), items, candidates, out.parent,
                          out.name)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"wrote {out}; next: bidopt validate --config {shlex.quote(str(out))}")


def _ask(text: str, default: float) -> float:
    """A number from the terminal; at the end of input (a script or cron job, ``</dev/null``)
    a usage error naming the options, not a bare "Aborted!"."""
    try:
        return click.prompt(text, type=float, default=default)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):
            raise
        click.echo(err=True)
        raise click.UsageError("no answer on standard input: without a terminal, give "
                               "--roi-floor and --budget (0: no budget)") from None


@cli.command(epilog=VALIDATE_EXIT_CODES_HELP.replace("  5  a plugin failed to load\n", "")  # loads none
             .replace("  70 ", "  7  the state file could not be written\n  70 "))
@click.option("-c", "--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="YAML config of the shop (its state_file is written).")
@click.argument("recommendations", type=click.Path(path_type=Path))
def applied(config_path, recommendations):
    """Record an uploaded plan's premiums, hour discounts, regions and pauses as in force.

    The reports do not show them; the next runs read them from the config's state_file
    wherever the config does not set crowd_premium.current_premiums,
    top3_quality.current_hour_discounts or region_exclusion.currently_excluded, and leave
    out keywords paused since. It also keeps the plan's keyword changes with their
    forecasts and ranges, which the next runs hold against their reports. Run it after uploading
    RECOMMENDATIONS (the CSV or workbook `bidopt run` wrote, edited or not; with a writer
    plugin's output format, such as an Amazon bulk sheet, the review file written beside
    the plugin's file, <name>.recommendations.csv).
    """
    from bidopt.config import load_config
    from bidopt.errors import OutputError
    from bidopt.state import record_plan, state_path

    config = load_config(config_path)
    path = state_path(config)
    try:  # a state_file in a folder not made yet, as output.path's folders are made
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot record the plan in {path}: {exc}") from exc
    counts = record_plan(path, recommendations, config.shop,
                         date_order=config.sources.date_order)
    what = (f"{counts.get('crowd_premium', 0):,} crowd premiums, "
            f"{counts.get('hour_discount', 0):,} hour discounts, "
            f"{counts.get('region', 0):,} region settings, "
            f"{counts.get('paused', 0):,} paused keywords")
    click.echo(f"recorded {what} from {recommendations} in {path}; "
               f"{counts.get('keyword_changes', 0):,} keyword changes for the next runs to "
               "hold against their reports")
    if counts.get("not_in_file"):
        click.echo(f"note: {counts['not_in_file']:,} rows marked in_upload_file: no (the writer "
                   "plugin's file could not hold them) were not recorded", err=True)
    if counts.get("no_forecast"):
        click.echo("note: the file has no forecast columns (exp_clicks, exp_cost, exp_gmv: "
                   "written before them): the next runs can say whether its keyword changes "
                   "are in force, not how they did against a forecast", err=True)
    if counts.get("kept"):
        click.echo(f"warning: {counts['kept']:,} of them were already recorded from a later "
                   "night and were kept as that night set them", err=True)


@cli.command(epilog=VALIDATE_EXIT_CODES_HELP)
@click.option("-c", "--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="YAML config of the shop (its calendar names the phases).")
@click.option("--ordinary", multiple=True, metavar="PHASE",
              help="A calendar phase whose days count as ordinary (repeatable), e.g. exposure.")
@_sources_options
def factors(config_path, ordinary, reports, items, candidates):
    """Measure each calendar phase's traffic, conversion and cart factors in past reports.

    Give reports that span a past season and some ordinary days before it (e.g. last
    year's September to November: --reports 'last-year/*.csv'); each phase is compared
    with the days in no phase (and in the phases named with --ordinary). Prints the
    factors with their standard errors and the lines to paste into the config's calendar.
    """
    import math

    from bidopt.loop import SAMPLE_NOTE, load_inputs, resolve_sources, sample_files
    from bidopt.seasonality import measure_factors

    config, registry = _load(config_path)
    if not config.calendar:
        raise ConfigError("the config has no calendar: name the phases to measure "
                          "(see configs/double11.yaml)", str(config_path))
    sources = resolve_sources(config, _overrides(reports, items, candidates))
    if sources == sample_files():  # factors of simulated data are no shop's
        click.echo(f"warning: {SAMPLE_NOTE}", err=True)
    inputs = load_inputs(registry, sources, lambda _: None, date_order=config.sources.date_order)
    table = measure_factors(inputs.history["keywords"], config, tuple(ordinary))
    click.echo(f"phases against {table.attrs['ordinary_days']} ordinary days "
               "(factor +- standard error):")
    names = ("traffic", "conversion", "carts")
    click.echo(f"  {'phase':<16} {'days':>4}  " + "  ".join(f"{n:>14}" for n in names))
    snippet = []
    for row in table.to_dict("records"):
        if not row["days"]:
            spec = next(p for p in config.calendar if p.name == row["phase"])
            dated = (f": its dates {spec.start} .. {spec.end} are of that year only (write "
                     f"{spec.start[5:]} .. {spec.end[5:]}: every year)"
                     ) if len(spec.start) == 10 else ""
            click.echo(f"  {row['phase']:<16} {0:>4}  no day of this phase in the reports"
                       + dated)
            continue
        cells = [f"{row[n]:.2f} +- {row[n + '_se']:.2f}" if math.isfinite(row[n]) else "n/a"
                 for n in names]
        click.echo(f"  {row['phase']:<16} {row['days']:>4}  "
                   + "  ".join(f"{c:>14}" for c in cells))
        keys = ("traffic_factor", "conversion_factor", "cart_factor")
        counted = ("impressions", "orders", "carts or favourites")
        lines = [_factor_line(key, row[n]) if math.isfinite(row[n]) else
                 f"    # {key}: not measured (n/a): no {what} in the phase's days or on the "
                 "ordinary days to compare\n"
                 for key, n, what in zip(keys, names, counted, strict=True)]
        snippet.append(f"  - name: {row['phase']}  # add to its entry in calendar:\n"
                       + "".join(lines))
    click.echo("\nTraffic is measured at the bids of the time: a promotion bought with raised "
               "bids shows that in its traffic factor too.\n")
    click.echo("".join(snippet).rstrip())


def _factor_line(key: str, value: float) -> str:
    """The config line of one measured factor, held within the range a phase accepts (a
    line outside it would fail validate), with the measured value beside it."""
    from bidopt.config import Phase

    bounds = Phase.model_fields[key].metadata
    low = next(b.ge for b in bounds if hasattr(b, "ge"))
    high = next(b.le for b in bounds if hasattr(b, "le"))
    shown = round(value, 2)
    if low <= shown <= high:
        return f"    {key}: {shown:.2f}\n"
    held = min(max(shown, low), high)
    return (f"    {key}: {held:g}   # measured {value:.2f}; a phase's factors are "
            f"{low:g} .. {high:g}\n")


@cli.group(name="config")
def config_group() -> None:
    """Inspect the config format."""


@config_group.command(name="schema", epilog=_exit_codes("5  a plugin failed to load"))
def config_schema() -> None:
    """Print the JSON Schema of the config (for YAML completion in editors), with the
    options of every installed strategy."""
    from bidopt.config import config_json_schema
    from bidopt.plugins import build_registry, get_plugin_manager

    registry = build_registry(get_plugin_manager())
    strategies = {name: (strategy.params, strategy.description)
                  for name, strategy in sorted(registry.strategies.items())}
    click.echo(json.dumps(config_json_schema(strategies), indent=2, ensure_ascii=False))


@cli.command(epilog=_exit_codes("5  a plugin failed to load (the others are listed first)"))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins(as_json):
    """List every loaded plugin: name, version, hooks, built-in or third-party."""
    from dataclasses import asdict

    from bidopt.plugins import build_registry, get_plugin_manager, list_plugins

    errors: list[str] = []  # a clash is shown after the plugins, not instead of them
    registry = build_registry(get_plugin_manager(), errors)
    infos = list_plugins(registry)
    if as_json:
        click.echo(json.dumps([asdict(i) for i in infos], indent=2))
    else:
        for info in infos:
            kind = "built-in" if info.builtin else "third-party"
            click.echo(f"{info.name} {info.version} ({kind})")
            click.echo(f"  hooks: {', '.join(info.hooks)}")
            for name in info.strategies:  # what it does, so a user knows which to enable
                description = registry.strategies[name].description
                click.echo(f"  strategy {name}" + (f": {description}" if description else ""))
            if info.formats:
                click.echo(f"  output formats: {', '.join(info.formats)}")
    for error in errors:
        click.echo(f"plugin error: {error}", err=True)
    if errors:
        sys.exit(ExitCode.PLUGIN_FAILURE)


@cli.command(epilog=_exit_codes("7  the folder already holds a shop (use --force) or cannot be "
                                "written"))
@click.option("--out", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder to write.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Random seed.")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 3660),
              help="Report days.")
@click.option("--size", type=click.Choice(["small", "medium", "large"]), default="small",
              show_default=True)
@click.option("--end-date", type=click.DateTime(["%Y-%m-%d"]),
              help="Last report day (default: yesterday).")
@click.option("--chinese", is_flag=True, help="ZTC Chinese headers, GBK-encoded.")
@click.option("--seasonal", is_flag=True,
              help="Double 11 and Double 12 in the history: more traffic and conversion then.")
@click.option("--budget", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Daily budget of every campaign in the history: a day whose spend reaches "
                   "it stops there (the ads go offline for the rest of the day).")
@click.option("--force", is_flag=True, help="Replace the shop files already in --out.")
def simulate(out, seed, days, size, end_date, chinese, seasonal, budget, force):
    """Write a simulated shop: reports, items and keyword candidates."""
    from bidopt.errors import OutputError
    from bidopt.simulate import SHOP_FILES, simulate_shop, write_shop

    taken = [name for name in SHOP_FILES if (out / f"{name}.csv").exists()]
    if taken and not force:
        raise OutputError(f"{out} already holds {', '.join(taken)}: use --force to replace "
                          "them, or another --out")
    end = end_date.date() if end_date else dt.date.today() - dt.timedelta(days=1)
    shop = simulate_shop(seed=seed, days=days, size=size, end_date=end, seasonal=seasonal,
                         budgets=budget)
    try:
        written = write_shop(shop, out, chinese=chinese)
    except OSError as exc:
        raise OutputError(f"cannot write the shop to {out}: {exc}") from exc
    n_rows = len(shop.keyword_report)
    if budget is not None:
        daily = shop.keyword_report.groupby(["campaign", "date"])["cost"].sum()
        # a stopped day ends within a click or two of its budget (bidopt.budgets reads the
        # same 3%): a day that ran on may land there too
        click.echo(f"{int((daily >= budget * 0.97).sum())} of {len(daily)} campaign-days spent "
                   f"97% or more of the daily budget {budget:g}: most of them stopped early")
    click.echo(f"wrote {len(written)} files to {out} ({n_rows:,} keyword report rows); next:\n"
               f"  bidopt init --reports {shlex.quote(str(out / '*_report.csv'))} "
               f"--items {shlex.quote(str(out / 'items.csv'))} "
               f"--candidates {shlex.quote(str(out / 'candidates.csv'))}")


def _warning_line(message, category, filename, lineno, line=None) -> str:
    """A warning (e.g. a writer plugin's skipped rows) as one plain line, not a source
    location a user cannot act on."""
    return f"warning: {message}\n"


def _escape_what_the_console_cannot_show() -> None:
    """A console or log whose encoding cannot hold a shop's names (an English Windows writes
    cp1252 to a redirected log; Chinese Windows GBK, without emoji) gets them as backslash
    escapes: the run's summary used to stop with an internal error at the first name, after
    the plan was written."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def main() -> None:
    """Console-script entry point."""
    # first of all: a nightly job stopped by cron, systemd or `timeout` (SIGTERM) unwinds
    # like Ctrl-C, also while the libraries are still being imported (the heavy ones are
    # imported inside the commands): no traceback, no temporary file left behind, and the
    # last good output untouched
    signal.signal(signal.SIGTERM, _stop)
    _escape_what_the_console_cannot_show()
    try:
        import warnings

        warnings.formatwarning = _warning_line
        code = cli(prog_name="bidopt", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort) as exc:
        if isinstance(exc, click.exceptions.Abort) and not isinstance(
                exc.__context__, KeyboardInterrupt):  # end of input at a prompt
            click.echo("Aborted!", err=True)
            sys.exit(1)
        interrupt = exc if isinstance(exc, KeyboardInterrupt) else exc.__context__
        if isinstance(interrupt, InterruptedAfterWriting):
            click.echo(f"interrupted after writing {interrupt.path} (the run's summary was not "
                       "printed)", err=True)
        else:
            click.echo("interrupted: nothing was written", err=True)
        sys.exit(130)
    except Exception as exc:  # not bidopt's own error, nor click's, nor an interrupt: a bug
        _crash(exc)
    sys.exit(code if isinstance(code, int) else 0)


def _crash(exc: Exception) -> NoReturn:
    """End a run that hit a bug the way a nightly job needs: one line for the cron log with
    the file that holds what we need to fix it, and exit 70 (EX_SOFTWARE), which a wrapper
    tells apart from bad data or config. The output is safe by now: as the exception unwound,
    ``atomic_output`` deleted its temporary file and ``output_lock`` its lock, and the last
    good plan was left in place (unless the new one was already, which the line then says).

    The traceback goes to stderr too with ``-v``/``--verbose`` or ``BIDOPT_DEBUG=1``, and
    instead of the file when the file cannot be written: a bug is never reported worse than
    Python's own traceback would have."""
    import traceback

    details = "".join(traceback.format_exception(exc))
    message = str(exc).strip().splitlines()
    what = type(exc).__name__ + (f": {message[0]}" if message else "")
    written = getattr(exc, "bidopt_output", None)  # set by `run` once the plan is in place
    error = f"internal error after writing {written}" if written else "internal error"
    try:
        report = _write_crash_report(details)
    except Exception as failure:  # e.g. BIDOPT_CRASH_DIR is not a writable folder
        click.echo(details, err=True, nl=False)
        click.echo(f"bidopt: {error}: {what} (no crash report: {failure}); this is a bug, "
                   "please report it with the traceback above", err=True)
    else:
        if _debug_asked(sys.argv[1:]):
            click.echo(details, err=True, nl=False)
        click.echo(f"bidopt: {error}: {what} (details: {report}); this is a bug, please "
                   "report it with that file", err=True)
    sys.exit(ExitCode.INTERNAL_ERROR)


def _debug_asked(args: list[str]) -> bool:
    """``-v``/``--verbose`` on the command line (read from it: the command's own options are
    gone once its exception reached ``main``), or ``BIDOPT_DEBUG`` set to 1, true, yes or on."""
    wanted = os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on")
    return wanted or _verbose_given(args)


def _verbose_given(args: list[str]) -> bool:
    """Whether the command line sets ``--verbose``, parsed again by click's own parser as the
    command parsed it: ``-v`` among other short flags (``-vc shop.yaml``) counts, a ``-v`` that
    is an option's value (``-c -v``, ``-cv``: a config named ``v``) or an argument after
    ``--`` does not. False for a command line click would not parse."""
    command, rest, ctx = cli, list(args), None
    try:
        while True:
            ctx = click.Context(command, parent=ctx, info_name=command.name,
                                resilient_parsing=True)
            options, rest, _ = command.make_parser(ctx).parse_args(rest)
            if not isinstance(command, click.Group):
                return bool(options.get("verbose"))
            if not rest:
                return False
            _, command, rest = command.resolve_command(ctx, rest)
            if command is None:
                return False
    except Exception:  # a crash is reported whatever the command line holds
        return False


def _write_crash_report(details: str) -> Path:
    """Write the traceback and what it ran on (the command line, versions, plugins) to a new
    file in ``$BIDOPT_CRASH_DIR`` or the temporary folder, named by time and pid so that no
    report replaces another, and readable by this user only (it names the shop's paths).
    Older reports beyond ``CRASH_REPORTS_KEPT`` are removed from that folder."""
    import importlib.metadata
    import platform
    import tempfile

    now = dt.datetime.now().astimezone()
    folder = Path(os.environ.get(CRASH_DIR_ENV) or tempfile.gettempdir())
    path = Path(os.path.abspath(folder / f"bidopt-crash-{now:%Y%m%d-%H%M%S}-{os.getpid()}.txt"))

    def version(name: str) -> str:  # from the install: importing it now could fail in turn
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    plugins = [f"{ep.name} {ep.dist.version if ep.dist else '?'}"
               for ep in importlib.metadata.entry_points(group="bidopt")]
    lines = [f"bidopt {__version__} crash report, {now.isoformat(timespec='seconds')}",
             f"command: {shlex.join(['bidopt', *sys.argv[1:]])}",
             f"working directory: {os.getcwd()}",
             f"python: {sys.version.split()[0]} ({sys.executable})",
             f"platform: {platform.platform()}",
             *(f"{name}: {version(name)}" for name in ("pandas", "numpy", "pluggy", "click",
                                                        "pydantic")),
             f"third-party plugins: {', '.join(plugins) or 'none'}",
             *(f"{key}={value}" for key, value in sorted(os.environ.items())
               if key.startswith("BIDOPT_"))]
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with open(handle, "w", encoding="utf-8", errors="backslashreplace") as file:
            file.write("\n".join(lines) + "\n\n" + details)
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    _remove_old_crash_reports(path)
    return path


def _remove_old_crash_reports(written: Path) -> None:
    """Keep the newest ``CRASH_REPORTS_KEPT`` of this user's crash reports in the folder of
    ``written`` (the one just written, always kept): only regular files named exactly as
    ``_write_crash_report`` names them, newest by modification time. Best effort: a report
    that cannot be removed, or a folder that cannot be listed, is left as it is, silently
    (the crash being reported matters, not the tidying)."""
    try:
        uid = os.getuid() if hasattr(os, "getuid") else None
        reports = []
        with os.scandir(written.parent) as entries:
            for entry in entries:
                if (entry.name == written.name or not CRASH_REPORT_NAME.fullmatch(entry.name)
                        or not entry.is_file(follow_symlinks=False)):
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:  # removed meanwhile, e.g. by another run's crash
                    continue
                if uid is None or info.st_uid == uid:  # not another user's, in a shared /tmp
                    reports.append((info.st_mtime_ns, entry.name, entry.path))
        reports.sort(reverse=True)
        for *_, old in reports[CRASH_REPORTS_KEPT - 1:]:
            with contextlib.suppress(OSError):
                os.unlink(old)
    except Exception:  # never in the way of the crash being reported
        pass


def _stop(signum, frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
