"""Helpers and pytest fixtures for testing bidopt plugins in a few lines.

Plain functions::

    from bidopt.testing import make_config, run_night, simulated_shop

    def test_my_strategy(tmp_path):
        files = simulated_shop(tmp_path)
        result = run_night(make_config(files), plugins=[my_plugin],
                           strategies={"my_rule": {"min_clicks": 5}})
        assert not result.plugin_failures

Fixtures: add ``pytest_plugins = ["bidopt.testing"]`` to your ``conftest.py`` and use
``bidopt_shop`` (files of a simulated shop, made once per session), ``bidopt_config`` (a
config pointing at it), ``bidopt_context`` (the :class:`~bidopt.context.RunContext` a
strategy would get for that shop, to call ``propose`` directly) and ``bidopt_run`` (run
the night on that shop with your plugin registered).

Plugins are registered on a fresh plugin manager the way a test of ``llm`` registers a
plugin class: the built-ins plus exactly the plugins given; installed entry points are
*not* loaded unless ``entry_points=True``, so a test sees the same plugins everywhere.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pluggy

from bidopt.config import Config, load_config, parse_config
from bidopt.context import RunContext
from bidopt.errors import PluginError
from bidopt.isolation import check_proposals, unusable_notes
from bidopt.loop import RunResult, check_output_format, plan_night, write_recommendations
from bidopt.plugins import Registry, build_registry, get_plugin_manager, register_plugin

__all__ = [
    "LAST_REPORT_DAY",
    "NIGHT",
    "RunResult",
    "assert_valid_proposals",
    "make_config",
    "make_registry",
    "plugin_manager",
    "run_night",
    "simulated_shop",
]

LAST_REPORT_DAY = dt.date(2026, 11, 24)
"""Last report day of :func:`simulated_shop` by default."""
NIGHT = dt.date(2026, 11, 25)
"""The night planned by :func:`run_night` by default: the day after the last report."""


def simulated_shop(folder: Path, *, seed: int = 3, days: int = 14, size: str = "small",
                   end_date: dt.date = LAST_REPORT_DAY, chinese: bool = False) -> dict[str, Path]:
    """Write a seeded simulated shop's files into ``folder``; returns {name: path}.

    Names: ``keyword_report``, ``crowd_report``, ``region_report``, ``hour_report``,
    ``items``, ``candidates``. ``chinese=True`` writes GBK-encoded ZTC exports. The same
    arguments always give the same files ("small": 3 campaigns, ~600 keywords, < 1 s).
    """
    from bidopt.simulate import simulate_shop, write_shop

    shop = simulate_shop(seed=seed, days=days, size=size, end_date=end_date)
    return write_shop(shop, Path(folder), chinese=chinese)


def _config_data(files: Mapping[str, Path] | None, roi_floor: float,
                 strategies: Mapping[str, Any] | None, sections: dict) -> dict:
    data: dict[str, Any] = {"shop": "test-shop", "constraints": {"roi_floor": roi_floor}}
    if files is not None:
        data["sources"] = {
            "reports": [str(p) for name, p in sorted(files.items()) if name.endswith("report")],
            **({"items": str(files["items"])} if "items" in files else {}),
            **({"candidates": str(files["candidates"])} if "candidates" in files else {}),
        }
        # next to the shop's files, not in the folder the tests run in: a state file left
        # there by `bidopt applied` must not change what a test sees
        if files:
            folder = os.path.commonpath([Path(p).resolve().parent for p in files.values()])
            data["state_file"] = str(Path(folder) / "bidopt-state.sqlite")
    if strategies is not None:
        data["strategies"] = dict(strategies)
    for key, value in sections.items():
        if isinstance(value, Mapping) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


def make_config(files: Mapping[str, Path] | None = None, *, roi_floor: float = 2.0,
                strategies: Mapping[str, Any] | None = None, **sections: Any) -> Config:
    """A validated config for ``files`` (as returned by :func:`simulated_shop`).

    Its ``state_file`` (what ``bidopt applied`` records) is ``bidopt-state.sqlite`` in the
    files' folder, not in the working directory; ``state_file=...`` sets another.

    Every other config section may be given as a keyword, e.g.
    ``make_config(files, output={"format": "amazon_bulk"}, plugins={"timeout_seconds": 5})``;
    a ``constraints`` mapping is merged with the ROI floor. Invalid values raise
    :class:`~bidopt.errors.ConfigError` exactly as a YAML file would.
    """
    return parse_config(_config_data(files, roi_floor, strategies, sections),
                        base_dir=Path.cwd(), source="make_config")


def _plugin_name(plugin: object) -> str:
    if inspect.ismodule(plugin) or inspect.isclass(plugin):
        return plugin.__name__
    return getattr(plugin, "__name__", None) or type(plugin).__name__


def plugin_manager(plugins: Iterable[object] = (), *, entry_points: bool = False
                   ) -> pluggy.PluginManager:
    """bidopt's plugin manager (built-ins) with ``plugins`` registered on it.

    A plugin is a module, an object, or a class (instantiated with no arguments) whose
    functions or methods carry ``@bidopt.hookimpl``; a module name (str) is imported. It is
    registered under its ``__name__`` (or class name), which is the plugin name that
    failures and ``bidopt plugins`` report. The plugin's ``BIDOPT_HOOK_VERSION`` and hook
    functions are checked as an installed plugin's would be.
    """
    pm = get_plugin_manager(entry_points=entry_points)
    for plugin in plugins:
        if isinstance(plugin, str):
            plugin = importlib.import_module(plugin)
        register_plugin(pm, plugin, _plugin_name(plugin))
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"a plugin implements an unknown hook: {exc}") from exc
    return pm


def make_registry(plugins: Iterable[object] = (), *, entry_points: bool = False) -> Registry:
    """The registry (strategies, output formats) of :func:`plugin_manager`'s plugins."""
    return build_registry(plugin_manager(plugins, entry_points=entry_points))


