"""Did last night's plan do what it said? A user's nights: run, upload (a few bids edited
on the platform afterwards), `bidopt applied`, the next day's reports, the next run's
summary block and ``RunResult.track_record`` against a direct computation from the CSV
and that day's rows."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from bidopt.cli import cli
from bidopt.config import load_config
from bidopt.loop import plan_night
from bidopt.plugins import build_registry, get_plugin_manager
from bidopt.simulate import SimulatedShop, next_day_reports, simulate_shop, write_shop
from bidopt.state import RANGES, SCHEMA, read_records
from bidopt.track import RANGED as TRACK_RANGED
from conftest import write_config

KEYS = ["campaign", "item", "keyword", "platform"]
REPORTS = ("keyword_report", "crowd_report", "region_report", "hour_report")
FIRST, SECOND, THIRD = (dt.date(2026, 11, 25) + dt.timedelta(days=d) for d in range(3))
HEADER = "last nights' uploaded changes against their reports"


def run_cli(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def read_recs(path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={c: str for c in KEYS})


def planned_rows(state) -> pd.DataFrame:
    with sqlite3.connect(state) as con:
        return pd.read_sql_query("SELECT * FROM planned", con)


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """Night 1 planned, uploaded with 3 bids edited afterwards (one more by less than half
    a cent) and one pause undone, recorded; its day drawn at the bids in force; night 2
    run on the reports that now hold it."""
    work = tmp_path_factory.mktemp("track")
    shop = simulate_shop(seed=5, size="small", end_date=FIRST - dt.timedelta(days=1))
    files = write_shop(shop, work / "shop")
    # at this floor the plan pauses a few keywords too (the guard opens cuts down to a pause
    # for a campaign whose kept bids forecast under its planned floor)
    config = write_config(work, files, constraints={"roi_floor": 2.2})
    first = work / "recs-1.csv"
    result = run_cli("run", "--config", str(config), "--date", str(FIRST), "--out", str(first))
    assert result.exit_code == 0, result.output
    assert HEADER not in result.output, "nothing recorded yet: no block"
    result = run_cli("applied", "--config", str(config), str(first))
    assert result.exit_code == 0, result.output
    recs = read_recs(first)
    assert (recs["action"] == "pause_keyword").any(), "a pause to undo below"
    changes = recs[recs["action"].isin(["set_bid", "add_keyword", "pause_keyword"])]
    assert f"{len(changes):,} keyword changes" in result.output

    # the upload, as the platform then holds it
    market = shop.market
    bought = pd.MultiIndex.from_frame(market.keywords[KEYS].astype(str))
    rows = bought.get_indexer(pd.MultiIndex.from_frame(recs[KEYS].astype(str)))
    bids = market.keywords["bid"].to_numpy(float).copy()  # the last report day's bids
    paused = np.zeros(len(bids), bool)
    proposed = recs["proposed"].to_numpy(float)
    set_bid = ((recs["action"] == "set_bid") & (rows >= 0)).to_numpy()
    pause = ((recs["action"] == "pause_keyword") & (rows >= 0)).to_numpy()
    bids[rows[set_bid]] = proposed[set_bid]
    paused[rows[pause]] = True
    edited = rows[set_bid][:3]
    bids[edited] += 0.10  # changed again on the platform after the upload
    bids[rows[set_bid][3]] += 0.004  # within half a cent: still the plan's bid
    undone = rows[pause][:1]
    paused[undone] = False  # this pause did not take
    day = next_day_reports(market, FIRST, bids, paused=paused, seed=11)
    # an export leaves out keywords without impressions: two raised or cut ones here
    unshown = pd.MultiIndex.from_frame(market.keywords[KEYS].iloc[rows[set_bid][5:7]]
                                       .astype(str))
    day.keyword_report = day.keyword_report[~pd.MultiIndex.from_frame(
        day.keyword_report[KEYS].astype(str)).isin(unshown)]
    write_shop(SimulatedShop(**{n: pd.concat([getattr(shop, n), getattr(day, n)],
                                             ignore_index=True) for n in REPORTS},
                             items=shop.items, candidates=shop.candidates, market=market),
               work / "shop")
    second = work / "recs-2.csv"
    printed = run_cli("run", "--config", str(config), "--date", str(SECOND), "--out",
                      str(second))
    assert printed.exit_code == 0, printed.output
    registry = build_registry(get_plugin_manager(entry_points=False))
    direct = plan_night(load_config(config), registry, date=SECOND)
    return dict(work=work, files=files, config=config, first=first, second=second,
                recs=recs, day=day.keyword_report, printed=printed.output,
                track=direct.track_record, edited=len(edited), undone=len(undone),
                unshown=len(unshown))


def expected(recs: pd.DataFrame, day: pd.DataFrame) -> pd.DataFrame:
    """The comparison computed directly from the CSV and the day's keyword rows."""
    rows = recs[recs["action"].isin(["set_bid", "add_keyword", "pause_keyword"])].copy()
    rows["kind"] = np.select(
        [rows["action"] == "add_keyword", rows["action"] == "pause_keyword",
         rows["proposed"] > rows["current"]], ["added", "paused", "raised"], "cut")
    report = day.astype({k: str for k in KEYS})[[*KEYS, "bid", "impressions", "clicks",
                                                 "cost", "gmv", "orders"]]
    rows = rows.merge(report, on=KEYS, how="left", indicator=True)
    rows["has_row"] = rows["_merge"] == "both"
    shows = (rows["impressions"] > 0) | (rows["cost"] > 0)
    rows["off"] = np.where(rows["kind"] == "paused", rows["has_row"] & shows,
                           rows["has_row"] & ((rows["bid"] - rows["proposed"]).abs() > 0.005))
    rows[["clicks", "cost", "gmv", "orders"]] = rows[["clicks", "cost", "gmv",
                                                      "orders"]].fillna(0)
    on = rows[~rows["off"]]
    out = pd.DataFrame({
        "rows": rows.groupby("kind").size(),
        "not_in_force": rows.groupby("kind")["off"].sum(),
        "no_row": on.groupby("kind")["has_row"].apply(lambda s: int((~s).sum())),
    }).join(on.groupby("kind")[["exp_clicks", "exp_cost", "exp_gmv", "clicks", "cost",
                                "gmv", "orders"]].sum())
    out["in_force"] = out["rows"] - out["not_in_force"]
    return out


