"""What is in force on the platform, remembered between nights in an SQLite file.

The reports do not carry the crowd premiums or hour discounts in force, and an excluded
region simply has no rows, so a nightly run cannot read them back. After uploading a plan,
the user records it (``bidopt applied recs.csv``); the next runs take them from the state
file wherever the config does not set them (``crowd_premium.current_premiums``,
``top3_quality.current_hour_discounts``, ``region_exclusion.currently_excluded``). One row
per shop and setting: the last recorded value wins, and configs sharing a state file read
only their own shop's rows.

The same command keeps the plan's keyword rows with their forecasts (``planned``, one set
per shop and night): the reports show what those keywords did, and the next runs compare
(``bidopt.track``).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd

from bidopt.config import Config
from bidopt.errors import DataError, OutputError, Problem
from bidopt.schema import ACTIONS, GRAIN_KEYS, KEYWORD_ACTIONS

SCHEMA = """
CREATE TABLE IF NOT EXISTS in_force (
    shop TEXT NOT NULL,        -- the config's shop: one file may serve several configs
    kind TEXT NOT NULL,        -- 'crowd_premium', 'hour_discount' (percent), 'region' (1 on)
    campaign TEXT NOT NULL,
    item TEXT NOT NULL,        -- '' for a region or an hour
    name TEXT NOT NULL,        -- the crowd, the region or the hour (0-23)
    value REAL NOT NULL,
    night TEXT NOT NULL,       -- the planned night of the file it came from
    source TEXT NOT NULL,      -- that file
    PRIMARY KEY (shop, kind, campaign, item, name)
)"""
UPSERT = """
INSERT INTO in_force VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (shop, kind, campaign, item, name) DO UPDATE SET
    value = excluded.value, night = excluded.night, source = excluded.source
