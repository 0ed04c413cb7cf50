"""Mistakes a plugin author makes, each met with a message naming the plugin and the fix."""

from __future__ import annotations

import sys
import textwrap

import pandas as pd
import pytest
from click.testing import CliRunner

from bidopt import PluginError, Strategy, hookimpl
from bidopt.cli import cli
from bidopt.errors import ExitCode
from bidopt.isolation import check_proposals
from bidopt.testing import make_config, make_registry, run_night

GOOD_PLUGIN = """
    import bidopt

    @bidopt.hookimpl
    def bidopt_register_strategies(register):
        register(bidopt.Strategy(name="acme_good", propose=lambda context, params: None))
"""


def test_bidopt_plugins_lists_the_others_when_one_fails_to_import(install):
    """One broken install hid every plugin from `bidopt plugins`, the command a user runs to
    find out what is installed: it printed only the error."""
    install("acme-good", "acme_good_plugin", GOOD_PLUGIN)
    install("acme-broken", "acme_broken_plugin", "import a_module_that_is_not_there\n")
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == ExitCode.PLUGIN_FAILURE, result.output
    assert "acme-good 1.2.3 (third-party)" in result.stdout
    assert "strategy acme_good" in result.stdout
    assert "bidopt.strategies.roi_rule" in result.stdout
    assert "plugin 'acme-broken' failed to load" in result.stderr
    assert "pip uninstall acme-broken" in result.stderr
    # a run still refuses to start
    with pytest.raises(PluginError, match="acme-broken"):
        make_registry(entry_points=True)


def test_an_entry_point_naming_the_hook_function_is_refused(install):
    """`acme = "acme_fn_plugin:bidopt_register_strategies"` registered the function as a
    plugin with no hooks: `bidopt plugins` showed it with an empty hook list, and the
    config called its strategy unknown."""
    install("acme-fn", "acme_fn_plugin", GOOD_PLUGIN,
            target="acme_fn_plugin:bidopt_register_strategies")
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == ExitCode.PLUGIN_FAILURE, result.output
    assert "plugin 'acme-fn' implements no bidopt hook" in result.stderr
    assert 'acme-fn = "acme_fn_plugin"' in result.stderr


def test_a_module_without_any_hook_is_refused():
    import types

    empty = types.ModuleType("acme_empty")
    empty.bidopt_helper = lambda: None
    with pytest.raises(PluginError, match="'acme_empty' implements no bidopt hook.*@hookimpl"):
        make_registry([empty])


class SeriesReader:
    @hookimpl
    def bidopt_read_source(self, path, kind):
        if not str(path).endswith("keyword_report.csv"):
            return None
        return pd.read_csv(path, dtype=str).iloc[0]  # one row, as a Series


def test_a_reader_returning_no_dataframe_is_a_failure_of_its_plugin(shop_files):
    """A reader returning a Series ended in 'internal error: AttributeError: 'Series' object
    has no attribute 'columns' ... this is a bug' (exit 70), naming bidopt, not the plugin."""
    with pytest.raises(PluginError, match=r"reader of plugin 'SeriesReader' returned Series "
                                          r"for .*keyword_report\.csv, not a pandas DataFrame"):
        run_night(make_config(shop_files), plugins=[SeriesReader], strategies={})


class IndexingReader:
    """Reads the keyword report but turns its date column into the index: the file is fine,
    the reader lost a column."""

    @hookimpl
    def bidopt_read_source(self, path, kind):
        if not str(path).endswith("keyword_report.csv"):
            return None
        return pd.read_csv(path, dtype=str).set_index("date")


def test_a_reader_that_loses_a_column_is_named_beside_the_file_s_problems(shop_files):
    """'required column date is missing' read as if the user's file were wrong."""
    from bidopt.errors import DataError

    with pytest.raises(DataError) as caught:
        run_night(make_config(shop_files), plugins=[IndexingReader], strategies={})
    messages = [p.message for p in caught.value.problems]
    assert any("'date'" in m and "missing" in m for m in messages)
    assert any("read by plugin 'IndexingReader'" in m for m in messages), messages