def test_the_next_night_compares_the_uploaded_changes_with_their_day(nights):
    want = expected(nights["recs"], nights["day"])
    track = nights["track"]
    assert set(track["night"]) == {str(FIRST)} and track["reported"].all()
    got = track.set_index("kind")
    assert sorted(got.index) == sorted(want.index)
    for column in ("rows", "in_force", "not_in_force", "no_row"):
        assert got[column].astype(int).to_dict() == want[column].astype(int).to_dict(), column
    moved = [k for k in want.index if k != "paused"]
    for column in ("exp_clicks", "exp_cost", "exp_gmv", "clicks", "cost", "gmv", "orders"):
        assert np.allclose(got.loc[moved, column].astype(float),
                           want.loc[moved, column].astype(float)), column
    assert np.allclose(got.loc[moved, "roi"].astype(float),
                       (want.loc[moved, "gmv"] / want.loc[moved, "cost"]).astype(float))
    assert np.allclose(got.loc[moved, "exp_roi"].astype(float),
                       (want.loc[moved, "exp_gmv"] / want.loc[moved, "exp_cost"]).astype(float))
    # what the edits on the platform did: exactly those bids are not in force
    assert int(got.loc[moved, "not_in_force"].sum()) == nights["edited"]
    assert int(got.loc[moved, "no_row"].sum()) == nights["unshown"] == 2, \
        "in force with nothing reported: counted as 0"
    if "paused" in got.index:
        assert got.loc["paused", "not_in_force"] <= nights["undone"]

    printed = nights["printed"]
    assert f"{HEADER} (forecast / reported" in printed
    lines = printed.splitlines()
    for kind, row in want.iterrows():
        line = next(x for x in lines if x.startswith(f"  {FIRST}  {kind}"))
        cells = line.split()
        assert cells[2:5] == [f"{int(row.in_force):,}", f"{int(row.not_in_force):,}",
                              f"{int(row.no_row):,}"], line
        if kind == "paused":
            assert len(cells) == 5, line
            continue
        assert f"{row.exp_clicks:,.0f} / {row.clicks:,.0f}" in line
        assert f"{row.exp_cost:,.2f} / {row.cost:,.2f}" in line
        assert f"{row.exp_gmv:,.2f} / {row.gmv:,.2f}" in line
        roi = f"{row.gmv / row.cost:.2f}" if row.cost else "-"
        assert f"{row.exp_gmv / row.exp_cost:.2f} / {roi}" in line
        assert cells[-3] == f"{row.orders:,.0f}", line
    assert printed.index(HEADER) < printed.index(f"wrote {nights['second']}")


