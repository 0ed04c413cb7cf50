"""What a third-party plugin author runs into: the public API they are pointed at, and the
messages bidopt gives when their plugin is wrong."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.conftest import write_config

from bidopt.config import load_config
from bidopt.state import record_plan, state_path
from bidopt.testing import run_night


def _recorded_plan(folder, campaign: str, item: str, keyword: str):
    rows = pd.DataFrame([
        {"action": "set_hour_discount", "hour": 6, "proposed": 85},
        {"action": "set_hour_discount", "hour": 22, "proposed": 120},
        {"action": "set_crowd_premium", "item": item, "crowd": "女性", "proposed": 20},
        {"action": "exclude_region", "region": "新疆", "proposed": 0},
        {"action": "pause_keyword", "item": item, "keyword": keyword, "platform": "pc",
         "proposed": 0},
    ]).assign(date="2026-11-25", campaign=campaign)
    path = folder / "recs.csv"
    rows.reindex(columns=["date", "campaign", "item", "keyword", "crowd", "region", "platform",
                          "hour", "action", "proposed"]).to_csv(path, index=False)
    return path


def test_a_strategy_reads_the_settings_recorded_in_force(shop_files, tmp_path):
    """RunContext.in_force: what `bidopt applied` recorded, for any plugin to start from."""
    config = write_config(tmp_path, shop_files)
    first = pd.read_csv(shop_files["keyword_report"], nrows=1).iloc[0]
    campaign, item, keyword = first["campaign"], first["item"], first["keyword"]
    empty = run_night(config, strategies={}).context
    assert empty.in_force("hour_discount").empty
    assert list(empty.in_force("hour_discount").columns) == ["campaign", "hour", "value", "night"]

    record_plan(state_path(load_config(config)), _recorded_plan(tmp_path, campaign, item, keyword),
                "test-shop")
    seen = {}

    def propose(context, params):
        seen["hours"] = context.in_force("hour_discount")
        return pd.DataFrame()

    from bidopt import Strategy, hookimpl

    class Reader:
        @hookimpl
        def bidopt_register_strategies(self, register):
            register(Strategy(name="reads_state", propose=propose))

    result = run_night(config, plugins=[Reader], strategies={"reads_state": {}})
    assert not result.plugin_failures
    hours = seen["hours"].sort_values("hour").reset_index(drop=True)
    assert hours["hour"].tolist() == [6, 22] and hours["value"].tolist() == [85.0, 120.0]
    assert (hours["campaign"] == campaign).all() and (hours["night"] == "2026-11-25").all()
    ctx = result.context
    premiums = ctx.in_force("crowd_premium")
    assert premiums[["campaign", "item", "crowd", "value"]].values.tolist() == [
        [campaign, item, "女性", 20.0]]
    assert ctx.in_force("region")[["region", "value"]].values.tolist() == [["新疆", 0.0]]
    assert ctx.in_force("paused")[["item", "keyword", "platform"]].values.tolist() == [
        [item, keyword, "pc"]]
    with pytest.raises(ValueError, match="unknown kind 'hours'; known: hour_discount"):
        ctx.in_force("hours")
    # the guide's example of starting from what is in force works as written
    from types import SimpleNamespace

    from tests.test_tutorial import code_blocks

    snippet = next(code for lang, code in code_blocks()
                   if lang == "python" and "def current_discounts(context, params)" in code)
    namespace: dict = {}
    exec(snippet, namespace)
    found = namespace["current_discounts"](ctx, SimpleNamespace(current_discounts={campaign: {6: 90}}))
    assert found == {(campaign, 6): 90, (campaign, 22): 120.0}


def _installed(folder, monkeypatch, name: str, code: str) -> None:
    """A plugin ``name`` installed as pip would: a module and its dist-info with the
    ``bidopt`` entry point, on the path."""
    import importlib
    import sys

    folder.mkdir()
    (folder / f"{name}.py").write_text(code, encoding="utf-8")
    info = folder / f"{name}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[bidopt]\n{name} = {name}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, name, raising=False)  # another test's acme_sig
    importlib.invalidate_caches()


HEADER = """
import pandas as pd
from bidopt import Strategy, hookimpl

def propose(context, params):
    return pd.DataFrame()
"""


@pytest.mark.parametrize("hook, message", [
    ("@hookimpl\ndef bidopt_register_strategies(registry):\n"
     "    registry(Strategy(name='x', propose=propose))\n",
     "plugin 'acme_sig': bidopt_register_strategies(registry) takes 'registry', which bidopt "
     "does not pass; the hook is called with bidopt_register_strategies(register)"),
    ("@hookimpl\ndef bidopt_register_strategies(register, context):\n    pass\n",
     "takes 'context', which bidopt does not pass"),
    ("@hookimpl\ndef bidopt_register_strategy(register):\n    pass\n",
     "plugin 'acme_sig' implements 'bidopt_register_strategy', which is not a bidopt hook; "
     "did you mean 'bidopt_register_strategies'?"),
    ("def bidopt_register_strategies(register):\n"
     "    register(Strategy(name='x', propose=propose))\n",
     "plugin 'acme_sig' defines bidopt_register_strategies() without @bidopt.hookimpl"),
    ("BIDOPT_HOOK_VERSION = '1'\n",
     "plugin 'acme_sig' sets BIDOPT_HOOK_VERSION = '1' (str): it must be the whole number"),
])
def test_a_plugin_with_a_wrong_hook_is_named_with_the_fix(tmp_path, monkeypatch, hook, message):
    """`bidopt validate` and `run` exit 5 with a message naming the plugin (it was pluggy's
    traceback and exit 1 for a wrong signature, the module's repr for a misspelt hook, a
    listed plugin with no strategy for a missing @hookimpl, and "built for version 1, this
    bidopt provides version 1" for a version written as text)."""
    from click.testing import CliRunner

    from bidopt.cli import cli

    _installed(tmp_path / "site", monkeypatch, "acme_sig", HEADER + hook)
    config = write_config(tmp_path, None)
    for command in (["validate"], ["run", "--dry-run"]):
        result = CliRunner().invoke(cli, [*command, "--config", str(config)])
        assert result.exit_code == 5, result.output
        assert message in result.output
        assert "Traceback" not in result.output


def test_a_test_sees_the_same_hook_checks_as_an_installed_plugin():
    from bidopt import PluginError, hookimpl
    from bidopt.testing import make_registry

    class Wrong:
        @hookimpl
        def bidopt_write_output(self, recommendations, path, fmt, options):
            return None

    with pytest.raises(PluginError, match="takes 'fmt', which bidopt does not pass; the hook "
                       r"is called with bidopt_write_output\(recommendations, path, format, "
                       r"options\)"):
        make_registry([Wrong])


def test_a_strategy_named_like_a_builtin_is_told_to_pick_another_name():
    from bidopt import PluginError, Strategy, hookimpl
    from bidopt.testing import make_registry

    class Clash:
        @hookimpl
        def bidopt_register_strategies(self, register):
            register(Strategy(name="roi_rule", propose=lambda context, params: None))

    with pytest.raises(PluginError, match="'roi_rule' is a built-in strategy of bidopt; give "
                       "the strategy of 'Clash' another name"):
        make_registry([Clash])
