"""Running strategies so that one misbehaving plugin cannot take the night down.

Each enabled strategy runs in a worker thread with a time limit
(``config.plugins.timeout_seconds``, 60 s by default). A strategy that raises, is still
running when the limit passes, or returns something that is not a well-formed proposal
frame (see :func:`check_proposals`) has *all* its proposals dropped and its failure
reported with the strategy's and the plugin's name; the run goes on without it and is
partial. ``strict=True`` (``bidopt run --strict``) turns the first failure into a
:class:`~bidopt.errors.PluginError` instead.

Python cannot kill a thread: a strategy that hangs is *abandoned*, not stopped. Its worker
is a daemon thread, so it never keeps the process alive once the run is over, but until
then it keeps whatever CPU and memory it holds, and it still sees the (read-only)
:class:`~bidopt.context.RunContext`. Its result, if it ever arrives, is ignored.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import numbers
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bidopt.config import Config
from bidopt.context import KEYWORD_KEYS, RunContext
from bidopt.errors import PluginError
from bidopt.plugins import Registry
from bidopt.schema import (
    ACTIONS,
    ALL,
    KEYWORD_ACTIONS,
    PLATFORMS,
    PROPOSAL_COLUMNS,
    REQUIRED_PROPOSAL_COLUMNS,
    SLICE_FORECAST_COLUMNS,
)

DEFAULT_TIMEOUT_SECONDS = 60.0
# Percent ranges of the non-bid actions (ZTC: hour discount 30-250%, 0 = hour switched off;
# crowd premium up to 300%, 0 = no premium).
HOUR_DISCOUNT_RANGE = (30.0, 250.0)
CROWD_PREMIUM_RANGE = (0.0, 300.0)
# Columns each action needs besides campaign/action/proposed/reason, and their kind.
ACTION_KEYS: dict[str, tuple[str, ...]] = {
    "set_bid": ("item", "keyword", "platform"),
    "pause_keyword": ("item", "keyword", "platform"),
    "add_keyword": ("item", "keyword"),
    "set_crowd_premium": ("item", "crowd"),
    "exclude_region": ("region",),
    "include_region": ("region",),
    "set_hour_discount": ("hour",),
}
_TOL = 1e-9


class StrategyTimeout(PluginError):
    """A strategy was still running when its time limit passed."""


def strategy_timeout(config: Config) -> float:
    """Seconds a strategy may run: ``plugins.timeout_seconds`` of the config, else 60."""
    settings = getattr(config, "plugins", None)
    seconds = getattr(settings, "timeout_seconds", None)
    return float(seconds) if seconds and seconds > 0 else DEFAULT_TIMEOUT_SECONDS


STILL_RUNNING_EVERY = 10.0  # seconds between "still running" progress lines
SLOW_SHARE = 0.5  # a strategy taking this share of its time limit gets a note


class StrategyFailure(str):
    """A failed strategy's message, as the run reports it, with the traceback of the
    exception it raised (empty for bad output or a timeout): ``run --verbose`` prints it."""

    traceback: str = ""


def call_with_timeout(func: Callable[[], Any], timeout: float, name: str,
                      waiting: Callable[[float], None] | None = None) -> Any:
    """``func()`` in a daemon thread; its result, its exception, or StrategyTimeout.

    A plain daemon thread carrying a :class:`concurrent.futures.Future`, rather than a
    ``ThreadPoolExecutor``: the executor's workers are joined at interpreter exit, so a
    hung strategy would keep ``bidopt run`` from ever exiting. ``waiting(seconds)`` is
    called every ``STILL_RUNNING_EVERY`` seconds while ``func`` runs.
    """
    future: Future = Future()

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(func())
        except Exception as exc:
            future.set_exception(exc)
        except BaseException as exc:  # sys.exit() in a plugin must not end the run
            future.set_exception(PluginError(f"raised {type(exc).__name__}: {exc}"))

    threading.Thread(target=work, name=f"bidopt-strategy-{name}", daemon=True).start()
    start = time.monotonic()
    try:
        while True:
            left = timeout - (time.monotonic() - start)
            try:
                return future.result(timeout=max(0.0, min(left, STILL_RUNNING_EVERY)))
            except TimeoutError:
                if future.done() or left <= STILL_RUNNING_EVERY:
                    raise
                if waiting is not None:
                    waiting(time.monotonic() - start)
    except TimeoutError:
        if future.done():  # the strategy itself raised TimeoutError
            raise
        raise StrategyTimeout(
            f"still running after {timeout:g} s (time limit plugins.timeout_seconds); "
            "abandoned"
        ) from None


def _rows(mask: np.ndarray | pd.Series) -> str:
    """'row 3' or 'rows 3, 7, 9 (and 12 more)': which rows (0-based positions) are bad."""
    where = np.flatnonzero(np.asarray(mask, dtype=bool))
    shown = ", ".join(str(i) for i in where[:3])
    more = f" (and {len(where) - 3} more)" if len(where) > 3 else ""
    return f"row{'s' if len(where) > 1 else ''} {shown}{more}"


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _numeric(frame: pd.DataFrame, column: str, *, required: bool) -> np.ndarray:
    """A column as floats; text, booleans or other objects are a type error."""
    values = frame[column]
    if pd.api.types.is_bool_dtype(values):
        raise PluginError(f"column '{column}' holds booleans, not numbers")
    if not pd.api.types.is_numeric_dtype(values):
        present = values.notna().to_numpy()
        bad = present & ~values.map(_is_number).to_numpy(bool)
        if bad.any():
            raise PluginError(
                f"column '{column}' is not numeric: {_rows(bad)} hold "
                f"{values[bad].iloc[0]!r} ({type(values[bad].iloc[0]).__name__})"
            )
    numbers_ = pd.to_numeric(values, errors="coerce").to_numpy(float)
    if required and not np.isfinite(numbers_).all():
        raise PluginError(f"'{column}' is not a finite number in {_rows(~np.isfinite(numbers_))}")
    return numbers_


def _text(frame: pd.DataFrame, column: str, rows: np.ndarray) -> None:
    """``column`` must hold non-empty text in ``rows``."""
    values = frame[column]
    bad = rows & ~values.map(lambda v: isinstance(v, str) and v != "").to_numpy(bool)
    if bad.any():
        raise PluginError(
            f"'{column}' must be non-empty text in {_rows(bad)} "
            f"(got {values[bad].iloc[0]!r})"
        )


def _check_bounds(frame: pd.DataFrame, action: np.ndarray, proposed: np.ndarray,
                  config: Config) -> None:
    """Bids within the platform's bounds; percentages within the platform's ranges."""
    platform = frame["platform"].where(frame["platform"].isin(PLATFORMS), "mobile").to_numpy(str)
    is_pc = platform == "pc"
    low = np.where(is_pc, config.bids.pc.min, config.bids.mobile.min)
    high = np.where(is_pc, config.bids.pc.max, config.bids.mobile.max)
    bids = np.isin(action, ("set_bid", "add_keyword"))
    bad = bids & ((proposed < low - _TOL) | (proposed > high + _TOL))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise PluginError(
            f"bid out of bounds in {_rows(bad)}: {proposed[i]:g} is outside "
            f"[{low[i]:g}, {high[i]:g}] for {platform[i]}"
        )
    bad = (action == "pause_keyword") & (proposed < 0)
    if bad.any():
        raise PluginError(f"pause_keyword with a negative value in {_rows(bad)}")
    lo, hi = HOUR_DISCOUNT_RANGE
    hours = action == "set_hour_discount"
    bad = hours & (np.abs(proposed) > _TOL) & ((proposed < lo - _TOL) | (proposed > hi + _TOL))
    if bad.any():
        raise PluginError(
            f"hour discount out of range in {_rows(bad)}: {proposed[bad][0]:g}% is not 0 "
            f"(switched off) or within {lo:g}-{hi:g}%"
        )
    lo, hi = CROWD_PREMIUM_RANGE
    bad = (action == "set_crowd_premium") & ((proposed < lo - _TOL) | (proposed > hi + _TOL))
    if bad.any():
        raise PluginError(
            f"crowd premium out of range in {_rows(bad)}: {proposed[bad][0]:g}% is not "
            f"within {lo:g}-{hi:g}%"
        )


def check_proposals(frame: object, config: Config) -> pd.DataFrame:
    """A strategy's output checked and put in the documented shape, or PluginError.

    Checked: a DataFrame (an empty one proposes nothing); the required columns and the
    keys each action needs (``ACTION_KEYS``); known actions; text where text belongs;
    ``proposed`` a finite number within the platform's bid bounds or percent range;
    ``hour`` a whole number 0-23; slice forecasts non-negative where given. Columns that
    are not proposal columns are dropped. The message says what is wrong and in which
    rows (0-based positions), so the plugin's author can fix it.
    """
    if not isinstance(frame, pd.DataFrame):
        raise PluginError(
            f"returned {type(frame).__name__}, not a DataFrame "
            "(return an empty DataFrame to propose nothing)"
        )
    if frame.empty:
        return pd.DataFrame(columns=list(PROPOSAL_COLUMNS))
    if frame.columns.duplicated().any():
        raise PluginError(f"duplicate columns: {sorted(set(frame.columns[frame.columns.duplicated()]))}")
    frame = frame.reset_index(drop=True)
    unknown_columns = _unknown_columns(frame)  # one under another name: 'new_bid', 'kw'
    returned_note = (f"; it returned columns bidopt does not know: {unknown_columns}"
                     if unknown_columns else "")
    missing = [c for c in REQUIRED_PROPOSAL_COLUMNS if c not in frame.columns]
    if missing:
        raise PluginError(f"proposals lack the columns {', '.join(missing)}{returned_note}")
    action = frame["action"].map(lambda v: v if isinstance(v, str) else repr(v)).to_numpy(str)
    unknown = sorted(str(a) for a in set(action) - set(ACTIONS))
    if unknown:
        raise PluginError(f"unknown actions {unknown} (known: {', '.join(ACTIONS)})")
    for act in sorted(set(action)):
        lacking = [c for c in ACTION_KEYS[act] if c not in frame.columns]
        if lacking:
            raise PluginError(
                f"'{act}' proposals lack the columns {', '.join(lacking)}{returned_note}")
    everywhere = np.ones(len(frame), dtype=bool)
    _text(frame, "campaign", everywhere)
    if not frame["reason"].map(lambda v: isinstance(v, str)).all():
        raise PluginError("'reason' must be text in every row")
    for column in ("item", "keyword", "crowd", "region"):
        needed = np.array([column in ACTION_KEYS[a] for a in action])
        if needed.any():
            _text(frame, column, needed)
    keyword_rows = np.isin(action, ("set_bid", "pause_keyword"))
    if keyword_rows.any():
        # 'all': the report has no device split (Amazon, Google Ads without a device column)
        bad = keyword_rows & ~frame["platform"].isin((*PLATFORMS, ALL)).to_numpy()
        if bad.any():
            raise PluginError(f"'platform' must be one of {(*PLATFORMS, ALL)} in {_rows(bad)}")
    proposed = _numeric(frame, "proposed", required=True)
    current = _numeric(frame, "current", required=False) if "current" in frame else None
    if "hour" in frame.columns:
        hour = _numeric(frame, "hour", required=False)
        needed = action == "set_hour_discount"
        bad = needed & ~(np.isfinite(hour) & (np.mod(np.nan_to_num(hour), 1) == 0)
                         & (hour >= 0) & (hour <= 23))
        if bad.any():
            raise PluginError(f"'hour' must be a whole number 0-23 in {_rows(bad)}")
    checked = frame.reindex(columns=list(PROPOSAL_COLUMNS)).copy()
    _check_bounds(checked, action, proposed, config)
    for column in SLICE_FORECAST_COLUMNS:
        if column in frame.columns:
            values = _numeric(frame, column, required=False)
            bad = ~np.isnan(values) & ~(np.isfinite(values) & (values >= 0))
            if bad.any():
                raise PluginError(f"'{column}' is negative or infinite in {_rows(bad)}")
            checked[column] = values
    slices = sorted(set(action) - set(KEYWORD_ACTIONS))
    lacking = [c for c in SLICE_FORECAST_COLUMNS if c not in frame.columns]
    if slices and lacking:
        raise PluginError(
            f"'{slices[0]}' proposals lack their forecast: no column {', '.join(lacking)} "
            "(a crowd, region or hour action carries the slice per day as it is, base_*, "
            "and at the proposed value, exp_*)")
    checked["proposed"] = proposed
    checked["current"] = current if current is not None else np.nan
    return checked


def _own_view(ctx: RunContext) -> RunContext:
    """The context a strategy gets: its own copies of the per-keyword and per-campaign
    tables, so that one that writes into them (``context.keywords["bid"] *= 3``) changes
    neither the next strategy's nor the decision step's. The history frames (the run's
    largest) are shared, in a dict of the strategy's own; the response model and the config
    are shared."""
    view = dataclasses.replace(
        ctx, keywords=ctx.keywords.copy(), campaigns=ctx.campaigns.copy(),
        items=ctx.items.copy(), candidates=ctx.candidates.copy(), history=dict(ctx.history))
    view._state = ctx._state
    return view


def _unknown_columns(raw: pd.DataFrame) -> str:
    """The returned columns that are no proposal column, with a "did you mean" ("" if none)."""
    hints = []
    for column in (str(c) for c in raw.columns if c not in PROPOSAL_COLUMNS):
        close = difflib.get_close_matches(column, PROPOSAL_COLUMNS, n=1, cutoff=0.6)
        hints.append(f"'{column}' (did you mean '{close[0]}'?)" if close else f"'{column}'")
    return ", ".join(hints)


def _ignored_columns(raw: pd.DataFrame) -> list[str]:
    """A note on returned columns that are no proposal column (dropped): a misspelt
    ``group`` or ``current`` would otherwise change the plan without a word."""
    extra = "" if raw.empty else _unknown_columns(raw)
    return [f"returned columns that are no proposal column, ignored: {extra}"] if extra else []


def _shown(frame: pd.DataFrame, columns: list[str]) -> str:
    first = frame.iloc[0]
    return "/".join(str(first[c]) for c in columns)


def unusable_notes(checked: pd.DataFrame, ctx: RunContext) -> list[str]:
    """Well-formed proposals the decision step can only reject, said once per kind so that
    a plugin's mistake does not hide in the rejected column: bid changes and pauses of
    keywords that are not tonight's (campaign, item, keyword and platform must match the
    keyword report's; ``add_keyword`` adds new ones), and crowd, region or hour actions
    with an empty forecast."""
    notes = []
    keys = list(KEYWORD_KEYS)
    on_keyword = checked[checked["action"].isin(["set_bid", "pause_keyword"])]
    if len(on_keyword):
        known = pd.MultiIndex.from_frame(ctx.keywords[keys].astype(str))
        asked = pd.MultiIndex.from_frame(on_keyword[keys].astype(str))
        unknown = on_keyword[~asked.isin(known)]
        if len(unknown):
            notes.append(
                f"{len(unknown)} of its set_bid / pause_keyword proposals name no keyword of "
                f"tonight's plan (campaign/item/keyword/platform, e.g. "
                f"{_shown(unknown, keys)}): rejected")
    is_slice = ~checked["action"].isin(list(KEYWORD_ACTIONS)).to_numpy()
    if is_slice.any():
        forecast = checked[list(SLICE_FORECAST_COLUMNS)].apply(pd.to_numeric, errors="coerce")
        empty = is_slice & ~np.isfinite(forecast.to_numpy(float)).all(axis=1)
        if empty.any():
            notes.append(
                f"{int(empty.sum())} of its {', '.join(sorted(set(checked['action'][empty])))} "
                f"proposals carry an empty forecast in {_rows(empty)} (each of "
                f"{', '.join(SLICE_FORECAST_COLUMNS)} is needed): rejected")
    return notes


def _home(func: Callable) -> Path | None:
    """The folder of the package ``func`` comes from, or the file of a lone module (a
    plugin installed as one module lies in site-packages, next to pandas and numpy)."""
    module = inspect.getmodule(func)
    top = sys.modules.get(module.__name__.partition(".")[0]) if module else None
    if top is not None and not hasattr(top, "__path__") and getattr(top, "__file__", None):
        return Path(top.__file__).resolve()
    where = getattr(top, "__file__", None) or getattr(module, "__file__", None)
    return Path(where).resolve().parent if where else None


def _where(exc: BaseException, func: Callable | None = None) -> str:
    """' (at plugin.py:42 in propose)': the last line of the strategy's own code the
    exception passed through (not pandas' or numpy's, where it is usually raised), for its
    author; the innermost line when none is the strategy's."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    home = _home(func) if func is not None else None
    own = [f for f in frames if home is not None and Path(f.filename).resolve().is_relative_to(home)]
    last = own[-1] if own else frames[-1]
    return f" (at {Path(last.filename).name}:{last.lineno} in {last.name})"