def test_the_track_record_counts_the_reports_inside_their_printed_ranges(nights):
    """How often the reported cost and GMV of the changes in force fell inside the 80%
    ranges the CSV printed for them (ends included; a change without a report row reported
    0), against a direct computation from the CSV and the day's rows."""
    recs, day = nights["recs"], nights["day"]
    rows = recs[recs["action"].isin(["set_bid", "add_keyword"])].copy()
    assert rows[["cost_low", "cost_high", "gmv_low", "gmv_high"]].notna().all().all()
    rows["kind"] = np.select([rows["action"] == "add_keyword",
                              rows["proposed"] > rows["current"]], ["added", "raised"], "cut")
    report = day.astype({k: str for k in KEYS})[[*KEYS, "bid", "cost", "gmv"]]
    rows = rows.merge(report, on=KEYS, how="left")
    on = rows[~((rows["bid"] - rows["proposed"]).abs() > 0.005)].fillna({"cost": 0, "gmv": 0})
    want = pd.DataFrame({
        "ranged": on.groupby("kind").size(),
        "cost_in_range": on.groupby("kind").apply(
            lambda g: int(((g["cost"] >= g["cost_low"]) & (g["cost"] <= g["cost_high"])).sum())),
        "gmv_in_range": on.groupby("kind").apply(
            lambda g: int(((g["gmv"] >= g["gmv_low"]) & (g["gmv"] <= g["gmv_high"])).sum())),
    })
    got = nights["track"].set_index("kind")
    for column in want.columns:
        assert got.loc[want.index, column].astype(int).to_dict() == want[column].to_dict(), \
            column
    if "paused" in got.index:
        assert got.loc["paused", "ranged"] == 0, "a pause's 0 to 0 is not counted"
    # a range that holds nothing would be a bug: some reports do fall inside, some outside
    assert 0 < want["cost_in_range"].sum() < want["ranged"].sum()
    lines = nights["printed"].splitlines()
    for kind, row in want.iterrows():
        line = next(x for x in lines if x.startswith(f"  {FIRST}  {kind}"))
        assert line.split()[-2:] == [f"{row.cost_in_range / row.ranged:.0%}",
                                     f"{row.gmv_in_range / row.ranged:.0%}"], line


def test_recording_again_replaces_and_a_later_night_is_kept(nights, tmp_path):
    state = tmp_path / "state.sqlite"
    config = write_config(tmp_path, nights["files"], state_file=str(state))
    for _ in range(2):
        assert run_cli("applied", "--config", str(config), str(nights["first"])).exit_code == 0
    once = planned_rows(state)
    changes = nights["recs"]["action"].isin(["set_bid", "add_keyword", "pause_keyword"])
    assert len(once) == changes.sum(), "recorded twice: the night's rows once"
    assert set(once["night"]) == {str(FIRST)}
    # the same night, an edited copy with fewer rows: it replaces that night's rows
    fewer = nights["recs"].drop(nights["recs"][changes].index[:5])
    fewer.to_csv(tmp_path / "edited.csv", index=False, encoding="utf-8-sig")
    assert run_cli("applied", "--config", str(config), str(tmp_path / "edited.csv")
                   ).exit_code == 0
    assert len(planned_rows(state)) == changes.sum() - 5
    # a later night, then the earlier file again: both nights stay as recorded
    assert run_cli("applied", "--config", str(config), str(nights["second"])).exit_code == 0
    assert run_cli("applied", "--config", str(config), str(nights["first"])).exit_code == 0
    rows = planned_rows(state)
    second = read_recs(nights["second"])
    assert rows.groupby("night").size().to_dict() == {
        str(FIRST): changes.sum(),
        str(SECOND): second["action"].isin(["set_bid", "add_keyword", "pause_keyword"]).sum()}
    one = rows[rows["night"] == str(FIRST)].merge(
        nights["recs"][changes].astype({k: str for k in KEYS}), on=KEYS, suffixes=("", "_csv"))
    assert len(one) == changes.sum()
    for column in ("proposed", "current", "exp_clicks", "exp_cost", "exp_gmv"):
        assert np.allclose(one[column], one[f"{column}_csv"]), column