def _as_config(config: Config | Mapping | str | Path) -> Config:
    if isinstance(config, Config):
        return config
    if isinstance(config, Mapping):
        return parse_config(dict(config), base_dir=Path.cwd(), source="run_night")
    return load_config(Path(config))


def run_night(config: Config | Mapping | str | Path, *, plugins: Iterable[object] = (),
              strategies: Mapping[str, Any] | None = None, date: dt.date = NIGHT,
              out: Path | None = None, strict: bool = False, entry_points: bool = False,
              ) -> RunResult:
    """Plan one night with ``plugins`` registered, as ``bidopt run`` would.

    ``config`` is a :class:`~bidopt.config.Config`, a dict, or a YAML file.
    ``strategies`` (name -> parameters) replaces the config's ``strategies`` section.
    With ``out``, the recommendations are written there through the
    ``bidopt_write_output`` hook in the config's ``output.format`` (``result.output``; for
    a plugin's format also bidopt's review file beside it, ``result.review``);
    otherwise nothing is written. A failing strategy is in ``result.plugin_failures``
    (``strict=True`` raises :class:`~bidopt.errors.PluginError` instead).
    """
    config = _as_config(config)
    if strategies is not None:
        base_dir = config._base_dir
        config = config.model_copy(update={"strategies": dict(strategies)})
        config._base_dir = base_dir
    registry = make_registry(plugins, entry_points=entry_points)
    if out is not None:
        check_output_format(config, registry)
    result = plan_night(config, registry, date=date, strict=strict)
    if out is not None:
        write_recommendations(result, registry, config, Path(out))
    return result


def assert_valid_proposals(frame: object, context: RunContext) -> pd.DataFrame:
    """Assert that a ``propose`` result would pass bidopt's checks; returns it checked.

    The same checks the run applies (see :func:`bidopt.isolation.check_proposals`), as an
    ``AssertionError`` with the reason, for unit tests of a ``propose`` function. Rows the
    decision step could only reject (a ``set_bid`` or ``pause_keyword`` naming no keyword of
    ``context.keywords``, a crowd, region or hour action with an empty forecast) fail too:
    a run only notes them.
    """
    try:
        checked = check_proposals(frame, context.config)
    except PluginError as exc:
        raise AssertionError(f"malformed proposals: {exc}") from None
    unusable = unusable_notes(checked, context)
    if unusable:
        raise AssertionError(f"proposals the decision step can only reject: {'; '.join(unusable)}")
    return checked


try:
    import pytest
except ImportError:  # pragma: no cover - bidopt does not need pytest to run
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture(scope="session")
    def bidopt_shop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
        """Files of the simulated shop (seed 3, small, 14 days to 2026-11-24)."""
        return simulated_shop(tmp_path_factory.mktemp("bidopt_shop"))

    @pytest.fixture
    def bidopt_config(bidopt_shop: dict[str, Path]) -> Config:
        """A config for ``bidopt_shop``: ROI floor 2.0, strategy ``roi_rule``."""
        return make_config(bidopt_shop)

    @pytest.fixture(scope="session")
    def bidopt_context(bidopt_shop: dict[str, Path]) -> RunContext:
        """The RunContext a strategy gets on ``bidopt_shop`` for the night 2026-11-25."""
        return run_night(make_config(bidopt_shop), strategies={}).context

    @pytest.fixture
    def bidopt_run(bidopt_shop: dict[str, Path]) -> Callable[..., RunResult]:
        """``bidopt_run(*plugins, strategies=..., out=..., strict=..., **config_sections)``.

        Runs the night on ``bidopt_shop`` with ``plugins`` registered; config sections
        (``output=``, ``plugins=``, ``constraints=``...) are passed to :func:`make_config`.
        """

        def run(*plugins: object, strategies: Mapping[str, Any] | None = None,
                out: Path | None = None, strict: bool = False, date: dt.date = NIGHT,
                **sections: Any) -> RunResult:
            config = make_config(bidopt_shop, strategies=strategies, **sections)
            return run_night(config, plugins=plugins, out=out, strict=strict, date=date)

        return run
