"""The plugin manager: built-ins and entry-point plugins through one door.

Built-in readers, writers and strategies are modules listed in ``DEFAULT_PLUGINS`` and
registered on the same manager, through the same hooks, as third-party packages found in
the ``bidopt`` entry-point group.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.metadata
import inspect
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import pluggy

from bidopt import hookspecs
from bidopt.errors import PluginError
from bidopt.strategy import Strategy

DEFAULT_PLUGINS: tuple[str, ...] = (
    "bidopt.default_readers",
    "bidopt.default_writers",
    "bidopt.strategies.roi_rule",
    "bidopt.strategies.region_exclusion",
    "bidopt.strategies.pc_floor",
    "bidopt.strategies.crowd_premium",
    "bidopt.strategies.long_tail",
    "bidopt.strategies.top3_quality",
)

ENTRY_POINT_GROUP = "bidopt"
# Set to 1 to skip third-party plugins (e.g. to rule one out when a run misbehaves).
DISABLE_ENV = "BIDOPT_DISABLE_PLUGINS"


def plugins_disabled() -> bool:
    """Whether ``BIDOPT_DISABLE_PLUGINS`` turns third-party plugins off: 1, true, yes or on,
    in any case (0, false, no, off or empty leave them on)."""
    return os.environ.get(DISABLE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class PluginInfo:
    name: str
    version: str
    hooks: list[str]
    builtin: bool
    strategies: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)


@dataclass
class Registry:
    """What the loaded plugins provide, checked for clashes in one place."""

    pm: pluggy.PluginManager
    strategies: dict[str, Strategy] = field(default_factory=dict)
    strategy_owner: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    def plugin_name(self, plugin: object) -> str:
        return self.pm.get_name(plugin) or repr(plugin)


def _check_hook_version(name: str, plugin: object) -> None:
    wanted = getattr(plugin, "BIDOPT_HOOK_VERSION", hookspecs.HOOK_VERSION)
    if not isinstance(wanted, int) or isinstance(wanted, bool):
        raise PluginError(
            f"plugin '{name}' sets BIDOPT_HOOK_VERSION = {wanted!r} "
            f"({type(wanted).__name__}): it must be the whole number of the hook version "
            f"the plugin was written for (this bidopt provides {hookspecs.HOOK_VERSION})"
        )
    if wanted != hookspecs.HOOK_VERSION:
        newer = wanted > hookspecs.HOOK_VERSION
        raise PluginError(
            f"plugin '{name}' was built for bidopt hook version {wanted}, "
            f"this bidopt provides version {hookspecs.HOOK_VERSION}; "
            + ("upgrade bidopt" if newer else "upgrade the plugin")
        )


HOOK_NAMES = tuple(n for n in dir(hookspecs) if n.startswith("bidopt_"))
_MARK = "bidopt_impl"  # the attribute @bidopt.hookimpl sets on a function


def _hook_arguments(hook: str) -> list[str]:
    return list(inspect.signature(getattr(hookspecs, hook)).parameters)


def _check_hooks(name: str, plugin: object) -> None:
    """The plugin's hook functions, checked before pluggy sees them, so that a mistake is
    a message naming the plugin and the fix rather than pluggy's traceback."""
    for attr in dir(plugin):
        if attr.startswith("__"):
            continue
        try:
            function = getattr(plugin, attr)
        except Exception:  # a property that raises is not a hook
            continue
        if not callable(function):
            continue
        marked = getattr(function, _MARK, None) is not None
        if attr in HOOK_NAMES and not marked:
            raise PluginError(
                f"plugin '{name}' defines {attr}() without @bidopt.hookimpl: bidopt never "
                "calls it; mark it with @hookimpl (from bidopt import hookimpl)")
        if not marked:
            continue
        if attr not in HOOK_NAMES:
            close = difflib.get_close_matches(attr, HOOK_NAMES, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise PluginError(
                f"plugin '{name}' implements '{attr}', which is not a bidopt hook; {hint}"
                f"(the hooks: {', '.join(HOOK_NAMES)})")
        try:
            taken = [p for p in inspect.signature(function).parameters.values()
                     if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        except (TypeError, ValueError):
            continue
        given = _hook_arguments(attr)
        unknown = [p.name for p in taken if p.name not in given]
        if unknown:
            raise PluginError(
                f"plugin '{name}': {attr}({', '.join(p.name for p in taken)}) takes "
                f"{', '.join(map(repr, unknown))}, which bidopt does not pass; the hook is "
                f"called with {attr}({', '.join(given)}), by these names (take any of them)")


def _check_has_hooks(name: str, plugin: object) -> None:
    """A plugin without a single hook is a mistake, most often an entry point that names
    the hook function (``acme = "acme_bidopt.plugin:bidopt_register_strategies"``) rather
    than its module: pluggy would register it, and bidopt would never call anything."""
    if any(getattr(getattr(plugin, attr, None), _MARK, None) is not None for attr in HOOK_NAMES):
        return
    if inspect.ismodule(plugin):
        what = f"module {plugin.__name__} holds no function marked @bidopt.hookimpl"
        fix = "mark its hook functions with @hookimpl (from bidopt import hookimpl)"
    else:
        module = getattr(plugin, "__module__", None) or type(plugin).__module__
        kind = "function" if inspect.isroutine(plugin) else type(plugin).__name__
        what = f"it is the {kind} {getattr(plugin, '__name__', repr(plugin))}, not a module"
        fix = (f"name the module (or class) that holds the @hookimpl functions in the "
               f"entry point, e.g. {name} = \"{module}\"")
    raise PluginError(f"plugin '{name}' implements no bidopt hook ({what}); {fix}")


def register_plugin(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    """Register a third-party plugin after checking its hook version and hook functions.

    A class (an entry point ``acme = "acme_bidopt.plugin:AcmePlugin"``) is instantiated
    with no arguments, so that its hook methods get ``self``."""
    if inspect.isclass(plugin):
        try:
            plugin = plugin()
        except Exception as exc:
            raise PluginError(f"plugin '{name}': its class {plugin.__name__} cannot be "
                              f"made with no arguments: {exc}") from exc
    _check_hook_version(name, plugin)
    _check_hooks(name, plugin)
    _check_has_hooks(name, plugin)
    try:
        pm.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        raise PluginError(f"plugin '{name}' cannot be registered: {exc}") from None
    for impl in pm.hook.bidopt_read_source.get_hookimpls():
        if impl.plugin is plugin:
            impl.function = _checked_reader(impl.function, impl.argnames, name)


def _checked_reader(read: Callable, argnames: tuple[str, ...], name: str) -> Callable:
    """A reader whose answer is checked: anything but a DataFrame or None (a Series, a
    list of rows) would surface as an internal error of bidopt far from the reader."""

    @functools.wraps(read)
    def checked(*args: object) -> object:
        import pandas as pd

        table = read(*args)
        if isinstance(table, pd.DataFrame):
            table.attrs["read_by"] = name  # named where the file's columns fall short
        if table is None or isinstance(table, pd.DataFrame):
            return table
        path = dict(zip(argnames, args, strict=False)).get("path", "the file")
        raise PluginError(
            f"the reader of plugin '{name}' returned {type(table).__name__} for {path}, "
            "not a pandas DataFrame; return the file's cells as a DataFrame, or None when "
            "the file is not yours")

    return checked


def _load_entry_points(pm: pluggy.PluginManager, versions: dict[str, str],
                       failures: list[PluginError]) -> None:
    """Register every installed plugin; one that fails to load or is refused goes to
    ``failures`` and the others are still registered, so that ``bidopt plugins`` can list
    them (``build_registry`` raises the first failure for a run)."""
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken third-party install must say which one
                package = (f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None
                           else "its package")
                uninstall = ep.dist.name if ep.dist is not None else "<package>"
                raise PluginError(
                    f"plugin '{ep.name}' failed to load: {type(exc).__name__}: {exc} "
                    f"(entry point {ep.name} = {ep.value} of {package}); reinstall the "
                    f"package with its dependencies, or uninstall it (pip uninstall "
                    f"{uninstall}); {DISABLE_ENV}=1 runs bidopt without third-party plugins"
                ) from exc
            register_plugin(pm, plugin, ep.name)
        except PluginError as exc:
            failures.append(exc)
            continue
        if ep.dist is not None:
            versions[ep.name] = ep.dist.version


def get_plugin_manager(*, entry_points: bool | None = None) -> pluggy.PluginManager:
    """A plugin manager with the hook specs, third-party plugins and the built-ins.

    A third-party plugin that fails to load or is refused is left out and kept in
    ``pm.bidopt_load_failures``: :func:`build_registry` raises the first (or, given
    ``errors``, lists them all after the plugins that did load)."""
    pm = pluggy.PluginManager("bidopt")
    pm.add_hookspecs(hookspecs)
    pm.bidopt_versions = {}  # type: ignore[attr-defined]
    pm.bidopt_load_failures = []  # type: ignore[attr-defined]
    if entry_points is None:
        entry_points = not plugins_disabled()
    if entry_points:
        _load_entry_points(pm, pm.bidopt_versions,  # type: ignore[attr-defined]
                           pm.bidopt_load_failures)  # type: ignore[attr-defined]
    for module_name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"a plugin implements an unknown hook: {exc}") from exc
    return pm


def build_registry(pm: pluggy.PluginManager, errors: list[str] | None = None) -> Registry:
    """Collect strategies and output formats from every plugin; clashes are errors.

    With ``errors`` (``bidopt plugins``), a plugin's failure to register is appended there
    and the other plugins are still collected, so that the listing shows what is installed.
    """
    registry = Registry(pm=pm, versions=dict(getattr(pm, "bidopt_versions", {})))
    for failure in getattr(pm, "bidopt_load_failures", []):  # plugins refused at load
        if errors is None:
            raise failure
        errors.append(str(failure))
    for impl in pm.hook.bidopt_register_strategies.get_hookimpls():
        owner = impl.plugin_name

        def register(strategy: Strategy, owner: str = owner) -> None:
            if not isinstance(strategy, Strategy):
                raise PluginError(
                    f"plugin '{owner}' registered {strategy!r}, not a bidopt.Strategy"
                )
            if strategy.name in registry.strategies:
                first = registry.strategy_owner[strategy.name]
                if first == owner:
                    raise PluginError(
                        f"plugin '{owner}' registers the strategy '{strategy.name}' twice: "
                        "its bidopt_register_strategies calls register() twice with that "
                        "name; give each strategy its own name")
                builtin = first if first in DEFAULT_PLUGINS else (
                    owner if owner in DEFAULT_PLUGINS else None)
                hint = (f": '{strategy.name}' is a built-in strategy of bidopt; give "
                        f"the strategy of '{owner if builtin == first else first}' "
                        "another name") if builtin else (
                    "; bidopt cannot tell which one a config means: uninstall one of the "
                    "two packages, or rename the strategy in one")
                raise PluginError(
                    f"strategy '{strategy.name}' is registered twice: by "
                    f"'{first}' and by '{owner}'{hint}"
                )
            registry.strategies[strategy.name] = strategy
            registry.strategy_owner[strategy.name] = owner

        try:
            try:
                impl.function(register=register)
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"plugin '{owner}' failed to register strategies: "
                    f"{type(exc).__name__}: {exc}") from exc
        except PluginError as exc:
            if errors is None:
                raise
            errors.append(str(exc))
    for impl in pm.hook.bidopt_output_formats.get_hookimpls():
        try:
            formats = impl.function() or []
        except Exception as exc:
            failure = PluginError(f"plugin '{impl.plugin_name}' failed to declare its output "
                                  f"formats: {type(exc).__name__}: {exc}")
            if errors is None:
                raise failure from exc
            errors.append(str(failure))
            continue
        if not isinstance(formats, list | tuple | set | frozenset) or not all(
                isinstance(fmt, str) and fmt for fmt in formats):
            # a bare string would be taken letter by letter: formats 'j', 's', 'o', 'n'
            failure = PluginError(
                f"plugin '{impl.plugin_name}': bidopt_output_formats() returned {formats!r}; "
                "it must return a list of format names, e.g. ['jsonl']")
            if errors is None:
                raise failure
            errors.append(str(failure))
            continue
        for fmt in formats:
            owner = registry.formats.setdefault(fmt, impl.plugin_name)
            if owner != impl.plugin_name:
                # the write hook takes the first writer that answers: which plugin writes
                # the format would depend on the order plugins load in
                clash = PluginError(f"output format '{fmt}' is declared twice: by '{owner}' "
                                    f"and by '{impl.plugin_name}'")
                if errors is None:
                    raise clash
                errors.append(str(clash))
    return registry


def plugin_in_traceback(pm: pluggy.PluginManager, exc: BaseException) -> str | None:
    """The third-party plugin whose code raised ``exc`` (the innermost frame of a plugin's
    package), or None where bidopt's own code did: a plugin's bug is reported as a plugin
    failure naming it, not as a bug of bidopt."""
    owners = {}
    for name, plugin in pm.list_name_plugin():
        if plugin is None or name in DEFAULT_PLUGINS:
            continue
        module = plugin.__name__ if inspect.ismodule(plugin) else type(plugin).__module__
        owners[module.partition(".")[0]] = name
    frames = [frame for frame, _ in traceback.walk_tb(exc.__traceback__)]
    for frame in reversed(frames):
        package = str(frame.f_globals.get("__name__", "")).partition(".")[0]
        if package == "bidopt":
            return None
        if package in owners:
            return owners[package]
    return None


def list_plugins(registry: Registry) -> list[PluginInfo]:
    """Every loaded plugin with its version, hooks and what it provides."""
    pm = registry.pm
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        builtin = name in DEFAULT_PLUGINS
        version = registry.versions.get(name)
        if version is None:
            from bidopt import __version__

            version = __version__ if builtin else getattr(plugin, "__version__", "unknown")
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        infos.append(
            PluginInfo(
                name=name,
                version=version,
                hooks=hooks,
                builtin=builtin,
                strategies=sorted(s for s, o in registry.strategy_owner.items() if o == name),
                formats=sorted(f for f, o in registry.formats.items() if o == name),
            )
        )
    return sorted(infos, key=lambda info: (not info.builtin, info.name))