def test_a_night_without_reports_is_noted_and_quiet_prints_no_block(nights, tmp_path):
    state = tmp_path / "state.sqlite"
    shutil.copy(nights["work"] / "bidopt-state.sqlite", state)
    config = write_config(tmp_path, nights["files"], state_file=str(state))
    quiet = run_cli("run", "--config", str(config), "--date", str(SECOND), "--dry-run",
                    "--quiet")
    assert quiet.exit_code == 0, quiet.output
    assert HEADER not in quiet.output and "uploaded changes" not in quiet.output
    # night 2 uploaded and recorded, but its day never reached the reports
    assert run_cli("applied", "--config", str(config), str(nights["second"])).exit_code == 0
    result = run_cli("run", "--config", str(config), "--date", str(THIRD), "--dry-run")
    assert result.exit_code == 0, result.output
    n_second = read_recs(nights["second"])["action"].isin(
        ["set_bid", "add_keyword", "pause_keyword"]).sum()
    assert (f"  {SECOND}  no keyword report rows that day: its {n_second:,} uploaded changes "
            "are not compared") in result.output
    assert f"  {FIRST}  raised" in result.output, "the night before is still compared"
    registry = build_registry(get_plugin_manager(entry_points=False))
    track = plan_night(load_config(config), registry, date=THIRD).track_record
    assert list(track["night"].drop_duplicates()) == [str(SECOND), str(FIRST)]
    missing = track[track["night"] == str(SECOND)]
    assert not missing["reported"].any() and missing["rows"].sum() == n_second


