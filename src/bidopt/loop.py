"""The nightly run: load -> normalise and validate -> aggregate -> estimate -> propose ->
decide -> export. Data flows one way; nothing here prints (the CLI does)."""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import glob
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from bidopt.budgets import (
    capped_days,
    capped_notes,
    days_at_budget,
    history_budgets,
    uncapped,
)
from bidopt.config import Config, Output, check_strategies
from bidopt.context import (
    KEYWORD_KEYS,
    RunContext,
    campaign_evidence,
    campaign_limits,
    keyword_state,
    partial_day_notes,
    phase_override_notes,
    unknown_campaign_notes,
)
from bidopt.decide import Decision, decide
from bidopt.default_writers import FORMATS as OWN_FORMATS
from bidopt.errors import BidoptError, ConfigError, DataError, OutputError, PluginError, Problem
from bidopt.explain import rejected_rows
from bidopt.grid import platform_rules, snap
from bidopt.io import (
    atomic_output,
    normalise_table,
    review_file,
    split_report_grains,
    write_recommendations_csv,
)
from bidopt.io.headers import KIND_REQUIRED, map_headers
from bidopt.io.moves import MOVED_COLUMNS, follow_moves
from bidopt.io.overlap import drop_repeated_days
from bidopt.io.spelling import respell, unify_spellings
from bidopt.io.writer import IN_FILE
from bidopt.isolation import collect_proposals
from bidopt.model import ResponseModel
from bidopt.plugins import Registry, plugin_in_traceback
from bidopt.schema import ALL, RECOMMENDATION_COLUMNS
from bidopt.seasonality import DayFactors, ordinary_days
from bidopt.state import followed, read_records, state_path, with_state
from bidopt.track import COLUMNS as TRACK_COLUMNS
from bidopt.track import track_record
from bidopt.weekdays import WeekdayFactors, estimate_weekdays
from bidopt.window import window_history

Progress = Callable[[str], None]


def release_memory() -> None:
    """Hand the memory the last stage freed back to the system.

    Both allocators keep freed memory for reuse: Arrow's pool (the reports' text) and the C
    library's heap (numpy). Memory one keeps the other cannot use, so each stage's peak
    stacked on what the stages before it had freed (3.5 GB for a run whose data never
    needs 2). Results do not change: only unused pages are returned.
    """
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    if (trim := _malloc_trim()) is not None:
        trim(0)


