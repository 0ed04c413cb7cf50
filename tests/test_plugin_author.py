"""What a third-party plugin author runs into: the public API they are pointed at, and the
messages bidopt gives when their plugin is wrong."""

from __future__ import annotations

import datetime as dt

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


def _installed(folder, monkeypatch, name: str, code: str, target: str = "") -> None:
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
    (info / "entry_points.txt").write_text(f"[bidopt]\n{name} = {name}{target}\n",
                                           encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, name, raising=False)  # another test's acme_sig
    importlib.invalidate_caches()


HEADER = """
import datetime as dt

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


def _one_strategy(propose):
    from bidopt import Strategy, hookimpl

    class Acme:
        @hookimpl
        def bidopt_register_strategies(self, register):
            register(Strategy(name="acme", propose=propose))

    return Acme


def _night(shop_files, propose, **sections):
    from bidopt.testing import make_config

    config = make_config(shop_files, strategies={"acme": {}}, **sections)
    return run_night(config, plugins=[_one_strategy(propose)])


def test_an_exception_names_the_strategys_own_line_not_pandas(shop_files):
    import inspect

    def propose(context, params):
        return context.keywords["bids"]  # raises inside pandas

    line = inspect.getsourcelines(propose)[1] + 1
    result = _night(shop_files, propose)
    assert result.plugin_failures == [
        "strategy 'acme' (plugin 'Acme') failed: raised KeyError: 'bids' "
        f"(at test_plugin_author.py:{line} in propose)"]


def test_a_slice_action_without_its_forecast_is_malformed(shop_files):
    """It was accepted as well-formed and every row rejected, the reason only in the
    proposals frame; the run said nothing."""
    def propose(context, params):
        return pd.DataFrame({"campaign": [context.campaigns["campaign"][0]], "hour": [3],
                             "action": "set_hour_discount", "current": 100.0,
                             "proposed": 50.0, "reason": "the small hours"})

    result = _night(shop_files, propose)
    assert len(result.plugin_failures) == 1
    assert ("'set_hour_discount' proposals lack their forecast: no column base_clicks, "
            "base_cost, base_gmv, exp_clicks, exp_cost, exp_gmv") in result.plugin_failures[0]


def test_proposals_the_decision_can_only_reject_are_named_in_the_notes(shop_files):
    def propose(context, params):
        kw = context.keywords.head(3).reset_index(drop=True)
        bids = pd.DataFrame({"campaign": kw["campaign"], "item": kw["item"],
                             "keyword": kw["keyword"] + " typo", "platform": kw["platform"],
                             "action": "set_bid", "current": kw["bid"], "proposed": kw["bid"],
                             "reason": "x"})
        hours = pd.DataFrame({"campaign": kw["campaign"][0], "hour": [3, 4],
                              "action": "set_hour_discount", "current": 100.0,
                              "proposed": 50.0, "reason": "x", "base_clicks": [1.0, None],
                              "base_cost": 1.0, "base_gmv": 2.0, "exp_clicks": 0.5,
                              "exp_cost": 0.4, "exp_gmv": 1.0})
        return pd.concat([bids, hours], ignore_index=True)

    result = _night(shop_files, propose)
    assert not result.plugin_failures
    notes = [w for w in result.context.warnings if w.startswith("acme: ")]
    assert len(notes) == 2, result.context.warnings
    assert notes[0].startswith("acme: 3 of its set_bid / pause_keyword proposals name no "
                               "keyword of tonight's plan (campaign/item/keyword/platform, e.g.")
    assert notes[1] == ("acme: 1 of its set_hour_discount proposals carry an empty forecast in "
                        "row 4 (each of base_clicks, base_cost, base_gmv, exp_clicks, exp_cost, "
                        "exp_gmv is needed): rejected")
    mine = result.decision.proposals[result.decision.proposals["strategy"] == "acme"]
    assert (mine["status"].iloc[[0, 1, 2, 4]] == "rejected").all()


def test_a_slow_strategy_says_it_is_still_running_and_how_long_it_took(shop_files, monkeypatch):
    import time

    from bidopt import isolation
    from bidopt.loop import plan_night
    from bidopt.testing import make_config, make_registry

    def propose(context, params):
        time.sleep(1.5)
        return pd.DataFrame()

    monkeypatch.setattr(isolation, "STILL_RUNNING_EVERY", 0.5)
    said = []
    config = make_config(shop_files, strategies={"acme": {}}, plugins={"timeout_seconds": 2.5})
    result = plan_night(config, make_registry([_one_strategy(propose)]),
                        date=dt.date(2026, 11, 25), progress=said.append)
    assert not result.plugin_failures
    still = [s for s in said if s.startswith("strategy acme: still running after")]
    assert still and still[0].endswith("s (time limit 2.5 s, plugins.timeout_seconds)")
    assert ("strategy 'acme' (plugin 'Acme') took 2 s of its 2.5 s time limit "
            "(plugins.timeout_seconds); past it, its proposals are dropped"
            ) in result.context.warnings


@pytest.mark.parametrize("make, message", [
    (lambda: _model_params(), "params Loose lets unknown keys through, so a misspelt option in "
                              "the config would be ignored without a word; derive it from "
                              "bidopt.StrategyParams"),
    (lambda: {"min_clicks": 5}, "params must be a subclass of bidopt.StrategyParams (the class "
                                "itself), not {'min_clicks': 5}"),
])
def test_a_params_model_that_would_ignore_a_typo_is_refused_at_registration(make, message):
    """A plain pydantic model took `min_clciks: 10` without a word; a dict failed in the
    middle of the run with AttributeError: 'dict' object has no attribute 'model_validate'."""
    from bidopt import PluginError, Strategy, hookimpl
    from bidopt.testing import make_registry

    class Acme:
        @hookimpl
        def bidopt_register_strategies(self, register):
            register(Strategy(name="acme", propose=lambda context, params: None, params=make()))

    with pytest.raises(PluginError, match="plugin 'Acme' failed to register strategies: TypeError: "
                       "strategy 'acme': " + __import__("re").escape(message)):
        make_registry([Acme])


def _model_params():
    from pydantic import BaseModel

    class Loose(BaseModel):
        min_clicks: int = 5

    return Loose


def test_a_propose_that_cannot_take_context_and_params_is_refused_at_registration():
    from bidopt import PluginError, Strategy, hookimpl
    from bidopt.testing import make_registry

    def propose(context):
        return pd.DataFrame()

    class Acme:
        @hookimpl
        def bidopt_register_strategies(self, register):
            register(Strategy(name="acme", propose=propose))

    with pytest.raises(PluginError, match=r"strategy 'acme': propose\(context\) cannot be "
                       r"called as propose\(context, params\)"):
        make_registry([Acme])


def test_returned_columns_that_are_ignored_are_named(shop_files):
    """A misspelt optional column (`grop`, `current_bid`) was dropped without a word."""
    def propose(context, params):
        kw = context.keywords.head(2).reset_index(drop=True)
        return pd.DataFrame({"campaign": kw["campaign"], "item": kw["item"],
                             "keyword": kw["keyword"], "platform": kw["platform"],
                             "action": "set_bid", "current_bid": kw["bid"],
                             "proposed": kw["bid"], "reason": "x", "grop": "g"})

    result = _night(shop_files, propose)
    assert not result.plugin_failures
    assert ("acme: returned columns that are no proposal column, ignored: 'current_bid' (did "
            "you mean 'current'?), 'grop' (did you mean 'group'?)") in result.context.warnings


def test_a_state_file_in_the_working_directory_does_not_reach_a_plugins_tests(
        shop_files, tmp_path, monkeypatch):
    """A plugin author who ran `bidopt applied` in the project folder got its settings in
    every test (make_config put the state file in the working directory)."""
    from bidopt.testing import make_config

    first = pd.read_csv(shop_files["keyword_report"], nrows=1).iloc[0]
    monkeypatch.chdir(tmp_path)
    record_plan(tmp_path / "bidopt-state.sqlite",
                _recorded_plan(tmp_path, first["campaign"], first["item"], first["keyword"]),
                "test-shop")
    config = make_config(shop_files)
    assert config.state_file == str(shop_files["items"].resolve().parent / "bidopt-state.sqlite")
    assert run_night(config, strategies={}).context.in_force("hour_discount").empty


def test_a_strategy_that_writes_into_the_context_changes_nothing_else(shop_files):
    """`context.keywords["bid"] *= 3` in one strategy tripled every current bid of the
    night's plan (292 rows summing 521 became 380 summing 2,063 on the small shop)."""
    from bidopt.testing import make_config

    def propose(context, params):
        context.keywords["bid"] *= 3
        context.campaigns["roi_floor"] = 0.5
        return pd.DataFrame()

    alone = run_night(make_config(shop_files), strategies={"roi_rule": {}})
    config = make_config(shop_files, strategies={"acme": {}, "roi_rule": {}})
    both = run_night(config, plugins=[_one_strategy(propose)])
    assert not both.plugin_failures
    pd.testing.assert_frame_equal(both.recommendations, alone.recommendations)
    pd.testing.assert_frame_equal(both.context.keywords, alone.context.keywords)