def test_a_report_day_exported_before_it_ended_is_marked_partial(nights, tmp_path):
    """The uploaded night's day exported at breakfast holds a third of its traffic: its
    changes are shown as a partial day, not as forecasts that missed by two thirds, and
    the nights summed leave it out."""
    files = {name: shutil.copy(path, tmp_path / path.name) for name, path in nights["files"].items()}
    report = pd.read_csv(files["keyword_report"], encoding="utf-8-sig", dtype={k: str for k in KEYS})
    day = report["date"] == str(FIRST)
    counts = ["impressions", "clicks", "orders", "carts", "favorites"]
    report[counts] = report[counts].astype(float)
    report.loc[day, counts] = (report.loc[day, counts] * 0.3).round()
    # what a third of the day's clicks cost and brought
    report.loc[day, ["cost", "gmv"]] = (report.loc[day, ["cost", "gmv"]] * 0.3).round(2)
    report.loc[day & (report["clicks"] == 0), "cost"] = 0.0
    report.loc[day & (report["orders"] == 0), "gmv"] = 0.0
    report.to_csv(files["keyword_report"], index=False, encoding="utf-8-sig")
    state = tmp_path / "state.sqlite"
    shutil.copy(nights["work"] / "bidopt-state.sqlite", state)
    config = write_config(tmp_path, files, state_file=str(state))
    result = run_cli("run", "--config", str(config), "--date", str(SECOND), "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"  {FIRST} partial  raised" in result.output
    assert ("partial: the report holds less than half a usual day"
            in " ".join(result.output.split()))
    registry = build_registry(get_plugin_manager(entry_points=False))
    track = plan_night(load_config(config), registry, date=SECOND).track_record
    assert track["partial"].all()
    # the complete day is not marked
    assert not nights["track"]["partial"].any()
    from bidopt.track import over_nights
    complete = [nights["track"].assign(night=night) for night in ("2026-11-22", "2026-11-23")]
    summed = over_nights(pd.concat([track, *complete], ignore_index=True)).set_index("kind")
    assert summed["night"].eq(2).all()
    alone = nights["track"].set_index("kind")
    assert np.allclose(summed.loc["raised", ["exp_cost", "cost"]].astype(float),
                       2 * alone.loc["raised", ["exp_cost", "cost"]].astype(float))


def test_a_state_file_from_before_and_a_file_without_forecasts(nights, tmp_path):
    state = tmp_path / "state.sqlite"
    with sqlite3.connect(state) as con:  # as `bidopt applied` wrote it before: settings only
        con.execute(SCHEMA)
        con.execute("INSERT INTO in_force VALUES ('test-shop', 'region', 'c', '', 'r', 0, "
                    f"'{FIRST}', 'x.csv')")
    config = write_config(tmp_path, nights["files"], state_file=str(state))
    result = run_cli("run", "--config", str(config), "--date", str(SECOND), "--dry-run")
    assert result.exit_code == 0, result.output
    assert HEADER not in result.output
    settings, planned = read_records(state, "test-shop", before=SECOND)
    assert len(settings) == 1 and planned.empty

    # a recommendations file written before the forecast columns
    old = read_recs(nights["first"]).drop(columns=["exp_clicks", "exp_cost", "exp_gmv",
                                                   "exp_roi", "d_clicks", "d_cost", "d_gmv"])
    old.to_csv(tmp_path / "old.csv", index=False, encoding="utf-8-sig")
    recorded = run_cli("applied", "--config", str(config), str(tmp_path / "old.csv"))
    assert recorded.exit_code == 0, recorded.output
    assert "no forecast columns" in recorded.output
    assert planned_rows(state)["exp_cost"].isna().all()
    result = run_cli("run", "--config", str(config), "--date", str(SECOND), "--dry-run")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith(f"  {FIRST}  raised"))
    assert " - / " in line, "no forecast: shown as '-', the reported side still there"
    fresh = run_cli("applied", "--config", str(config), str(nights["first"]))
    assert "no forecast columns" not in fresh.output


def test_two_nights_are_also_shown_together_per_kind():
    """One day of a few dozen orders is noisy: with two nights compared, a line per kind
    sums them (changes in force, forecast and reported) and its ROIs are of those sums."""
    from bidopt.summary import track_record_block
    from bidopt.track import COLUMNS

    def row(night, kind, in_force, exp_cost, cost, exp_gmv, gmv, orders):
        return {"night": night, "kind": kind, "reported": True, "rows": in_force + 1,
                "in_force": in_force, "not_in_force": 1, "matched": in_force + 1, "no_row": 0,
                "exp_clicks": 10.0 * in_force, "exp_cost": exp_cost, "exp_gmv": exp_gmv,
                "clicks": 11.0 * in_force, "cost": cost, "gmv": gmv, "orders": orders,
                "exp_roi": exp_gmv / exp_cost, "roi": gmv / cost}

    track = pd.DataFrame([row("2026-11-26", "raised", 100, 1000.0, 1300.0, 3000.0, 2600.0, 20),
                          row("2026-11-26", "cut", 40, 800.0, 790.0, 1500.0, 1600.0, 9),
                          row("2026-11-25", "raised", 200, 2000.0, 2400.0, 6000.0, 6200.0, 41)],
                         columns=COLUMNS)
    lines = track_record_block(track)
    pooled = [line.split() for line in lines if line.startswith("  2 nights")]
    assert [cells[2] for cells in pooled] == ["raised", "cut"]
    raised = " ".join(pooled[0])
    assert raised.startswith("2 nights raised 300 2 0 3,000 / 3,300 3,000.00 / 3,700.00 "
                             "9,000.00 / 8,800.00 3.00 / 2.38 61"), raised
    assert " ".join(pooled[1]).startswith("2 nights cut 40 1 0 400 / 440 800.00 / 790.00")
    # one night alone has no such line
    one = track_record_block(track[track["night"] == "2026-11-26"])
    assert any(line.startswith("  2026-11-26  raised") for line in one)
    assert not [line for line in one if line.split()[1:2] == ["nights"]]


