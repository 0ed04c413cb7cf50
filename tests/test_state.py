"""The state file: what an uploaded plan set, remembered for the next nights."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pandas as pd
import pytest
from click.testing import CliRunner

from bidopt.cli import cli
from bidopt.config import parse_config
from bidopt.errors import DataError
from bidopt.state import read_state, record_plan, with_state
from conftest import NIGHT, write_config

KEYS = ["campaign", "item", "keyword", "platform"]
NEXT = (dt.date.fromisoformat(NIGHT) + dt.timedelta(days=1)).isoformat()


def recs_file(path, rows: list[dict]):
    base = {"date": NIGHT, "campaign": "c1", "item": "", "keyword": "", "crowd": "",
            "region": "", "platform": "", "hour": "", "current": 0, "proposed": 0}
    pd.DataFrame([{**base, **row} for row in rows]).to_csv(path, index=False,
                                                          encoding="utf-8-sig")
    return path


def test_a_recorded_plan_fills_the_options_the_config_leaves_unset(tmp_path):
    first = recs_file(tmp_path / "a.csv", [
        {"action": "set_crowd_premium", "item": "i1", "crowd": "女性", "proposed": 30},
        {"action": "set_crowd_premium", "item": "i2", "crowd": "女性", "proposed": 10},
        {"action": "exclude_region", "item": "all", "region": "新疆", "proposed": 0},
        {"action": "exclude_region", "item": "all", "region": "西藏", "proposed": 0},
        {"action": "set_bid", "item": "i1", "keyword": "k", "platform": "mobile",
         "proposed": 1.2},
        {"action": "set_hour_discount", "item": "all", "hour": 3, "proposed": 60},
        {"action": "set_hour_discount", "item": "all", "hour": 4, "proposed": 60},
        # a rejected pause (include_rejected): proposed = current, no pause
        {"action": "pause_keyword", "item": "i1", "keyword": "k", "platform": "mobile",
         "current": 0.8, "proposed": 0.8},
    ])
    state = tmp_path / "state.sqlite"
    recorded = record_plan(state, first, "shop")
    assert recorded == {"crowd_premium": 2, "region": 2, "hour_discount": 2,
                        "keyword_changes": 1, "no_forecast": 1}
    later = recs_file(tmp_path / "b.csv", [
        {"date": NEXT, "action": "set_crowd_premium", "item": "i1", "crowd": "女性",
         "proposed": 40},
        {"date": NEXT, "action": "include_region", "item": "all", "region": "西藏",
         "proposed": 1},
    ])
    record_plan(state, later, "shop")
    assert len(read_state(state, "shop")) == 6, "one row per setting: the last recorded wins"
    assert record_plan(state, first, "shop") == {"crowd_premium": 2, "region": 2,
                                                 "hour_discount": 2, "kept": 2,
                                                 "keyword_changes": 1, "no_forecast": 1}, \
        "an older file recorded again does not roll back what a later night set"

    config = parse_config({"shop": "shop", "constraints": {"roi_floor": 2.0},
                           "state_file": str(state),
                           "strategies": {"crowd_premium": {}, "region_exclusion": {},
                                          "top3_quality": {}}})
    used, notes, paused = with_state(config, dt.date.fromisoformat(NEXT))
    assert paused.empty
    assert used.strategies["crowd_premium"]["current_premiums"] == {
        "i1": {"女性": 40.0}, "i2": {"女性": 10.0}}
    assert used.strategies["region_exclusion"]["currently_excluded"] == {"c1": ["新疆"]}
    assert used.strategies["top3_quality"]["current_hour_discounts"] == {"c1": {3: 60, 4: 60}}
    assert len(notes) == 3 and f"up to the night of {NEXT}" in notes[0]
    assert config.strategies["crowd_premium"] == {}, "the config itself is not modified"
    other_shop = config.model_copy(update={"shop": "another shop"})
    used, notes, paused = with_state(other_shop, dt.date.fromisoformat(NEXT))
    assert used == other_shop and notes == [] and paused.empty, \
        "a state file shared by several configs gives each only its own shop's settings"

    own = parse_config({"shop": "shop", "constraints": {"roi_floor": 2.0},
                        "state_file": str(state),
                        "strategies": {"crowd_premium": {"current_premiums": {"女性": 5}}}})
    used, notes, _ = with_state(own, dt.date.fromisoformat(NIGHT))
    assert used.strategies["crowd_premium"]["current_premiums"] == {"女性": 5}
    assert notes == [f"the state file {state} holds settings recorded for nights after "
                     f"{NIGHT} (up to {NEXT}): they are taken as in force"]


def test_files_that_are_not_what_they_should_be_are_named(tmp_path):
    state = tmp_path / "state.sqlite"
    other = tmp_path / "other.csv"
    pd.DataFrame({"date": [NIGHT], "campaign": ["c1"]}).to_csv(other, index=False)
    with pytest.raises(DataError, match="not a bidopt recommendations file"):
        record_plan(state, other, "shop")
    bad = recs_file(tmp_path / "bad.csv", [
        {"action": "set_crowd_premium", "item": "i1", "crowd": "女性", "proposed": 30},
        {"action": "set_crowd_premium", "item": "i1", "crowd": "男性", "proposed": "abc"}])
    with pytest.raises(DataError, match="row 3, column 'proposed'"):
        record_plan(state, bad, "shop")
    assert not state.exists(), "nothing is recorded from a bad file"
    with pytest.raises(DataError, match="file not found"):
        record_plan(state, tmp_path / "missing.csv", "shop")
    state.write_bytes(b"not a database at all" * 10)
    with pytest.raises(DataError, match="not a bidopt state file"):
        read_state(state, "shop")


def test_a_plan_a_reviewer_saved_from_excel_is_recorded_as_bidopt_wrote_it(tmp_path):
    """Excel re-saves the night as 2026/11/25, a reviewer retypes an action, and the names
    the writer quoted against formulas ('+red +shoes) come back with the quote: recorded as
    they stood they made a second night, skipped the change without a word, and kept a
    pause the next run could not find."""
    from bidopt.state import read_records

    night = dt.date.fromisoformat(NIGHT)
    edited = recs_file(tmp_path / "edited.csv", [
        {"date": f"{night.year}/{night.month}/{night.day}", "action": "Pause_Keyword",
         "item": "i1", "keyword": "'+red +shoes", "platform": "mobile", "current": 0.8},
        {"date": f"{night.year}/{night.month}/{night.day}", "action": "set bid",
         "item": "i1", "keyword": "'-sale", "platform": "mobile", "current": 0.5,
         "proposed": 0.6}])
    state = tmp_path / "state.sqlite"
    record_plan(state, edited, "shop")
    settings, planned = read_records(state, "shop", before=night + dt.timedelta(days=1))
    assert settings["night"].tolist() == [NIGHT]
    assert settings["name"].str.split("\x1f").str[0].tolist() == ["+red +shoes"]
    assert sorted(planned["keyword"]) == ["+red +shoes", "-sale"]
    assert set(planned["night"]) == {NIGHT} and set(planned["action"]) == {
        "pause_keyword", "set_bid"}


def test_an_edited_plan_that_cannot_be_read_names_its_rows(tmp_path):
    """A proposed bid typed with a decimal comma, an action bidopt does not write and a date
    that is no date: each named with its row, nothing recorded (a proposed bid that was not
    a number once ended in a database error, exit 7)."""
    bad = recs_file(tmp_path / "bad.csv", [
        {"action": "set_bid", "item": "i1", "keyword": "k", "platform": "mobile",
         "current": 1.0, "proposed": "1,2x"},
        {"action": "raise_bid", "item": "i1", "keyword": "j", "platform": "mobile"},
        {"date": "tomorrow", "action": "exclude_region", "region": "新疆"}])
    state = tmp_path / "state.sqlite"
    with pytest.raises(DataError) as caught:
        record_plan(state, bad, "shop")
    named = {(p.row, p.column) for p in caught.value.problems}
    assert named == {(2, "proposed"), (3, "action"), (4, "date")}
    assert not state.exists()
    config = write_config(tmp_path, None, state_file=str(state))
    result = CliRunner().invoke(cli, ["applied", "--config", str(config), str(bad)])
    assert result.exit_code == 3 and "row 2, column 'proposed'" in result.output


def test_a_plan_saved_by_a_us_or_uk_excel_is_read_in_the_configs_date_order(tmp_path):
    """Excel in the US saves the night 2026-12-03 as 12/3/2026, in the UK as 03/12/2026: on
    the 1st to the 12th nothing in the file tells which, and `bidopt applied` called it 'not
    a date' (the review file a reader edits before recording it, as the README asks, could
    not be recorded). The config's sources.date_order decides, as it does for the reports;
    without it the error names that setting."""
    rows = [{"action": "pause_keyword", "item": "i1", "keyword": "k", "platform": "all",
             "current": 0.8}]
    runner = CliRunner()
    for order, saved, night in (("month_first", "12/3/2026", "2026-12-03"),
                                ("day_first", "03/12/2026", "2026-12-03"),
                                ("month_first", "03/12/2026", "2026-03-12")):
        folder = tmp_path / f"{order}-{saved.replace('/', '')}"
        folder.mkdir()
        plan = recs_file(folder / "plan.csv", [{**row, "date": saved} for row in rows])
        config = write_config(folder, None, sources={"date_order": order})
        result = runner.invoke(cli, ["applied", "--config", str(config), str(plan)])
        assert result.exit_code == 0, result.output
        assert read_state(folder / "bidopt-state.sqlite", "test-shop")["night"].tolist() == [
            night]
    config = write_config(tmp_path, None)
    result = runner.invoke(cli, ["applied", "--config", str(config), str(plan)])
    assert result.exit_code == 3
    assert ("row 2, column 'date': '03/12/2026': could be month/day or day/month (Excel saved "
            "the date its own way) (expected sources.date_order in the config: month_first"
            in result.output)
    assert not (tmp_path / "bidopt-state.sqlite").exists()


def test_the_next_night_starts_from_the_premiums_recorded_after_upload(shop_files, tmp_path):
    """run -> applied -> run: the second night's premium proposals start from what the
    first night set, and the summary says where those figures came from."""
    config = write_config(tmp_path, shop_files, strategies={"crowd_premium": {}})
    first = tmp_path / "first.csv"
    runner = CliRunner()
    result = runner.invoke(cli, ["run", "--config", str(config), "--date", NIGHT,
                                 "--out", str(first), "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    set_first = pd.read_csv(first, encoding="utf-8-sig")
    set_first = set_first[set_first["action"] == "set_crowd_premium"]
    assert len(set_first) > 0
    result = runner.invoke(cli, ["applied", "--config", str(config), str(first)])
    assert result.exit_code == 0, result.output
    assert f"recorded {len(set_first)} crowd premiums" in result.output
    with sqlite3.connect(tmp_path / "bidopt-state.sqlite") as con:
        assert con.execute("SELECT COUNT(*) FROM in_force WHERE kind = 'crowd_premium'"
                           ).fetchone()[0] == len(set_first)

    second = tmp_path / "second.csv"
    result = runner.invoke(cli, ["run", "--config", str(config), "--date", NIGHT,
                                 "--out", str(second), "--verbose"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "premiums in force" in result.output
    again = pd.read_csv(second, encoding="utf-8-sig")
    again = again[again["action"] == "set_crowd_premium"]
    recorded = set_first.set_index(["item", "crowd"])["proposed"]
    current = again.set_index(["item", "crowd"])["current"]
    both = current.index.intersection(recorded.index)
    assert len(both) > 0
    assert (current[both] == recorded[both]).all(), "tonight starts from what was set"
    # keywords paused by the uploaded plan, silent since, are not planned (or paused) again
    first_all = pd.read_csv(first, encoding="utf-8-sig")
    paused = first_all[first_all["action"] == "pause_keyword"][KEYS]
    assert len(paused) > 0
    second_all = pd.read_csv(second, encoding="utf-8-sig")
    assert paused.merge(second_all[KEYS]).empty
    assert f"{len(paused)} keywords recorded as paused" in result.output

    result = runner.invoke(cli, ["validate", "--config", str(config)])
    in_force = len(set_first) + len(paused)
    assert result.exit_code == 0 and f"{in_force} settings in force" in result.output

    bad = tmp_path / "broken.csv"
    bad.write_text("date,campaign\n2026-11-25,x\n", encoding="utf-8")
    result = runner.invoke(cli, ["applied", "--config", str(config), str(bad)])
    assert result.exit_code == 3 and "not a bidopt recommendations file" in result.output


def test_a_paused_keyword_switched_back_on_is_planned_again():
    from bidopt.loop import _still_paused

    keys = dict(campaign="c", item="i", platform="mobile")
    daily = pd.DataFrame([
        {**keys, "keyword": "off", "date": pd.Timestamp("2026-11-20"), "impressions": 50},
        {**keys, "keyword": "back", "date": pd.Timestamp("2026-11-20"), "impressions": 50},
        {**keys, "keyword": "back", "date": pd.Timestamp("2026-11-23"), "impressions": 9},
        {**keys, "keyword": "other", "date": pd.Timestamp("2026-11-23"), "impressions": 9},
    ])
    state = daily.drop_duplicates("keyword")[KEYS].reset_index(drop=True)
    paused = pd.DataFrame([{**keys, "keyword": k, "night": "2026-11-21"} for k in ("off", "back")])
    kept, notes = _still_paused(state, daily, paused)
    assert kept["keyword"].tolist() == ["back", "other"]
    assert notes == ["1 keyword recorded as paused (state file) has shown nothing since: left "
                     "out of tonight's plan and of the spend before"]


def test_a_recorded_setting_the_options_refuse_names_the_state_file(shop_files, tmp_path):
    """The config passed on its own; an option filled from the state file that fails its
    bounds is named with the file it came from, not as a line of the YAML."""
    from bidopt.errors import ConfigError
    from bidopt.loop import SourceOverrides, plan_night
    from bidopt.plugins import build_registry, get_plugin_manager
    from conftest import report_paths

    state = tmp_path / "state.sqlite"
    record_plan(state, recs_file(tmp_path / "a.csv", [
        {"action": "set_hour_discount", "item": "all", "hour": 3, "proposed": 400}]), "shop")
    config = parse_config({"shop": "shop", "constraints": {"roi_floor": 2.0},
                           "state_file": str(state), "strategies": {"top3_quality": {}}})
    sources = SourceOverrides([*map(__import__("pathlib").Path, report_paths(shop_files))],
                              shop_files["items"], shop_files["candidates"])
    with pytest.raises(ConfigError, match="settings recorded in .*state.sqlite"):
        plan_night(config, build_registry(get_plugin_manager(entry_points=False)),
                   date=dt.date.fromisoformat(NEXT), sources=sources)


def test_applied_makes_the_state_file_s_folder(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files, state_file="state/acme.sqlite",
                          strategies={"roi_rule": {}})
    plan = tmp_path / "plan.csv"
    runner = CliRunner()
    result = runner.invoke(cli, ["run", "--config", str(config), "--date", NIGHT,
                                 "--out", str(plan), "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["applied", "--config", str(config), str(plan)])
    assert result.exit_code == 0, result.output
    state = tmp_path / "state" / "acme.sqlite"
    assert f"in {state}" in result.output
    with sqlite3.connect(state) as con:
        assert con.execute("SELECT COUNT(*) FROM planned").fetchone()[0] > 0