class StringFormats:
    @hookimpl
    def bidopt_output_formats(self):
        return "jsonl"

    @hookimpl
    def bidopt_write_output(self, recommendations, path, format, options):
        return None


def test_output_formats_given_as_a_string_are_refused():
    """`return "jsonl"` declared the formats 'j', 'l', 'n', 'o', 's'; the config check then
    said no plugin writes 'jsonl', listing the letters."""
    with pytest.raises(PluginError, match=r"'StringFormats': bidopt_output_formats\(\) "
                                          r"returned 'jsonl'; it must return a list"):
        make_registry([StringFormats])


def test_missing_proposal_columns_name_the_columns_returned():
    """'proposals lack the columns proposed' did not say that the strategy returned its bid
    as 'new_bid' and its keyword as 'kw'."""
    frame = pd.DataFrame({"campaign": ["c"], "item": ["i"], "kw": ["k"], "platform": ["mobile"],
                          "action": ["set_bid"], "new_bid": [1.0], "reason": ["r"]})
    with pytest.raises(PluginError, match="lack the columns proposed; it returned columns "
                                          "bidopt does not know: 'kw', 'new_bid'"):
        check_proposals(frame, make_config())
    frame = frame.rename(columns={"new_bid": "proposed"})
    with pytest.raises(PluginError, match="'set_bid' proposals lack the columns keyword; .*'kw'"):
        check_proposals(frame, make_config())


def _registers(name: str) -> type:
    class Plugin:
        @hookimpl
        def bidopt_register_strategies(self, register):
            register(Strategy(name="acme_rule", propose=lambda context, params: None))

    Plugin.__name__ = name
    return Plugin


def test_two_third_party_plugins_with_one_strategy_name_say_what_to_do():
    with pytest.raises(PluginError, match="registered twice: by 'acme_one' and by 'acme_two'; "
                                          ".*uninstall one of the two packages"):
        make_registry([_registers("acme_one"), _registers("acme_two")])


class RaisesInRegister:
    @hookimpl
    def bidopt_register_strategies(self, register):
        settings = {}
        register(Strategy(name=settings["name"], propose=lambda context, params: None))


def test_a_register_hook_that_raises_names_the_exception():
    """'plugin ... failed to register strategies: 'name'' did not say it was a KeyError."""
    with pytest.raises(PluginError, match="plugin 'RaisesInRegister' failed to register "
                                          "strategies: KeyError: 'name'"):
        make_registry([RaisesInRegister])


class RegistersTwice:
    @hookimpl
    def bidopt_register_strategies(self, register):
        for _ in range(2):
            register(Strategy(name="acme_rule", propose=lambda context, params: None))


def test_one_plugin_registering_a_name_twice_is_told_so():
    """'registered twice: by 'RegistersTwice' and by 'RegistersTwice'; ... uninstall one of
    the two packages' sent the author after a second package that does not exist."""
    with pytest.raises(PluginError, match="plugin 'RegistersTwice' registers the strategy "
                                          "'acme_rule' twice: .*register\\(\\) twice"):
        make_registry([RegistersTwice])


def test_a_lone_module_plugin_is_located_in_its_own_file(tmp_path, monkeypatch, shop_files):
    """A plugin installed as one module lies in site-packages next to pandas: the failure
    named pandas' line ('at base.py:3823 in get_loc'), not the plugin's."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "acme_lib_of_others.py").write_text(
        "def lookup(table, key):\n    return table[key]\n", encoding="utf-8")
    (site / "acme_lone.py").write_text(textwrap.dedent("""
        import bidopt
        import acme_lib_of_others


        def propose(context, params):
            return acme_lib_of_others.lookup({}, "bids")


        @bidopt.hookimpl
        def bidopt_register_strategies(register):
            register(bidopt.Strategy(name="acme_lone", propose=propose))
    """), encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    import acme_lone

    try:
        result = run_night(make_config(shop_files), plugins=[acme_lone],
                           strategies={"acme_lone": {}})
    finally:
        sys.modules.pop("acme_lone", None)
        sys.modules.pop("acme_lib_of_others", None)
    (failure,) = result.plugin_failures
    assert "raised KeyError: 'bids' (at acme_lone.py:7 in propose)" in failure