WHERE excluded.night >= in_force.night"""
# A plan's keyword changes (200,000 rows a night for a large shop): what every row of a
# recorded night shares (shop, night, the file) once in `planned_night`, what varies in
# `planned_change`, stored in key order (WITHOUT ROWID: no second copy of the key in an
# index). The view `planned` shows them in the columns of the table `planned` that files
# written before hold (read as they are; `bidopt applied` moves its rows into these tables).
PLANNED_SCHEMA = """
CREATE TABLE IF NOT EXISTS planned_night (
    id INTEGER PRIMARY KEY,
    shop TEXT NOT NULL,
    night TEXT NOT NULL,       -- the planned night (the file's date)
    source TEXT NOT NULL,      -- the recommendations file recorded
    UNIQUE (shop, night)
);
CREATE TABLE IF NOT EXISTS planned_change (
    plan INTEGER NOT NULL,     -- planned_night.id
    campaign TEXT NOT NULL,
    item TEXT NOT NULL,
    keyword TEXT NOT NULL,
    platform TEXT NOT NULL,
    action TEXT NOT NULL,      -- 'set_bid', 'add_keyword', 'pause_keyword'
    current REAL,
    proposed REAL NOT NULL,
    exp_clicks REAL,           -- NULL in files written before the forecast columns
    exp_cost REAL,
    exp_gmv REAL,
    cost_low REAL,             -- the 80% outcome ranges printed with it (NULL in files
    cost_high REAL,            -- written before those columns)
    gmv_low REAL,
    gmv_high REAL,
    PRIMARY KEY (plan, campaign, item, keyword, platform)
) WITHOUT ROWID"""
RANGES = ["cost_low", "cost_high", "gmv_low", "gmv_high"]
"""The ranges kept with a recorded change (``schema.RANGE_COLUMNS`` the track record uses);
added to the table of a state file written before them."""
PLANNED_VIEW = """
CREATE VIEW planned AS
SELECT n.shop, n.night, c.campaign, c.item, c.keyword, c.platform, c.action, c.current,
       c.proposed, c.exp_clicks, c.exp_cost, c.exp_gmv, n.source,
       c.cost_low, c.cost_high, c.gmv_low, c.gmv_high
FROM planned_change AS c JOIN planned_night AS n ON n.id = c.plan"""
# the rows of a state file written before planned_night, from its table `planned` (same columns)
MOVE_PLANNED = """
INSERT OR IGNORE INTO planned_night (shop, night, source)
    SELECT shop, night, MAX(source) FROM planned GROUP BY shop, night;
INSERT OR REPLACE INTO planned_change (plan, campaign, item, keyword, platform, action,
                                       current, proposed, exp_clicks, exp_cost, exp_gmv)
    SELECT n.id, p.campaign, p.item, p.keyword, p.platform, p.action, p.current, p.proposed,
           p.exp_clicks, p.exp_cost, p.exp_gmv
    FROM planned AS p JOIN planned_night AS n ON n.shop = p.shop AND n.night = p.night;
DROP TABLE planned"""
PLANNED_COLUMNS = ["shop", "night", "campaign", "item", "keyword", "platform", "action",
                   "current", "proposed", "exp_clicks", "exp_cost", "exp_gmv", "source",
                   *RANGES]
PLANNED_NIGHTS = 5  # the recorded nights kept (a run compares the newest 3 with reports)
RECORDED = {"set_crowd_premium": "crowd_premium", "exclude_region": "region",
            "include_region": "region", "set_hour_discount": "hour_discount",
            "pause_keyword": "paused"}
KEY_SEP = "\x1f"  # a paused keyword's name: keyword and platform
NEEDED = ("date", "campaign", "item", "keyword", "crowd", "region", "platform", "hour",
          "action", "proposed")


def state_path(config: Config) -> Path:
    return config.resolve(Path(config.state_file))


def setting_keys(rows: pd.DataFrame) -> pd.DataFrame:
    """What each row of a plan (actions of ``RECORDED``) sets, as the state file keys it:
    ``kind``, ``campaign``, ``item`` (crowd premiums and pauses; else empty) and ``name``
    (the crowd, the region, the hour, or keyword and platform of a pause). Two rows with the
    same keys set the same thing."""
    kind = rows["action"].map(RECORDED)
    on_item = kind.isin(["crowd_premium", "paused"])
    hour = pd.to_numeric(rows["hour"], errors="coerce").astype("Int64").astype(str)
    keyword = rows["keyword"].astype(str) + KEY_SEP + rows["platform"].astype(str)
    name = np.select([kind == "crowd_premium", kind == "region", kind == "paused"],
                     [rows["crowd"].astype(str), rows["region"].astype(str), keyword], hour)
    return pd.DataFrame({
        "kind": kind, "campaign": rows["campaign"].astype(str),
        "item": rows["item"].astype(object).where(rows["item"].notna() & on_item, "")
        .astype(str), "name": name,
    }, index=rows.index)


def record_plan(path: Path, recs_file: Path, shop: str, *,
                date_order: str = "auto") -> dict[str, int]:
    """Record the premiums, hour discounts, region switches and pauses of an uploaded
    recommendations file (``date_order``, ``sources.date_order``, reads a date such as
    12/3/2026 that Excel wrote when it saved the file).

    Rejected proposals written with ``include_rejected`` are action ``keep`` rows and record
    nothing; in files written before that, they kept their action with proposed = current
    and record what is in force, except a rejected pause (its proposed bid is the current
    one, not 0), which is no pause. A setting already recorded from a later night is kept (an older
    file recorded by mistake does not roll it back). Returns the number of settings
    recorded per kind, and under ``"kept"`` how many were left as a later night set them.
    """
    frame = _read_recommendations(recs_file, date_order)
    frame, not_in_file = _rows_in_file(frame)
    rows = frame[frame["action"].isin(list(RECORDED))]
    proposed = pd.to_numeric(rows["proposed"], errors="coerce")
    rows, proposed = (x[(rows["action"] != "pause_keyword") | (proposed == 0)]
                      for x in (rows, proposed))
    records = setting_keys(rows).assign(
        value=proposed, night=rows["date"].astype(str), source=str(recs_file.resolve()))
    records.insert(0, "shop", shop)
    planned = planned_rows(frame, shop, recs_file)
    changes = planned.drop(columns=["shop", "night", "source"])
    changes = changes.astype(object).where(changes.notna(), None)
    try:
        with closing(sqlite3.connect(path)) as con, con:  # one transaction: all or nothing
            con.execute("BEGIN")  # the tables created or moved too
            con.execute(SCHEMA)
            _planned_tables(con)
            before = con.total_changes
            con.executemany(UPSERT, records.itertuples(index=False, name=None))
            written = con.total_changes - before
            # the night's rows are the file's: recording it again (or an edited copy)
            # replaces them; other nights' rows stay as they were
            for night, night_rows in changes.groupby(planned["night"], sort=False):
                con.execute("INSERT INTO planned_night (shop, night, source) VALUES (?, ?, ?) "
                            "ON CONFLICT (shop, night) DO UPDATE SET source = excluded.source",
                            (shop, night, str(recs_file.resolve())))
                plan = con.execute("SELECT id FROM planned_night WHERE shop = ? AND night = ?",
                                   (shop, night)).fetchone()[0]
                con.execute("DELETE FROM planned_change WHERE plan = ?", (plan,))
                con.executemany(f"INSERT OR REPLACE INTO planned_change "
                                f"(plan, {', '.join(night_rows.columns)}) VALUES "
                                f"(?, {', '.join('?' * night_rows.shape[1])})",
                                ((plan, *row) for row in night_rows.itertuples(index=False)))
            # a large shop's plan is 100,000+ rows a night: keep only the nights a run
            # may still compare (the newest PLANNED_NIGHTS)
            dropped = con.execute("SELECT id FROM planned_night WHERE shop = ? ORDER BY night "
                                  "DESC LIMIT -1 OFFSET ?", (shop, PLANNED_NIGHTS)).fetchall()
            con.executemany("DELETE FROM planned_change WHERE plan = ?", dropped)
            con.executemany("DELETE FROM planned_night WHERE id = ?", dropped)
    except sqlite3.Error as exc:
        raise OutputError(f"cannot record the plan in {path}: {exc}") from exc
    counts = records["kind"].value_counts().to_dict()
    if written < len(records):
        counts["kept"] = len(records) - written
    counts["keyword_changes"] = len(planned)
    if not_in_file:
        counts["not_in_file"] = not_in_file
    if len(planned) and planned["exp_cost"].isna().all():
        counts["no_forecast"] = len(planned)
    return counts


def _rows_in_file(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The rows of a review file that its writer plugin's file holds (``in_upload_file`` not
    'no'), and how many were left out: a change the upload never carried is not in force."""
    from bidopt.io.writer import IN_FILE

    if IN_FILE not in frame.columns:
        return frame, 0
    out = frame[IN_FILE].astype("string").str.strip().str.lower().eq("no").fillna(False)
    return frame[~out.to_numpy(bool)], int(out.sum())


def _planned_tables(con: sqlite3.Connection) -> None:
    """Create the tables of recorded keyword changes and their view ``planned``, moving the
    rows of a file written before them (a table ``planned``) into them."""
    old = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'planned'"
                      ).fetchone()
    for statement in PLANNED_SCHEMA.split(";"):
        con.execute(statement)
    # a file written before the ranges: its table gets their columns (NULL in its rows)
    have = {row[1] for row in con.execute("PRAGMA table_info(planned_change)")}
    for column in RANGES:
        if column not in have:
            con.execute(f"ALTER TABLE planned_change ADD COLUMN {column} REAL")
    if old:
        for statement in MOVE_PLANNED.split(";"):
            con.execute(statement)
    con.execute("DROP VIEW IF EXISTS planned")  # a file's view may lack the ranges
    con.execute(PLANNED_VIEW)


