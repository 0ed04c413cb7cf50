"""The plugin manager: one door for built-ins and third parties."""

from __future__ import annotations

import inspect
import types
from pathlib import Path

import pytest

from bidopt import hookspecs
from bidopt.errors import PluginError
from bidopt.plugins import DEFAULT_PLUGINS, build_registry, get_plugin_manager, list_plugins
from bidopt.strategy import Strategy

DOCS = Path(__file__).parent.parent / "docs" / "hooks.md"


def hook_names() -> list[str]:
    return [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
            if name.startswith("bidopt_")]


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_is_documented(hook):
    assert f"## {hook}(" in DOCS.read_text(encoding="utf-8")


def test_builtins_are_registered_through_the_hooks():
    registry = build_registry(get_plugin_manager(entry_points=False))
    assert "roi_rule" in registry.strategies
    assert registry.strategy_owner["roi_rule"] == "bidopt.strategies.roi_rule"
    assert registry.formats["csv"] == "bidopt.default_writers"
    infos = {info.name: info for info in list_plugins(registry)}
    assert set(DEFAULT_PLUGINS) <= set(infos)
    assert all(infos[name].builtin for name in DEFAULT_PLUGINS)
    assert "bidopt_register_strategies" in infos["bidopt.strategies.roi_rule"].hooks


def make_plugin(name: str, **attrs) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(module, key, value)
    return module


def test_a_third_party_strategy_registers_like_a_builtin():
    @hookspecs.hookimpl
    def bidopt_register_strategies(register):
        register(Strategy(name="noop", propose=lambda ctx, params: None))

    pm = get_plugin_manager(entry_points=False)
    pm.register(make_plugin("acme", bidopt_register_strategies=bidopt_register_strategies), "acme")
    registry = build_registry(pm)
    assert registry.strategy_owner["noop"] == "acme"
    info = next(i for i in list_plugins(registry) if i.name == "acme")
    assert not info.builtin and info.strategies == ["noop"]


def test_two_strategies_with_one_name_name_both_plugins():
    @hookspecs.hookimpl
    def bidopt_register_strategies(register):
        register(Strategy(name="roi_rule", propose=lambda ctx, params: None))

    pm = get_plugin_manager(entry_points=False)
    pm.register(make_plugin("copycat", bidopt_register_strategies=bidopt_register_strategies), "copycat")
    with pytest.raises(PluginError, match="registered twice.*roi_rule.*copycat"):
        build_registry(pm)


def test_two_plugins_declaring_one_output_format_name_both():
    """The write hook takes the first writer that answers, so a second 'csv' would decide
    by load order which file a run writes: it is refused like a strategy clash."""
    @hookspecs.hookimpl
    def bidopt_output_formats():
        return ["csv"]

    pm = get_plugin_manager(entry_points=False)
    pm.register(make_plugin("shadow", bidopt_output_formats=bidopt_output_formats), "shadow")
    with pytest.raises(PluginError, match="output format 'csv' is declared twice.*shadow"):
        build_registry(pm)
    errors: list[str] = []
    registry = build_registry(pm, errors)
    assert len(errors) == 1 and "csv" in registry.formats


def test_registering_something_that_is_not_a_strategy_is_refused():
    @hookspecs.hookimpl
    def bidopt_register_strategies(register):
        register({"name": "dict"})

    pm = get_plugin_manager(entry_points=False)
    pm.register(make_plugin("sloppy", bidopt_register_strategies=bidopt_register_strategies), "sloppy")
    with pytest.raises(PluginError, match="sloppy.*not a bidopt.Strategy"):
        build_registry(pm)


@pytest.mark.parametrize(("value", "disabled"), [
    ("1", True), ("true", True), ("TRUE", True), ("Yes", True), ("on", True),
    ("0", False), ("false", False), ("no", False), ("off", False), ("", False),
])
def test_the_disable_variable_is_read_one_way_everywhere(monkeypatch, value, disabled):
    """BIDOPT_DISABLE_PLUGINS=0 keeps plugins on, so an unknown strategy's message must not
    say they are off; TRUE or on turns them off like true."""
    from bidopt.config import check_strategies
    from bidopt.errors import ConfigError
    from bidopt.plugins import plugins_disabled
    from bidopt.testing import make_config

    monkeypatch.setenv("BIDOPT_DISABLE_PLUGINS", value)
    assert plugins_disabled() is disabled
    registry = build_registry(get_plugin_manager(entry_points=False))
    with pytest.raises(ConfigError) as caught:
        check_strategies(make_config(strategies={"nosuch": {}}), registry.strategies)
    assert ("plugins are off" in str(caught.value)) is disabled


def test_bidopt_plugins_lists_what_is_installed_when_two_plugins_clash(monkeypatch):
    """`bidopt plugins` is where a user looks when a run says a strategy is registered twice:
    it lists every plugin, then names the clash and exits 5 (it printed only the error)."""
    import json

    from click.testing import CliRunner

    import bidopt.plugins
    from bidopt.cli import cli

    @hookspecs.hookimpl
    def bidopt_register_strategies(register):
        register(Strategy(name="roi_rule", propose=lambda ctx, params: None))

    def manager(**_):
        pm = get_plugin_manager(entry_points=False)
        pm.register(make_plugin("copycat", bidopt_register_strategies=bidopt_register_strategies),
                    "copycat")
        return pm

    monkeypatch.setattr(bidopt.plugins, "get_plugin_manager", manager)
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 5
    assert "copycat" in result.stdout and "bidopt.strategies.long_tail" in result.stdout
    assert "registered twice" in result.stderr and "copycat" in result.stderr
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 5
    assert "copycat" in {info["name"] for info in json.loads(result.stdout)}
