"""The 80% outcome ranges of the recommendations: where the planned day's reported clicks,
cost and GMV of a keyword row will fall at its proposed bid (the response model's
``Forecast.low`` / ``high``), end to end through the CLI on the bundled sample shop, whose
plan also takes crowd premiums, a region and hour discounts (rows with no range)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from bidopt.cli import cli
from bidopt.config import load_config
from bidopt.loop import plan_night
from bidopt.plugins import build_registry, get_plugin_manager
from bidopt.schema import RANGE_COLUMNS, RECOMMENDATION_COLUMNS

SAMPLE = Path(__file__).resolve().parents[1] / "configs" / "sample.yaml"
NIGHT = "2026-11-25"
KEYWORD_ACTIONS = ["set_bid", "add_keyword", "pause_keyword"]
SLICE_ACTIONS = ["set_crowd_premium", "exclude_region", "include_region", "set_hour_discount"]


def run_cli(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def read_recs(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"hour": str})


def sample_config(folder: Path, **changes) -> Path:
    """The bundled sample under a profit objective (it takes every kind of action), its
    state file in ``folder``."""
    data = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    data["objective"] = {"target": "profit"}
    data["state_file"] = str(folder / "state.sqlite")
    data.update(changes)
    config = folder / "sample.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ranges")
    config = sample_config(folder, output={"include_rejected": True})
    out = folder / "recs.csv"
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out))
    assert result.exit_code == 0, result.output
    return dict(folder=folder, config=config, out=out, recs=read_recs(out))


def test_keyword_rows_carry_their_range_and_slice_rows_none(planned):
    recs = planned["recs"]
    assert list(recs.columns) == list(RECOMMENDATION_COLUMNS)
    assert list(recs.columns[-6:]) == ["clicks_low", "clicks_high", "cost_low", "cost_high",
                                       "gmv_low", "gmv_high"]
    keywords = recs[recs["action"].isin(KEYWORD_ACTIONS)]
    assert set(keywords["action"]) == set(KEYWORD_ACTIONS)
    assert keywords[list(RANGE_COLUMNS)].notna().all().all()
    for name in ("clicks", "cost", "gmv"):
        low, exp, high = (keywords[f"{name}_low"], keywords[f"exp_{name}"],
                          keywords[f"{name}_high"])
        assert (low <= exp).all() and (exp <= high).all(), name
        assert (low >= 0).all()
        # a range, not the point forecast twice
        assert (high > exp + 0.01).mean() > (0.5 if name != "gmv" else 0.1), name
    # most keywords sell nothing on most days: their GMV range is 0 to 0, widened to hold
    # exp_gmv (the README says how to read a gmv_high equal to exp_gmv)
    thin = keywords[(keywords["gmv_high"] - keywords["exp_gmv"]).abs() < 0.005]
    assert len(thin) and (thin["gmv_low"] == 0).all()
    # one day of a keyword is far from its mean: many cost ranges start at 0
    raised = keywords[(keywords["action"] == "set_bid") & (keywords["change_pct"] > 0)]
    assert (raised["cost_low"] == 0).any() and (raised["cost_low"] > 0).any()
    pauses = keywords[keywords["action"] == "pause_keyword"]
    assert (pauses[list(RANGE_COLUMNS)] == 0).all().all(), "a pause: 0 to 0"
    slices = recs[recs["action"].isin(SLICE_ACTIONS)]
    assert set(slices["action"]) >= {"set_crowd_premium", "exclude_region"}
    assert slices[list(RANGE_COLUMNS)].isna().all().all(), "no honest range for a slice"
    keep = recs[recs["action"] == "keep"]
    assert len(keep) and keep[list(RANGE_COLUMNS)].isna().all().all()


def test_the_ranges_are_the_model_s_outcome_interval_scaled_to_the_night_s_phase(tmp_path):
    """At each row's proposed bid, the response model's 80% outcome interval for the night:
    on a calendar phase with traffic x2 and conversion x1.5, its cost bounds x2 and its GMV
    bounds x3 of an ordinary day's, times the night's weekday factor."""
    phase = {"name": "promo", "start": "11-25", "end": "11-25", "traffic_factor": 2.0,
             "conversion_factor": 1.5}
    config = load_config(sample_config(tmp_path, calendar=[phase]))
    registry = build_registry(get_plugin_manager(entry_points=False))
    result = plan_night(config, registry, date=pd.Timestamp(NIGHT).date())
    recs = result.recommendations
    rows = recs[recs["action"].isin(["set_bid", "add_keyword"])].reset_index(drop=True)
    assert len(rows) > 20
    model = result.context.model
    assert model.interval == 0.8 and model.interval_kind == "outcome"
    ordinary = model.predict(rows[["campaign", "item", "keyword", "platform"]],
                             rows["proposed"].to_numpy(float)[:, None])
    weekday = result.context.weekdays.factor(pd.Timestamp(NIGHT))
    assert result.context.day.traffic == pytest.approx(2.0 * weekday)
    for name, factor in (("clicks", 2.0 * weekday), ("cost", 2.0 * weekday),
                         ("gmv", 3.0 * weekday)):
        assert np.allclose(rows[f"{name}_high"], ordinary.high[name][:, 0] * factor), name
        assert np.allclose(rows[f"exp_{name}"], getattr(ordinary, name)[:, 0] * factor), name
        low = np.minimum(ordinary.low[name][:, 0] * factor, rows[f"exp_{name}"])
        assert np.allclose(rows[f"{name}_low"], low), name


def test_the_workbook_holds_the_ranges_as_numbers(tmp_path):
    config = sample_config(tmp_path, output={"format": "xlsx"})
    out = tmp_path / "recs.xlsx"
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = list(openpyxl.load_workbook(out)["recommendations"].iter_rows(values_only=False))
    header = [c.value for c in rows[0]]
    assert header == list(RECOMMENDATION_COLUMNS)
    at = {name: header.index(name) for name in RANGE_COLUMNS}
    bid = next(r for r in rows[1:] if r[header.index("action")].value == "set_bid")
    for name, column in at.items():
        assert bid[column].data_type == "n" and bid[column].value is not None, name
    assert bid[at["cost_high"]].number_format == "#,##0.00"
    assert bid[at["clicks_high"]].number_format == "#,##0.0"
    crowd = next(r for r in rows[1:] if r[header.index("action")].value == "set_crowd_premium")
    assert all(crowd[column].value is None for column in at.values())


def test_applied_records_the_ranges_and_still_reads_a_file_without_them(planned, tmp_path):
    """`bidopt applied` keeps each keyword change's cost and GMV range for the track
    record; a file written before the ranges (users keep old files) is recorded as before,
    with no range."""
    config, recs = planned["config"], planned["recs"]
    state = planned["folder"] / "state.sqlite"
    result = run_cli("applied", "--config", str(config), str(planned["out"]))
    assert result.exit_code == 0, result.output
    with sqlite3.connect(state) as con:
        kept = pd.read_sql_query("SELECT * FROM planned", con)
    moved = recs[recs["action"].isin(KEYWORD_ACTIONS)]
    assert len(kept) == len(moved)
    for column in ("cost_low", "cost_high", "gmv_low", "gmv_high"):
        assert np.allclose(np.sort(kept[column]), np.sort(moved[column])), column

    old = recs.drop(columns=list(RANGE_COLUMNS))
    path = tmp_path / "old.csv"
    old.to_csv(path, index=False, encoding="utf-8-sig")
    result = run_cli("applied", "--config", str(config), str(path))
    assert result.exit_code == 0, result.output
    assert f"{len(moved):,} keyword changes" in result.output
    with sqlite3.connect(state) as con:
        kept = pd.read_sql_query("SELECT * FROM planned", con)
    assert len(kept) == len(moved) and kept["cost_high"].isna().all()
    assert np.allclose(np.sort(kept["exp_cost"]), np.sort(moved["exp_cost"]))