def planned_rows(frame: pd.DataFrame, shop: str, recs_file: Path) -> pd.DataFrame:
    """The keyword changes of a plan (``KEYWORD_ACTIONS``) in the columns of the ``planned``
    view, kept so that the next runs can hold them against the reports. Rows that change
    nothing are left out: ``keep`` rows, and in files written before them, a rejected pause
    (proposed not 0) or bid (proposed = current). A file without the ``exp_*`` columns
    or the ranges (written before them) gives empty forecasts or ranges."""
    rows = frame[frame["action"].isin(KEYWORD_ACTIONS)]
    number = {c: pd.to_numeric(rows[c], errors="coerce") if c in rows else
              pd.Series(np.nan, index=rows.index)
              for c in ("current", "proposed", "exp_clicks", "exp_cost", "exp_gmv", *RANGES)}
    changes = ((rows["action"] == "add_keyword")
               | ((rows["action"] == "pause_keyword") & (number["proposed"] == 0))
               | ((rows["action"] == "set_bid") & (number["proposed"] != number["current"])))
    text = {c: rows[c].astype(object).where(rows[c].notna(), "").astype(str)
            for c in GRAIN_KEYS["keywords"]}
    out = pd.DataFrame({"shop": shop, "night": rows["date"].astype(str), **text,
                        "action": rows["action"].astype(str), **number,
                        "source": str(recs_file.resolve())}, index=rows.index)
    return out[changes].reindex(columns=PLANNED_COLUMNS).reset_index(drop=True)