def test_only_the_newest_recorded_nights_are_kept(nights, tmp_path):
    """A plan is recorded every night, and a large shop's runs to 100,000+ rows: the state
    file keeps the newest PLANNED_NIGHTS nights of keyword changes, not a year of them."""
    from bidopt.state import PLANNED_NIGHTS

    state = tmp_path / "state.sqlite"
    config = write_config(tmp_path, nights["files"], state_file=str(state))
    recs = nights["recs"]
    for offset in range(PLANNED_NIGHTS + 2):
        night = FIRST + dt.timedelta(days=offset)
        path = tmp_path / f"recs-{night}.csv"
        recs.assign(date=night.isoformat()).to_csv(path, index=False, encoding="utf-8-sig")
        assert run_cli("applied", "--config", str(config), str(path)).exit_code == 0
    kept = planned_rows(state).groupby("night").size()
    assert list(kept.index) == [(FIRST + dt.timedelta(days=d)).isoformat()
                                for d in range(2, PLANNED_NIGHTS + 2)]
    assert (kept == recs["action"].isin(["set_bid", "add_keyword", "pause_keyword"]).sum()).all()
    # the settings (premiums, regions, pauses in force) are not pruned with them
    with sqlite3.connect(state) as con:
        assert con.execute("SELECT COUNT(*) FROM in_force").fetchone()[0] > 0


# the table `planned` as `bidopt applied` wrote it before planned_night and planned_change:
# the shop, the night and the file's path on every row
OLD_PLANNED_SCHEMA = """
CREATE TABLE planned (
    shop TEXT NOT NULL,
    night TEXT NOT NULL,
    campaign TEXT NOT NULL,
    item TEXT NOT NULL,
    keyword TEXT NOT NULL,
    platform TEXT NOT NULL,
    action TEXT NOT NULL,
    current REAL,
    proposed REAL NOT NULL,
    exp_clicks REAL,
    exp_cost REAL,
    exp_gmv REAL,
    source TEXT NOT NULL,
    PRIMARY KEY (shop, night, campaign, item, keyword, platform)
)"""


def test_a_night_s_file_and_shop_are_stored_once_not_on_every_row(nights):
    """A large shop's plan is 200,000 rows a night: the per-row table holds only what
    varies per row; `planned` still shows the columns it always had."""
    from bidopt.state import PLANNED_COLUMNS

    with sqlite3.connect(nights["work"] / "bidopt-state.sqlite") as con:
        per_row = [r[1] for r in con.execute("PRAGMA table_info(planned_change)")]
        night = con.execute("SELECT shop, night, source FROM planned_night").fetchall()
        kind = con.execute("SELECT type FROM sqlite_master WHERE name = 'planned'").fetchone()
    assert per_row == ["plan", "campaign", "item", "keyword", "platform", "action", "current",
                       "proposed", "exp_clicks", "exp_cost", "exp_gmv", "cost_low",
                       "cost_high", "gmv_low", "gmv_high"]
    assert night == [("test-shop", str(FIRST), str(nights["first"].resolve()))]
    assert kind == ("view",)
    rows = planned_rows(nights["work"] / "bidopt-state.sqlite")
    assert list(rows.columns) == PLANNED_COLUMNS and len(rows) == nights["track"]["rows"].sum()
    assert set(rows["source"]) == {str(nights["first"].resolve())}