def test_an_entry_point_may_name_a_plugin_class(tmp_path, monkeypatch):
    """`acme = "acme:Plugin"` registered the class itself: its hook methods were called
    without `self` (a test through bidopt.testing instantiated it and passed)."""
    from click.testing import CliRunner

    from bidopt.cli import cli

    code = HEADER + """
class Plugin:
    @hookimpl
    def bidopt_register_strategies(self, register):
        register(Strategy(name="acme_cls", propose=propose, description="from a class"))
"""
    _installed(tmp_path / "site", monkeypatch, "acme_cls", code, ":Plugin")
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    assert "strategy acme_cls: from a class" in result.output


def test_strict_raises_from_the_strategys_own_exception(shop_files):
    """What docs/plugins.md tells an author to do for the whole traceback."""
    from bidopt import PluginError

    def propose(context, params):
        raise ZeroDivisionError("the author's bug")

    from bidopt.testing import make_config

    with pytest.raises(PluginError) as raised:
        run_night(make_config(shop_files, strategies={"acme": {}}),
                  plugins=[_one_strategy(propose)], strict=True)
    assert isinstance(raised.value.__cause__, ZeroDivisionError)


def test_a_unit_test_catches_proposals_the_run_can_only_reject(shop_files):
    """assert_valid_proposals passed them; the run then rejected every row."""
    from bidopt.testing import assert_valid_proposals, make_config

    context = run_night(make_config(shop_files), strategies={}).context
    kw = context.keywords.head(2).reset_index(drop=True)
    frame = pd.DataFrame({"campaign": kw["campaign"], "item": kw["item"],
                          "keyword": kw["keyword"].str.upper() + "!", "platform": kw["platform"],
                          "action": "set_bid", "proposed": kw["bid"], "reason": "x"})
    with pytest.raises(AssertionError, match="proposals the decision step can only reject: 2 "
                       "of its set_bid / pause_keyword proposals name no keyword"):
        assert_valid_proposals(frame, context)
    assert len(assert_valid_proposals(frame.assign(keyword=kw["keyword"]), context)) == 2