def _read_recommendations(path: Path, date_order: str = "auto") -> pd.DataFrame:
    """The recommendations CSV or workbook as text cells (NaN where empty), read as the
    reports are read (encoding detected; a workbook's numbers as written, an ID a reviewer
    retyped as a number back to its digits)."""
    from bidopt.io.readers import read_raw_table
    from bidopt.io.writer import review_file

    frame = read_raw_table(path).replace("", np.nan)
    missing = [c for c in NEEDED if c not in frame.columns]
    if missing:
        columns = ', '.join(map(repr, missing))
        review = review_file(path)
        if review.is_file():  # a writer plugin's file (a bulk sheet) beside its review file
            raise DataError([Problem(
                file=str(path), message=f"not a bidopt recommendations file (no column "
                f"{columns}) but a writer plugin's output: record its review file, which "
                f"`bidopt run` wrote beside it, instead: {review}")])
        raise DataError([Problem(
            file=str(path), message=f"not a bidopt recommendations file: no column {columns}",
            expected="the CSV or workbook `bidopt run` wrote; with a writer plugin's output "
            "format, such as an Amazon bulk sheet, the review file written beside the "
            f"plugin's file: {review.name} beside this one")])
    return _as_written(frame, path, date_order)


LISTED_ROWS = 5  # rows named per kind of problem in an edited plan


def _as_written(frame: pd.DataFrame, path: Path, date_order: str = "auto") -> pd.DataFrame:
    """The plan's cells as bidopt wrote them, after a reviewer edited and saved it: names the
    writer quoted so that Excel would not run them as formulas ('+red +shoes) without the
    quote, dates Excel saved its own way (2026/12/5, or 12/5/2026 in ``date_order``) as
    YYYY-MM-DD, actions retyped (Pause_Keyword) in bidopt's spelling. A date, an action or a proposed value that still
    cannot be read is an error naming its row: recorded as it stood, it would be a second
    night, a change skipped without a word, or a failed write."""
    from bidopt.io.parsing import DATE_ORDER_SETTING, ambiguous_dates, parse_dates
    from bidopt.io.writer import unescape_formula

    given = frame[["date", "action", "proposed"]].copy()
    for column in ("campaign", "item", "keyword", "crowd", "region"):
        frame[column] = unescape_formula(frame[column])
    dates, bad_date = parse_dates(frame["date"].fillna("").astype(str), date_order)
    # 12/3/2026 as a US or a UK Excel saves the night's date: the config says which
    ambiguous = bad_date & ambiguous_dates(frame["date"].fillna("").astype(str))
    frame["date"] = pd.Series(dates, index=frame.index).dt.strftime("%Y-%m-%d")
    action = frame["action"].astype("string").str.strip().str.lower().str.replace(
        r"[\s-]+", "_", regex=True)
    frame["action"] = action.astype(object).where(action.notna(), np.nan)
    known = action.isin([*ACTIONS, "keep"]).fillna(False).to_numpy(bool)
    proposed = pd.to_numeric(frame["proposed"], errors="coerce").isna().to_numpy()
    problems = []
    for bad, column, message, expected in (
            (ambiguous, "date", "could be month/day or day/month (Excel saved the date its "
             "own way)", DATE_ORDER_SETTING),
            (bad_date & ~ambiguous, "date", "not a date", "the night's date, YYYY-MM-DD"),
            (~known, "action", "not an action bidopt writes",
             f"one of {', '.join((*ACTIONS, 'keep'))}"),
            (known & proposed & (action != "keep").fillna(True).to_numpy(bool), "proposed",
             "not a number", "the value bidopt wrote, or your edit of it")):
        for row in np.flatnonzero(bad)[:LISTED_ROWS]:
            problems.append(Problem(file=str(path), row=int(frame.index[row]) + 2,
                                    column=column, message=f"{given.iloc[row][column]!r}: "
                                    f"{message}", expected=expected))
    if problems:
        raise DataError(problems)
    return frame


