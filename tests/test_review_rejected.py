"""Rejected proposals listed with output.include_rejected, as a reviewer and an uploader see
them: action 'keep', nothing to upload, nothing recorded by `bidopt applied`; and
`bidopt applied` still reads files written before the d_* columns and the 'keep' action."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from bidopt.cli import cli
from bidopt.schema import RECOMMENDATION_COLUMNS
from conftest import NIGHT, write_config


def run_cli(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def read_recs(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"hour": str})


def recorded(state: Path) -> pd.DataFrame:
    with sqlite3.connect(state) as con:
        return pd.read_sql_query("SELECT kind, name, value FROM in_force", con)


@pytest.fixture(scope="module")
def with_rejected(shop_files, tmp_path_factory):
    folder = tmp_path_factory.mktemp("rejected")
    config = write_config(folder, shop_files, output={"include_rejected": True})
    out = folder / "recs.csv"
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out))
    assert result.exit_code == 0, result.output
    return config, out, read_recs(out), result.output


def test_rejected_proposals_are_keep_rows_that_change_nothing(with_rejected):
    _, _, recs, output = with_rejected
    keep = recs[recs["action"] == "keep"]
    assert len(keep) > 0
    assert (keep["proposed"] == keep["current"]).all()
    assert (keep["change_pct"] == 0).all()
    assert (keep[["d_clicks", "d_cost", "d_gmv"]] == 0).all().all()
    # the reason says what the strategy asked for, and why it was not taken
    assert keep["reason"].str.contains(
        r"; rejected: .*\(asked (?:set_bid|pause_keyword|add_keyword) [\d.]+\)$").all()
    # every row that names a change is one the plan makes: a pause pauses, a bid moves
    changes = recs[recs["action"] != "keep"]
    assert not changes["reason"].str.contains("; rejected: ").any()
    assert (changes.loc[changes["action"] == "pause_keyword", "proposed"] == 0).all()
    bids = changes[changes["action"] == "set_bid"]
    assert (bids["proposed"] != bids["current"]).all()
    assert f"{len(changes):,} actions and {len(keep):,} rejected proposals" in output


def test_rejected_rows_show_the_day_expected_with_the_value_kept(with_rejected):
    """No empty forecast cells on a keep row: the keyword's day at its kept bid (nothing for
    a keyword not added), as the plan forecasts it."""
    _, _, recs, _ = with_rejected
    keep = recs[recs["action"] == "keep"]
    assert keep[["exp_clicks", "exp_cost", "exp_gmv"]].notna().all().all()
    adds = keep[keep["reason"].str.contains(r"\(asked add_keyword ")]
    assert (adds[["exp_clicks", "exp_cost", "exp_gmv"]] == 0).all().all()
    bids = keep[keep["reason"].str.contains(r"\(asked set_bid ")]
    assert len(bids) and (bids["exp_cost"] > 0).any()


def test_a_rejected_pause_is_not_recorded_as_a_pause(with_rejected, tmp_path):
    config, out, recs, _ = with_rejected
    asked_pause = recs[(recs["action"] == "keep")
                       & recs["reason"].str.contains(r"\(asked pause_keyword")]
    pauses = recs[recs["action"] == "pause_keyword"]
    state = config.parent / "bidopt-state.sqlite"
    result = run_cli("applied", "--config", str(config), str(out))
    assert result.exit_code == 0, result.output
    paused = recorded(state) if state.exists() else pd.DataFrame(columns=["kind"])
    assert (paused["kind"] == "paused").sum() == len(pauses)
    if len(asked_pause):
        assert f"{len(pauses)} paused keywords" in result.output


def test_applied_reads_files_with_and_without_the_effect_columns(tmp_path):
    """A file of this version (d_* columns, rejected rows as 'keep') and one written before
    (no d_* columns, a rejected pause with proposed = current) record the same settings."""
    config = write_config(tmp_path, None)
    rows = [
        {"action": "set_crowd_premium", "item": "i1", "crowd": "老客", "current": 0,
         "proposed": 20},
        {"action": "exclude_region", "item": "all", "region": "新疆", "current": 1,
         "proposed": 0},
        {"action": "pause_keyword", "item": "i1", "keyword": "kw a", "platform": "mobile",
         "current": 0.8, "proposed": 0},
        {"action": "set_hour_discount", "hour": 3, "current": 100, "proposed": 60},
    ]
    new = pd.DataFrame([{"date": NIGHT, "campaign": "C1", **r} for r in rows]).reindex(
        columns=list(RECOMMENDATION_COLUMNS))
    new["d_cost"] = -1.0
    rejected_new = new.iloc[[2]].assign(keyword="kw b", action="keep", proposed=0.8,
                                        d_cost=0.0)
    rejected_old = new.iloc[[2]].assign(keyword="kw b", proposed=0.8)
    old = pd.concat([new, rejected_old]).drop(columns=["d_clicks", "d_cost", "d_gmv"])
    new = pd.concat([new, rejected_new])
    counts = {}
    for name, frame in (("new", new), ("old", old)):
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False, encoding="utf-8-sig")
        (tmp_path / "bidopt-state.sqlite").unlink(missing_ok=True)
        result = run_cli("applied", "--config", str(config), str(path))
        assert result.exit_code == 0, result.output
        counts[name] = recorded(tmp_path / "bidopt-state.sqlite").sort_values(
            ["kind", "name"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(counts["new"], counts["old"])
    assert sorted(counts["new"]["kind"]) == ["crowd_premium", "hour_discount", "paused",
                                             "region"]