def collect_proposals(ctx: RunContext, registry: Registry, params: dict, *, strict: bool,
                      progress: Callable[[str], None]) -> tuple[pd.DataFrame, list[str]]:
    """Run every enabled strategy; a failing one is dropped and reported (or raised, strict).

    Returns all well-formed proposals (with a ``strategy`` column) and one message per
    failed strategy: ``strategy 'x' (plugin 'y') failed: <reason>``.
    """
    frames, failures, quiet = [], [], []
    timeout = strategy_timeout(ctx.config)
    for name, strategy_params in params.items():
        progress(f"strategy {name}")
        owner = registry.strategy_owner.get(name, "unknown")
        propose = registry.strategies[name].propose

        def waiting(seconds: float, name: str = name) -> None:
            progress(f"strategy {name}: still running after {seconds:.0f} s "
                     f"(time limit {timeout:g} s, plugins.timeout_seconds)")

        started = time.monotonic()
        try:
            own = _own_view(ctx)
            raw = call_with_timeout(lambda p=propose, s=strategy_params, c=own: p(c, s), timeout,
                                    name, waiting)
            took = time.monotonic() - started
            checked = check_proposals(raw, ctx.config)
        except Exception as exc:  # any plugin error must not take the run down
            reason = str(exc) or type(exc).__name__
            if not isinstance(exc, PluginError):
                reason = f"raised {type(exc).__name__}: {reason}{_where(exc, propose)}"
            message = f"strategy '{name}' (plugin '{owner}') failed: {reason}"
            if strict:
                raise PluginError(message) from exc
            failure = StrategyFailure(message)
            if not isinstance(exc, PluginError):  # the strategy's own exception
                failure.traceback = "".join(traceback.format_exception(exc))
            failures.append(failure)
            continue
        frames.append(checked.assign(strategy=name))
        if isinstance(raw, pd.DataFrame):  # ``with_notes``: shown in the run's summary
            ctx.warnings.extend(f"{name}: {note}" for note in raw.attrs.get("notes", []))
            ctx.warnings.extend(f"{name}: {note}" for note in _ignored_columns(raw))
        ctx.warnings.extend(f"{name}: {note}" for note in unusable_notes(checked, ctx))
        if took >= SLOW_SHARE * timeout:
            ctx.warnings.append(
                f"strategy '{name}' (plugin '{owner}') took {took:.0f} s of its {timeout:g} s "
                "time limit (plugins.timeout_seconds); past it, its proposals are dropped")
        if checked.empty:  # say why, when the strategy said (``no_proposals(why)``)
            why = raw.attrs.get("why", "") if isinstance(raw, pd.DataFrame) else ""
            quiet.append(f"{name} ({why})" if why else name)
    if quiet:
        ctx.warnings.append(f"enabled strategies that proposed nothing tonight: {', '.join(quiet)}")
    columns = [*PROPOSAL_COLUMNS, "strategy"]
    frames = [f for f in frames if len(f)]
    proposals = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return proposals, failures