def read_state(path: Path, shop: str) -> pd.DataFrame:
    """Every setting recorded for ``shop``, or an empty frame when there is none yet."""
    return read_records(path, shop)[0]


def read_records(path: Path, shop: str, before: dt.date | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The settings (``read_state``) and the keyword changes recorded for ``shop`` (the
    ``planned`` table) in one read of the file: the latter of the last ``PLANNED_NIGHTS``
    recorded nights before ``before`` (none without it), empty in a file written before
    that table."""
    columns = ["shop", "kind", "campaign", "item", "name", "value", "night", "source"]
    planned = pd.DataFrame(columns=PLANNED_COLUMNS)
    if not path.is_file():
        return pd.DataFrame(columns=columns), planned
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
            state = pd.read_sql_query("SELECT * FROM in_force WHERE shop = ?", con,
                                      params=(shop,))
            # a view over planned_night and planned_change, or in a file written before
            # them, a table with the same columns
            kind = con.execute("SELECT type FROM sqlite_master WHERE name = 'planned'"
                               ).fetchone()
            nights = "planned" if kind == ("table",) else "planned_night"
            if before is not None and kind is not None:
                planned = pd.read_sql_query(
                    f"SELECT * FROM planned WHERE shop = ? AND night IN (SELECT DISTINCT night "
                    f"FROM {nights} WHERE shop = ? AND night < ? ORDER BY night DESC LIMIT ?)",
                    con, params=(shop, shop, before.isoformat(), PLANNED_NIGHTS))
    except (sqlite3.Error, pd.errors.DatabaseError) as exc:
        raise DataError([Problem(file=str(path), message=f"not a bidopt state file: {exc}",
                                 expected="a file written by `bidopt applied`")]) from None
    # a file written before the ranges has no such columns: empty ones
    return state, planned.reindex(columns=PLANNED_COLUMNS)


# RunContext.in_force(kind): the columns of each kind of setting recorded by `bidopt applied`.
IN_FORCE_COLUMNS = {
    "hour_discount": ["campaign", "hour", "value", "night"],
    "crowd_premium": ["campaign", "item", "crowd", "value", "night"],
    "region": ["campaign", "region", "value", "night"],
    "paused": ["campaign", "item", "keyword", "platform", "night"],
}


def settings(state: pd.DataFrame, kind: str) -> pd.DataFrame:
    """One kind of the settings in ``state`` (``read_state``) in the columns of
    ``IN_FORCE_COLUMNS[kind]``: a paused keyword's stored name is split back into keyword
    and platform, an hour is a number."""
    if kind not in IN_FORCE_COLUMNS:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(IN_FORCE_COLUMNS)}")
    rows = state[state["kind"] == kind].reset_index(drop=True)
    name = rows["name"].astype(str)
    out = pd.DataFrame({"campaign": rows["campaign"].astype(str)})
    if kind == "hour_discount":
        out["hour"] = name.astype(int)
    elif kind == "crowd_premium":
        out["item"], out["crowd"] = rows["item"].astype(str), name
    elif kind == "region":
        out["region"] = name
    else:
        parts = name.str.split(KEY_SEP, n=1, expand=True).reindex(columns=[0, 1])
        out["item"], out["keyword"], out["platform"] = rows["item"].astype(str), parts[0], parts[1]
    if kind != "paused":
        out["value"] = rows["value"].astype(float)
    out["night"] = rows["night"].astype(str)
    return out.reindex(columns=IN_FORCE_COLUMNS[kind])


def followed(state: pd.DataFrame, planned: pd.DataFrame, renamed: dict[str, str],
             moved: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The settings (``read_state``) and keyword changes (``planned``) recorded under the
    names the reports now use (``io.moves``): a renamed campaign's (``renamed``, old name ->
    new) under its new name, and a moved keyword's pause and changes (``moved``: ``campaign,
    item, keyword, platform`` of the old place, ``to_campaign`` and ``to_item``) at its new
    place. Without this a pause recorded before the keyword moved would apply to nothing,
    and its changes would find no report row."""
    state = state.assign(campaign=state["campaign"].replace(renamed))
    planned = planned.assign(campaign=planned["campaign"].replace(renamed))
    if moved.empty:
        return state, planned
    keys = list(GRAIN_KEYS["keywords"])
    places = pd.MultiIndex.from_frame(moved[keys].astype(str))

    def moved_to(frame: pd.DataFrame, keyword: pd.Series, platform: pd.Series) -> pd.DataFrame:
        rows = places.get_indexer(pd.MultiIndex.from_arrays(
            [frame["campaign"].astype(str), frame["item"].astype(str),
             keyword.astype(str), platform.astype(str)]))
        hit = rows >= 0
        if not hit.any():
            return frame
        frame = frame.copy()
        for column in ("campaign", "item"):
            values = frame[column].to_numpy(dtype=object)
            values[hit] = moved[f"to_{column}"].to_numpy(dtype=object)[rows[hit]]
            frame[column] = values
        return frame

    # a pause's name is its keyword and platform (``setting_keys``); the other settings are
    # no keyword's (an empty one) and stay where they are
    paused = state["kind"].eq("paused")
    name = state["name"].astype(str).where(paused, "").str.split(KEY_SEP, n=1, expand=True)
    name = name.reindex(columns=[0, 1]).fillna("")
    return (moved_to(state, name[0], name[1]),
            moved_to(planned, planned["keyword"], planned["platform"]))


def with_state(config: Config, night: dt.date, state: pd.DataFrame | None = None
               ) -> tuple[Config, list[str], pd.DataFrame]:
    """``config`` with the state file's settings as the strategies' defaults, notes on what
    was taken, and the keywords recorded as paused (``settings(state, "paused")``). Only
    options the config leaves unset are filled: a config value always wins. ``state``: the
    shop's settings already read (``read_state``), else they are read here.
    """
    path = state_path(config)
    if state is None:
        state = read_state(path, config.shop)
    strategies = {name: dict(options or {}) for name, options in config.strategies.items()}
    notes = []
    kind, value = state["kind"], state["value"]
    fills = [  # strategy, option, what, rows, grouped by, value of one group
        ("crowd_premium", "current_premiums", "premiums in force",
         state[kind == "crowd_premium"], "item", lambda g: g.set_index("name")["value"].to_dict()),
        ("top3_quality", "current_hour_discounts", "hour discounts in force",
         state[kind == "hour_discount"], "campaign",
         lambda g: g.set_index(g["name"].astype(int))["value"].to_dict()),
        ("region_exclusion", "currently_excluded", "regions switched off",
         state[(kind == "region") & (value == 0)], "campaign", lambda g: sorted(g["name"])),
    ]
    for strategy, option, what, rows, by, build in fills:
        options = strategies.get(strategy)
        if options is None or option in options or rows.empty:
            continue
        options[option] = {key: build(group) for key, group in rows.groupby(by)}
        notes.append(f"{what}: {len(rows)} from the state file {path} (recorded up to the "
                     f"night of {rows['night'].max()})")
    later = state[state["night"] > night.isoformat()]
    if len(later):
        notes.append(f"the state file {path} holds settings recorded for nights after "
                     f"{night} (up to {later['night'].max()}): they are taken as in force")
    return config.model_copy(update={"strategies": strategies}), notes, settings(state, "paused")
