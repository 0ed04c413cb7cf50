"""Config loading: every problem named, with a did-you-mean hint where it helps."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest

from bidopt.config import check_strategies, config_json_schema, load_config, parse_config
from bidopt.errors import ConfigError
from bidopt.plugins import build_registry, get_plugin_manager

MINIMAL = {"constraints": {"roi_floor": 2.0, "daily_budget": 500}}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_match_the_platform_rules():
    config = parse_config(MINIMAL)
    assert (config.bids.mobile.min, config.bids.mobile.max, config.bids.mobile.step) == (0.05, 100, 0.01)
    assert config.bids.max_change_pct == 30
    assert config.objective.target == "gmv"
    assert config.strategies == {"roi_rule": {}}


def test_campaign_overrides_fall_back_to_the_shop_default():
    config = parse_config(
        {"constraints": {"roi_floor": 2.0, "campaigns": {"A": {"roi_floor": 3.0}}}}
    )
    assert config.constraints.for_campaign("A") == (3.0, math.inf)
    assert config.constraints.for_campaign("B") == (2.0, math.inf)


def test_relative_sources_resolve_against_the_config_folder(tmp_path):
    path = write(tmp_path, "constraints: {roi_floor: 2}\nsources: {reports: [data/kw.csv]}\n")
    config = load_config(path)
    assert config.resolve(config.sources.reports[0]) == tmp_path / "data" / "kw.csv"


def test_command_line_files_replace_only_their_own_kind(tmp_path):
    """``bidopt run --reports today.xlsx`` tries a new export with the config's items and
    candidates (the options' help promises as much)."""
    from bidopt.loop import SourceOverrides, resolve_sources

    path = write(tmp_path, "constraints: {roi_floor: 2}\n"
                 "sources: {reports: [kw.csv, crowd.csv], items: items.csv, candidates: c.csv}\n")
    config = load_config(path)
    today = Path("today.xlsx")
    got = resolve_sources(config, SourceOverrides([today]))
    assert got == SourceOverrides([today], tmp_path / "items.csv", tmp_path / "c.csv")
    got = resolve_sources(config, SourceOverrides([], Path("new-items.csv")))
    assert got.reports == [tmp_path / "kw.csv", tmp_path / "crowd.csv"]
    assert got.items == Path("new-items.csv") and got.candidates == tmp_path / "c.csv"
    assert resolve_sources(config, None).items == tmp_path / "items.csv"


def test_report_patterns_expand_to_the_daily_exports_they_match(tmp_path):
    """One export per day: ``reports: [exports/kw_*.csv]`` takes them all, in name order;
    a pattern matching nothing stays, so that the run names it."""
    from bidopt.loop import SourceOverrides, resolve_sources

    (tmp_path / "exports").mkdir()
    for day in ("2026-11-21", "2026-11-20"):
        (tmp_path / "exports" / f"kw_{day}.csv").write_text("x\n", encoding="utf-8")
    config = load_config(write(tmp_path, "constraints: {roi_floor: 2}\n"
                                         "sources: {reports: ['exports/kw_*.csv']}\n"))
    got = resolve_sources(config, None).reports
    assert [p.name for p in got] == ["kw_2026-11-20.csv", "kw_2026-11-21.csv"]
    missing = resolve_sources(config, SourceOverrides([tmp_path / "none" / "*.csv"])).reports
    assert missing == [tmp_path / "none" / "*.csv"]


def test_a_pinned_bid_outside_its_platform_bounds_is_a_config_error():
    pins = [{"campaign": "A", "item": "i", "keyword": "k", "platform": "pc", "bid": 0.5}]
    with pytest.raises(ConfigError) as info:
        parse_config({**MINIMAL, "bids": {"pc": {"max": 0.3}, "pinned": pins}})
    (message,) = info.value.messages
    assert "pinned[0] ('k'): bid 0.5 is outside the pc bounds 0.05-0.3" in message
    assert "got" not in message, "the whole section's input is not dumped"


def test_a_zero_budget_is_refused_not_planned():
    """No platform takes a daily budget of 0 (null means none); planned literally it would
    leave only the savings of region and hour actions, a negative spend."""
    with pytest.raises(ConfigError) as info:
        parse_config({"constraints": {"roi_floor": 2.0, "daily_budget": 0}})
    assert "'constraints.daily_budget': Input should be greater than 0" in str(info.value)


def test_malformed_yaml_names_line_and_column(tmp_path):
    path = write(tmp_path, "constraints:\n  roi_floor: [2\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "malformed YAML" in str(info.value) and "line" in str(info.value)
    assert str(path) in str(info.value)


def test_unknown_keys_get_a_did_you_mean_hint_and_all_are_listed(tmp_path):
    path = write(tmp_path, "constraints: {roi_flor: 2}\noutptu: {}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    messages = info.value.messages
    assert any("constraints.roi_flor" in m and "did you mean 'roi_floor'" in m for m in messages)
    assert any("'outptu'" in m and "did you mean 'output'" in m for m in messages)
    assert any("constraints.roi_floor' is required" in m for m in messages)


@pytest.mark.parametrize(
    ("constraints", "needle"),
    [({"roi_floor": 0}, "roi_floor"), ({"roi_floor": -1}, "roi_floor"),
     ({"roi_floor": 2, "daily_budget": -5}, "daily_budget"),
     ({"roi_floor": float("inf")}, "roi_floor"), ({"roi_floor": float("nan")}, "roi_floor"),
     ({"roi_floor": True}, "expected a number, not true or false (got True)")],
)
def test_roi_floor_must_be_positive_and_budget_not_negative(constraints, needle):
    with pytest.raises(ConfigError) as info:
        parse_config({"constraints": constraints})
    assert needle in str(info.value)


def test_missing_and_empty_config_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="empty"):
        load_config(write(tmp_path, "# nothing\n"))


def test_yaml_tags_are_not_executed(tmp_path):
    path = write(tmp_path, "constraints: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(ConfigError, match="malformed YAML"):
        load_config(path)


def test_unknown_strategy_and_bad_strategy_params():
    registry = build_registry(get_plugin_manager(entry_points=False))
    config = parse_config({**MINIMAL, "strategies": {"roi_rul": {}, "roi_rule": {"min_click": 5}}})
    with pytest.raises(ConfigError) as info:
        check_strategies(config, registry.strategies)
    text = str(info.value)
    assert "unknown strategy 'strategies.roi_rul'; did you mean 'roi_rule'?" in text
    assert "strategies.roi_rule.min_click" in text and "did you mean 'min_clicks'" in text


def test_an_unknown_strategy_mentions_disabled_plugins(monkeypatch):
    monkeypatch.setenv("BIDOPT_DISABLE_PLUGINS", "1")
    registry = build_registry(get_plugin_manager(entry_points=False))
    config = parse_config({**MINIMAL, "strategies": {"dayparting": {}}})
    with pytest.raises(ConfigError, match="third-party plugins are off"):
        check_strategies(config, registry.strategies)


@pytest.mark.parametrize(("strategy", "options", "needle"), [
    ("long_tail", {"item_ring_sales": [5, 200]}, "centre > middle"),
    ("top3_quality", {"hours": [9, 25]}, "strategies.top3_quality.hours.1"),
])
def test_strategy_options_that_cannot_work_are_config_errors(strategy, options, needle):
    registry = build_registry(get_plugin_manager(entry_points=False))
    config = parse_config({**MINIMAL, "strategies": {strategy: options}})
    with pytest.raises(ConfigError, match=needle):
        check_strategies(config, registry.strategies)


def test_json_schema_describes_the_config():
    schema = config_json_schema()
    json.dumps(schema)
    assert set(schema["properties"]) >= {"sources", "constraints", "bids", "objective", "strategies", "output"}
    assert "constraints" in schema["required"]


def test_sample_config_is_valid():
    config = load_config(Path(__file__).parent.parent / "configs" / "sample.yaml")
    assert config.sources.is_empty


def test_calendar_phase_of_the_night_overrides_floor_budget_and_weights():

    config = load_config(Path(__file__).parent.parent / "configs" / "double11.yaml")
    warm_up = config.for_night(dt.date(2026, 11, 5))
    assert warm_up.constraints.roi_floor == 1.5
    assert warm_up.objective.cart_weight == 1.0 and warm_up.constraints.daily_budget == 1500
    burst = config.for_night(dt.date(2026, 11, 11))
    assert (burst.constraints.roi_floor, burst.constraints.daily_budget) == (1.2, 6000)
    assert burst.objective.cart_weight == 0.0
    ordinary = config.for_night(dt.date(2026, 11, 25))
    assert ordinary.constraints.roi_floor == 2.0 and config.phase_for(dt.date(2026, 11, 25)) is None
    assert config.for_night(dt.date(2026, 11, 5)).resolve(Path("x")).parent == config.resolve(Path("x")).parent


def test_phase_spanning_new_year_and_bad_dates():

    config = parse_config({**MINIMAL, "calendar": [{"name": "cny", "start": "12-20", "end": "01-05"}]})
    assert config.phase_for(dt.date(2026, 12, 31)).name == "cny"
    assert config.phase_for(dt.date(2027, 1, 3)).name == "cny"
    assert config.phase_for(dt.date(2027, 1, 6)) is None
    with pytest.raises(ConfigError, match="calendar.0.start"):
        parse_config({**MINIMAL, "calendar": [{"name": "x", "start": "Nov 1", "end": "11-02"}]})


@pytest.mark.parametrize(("phase", "needle"), [
    ({"start": "13-45", "end": "12-01"}, "13-45 is not a date"),
    ({"start": "02-30", "end": "03-02"}, "02-30 is not a date"),
    ({"start": "2026-12-20", "end": "2026-01-05"}, "never applies"),
    ({"start": "2026-12-05", "end": "12-01"}, "both be MM-DD"),
])
def test_calendar_dates_are_checked_when_the_config_loads(phase, needle):
    with pytest.raises(ConfigError, match=needle):
        parse_config({**MINIMAL, "calendar": [{"name": "p", **phase}]})


def test_an_every_year_leap_day_phase_holds_feb_28_in_other_years():

    config = parse_config({**MINIMAL, "calendar": [{"name": "leap", "start": "02-29",
                                                      "end": "03-02", "roi_floor": 1.5}]})
    assert config.phase_for(dt.date(2027, 2, 28)).name == "leap"
    assert config.phase_for(dt.date(2028, 2, 29)).name == "leap"
    assert config.phase_for(dt.date(2027, 2, 27)) is None


def test_a_phase_hidden_by_an_earlier_one_is_a_config_error():
    """First match wins: a burst day listed after the longer phase holding it never applies."""
    long, burst = ({"name": "warm-up", "start": "11-01", "end": "11-12", "roi_floor": 1.5},
                   {"name": "burst", "start": "11-11", "end": "11-11", "roi_floor": 1.2})
    with pytest.raises(ConfigError, match="'burst' never applies: every day of it is in 'warm-up'"):
        parse_config({**MINIMAL, "calendar": [long, burst]})
    assert parse_config({**MINIMAL, "calendar": [burst, long]}).calendar[0].name == "burst"


def test_a_phase_may_replace_the_shop_budget():

    config = parse_config({"constraints": {"roi_floor": 2.0, "shop_budget": 60000},
                           "calendar": [{"name": "burst", "start": "11-11", "end": "11-11",
                                         "roi_floor": 1.2, "shop_budget": 400000}]})
    assert config.for_night(dt.date(2026, 11, 11)).constraints.shop_budget == 400000
    assert config.for_night(dt.date(2026, 11, 12)).constraints.shop_budget == 60000


def test_a_phase_with_unquoted_yyyy_mm_dd_dates_loads(tmp_path):
    """YAML reads an unquoted 2026-11-11 as a date; the phase takes it as that day."""

    config = load_config(write(tmp_path, "constraints: {roi_floor: 2.0}\n"
                                         "calendar:\n"
                                         "  - name: burst\n"
                                         "    start: 2026-11-11\n"
                                         "    end: 2026-11-11\n"
                                         "    roi_floor: 1.2\n"))
    assert config.calendar[0].start == "2026-11-11"
    assert config.phase_for(dt.date(2026, 11, 11)).name == "burst"
    assert config.phase_for(dt.date(2027, 11, 11)) is None


@pytest.mark.parametrize("path", ["recs-{date:%Y%m%d}.csv", "recs-{night}.csv", "{DATE}.csv"])
def test_an_output_path_with_another_placeholder_is_refused(path):
    """Kept as written, such a name is the same every night: each plan replaces the last."""
    with pytest.raises(ConfigError, match="is not a placeholder: only {date}"):
        parse_config({"constraints": {"roi_floor": 2.0}, "output": {"path": path}})
    assert parse_config({"constraints": {"roi_floor": 2.0},
                         "output": {"path": "plans/{date}/recs.csv"}})


def test_problems_name_their_line_in_the_yaml(tmp_path):
    path = tmp_path / "shop.yaml"
    path.write_text("shop: x\nconstraints:\n  roi_flor: 2\n  daily_budget: -5\n"
                    "strategies:\n  roi_rule: {max_change_pct: abc}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    messages = caught.value.messages
    assert "line 3: unknown key 'constraints.roi_flor'; did you mean 'roi_floor'?" in messages
    assert any(m.startswith("line 4: 'constraints.daily_budget'") for m in messages)
    path.write_text("shop: x\nconstraints:\n  roi_floor: 2\n"
                    "strategies:\n  roi_rule: {max_change_pct: abc}\n", encoding="utf-8")
    registry = build_registry(get_plugin_manager(entry_points=False))
    with pytest.raises(ConfigError, match="line 5: 'strategies.roi_rule.max_change_pct'"):
        check_strategies(load_config(path), registry.strategies)


def test_a_config_saved_as_gbk_is_named_with_its_line(tmp_path):
    path = tmp_path / "shop.yaml"
    path.write_bytes("constraints: {roi_floor: 2}\nshop: 女装旗舰店\n".encode("gbk"))
    with pytest.raises(ConfigError, match="line 2: the config is not UTF-8 text.*save it as UTF-8"):
        load_config(path)


def test_a_budget_written_as_null_in_a_phase_lifts_it_for_the_phase():
    data = {"constraints": {"roi_floor": 2.0, "daily_budget": 1500, "shop_budget": 9000},
            "calendar": [{"name": "burst", "start": "11-11", "end": "11-11",
                          "daily_budget": None, "shop_budget": None},
                         {"name": "warm-up", "start": "11-01", "end": "11-10"}]}
    config = parse_config(data)
    burst = config.for_night(dt.date(2026, 11, 11)).constraints
    assert burst.daily_budget is None and burst.shop_budget is None
    warm = config.for_night(dt.date(2026, 11, 5)).constraints
    assert warm.daily_budget == 1500 and warm.shop_budget == 9000, "not written: kept"


@pytest.mark.parametrize("value", [True, False, 20])
def test_a_strategy_switched_on_or_off_with_a_flag_says_what_to_write(value) -> None:
    data = {"constraints": {"roi_floor": 2.0}, "strategies": {"pc_floor": value}}
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    (message,) = caught.value.messages
    assert "'strategies.pc_floor'" in message
    assert "'pc_floor: {}'" in message and "leave it out" in message
    assert "valid dictionary" not in message


def test_one_report_file_written_without_a_list_is_read(tmp_path) -> None:
    config = parse_config({"constraints": {"roi_floor": 2.0},
                           "sources": {"reports": "exports/kw_*.csv"}}, base_dir=tmp_path)
    assert [str(p) for p in config.sources.reports] == ["exports/kw_*.csv"]


def test_a_folder_given_as_the_config_is_named_as_a_folder(tmp_path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert "is a folder, not a config file" in str(caught.value)
    assert "Errno" not in str(caught.value)