def test_a_state_file_written_with_one_planned_table_is_read_and_moved(nights, tmp_path):
    """A state file written before planned_night (one table `planned`, the shop, night and
    path on every row) gives the same records and track record; the next `bidopt applied`
    moves its rows into the new tables and keeps them."""
    from bidopt.state import planned_rows as plan_rows

    new = nights["work"] / "bidopt-state.sqlite"
    old = tmp_path / "state.sqlite"
    with sqlite3.connect(new) as con:
        in_force = con.execute("SELECT * FROM in_force").fetchall()
    rows = plan_rows(read_recs(nights["first"]), "test-shop", nights["first"])
    rows = rows.drop(columns=RANGES)  # written before the ranges too
    with sqlite3.connect(old) as con:  # as `bidopt applied` wrote it
        con.execute(SCHEMA)
        con.execute(OLD_PLANNED_SCHEMA)
        con.executemany("INSERT INTO in_force VALUES (?, ?, ?, ?, ?, ?, ?, ?)", in_force)
        con.executemany(f"INSERT OR REPLACE INTO planned VALUES ({', '.join('?' * 13)})",
                        rows.astype(object).where(rows.notna(), None)
                        .itertuples(index=False, name=None))
    for got, want in zip(read_records(old, "test-shop", before=SECOND),
                         read_records(new, "test-shop", before=SECOND), strict=True):
        if "cost_low" in want:
            assert got[RANGES].isna().all().all()
            got, want = got.drop(columns=RANGES), want.drop(columns=RANGES)
        pd.testing.assert_frame_equal(got, want)
    config = write_config(tmp_path, nights["files"], state_file=str(old))
    registry = build_registry(get_plugin_manager(entry_points=False))
    track = plan_night(load_config(config), registry, date=SECOND).track_record
    assert (track["ranged"] == 0).all(), "no ranges recorded: none counted"
    pd.testing.assert_frame_equal(track.drop(columns=TRACK_RANGED),
                                  nights["track"].drop(columns=TRACK_RANGED))

    # the next night recorded: the old table's rows are moved, not lost
    assert run_cli("applied", "--config", str(config), str(nights["second"])).exit_code == 0
    with sqlite3.connect(old) as con:
        assert con.execute("SELECT type FROM sqlite_master WHERE name = 'planned'"
                           ).fetchone() == ("view",)
        assert sorted(con.execute("SELECT night, source FROM planned_night")) == [
            (str(FIRST), str(nights["first"].resolve())),
            (str(SECOND), str(nights["second"].resolve()))]
    _, planned = read_records(old, "test-shop", before=THIRD)
    _, want = read_records(new, "test-shop", before=SECOND)
    pd.testing.assert_frame_equal(planned[planned["night"] == str(FIRST)].drop(columns=RANGES),
                                  want.drop(columns=RANGES))
    assert (planned["night"] == str(SECOND)).sum() == read_recs(nights["second"])[
        "action"].isin(["set_bid", "add_keyword", "pause_keyword"]).sum()
    # the night recorded after the move carries its ranges
    assert planned.loc[planned["night"] == str(SECOND), "cost_high"].notna().any()


# planned_change and its view as `bidopt applied` wrote them before the ranges
BEFORE_RANGES = """
CREATE TABLE planned_night (id INTEGER PRIMARY KEY, shop TEXT NOT NULL, night TEXT NOT NULL,
                            source TEXT NOT NULL, UNIQUE (shop, night));
CREATE TABLE planned_change (
    plan INTEGER NOT NULL, campaign TEXT NOT NULL, item TEXT NOT NULL, keyword TEXT NOT NULL,
    platform TEXT NOT NULL, action TEXT NOT NULL, current REAL, proposed REAL NOT NULL,
    exp_clicks REAL, exp_cost REAL, exp_gmv REAL,
    PRIMARY KEY (plan, campaign, item, keyword, platform)) WITHOUT ROWID;
CREATE VIEW planned AS
SELECT n.shop, n.night, c.campaign, c.item, c.keyword, c.platform, c.action, c.current,
       c.proposed, c.exp_clicks, c.exp_cost, c.exp_gmv, n.source
FROM planned_change AS c JOIN planned_night AS n ON n.id = c.plan"""