def _malloc_trim():
    """glibc's ``malloc_trim``, or None elsewhere (macOS, Windows, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:
        return None


@dataclass
class Inputs:
    """Everything read for a run, already normalised and validated."""

    history: dict[str, pd.DataFrame]
    items: pd.DataFrame
    candidates: pd.DataFrame
    warnings: list[Problem]
    rows_read: int
    files: list[Path]
    renamed: dict[str, str] = field(default_factory=dict)
    """Campaigns the reports renamed within their days (old name -> new; ``io.moves``)."""
    moved: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MOVED_COLUMNS))
    """Keywords the reports moved to another campaign (``io.moves.MOVED_COLUMNS``)."""


@dataclass
class RunResult:
    date: dt.date
    recommendations: pd.DataFrame
    decision: Decision
    inputs: Inputs
    context: RunContext
    plugin_failures: list[str] = field(default_factory=list)
    output: Path | None = None
    review: Path | None = None
    """The review file written beside a writer plugin's output (``review_output``): bidopt's
    own recommendations CSV of the night, which ``bidopt applied`` records; None for the
    built-in csv and xlsx formats, whose output is that file."""
    track_record: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=TRACK_COLUMNS))
    """The last uploaded plans' keyword changes against their reports
    (``bidopt.track.track_record``); empty when none was recorded or reported."""

    @property
    def partial(self) -> bool:
        return bool(self.plugin_failures)


@dataclass
class SourceOverrides:
    """Input files given on the command line; each kind given replaces the config's files of
    that kind."""

    reports: list[Path] = field(default_factory=list)
    items: Path | None = None
    candidates: Path | None = None


SAMPLE_NOTE = ("the config names no input files (sources): this is the bundled sample shop, "
               "simulated data, not your shop's; set sources.reports or pass --reports")


def sample_files() -> SourceOverrides:
    """The bundled sample shop (made by ``bidopt simulate``, seed 7)."""
    folder = Path(str(resources.files("bidopt") / "sample_data"))
    reports = sorted(folder.glob("*_report.csv"))
    return SourceOverrides(reports, folder / "items.csv", folder / "candidates.csv")


_COPY_SUFFIX = re.compile(r"^(?P<stem>.*?)(?: ?\((?P<n>\d+)\)| - Copy| - 副本)$")


def _download_order(path: str) -> tuple:
    """Name order, with a browser's re-download (``kw (1).csv``, ``kw - 副本.csv``) after the
    file it repeats: where exports overlap, the later file's days win (``io/overlap.py``),
    and plain name order put ``kw (1).csv`` before ``kw.csv``."""
    p = Path(path)
    match = _COPY_SUFFIX.match(p.stem)
    if match is None:
        return (str(p.parent), p.stem, p.suffix, 0)
    return (str(p.parent), match["stem"], p.suffix, int(match["n"] or 1))


def expand_reports(paths: list[Path]) -> list[Path]:
    """Report paths with glob patterns (``exports/kw_*.csv``: one export per day) replaced by
    the files they match, in name order (re-downloads after their original); a pattern
    matching nothing stays, to be reported. Excel's lock files (``~$kw.xlsx``, there while
    the workbook is open) are not reports and are left out of a pattern's matches. A file
    given twice (by two patterns, or a pattern and its name) is read once."""
    out: list[Path] = []
    for path in paths:
        matches = glob.glob(str(path)) if glob.has_magic(str(path)) else []
        matches = sorted((m for m in matches if not Path(m).name.startswith("~$")),
                         key=_download_order)
        out += [Path(m) for m in matches] or [Path(path)]
    once: dict[str, Path] = {}
    for path in out:
        once.setdefault(os.path.abspath(path), path)
    return list(once.values())


def resolve_sources(config: Config, overrides: SourceOverrides | None) -> SourceOverrides:
    """Each kind of file from the command line where given, else from the config
    (``--reports`` replaces the reports and keeps the config's items and candidates); a
    config with no files and no command-line files uses the sample shop."""
    given = overrides or SourceOverrides([], None, None)
    given = SourceOverrides(expand_reports(list(given.reports)), given.items, given.candidates)
    sources = config.sources
    if sources.is_empty:
        if not (given.reports or given.items or given.candidates):
            return sample_files()
        resolved = given
    else:
        resolved = SourceOverrides(
            given.reports or expand_reports([config.resolve(p) for p in sources.reports]),
            given.items or (config.resolve(sources.items) if sources.items else None),
            given.candidates or (config.resolve(sources.candidates) if sources.candidates
                                 else None),
        )
    clashes = reports_that_are_other_inputs(resolved)
    if clashes:
        raise DataError([Problem(file=os.path.normpath(path), message="matched as a report, "
                                 f"but it is the {kind} file: {NAME_THE_REPORTS}")
                         for path, kind in clashes])
    return resolved


NAME_THE_REPORTS = "name the reports only (e.g. shop/*_report.csv)"


def reports_that_are_other_inputs(sources: SourceOverrides) -> list[tuple[Path, str]]:
    """Report files that are the items or candidates file, with that kind: a pattern such
    as ``shop/*.csv`` takes them too, and each then fails as a report with a list of
    missing columns that does not say why."""
    others = {Path(os.path.abspath(p)): kind for kind, p in
              (("items", sources.items), ("candidates", sources.candidates)) if p is not None}
    return [(path, others[Path(os.path.abspath(path))]) for path in sources.reports
            if Path(os.path.abspath(path)) in others]


def _read(registry: Registry, path: Path, kind: str) -> pd.DataFrame:
    if not path.exists():
        message = "no file matches this pattern" if glob.has_magic(str(path)) else "file not found"
        raise DataError([Problem(file=str(path), message=message)])
    if path.is_dir():  # no reader takes a folder: say so rather than "no reader for this file type"
        raise DataError([Problem(file=str(path), message="is a folder, not a file",
                                 expected=f"a file, or a pattern such as {path / '*.csv'}"
                                 if kind == "report" else f"the {kind} file")])
    try:
        raw = registry.pm.hook.bidopt_read_source(path=path, kind=kind)
    except BidoptError:
        raise
    except Exception as exc:  # a reader plugin's bug: name the plugin, as for strategies
        owner = plugin_in_traceback(registry.pm, exc)
        if owner is None:
            raise
        raise PluginError(f"the reader of plugin '{owner}' failed on {path}: "
                          f"{type(exc).__name__}: {exc}") from exc
    if raw is None:
        raise DataError(
            [Problem(file=str(path), message="no reader for this file type",
                     expected="a .csv, .xlsx or .parquet file")]
        )
    return raw


def _items_not_listed(reported: set[str], items: pd.DataFrame, file: str) -> list[Problem]:
    """The keyword report's items (``reported``) that the items file does not list: their
    price, cost, 30-day sales and ring are unknown to the strategies. None listed at all is a
    mismatch of names (宝贝名称 in one file, 宝贝ID in the other)."""
    reported = sorted(reported)
    listed = set(items["item"].astype(str).unique())
    missing = [item for item in reported if item not in listed]
    if not missing or not listed:
        return []
    example = missing[0]
    if len(missing) < len(reported):
        message = (f"{len(missing):,} of the {len(reported):,} items in the keyword report are "
                   f"not in this file (e.g. '{example}'): their price, cost and 30-day sales "
                   "are unknown")
    else:
        message = (f"none of the {len(reported):,} items in the keyword report is in this file "
                   f"(the report names items such as '{example}', this file "
                   f"'{sorted(listed)[0]}'): its prices, costs and 30-day sales are not used")
    return [Problem(file=file, message=message, severity="warning")]


def _candidates_for_no_item(reported: set[str], candidates: pd.DataFrame,
                            file: str) -> list[Problem]:
    """Keyword candidates that name items, none of which the keyword report holds
    (``reported``): no candidate can be added to an item (item names one way here, IDs the
    other)."""
    named = sorted(set(candidates["item"].astype(str).unique()) - {ALL, ""})
    if not named or not reported or reported.intersection(named):
        return []
    return [Problem(file=file, severity="warning", message=(
        f"none of the {len(named):,} items its candidates are for is in the keyword report "
        f"(this file names items such as '{named[0]}', the report '{sorted(reported)[0]}'): "
        "no candidate keyword can be added to an item"))]


def _other_input_kind(headers: list[str]) -> str | None:
    """'items' or 'candidates' where a report's headers are those of that kind of file and
    hold no date: a pattern such as exports/*.csv took the items or candidates file too."""
    if "date" in map_headers(headers, "report", "")[0]:
        return None
    for kind in ("items", "candidates"):
        if all(c in map_headers(headers, kind, "")[0] for c in KIND_REQUIRED[kind]):
            return kind
    return None


def load_inputs(registry: Registry, sources: SourceOverrides, progress: Progress, *,
                date_order: str = "auto") -> Inputs:
    """Read and validate every input; all problems of all files are raised together.
    ``date_order`` is the config's ``sources.date_order``."""
    if not sources.reports:
        raise DataError("no report files given: set sources.reports or pass --reports")
    problems: list[Problem] = []
    frames: dict[str, list[pd.DataFrame]] = {"report": [], "items": [], "candidates": []}
    report_files: list[str] = []
    jobs = [(p, "report") for p in sources.reports]
    jobs += [(p, kind) for p, kind in ((sources.items, "items"), (sources.candidates, "candidates")) if p]
    rows = 0
    for path, kind in jobs:
        progress(f"reading {path.name}")
        try:
            raw = _read(registry, Path(path), kind)
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        table, found = normalise_table(raw, kind, str(path), date_order=date_order)
        if kind == "report" and (other := _other_input_kind(list(raw.columns))):
            found = [Problem(file=str(path), message=f"matched as a report, but it looks like "
                             f"the {other} file (it has {', '.join(KIND_REQUIRED[other])} and "
                             f"no date): give it as sources.{other} (or --{other}) and "
                             f"{NAME_THE_REPORTS}")]
        if (reader := raw.attrs.get("read_by")) and any(p.severity == "error" for p in found):
            found.append(Problem(file=str(path), message=(  # listed with the errors
                f"this file was read by plugin '{reader}': the problems above may be its "
                "reader's (a column lost or renamed), not the file's")))
        del raw  # the file's text, several times the size of its parsed table
        release_memory()
        problems.extend(found)
        frames[kind].append(table)
        if kind == "report":
            report_files.append(str(path))
        rows += len(table)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise DataError(problems)
    progress("combining the reports")
    frames["report"], respelt = unify_spellings(frames["report"])
    problems.extend(respelt)
    for kind, columns in (("items", ("item",)), ("candidates", ("keyword", "item"))):
        frames[kind] = [respell(f, columns, frames["report"]) for f in frames[kind]]
    frames["report"], repeated = drop_repeated_days(frames["report"], report_files)
    problems.extend(repeated)
    history = split_report_grains(frames.pop("report"))  # hands the frames over
    release_memory()
    history, moves, renamed, moved = follow_moves(history)
    problems.extend(moves)
    if history["keywords"].empty:
        empty = [p.file for p in problems if p.message.startswith("the file has no data rows")]
        raise DataError("no keyword rows in the reports: a keyword report is required"
                        + (f" ({', '.join(empty)}: a header and no data rows)" if empty else ""))

    def first(kind: str) -> pd.DataFrame:
        return pd.concat(frames[kind], ignore_index=True) if frames[kind] else pd.DataFrame()

    items, candidates = first("items"), first("candidates")
    # the report's items, once: its item column runs to millions of rows
    reported = {str(item) for item in history["keywords"]["item"].unique()} - {ALL, ""}
    if frames["items"]:
        problems += _items_not_listed(reported, items, str(sources.items))
    if frames["candidates"]:
        problems += _candidates_for_no_item(reported, candidates, str(sources.candidates))

    return Inputs(history, items, candidates,
                  [p for p in problems if p.severity != "error"], rows,
                  [Path(p) for p, _ in jobs], renamed, moved)


def _with_guessed_bids(daily: pd.DataFrame, guessed: pd.DataFrame) -> pd.DataFrame:
    """The keyword history for the model's fit, each keyword of ``guessed`` (state rows
    whose bid the reports do not give) bidding its guessed bid on every day it has none.

    The fit learns the price per click against the bid: a history without bids left it no
    price level, and on a shop whose reports carry no bid column (Amazon's) the plan's
    'cost before' came to half the spend the reports show. With the guess the fit rests on
    the bid tonight's 'keep' stands for. Only the fit's copy: the track record must still
    see that the reports show no bid."""
    index = pd.MultiIndex.from_frame(guessed[KEYWORD_KEYS])
    rows = index.get_indexer(pd.MultiIndex.from_frame(daily[KEYWORD_KEYS]))
    bid = pd.to_numeric(daily["bid"], errors="coerce").to_numpy(float, copy=True)
    fill = np.isnan(bid) & (rows >= 0)
    bid[fill] = guessed["bid"].to_numpy(float)[rows[fill]]
    return daily.assign(bid=bid)


def _keyword_examples(state: pd.DataFrame, mask: np.ndarray, what=None, n: int = 3) -> str:
    """A few of the keywords of ``state`` under ``mask``, named as the reports name them
    (campaign / item / keyword (platform)), each followed by ``what(row)`` if given."""
    rows = state[mask].head(n)
    named = ", ".join(
        f"'{r.campaign}' / '{r.item}' / '{r.keyword}' ({r.platform})"
        + (f" {what(r)}" if what else "") for r in rows.itertuples())
    return f"{named}{' and more' if int(mask.sum()) > n else ''}"


def build_context(config: Config, inputs: Inputs, date: dt.date, progress: Progress,
                  paused: pd.DataFrame | None = None, refuse_stale: bool = False,
                  written: Config | None = None) -> RunContext:
    """The context strategies see; ``paused``: keywords recorded as paused (state file);
    ``written``: the config before the night's calendar phase was applied (the budgets of
    past days' phases; default ``config``).

    ``inputs.history`` is cut to the look-back window: the days before it (an exports
    folder that grows every night holds months) are not kept for the rest of the run.
    ``refuse_stale``: see ``plan_night``."""
    history, notes, quiet = window_history(inputs.history, date, config.history.days,
                                           refuse_stale)
    inputs.history = history
    history, rescaled = ordinary_days(history, config)
    notes += rescaled
    phase = config.phase_for(date)
    day = DayFactors.of(phase)
    if not day.ordinary:
        notes.append(f"the planned night's phase '{phase.name}' scales the forecast: "
                     f"{day.describe()}")
    elif phase is not None and (phase.model_fields_set & {"roi_floor", "daily_budget",
                                                           "shop_budget", "objective"}):
        # a promotion phase (its own limits or objective) whose days are forecast as
        # ordinary ones: say so, as the factors of one that has them are named
        notes.append(f"the planned night's phase '{phase.name}' has no traffic, conversion or "
                     "cart factors: it is forecast as an ordinary day (bidopt factors measures "
                     "them in past reports)")
    progress("aggregating history")
    state = keyword_state(history["keywords"])
    if paused is not None and len(paused):
        state, note = _still_paused(state, history["keywords"], paused)
        notes += note
    missing_bid = state["bid"].isna()
    low, high, step = platform_rules(config, state["platform"].to_numpy(str))
    fitted_on = history["keywords"]
    if missing_bid.any():
        # Without a bid column the best guess is a little above the price actually paid.
        cpc = state["cost"] / state["clicks"].where(state["clicks"] > 0)
        guess = np.clip(snap((cpc * 1.2).fillna(0.0).to_numpy(), step), low, high)
        state.loc[missing_bid, "bid"] = guess[missing_bid.to_numpy()]
        fitted_on = _with_guessed_bids(fitted_on, state[missing_bid])
        n = int(missing_bid.sum())
        named = ("" if n > 20 or len(state) == n else
                 f" ({_keyword_examples(state, missing_bid.to_numpy())})")
        notes.append(f"{n} keyword{'s have' if n > 1 else ' has'} no bid in the reports"
                     f"{named}; {'their' if n > 1 else 'its'} current bid is taken as 1.2 x "
                     f"{'their' if n > 1 else 'its'} cost per click")
    bid = state["bid"].to_numpy(float)
    outside = (bid < low - 1e-9) | (bid > high + 1e-9)
    if outside.any():
        n = int(outside.sum())
        bounds = state.assign(lowest=low, highest=high)

        def against(r) -> str:
            return (f"{r.bid:g} above {r.highest:g}" if r.bid > r.highest
                    else f"{r.bid:g} below {r.lowest:g}")

        notes.append(f"{n} keyword{'s' if n > 1 else ''} bid outside the config's bid bounds "
                     f"today ({_keyword_examples(bounds, outside, against)}; bids.mobile / "
                     "bids.pc min and max): their 'keep' is the nearest bound, so tonight's plan "
                     "moves them there and 'cost before' counts them at it; a bid no platform "
                     "holds (直通车: 0.05 to 100) points at the export (a shifted column, a "
                     "bid in cents)")
    campaigns = campaign_limits(config, sorted(state["campaign"].unique()))
    # days a budget stopped the ads show less than the bids bought: the fit sees them whole
    budgets = history_budgets(written or config, list(campaigns["campaign"]),
                              history["keywords"]["date"])
    at_budget = days_at_budget(history["keywords"], budgets)  # read by the two below
    capped = capped_days(history, budgets, at_budget)
    fitted_on = uncapped(fitted_on, capped)
    notes += capped_notes(capped, history["keywords"]["date"].nunique())
    # the fit sees the window's average weekday; the night is forecast on its own
    weekdays = (estimate_weekdays(history["keywords"], at_budget)
                if config.history.weekdays else WeekdayFactors(reason="history.weekdays is off"))
    fitted_on = weekdays.ordinary(fitted_on)
    day = replace(day, traffic=day.traffic * weekdays.factor(date))
    release_memory()
    progress(f"fitting the response model on {len(history['keywords']):,} rows")
    model = ResponseModel(engagement=config.history.engagement).fit(
        fitted_on, crowds=history["crowds"], regions=history["regions"],
        items=inputs.items if len(inputs.items) else None,
        candidates=inputs.candidates if len(inputs.candidates) else None,
    )
    notes += unknown_campaign_notes(config, list(campaigns["campaign"]))
    notes += phase_override_notes(config, date, list(campaigns["campaign"]))
    sums = state.groupby("campaign")[["cost", "orders"]].sum()
    no_orders = sums[(sums["orders"] <= 0) & (sums["cost"] > 0)].index.tolist()
    if no_orders:
        notes.append(f"no orders in the window for {', '.join(map(repr, no_orders[:5]))}"
                     f"{' and more' if len(no_orders) > 5 else ''}: nothing shows their keywords "
                     "pay, so the plan cuts or pauses them to meet the floor")
    daily = history["keywords"]
    notes += partial_day_notes(daily[~daily["campaign"].isin(quiet)] if quiet else daily)
    evidence = campaign_evidence(history["keywords"]).reindex(campaigns["campaign"])
    campaigns["roi_se"] = evidence["roi_se"].to_numpy()
    campaigns["spend_days"] = evidence["spend_days"].fillna(0.0).to_numpy()
    campaigns["orders"] = evidence["orders"].fillna(0.0).to_numpy()
    return RunContext(
        date=date, config=config, history=history, keywords=state, items=inputs.items,
        candidates=inputs.candidates, model=model,
        campaigns=campaigns, warnings=notes, day=day, weekdays=weekdays,
    )


def _still_paused(state: pd.DataFrame, daily: pd.DataFrame,
                  paused: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``state`` without the keywords recorded as paused that have shown nothing since.

    A paused keyword's earlier days are still in the window: without this it would be
    planned (and paused) again every night, and counted in the campaign's spend before. One
    with impressions on or after its pause night was switched back on and is planned.
    """
    keys = list(KEYWORD_KEYS)
    active = daily[daily["impressions"] > 0]
    shown = active.groupby([active[k].astype(str) for k in keys])["date"].max()
    pauses = (paused.astype({k: str for k in keys})
              .assign(night=pd.to_datetime(paused["night"])).groupby(keys)["night"].max())
    index = pd.MultiIndex.from_frame(state[keys].astype(str))
    night = pauses.reindex(index).to_numpy()
    last = shown.reindex(index).to_numpy()
    off = ~pd.isna(night) & (pd.isna(last) | (last < night))
    if not off.any():
        return state, []
    n = int(off.sum())
    return state[~off].reset_index(drop=True), [
        f"{n} {'keyword' if n == 1 else 'keywords'} recorded as paused (state file) "
        f"{'has' if n == 1 else 'have'} shown nothing since: left out of tonight's plan and "
        "of the spend before"]


def recommendations_frame(decision: Decision, date: dt.date, include_rejected: bool) -> pd.DataFrame:
    """The nightly CSV's rows in the documented column order."""
    actions = decision.actions.assign(date=date.isoformat())
    if include_rejected:
        actions = pd.concat([actions, rejected_rows(decision.proposals, date)],
                            ignore_index=True)
    return actions.reindex(columns=list(RECOMMENDATION_COLUMNS))


def plan_night(config: Config, registry: Registry, *, date: dt.date,
               sources: SourceOverrides | None = None, strict: bool = False,
               progress: Progress = lambda _: None,
               refuse_stale: bool = False) -> RunResult:
    """Everything up to (not including) writing the output.

    ``refuse_stale``: raise :class:`DataError` when the latest report day is before the
    night's look-back window (``stale_reports``; ``bidopt run`` does unless given
    ``--allow-stale``), rather than only noting it.

    The config's calendar phase for ``date`` (if any) is applied first; the result's
    ``context.config`` is the config actually used.
    """
    written, config = config, config.for_night(date)
    state, planned = read_records(state_path(config), config.shop, before=date)
    config, in_force, paused = with_state(config, date, state)
    try:
        params = check_strategies(config, registry.strategies)
    except ConfigError as exc:
        if not in_force:
            raise
        # the config passed before the state file filled its unset options: say so, rather
        # than point at a line the user never wrote
        raise ConfigError(exc.messages, f"{exc.path or 'config'} with the settings recorded "
                          f"in {state_path(config)} by `bidopt applied`") from None
    files = resolve_sources(config, sources)
    if files == sample_files():  # the bundled sample shop's days are what they are
        refuse_stale = False
    inputs = load_inputs(registry, files, progress, date_order=config.sources.date_order)
    if inputs.renamed or len(inputs.moved):
        # what `bidopt applied` recorded under an old name or place is the new one's
        state, planned = followed(state, planned, inputs.renamed, inputs.moved)
        config, in_force, paused = with_state(written.for_night(date), date, state)
        params = check_strategies(config, registry.strategies)  # their options hold them too
    # before build_context cuts the history to the look-back window
    track = track_record(planned, inputs.history["keywords"], date)
    ctx = build_context(config, inputs, date, progress, paused, refuse_stale, written)
    ctx.warnings[:0] = in_force
    if files == sample_files():
        ctx.warnings.insert(0, SAMPLE_NOTE)
    ctx._state = state  # read once: RunContext.in_force answers from it

    def stage(message: str) -> None:  # each strategy starts with the memory of the last freed
        release_memory()
        progress(message)

    proposals, failures = collect_proposals(ctx, registry, params, strict=strict, progress=stage)
    stage(f"deciding on {len(proposals):,} proposals")
    decision = decide(ctx, proposals)
    release_memory()
    recommendations = recommendations_frame(decision, date, config.output.include_rejected)
    return RunResult(date, recommendations, decision, inputs, ctx, failures,
                     track_record=track)


def output_path(config: Config, date: dt.date, out: str | Path | None) -> Path:
    """Where the recommendations go: --out or the config (its default name ends in .xlsx
    for ``output.format: xlsx``).

    ``out`` (and ``output.path``) names a folder, for the default file name, when it is one,
    ends in a separator (kept only in the raw string: ``Path`` drops it) or has no file
    extension, e.g. ``nightly/`` or ``nightly``; otherwise it is the file. ``{date}`` is the
    planned night in either.
    """
    def folder(text: str, base: Path = Path(".")) -> bool:
        return ((base / text).is_dir() or text.endswith(("/", "\\"))
                or not Path(text).suffix)

    night = date.isoformat()
    configured = config.output.file_name().replace("{date}", night)
    if folder(configured, config.resolve(Path("."))):
        default = Output(format=config.output.format).file_name()
        configured = str(Path(configured) / default.replace("{date}", night))
    if out is None:  # 'configs/../out/x.csv' printed as 'out/x.csv'
        return Path(os.path.normpath(config.resolve(Path(configured))))
    text = str(out).replace("{date}", night)
    if text == "-":
        raise OutputError("--out -: the plan is written to a file, not to standard output; "
                          "give a file or a folder")
    if folder(text):
        return Path(text) / Path(configured).name
    return Path(text)


def check_output_path(path: Path) -> None:
    """Fail before any work when the output cannot go where asked: a folder on its way is a
    file, the path itself is a folder, or the nearest existing folder is read-only."""
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"cannot write {path}: {parent} is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise OutputError(f"cannot write {path}: the folder {parent} is not writable")
            return


def check_output_format(config: Config, registry: Registry, source: str = "config") -> None:
    """Fail before any work when no plugin writes the configured format, or its writer
    says its settings would fail (``bidopt_check_output``)."""
    fmt = config.output.format
    if fmt not in registry.formats:
        raise ConfigError(
            f"'output.format': no plugin writes '{fmt}' "
            f"(available: {', '.join(sorted(registry.formats))})", source,
        )
    try:
        found = registry.pm.hook.bidopt_check_output(format=fmt,
                                                     options=output_options(config))
    except Exception as exc:  # a plugin's bug, not the user's config
        raise PluginError(f"the output check of plugin '{registry.formats[fmt]}' failed: "
                          f"{type(exc).__name__}: {exc}") from exc
    problems = [str(p) for answer in found if answer for p in answer]
    if problems:
        raise ConfigError([f"'output' ({fmt}): {p}" for p in problems], source)


def output_options(config: Config) -> dict:
    """What a writer plugin gets as ``options``: the output section and its ``options``."""
    return {**config.output.model_dump(exclude={"options"}), **config.output.options}


def review_output(config: Config, path: Path) -> Path | None:
    """The review file written beside ``path`` when ``output.format`` is a writer plugin's
    (``bidopt.io.review_file``); None for bidopt's own csv and xlsx."""
    return None if config.output.format in OWN_FORMATS else review_file(path)


def output_files(config: Config, path: Path) -> list[Path]:
    """Every file a run writes for ``path``: it, and its review file for a plugin's format."""
    review = review_output(config, path)
    return [path] if review is None else [path, review]


def write_recommendations(result: RunResult, registry: Registry, config: Config, path: Path) -> Path:
    """Write via the output hook into a temporary file, then rename it into place.

    For a writer plugin's format, bidopt's own recommendations CSV is written beside it too
    (``review_output``): both go to temporary files, and neither is put in place unless
    both were written, so a failure leaves the last good pair as it was."""
    fmt = config.output.format
    if fmt not in registry.formats:
        raise OutputError(f"no plugin writes the output format '{fmt}' "
                          f"(available: {', '.join(sorted(registry.formats))})")
    review = review_output(config, path)
    temporary: dict[Path, Path] = {}  # the temporary files, named in messages as the final ones
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # the review file is renamed into place first, once both are written (the inner
        # context ends first): the file to upload never stands there without its review
        with atomic_output(path) as tmp, (contextlib.nullcontext() if review is None
                                          else atomic_output(review)) as review_tmp:
            temporary = {tmp: path, **({review_tmp: review} if review_tmp else {})}
            written = _write_output(result, registry, config, tmp, path)
            if review_tmp is not None:
                write_recommendations_csv(_with_rows_written(result.recommendations, written),
                                          review_tmp, encoding=config.output.encoding)
    except (OSError, OutputError) as exc:
        message = str(exc)
        for tmp, final in temporary.items():  # name the files asked for, not the temporary ones
            message = message.replace(str(tmp), str(final))
        if isinstance(exc, OSError):
            message = f"cannot write {path}: {message}"
        raise OutputError(message) from exc
    result.output, result.review = path, review
    return path


def _write_output(result: RunResult, registry: Registry, config: Config, tmp: Path,
                  path: Path) -> pd.Index | None:
    """The writer plugin of ``output.format`` writes the recommendations to ``tmp``, to be
    renamed ``path``; a writer that declines, writes nothing or fails is an
    ``OutputError`` naming its plugin, and so is a workbook that would be named as text.
    Returns the index labels of the rows the file holds, where the writer says (None: all
    it could)."""
    fmt = config.output.format
    writer = f"the writer for '{fmt}' (plugin '{registry.formats[fmt]}')"
    try:
        handled = registry.pm.hook.bidopt_write_output(
            recommendations=result.recommendations, path=tmp, format=fmt,
            options=output_options(config),
        )
    except (OSError, OutputError):
        raise
    except Exception as exc:  # a writer plugin's bug must still end in one clear message
        raise OutputError(f"{writer} failed: {type(exc).__name__}: {exc}") from exc
    if handled is None or handled is False:
        raise OutputError(f"no plugin wrote the output format '{fmt}': {writer} declined it")
    written = None if handled is True else _rows_written(handled, result.recommendations,
                                                           writer)
    # an empty file is never a plan: it must not replace the last good one
    if not tmp.is_file() or tmp.stat().st_size == 0:
        raise OutputError(f"{writer} wrote nothing; the last plan is kept")
    if path.suffix.lower() in TEXT_SUFFIXES and _is_zip(tmp):
        # `bidopt init` names the plan .csv: a bulk sheet set in output.format alone would be
        # an Excel workbook under that name, which neither Excel nor an upload page opens
        raise OutputError(f"{writer} wrote an Excel workbook (a zip file), but the plan is to "
                          f"be named {path.name}: give output.path (or --out) the suffix "
                          ".xlsx; the last plan is kept")
    return written


def _rows_written(answer, recommendations: pd.DataFrame, writer: str) -> pd.Index:
    """The labels a writer returned for the rows its file holds, checked."""
    try:
        labels = pd.Index(answer)
    except TypeError:
        raise OutputError(f"{writer} returned {type(answer).__name__}: a writer returns True, "
                          "None, or the index labels of the rows its file holds") from None
    unknown = labels.difference(recommendations.index)
    if len(unknown):
        raise OutputError(f"{writer} returned labels that are no row of the recommendations "
                          f"({len(unknown):,}, e.g. {unknown[0]!r})")
    return labels


def _with_rows_written(recommendations: pd.DataFrame, written: pd.Index | None) -> pd.DataFrame:
    """The review file's rows, with ``IN_FILE`` where the writer said which rows it wrote."""
    if written is None:
        return recommendations
    held = recommendations.index.isin(written)
    return recommendations.assign(**{IN_FILE: np.where(held, "yes", "no")})


TEXT_SUFFIXES = (".csv", ".tsv", ".txt")


def _is_zip(path: Path) -> bool:
    """Whether ``path`` starts as a zip archive does (an .xlsx workbook is one)."""
    with open(path, "rb") as file:
        return file.read(4) == b"PK\x03\x04"