def test_a_state_file_written_before_the_ranges_is_read_and_gets_them(nights, tmp_path):
    """A state file whose recorded changes have no ranges: read as before (the track
    record counts no range), and the next `bidopt applied` adds their columns and records
    the new night's ranges, the old night's rows kept."""
    old = tmp_path / "state.sqlite"
    rows = read_records(nights["work"] / "bidopt-state.sqlite", "test-shop", before=SECOND)[1]
    with sqlite3.connect(old) as con:
        con.execute(SCHEMA)
        con.executescript(BEFORE_RANGES)
        con.execute("INSERT INTO planned_night VALUES (1, 'test-shop', ?, 'x.csv')",
                    (str(FIRST),))
        columns = ["campaign", "item", "keyword", "platform", "action", "current", "proposed",
                   "exp_clicks", "exp_cost", "exp_gmv"]
        con.executemany("INSERT INTO planned_change VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        rows[columns].astype(object).where(rows[columns].notna(), None)
                        .itertuples(index=False, name=None))
    _, planned = read_records(old, "test-shop", before=SECOND)
    assert len(planned) == len(rows) and planned[RANGES].isna().all().all()
    config = write_config(tmp_path, nights["files"], state_file=str(old))
    registry = build_registry(get_plugin_manager(entry_points=False))
    track = plan_night(load_config(config), registry, date=SECOND).track_record
    assert (track["ranged"] == 0).all()
    result = run_cli("run", "--config", str(config), "--date", str(SECOND), "--dry-run")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith(f"  {FIRST}  raised"))
    assert line.split()[-2:] == ["-", "-"], line
    assert run_cli("applied", "--config", str(config), str(nights["second"])).exit_code == 0
    _, planned = read_records(old, "test-shop", before=THIRD)
    first, second = (planned[planned["night"] == str(n)] for n in (FIRST, SECOND))
    assert len(first) == len(rows) and first[RANGES].isna().all().all()
    want = read_recs(nights["second"])  # every change recorded; a pause's range is 0 to 0
    want = want[want["action"].isin(["set_bid", "add_keyword"])
                | ((want["action"] == "pause_keyword") & (want["proposed"] == 0))]
    assert second["cost_high"].notna().sum() == len(want)
    assert np.allclose(np.sort(second["gmv_high"].dropna()), np.sort(want["gmv_high"]))


def test_a_report_without_bids_counts_every_bid_change_as_in_force():
    """Amazon's reports have no bid column: a raise that failed to upload cannot be told
    from one in force (the README says so, and to record only the rows uploaded); a pause
    whose keyword still shows is still caught."""
    from bidopt.track import track_record

    night = "2026-12-03"
    planned = pd.DataFrame({
        "shop": "s", "night": night, "campaign": "SP", "item": "Mats",
        "keyword": ["[yoga mat]", "yoga mat thick", '"yoga mat"'], "platform": "all",
        "action": ["set_bid", "set_bid", "pause_keyword"], "current": [1.0, 1.0, 0.8],
        "proposed": [1.2, 0.8, 0.0], "exp_clicks": [5.0, 3.0, 0.0],
        "exp_cost": [5.0, 2.0, 0.0], "exp_gmv": [40.0, 10.0, 0.0], "source": "r.csv"})
    daily = pd.DataFrame({
        "date": pd.Timestamp(night), "campaign": "SP", "item": "Mats",
        "keyword": ["[yoga mat]", "yoga mat thick", '"yoga mat"'], "platform": "all",
        "bid": np.nan, "impressions": [100.0, 80.0, 20.0], "clicks": [4.0, 3.0, 1.0],
        "cost": [4.4, 2.1, 0.7], "gmv": [30.0, 0.0, 0.0], "orders": [1.0, 0.0, 0.0]})
    track = track_record(planned, daily, dt.date(2026, 12, 4)).set_index("kind")
    assert track.loc[["raised", "cut"], "in_force"].tolist() == [1, 1]
    assert track.loc[["raised", "cut"], "not_in_force"].tolist() == [0, 0]
    assert track.loc["paused", "not_in_force"] == 1


def test_the_legend_says_the_reports_carry_the_night_s_other_changes(nights):
    """A night's crowd premium, region and hour changes move its keywords' reports too, and
    the keyword rows' forecasts leave them out: the table must not pass them off as the
    forecast's error."""
    lines = nights["printed"].splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("  not in force:"))
    legend = " ".join(x.strip() for x in lines[start:start + 6])
    assert ("the reports also carry the crowd premium, region and hour changes uploaded with "
            "the keywords', which these forecasts leave out (their effect is in their own "
            "rows)") in legend, legend
