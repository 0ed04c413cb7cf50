"""How far the recommendations' expected effects and the summary's totals come true.

    python benchmarks/bench_effects.py [--seeds 0 1 ... 9] [--size small] [--medium]
                                       [--floor 2.0] [--budget 800] [--draws 20] [--intervals]
                                       [--night 2026-11-11 --seasonal [--phase-factors]]

For every simulated shop: plan one night with every strategy on (``plan_night``, as
``bench_plan.py`` does), then judge the plan's rows on the simulator's noise-free truth
(``Market.expected``), never on bidopt's own forecast:

- per kind of action (raise, cut, pause, add, crowd premium, region, hour discount): the
  rows' ``d_cost`` and ``d_gmv`` summed, against the truth's change. Keyword rows: the
  truth of each keyword at the plan's bids minus at today's; slice rows: the truth with the
  plan's bids and that kind's slice rows minus with the plan's bids alone;
- per campaign: the summary's cost and GMV before and after against the truth of keeping
  every value and of the whole plan, with and without the added keywords' own share;
- one day's spread: ``--draws`` days drawn at the plan's bids (``next_day_reports``; added
  keywords and slices cannot be drawn), the raised keywords' sums against their truth;
- ``--intervals``: on those days, the coverage of the response model's 80% outcome interval
  at the plan's bids (randomised PIT, ``ResponseModel.outcome_pit``) by what the plan did to
  the keyword (raised, cut, kept), on rows expecting at least one click (order); and the
  share of days whose reported clicks, cost and GMV lie within the ranges the CSV prints
  (``clicks_low``..``gmv_high``, rounded as written, ends included; no report row counts
  as 0) per kind of keyword row (raise, cut, pause; an added keyword cannot be drawn).

Promotion nights, as in ``bench_plan.py``: ``--seasonal`` draws histories with the
simulator's Double 11 / Double 12 calendar and judges the plan on the truth of ``--night``;
``--phase-factors`` gives bidopt that calendar as config phases with their factors.

Exit status 1 when a campaign's rows' ``d_*`` do not sum to the summary's after minus before
(the README's promise), else 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from bench_plan import plan_inputs

from bidopt.config import parse_config
from bidopt.context import KEYWORD_KEYS
from bidopt.loop import SourceOverrides, plan_night
from bidopt.plugins import build_registry, get_plugin_manager
from bidopt.simulate import calendar_config, next_day_reports, simulate_shop, write_shop

NIGHT = dt.date(2026, 11, 25)
KEYWORD_KINDS = ("raise", "cut", "pause", "add")
SLICE_ACTIONS = {"crowd": ["set_crowd_premium"], "region": ["exclude_region", "include_region"],
                 "hour": ["set_hour_discount"]}


def action_kind(recs: pd.DataFrame) -> pd.Series:
    """raise, cut, pause, add, crowd, region or hour for each row."""
    current = pd.to_numeric(recs["current"], errors="coerce")
    proposed = pd.to_numeric(recs["proposed"], errors="coerce")
    action = recs["action"]
    kinds = [(action.eq("set_bid") & (proposed > current), "raise"),
             (action.eq("set_bid"), "cut"), (action.eq("pause_keyword"), "pause"),
             (action.eq("add_keyword"), "add")]
    kinds += [(action.isin(names), kind) for kind, names in SLICE_ACTIONS.items()]
    return pd.Series(np.select([c for c, _ in kinds], [k for _, k in kinds], "other"),
                     index=recs.index)


def judge_shop(seed: int, size: str, floor: float, budget: float | None, draws: int,
               intervals: bool = False, night: dt.date = NIGHT, seasonal: bool = False,
               phase_factors: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(rows with their true effect ``t_d_*``, campaigns with their truth, the raised
    keywords' drawn-day sums against truth, interval coverage per kept/raised/cut row and
    drawn day when ``intervals``)."""
    shop = simulate_shop(seed=seed, size=size, seasonal=seasonal,
                         end_date=night - dt.timedelta(days=1))
    files = write_shop(shop, Path(tempfile.mkdtemp(prefix="bench_effects")))
    registry = build_registry(get_plugin_manager(entry_points=False))
    data = {"shop": f"{size}-{seed}",
            "constraints": {"roi_floor": floor, "daily_budget": budget},
            "strategies": {name: {} for name in registry.strategies},
            "calendar": calendar_config() if phase_factors else []}
    sources = SourceOverrides([p for n, p in sorted(files.items()) if n.endswith("report")],
                              files["items"], files["candidates"])
    run = plan_night(parse_config(data), registry, date=night, sources=sources)
    recs = run.recommendations.copy()
    recs["kind"] = action_kind(recs)
    for column in ("d_cost", "d_gmv"):
        recs[column] = pd.to_numeric(recs[column], errors="coerce")
    state = run.context.keywords
    market = shop.market.on_day(night, seasonal=seasonal)
    keep = state[KEYWORD_KEYS].reset_index(drop=True).assign(bid=state["bid"].to_numpy(float))
    keywords = recs[recs["kind"].isin(KEYWORD_KINDS)]
    bids, extra = plan_inputs(keywords, state, market)
    live = bids["bid"] > 0
    paused = bids.loc[~live, KEYWORD_KEYS]
    added = {k: v for k, v in extra.items() if k == "added_keywords"}
    before = market.expected(keep)
    at_bids = market.expected(bids[live], paused_keywords=paused, **added)
    slices = plan_inputs(recs[~recs["kind"].isin(KEYWORD_KINDS)], state, market)[1]
    after = market.expected(bids[live], paused_keywords=paused, **added, **slices)
    # keyword rows: each keyword's truth at the plan's bids minus at today's
    key = pd.MultiIndex.from_frame(keywords[KEYWORD_KEYS].astype(str))
    for name in ("cost", "gmv"):
        planned, kept = (frame.set_index(pd.MultiIndex.from_frame(
            frame[KEYWORD_KEYS].astype(str)))[name].reindex(key).fillna(0.0).to_numpy()
            for frame in (at_bids, before))
        recs.loc[keywords.index, f"t_d_{name}"] = planned - kept
    # slice rows, one kind at a time, on top of the plan's bids
    base = at_bids.groupby("campaign")[["cost", "gmv"]].sum()
    for kind in SLICE_ACTIONS:
        rows = recs[recs["kind"] == kind]
        if rows.empty:
            continue
        one = plan_inputs(rows, state, market)[1]
        moved = market.expected(bids[live], paused_keywords=paused, **added, **one)
        change = moved.groupby("campaign")[["cost", "gmv"]].sum() - base
        share = rows.groupby("campaign")[["d_cost", "d_gmv"]].transform(
            lambda v: v / v.sum() if v.sum() else 1.0 / len(v))
        for name in ("cost", "gmv"):  # the campaign's true change, shared as the rows share it
            recs.loc[rows.index, f"t_d_{name}"] = (
                rows["campaign"].map(change[name]).to_numpy() * share[f"d_{name}"].to_numpy())
    recs["shop"] = data["shop"]
    campaigns = run.decision.campaigns.set_index("campaign")
    truth = pd.DataFrame({f"t_{name}_{when}": frame.groupby("campaign")[name].sum()
                          for when, frame in (("before", before), ("after", after))
                          for name in ("cost", "gmv")})
    sums = recs.groupby("campaign")[["d_cost", "d_gmv"]].sum()
    adds = recs[recs["kind"] == "add"].groupby("campaign")[["d_cost", "d_gmv", "t_d_cost",
                                                             "t_d_gmv"]].sum()
    table = campaigns[["cost_before", "cost_after", "gmv_before", "gmv_after"]].join(truth)
    table = table.join(sums).join(adds.add_prefix("add_")).fillna(0.0).assign(shop=data["shop"])
    # one day's spread: days drawn at the plan's bids, the raised keywords' sums
    index = pd.MultiIndex.from_frame(shop.market.keywords[KEYWORD_KEYS].astype(str))
    planned = (bids.set_index(pd.MultiIndex.from_frame(bids[KEYWORD_KEYS].astype(str)))["bid"]
               .reindex(index).to_numpy(float))
    today = shop.market.keywords["bid"].to_numpy(float)
    off = np.nan_to_num(planned, nan=1.0) <= 0
    day_bids = np.where(np.isnan(planned) | off, today, planned)
    raised = recs[recs["kind"] == "raise"]
    raised_key = pd.MultiIndex.from_frame(raised[KEYWORD_KEYS].astype(str))
    true_raised = at_bids.set_index(pd.MultiIndex.from_frame(
        at_bids[KEYWORD_KEYS].astype(str))).reindex(raised_key)
    spread, covered = [], []
    bought = bids[live].reset_index(drop=True)
    bought_key = pd.MultiIndex.from_frame(bought[KEYWORD_KEYS].astype(str))
    kind_of = recs.set_index(pd.MultiIndex.from_frame(recs[KEYWORD_KEYS].astype(str)))["kind"]
    bought_kind = kind_of[~kind_of.index.duplicated()].reindex(bought_key).fillna("kept")
    bought_kind = bought_kind.replace({"raise": "raised", "cut": "cut"}).to_numpy()
    printed = []
    if intervals:
        forecast = run.context.forecast(bought[KEYWORD_KEYS], bought[["bid"]].to_numpy(float))
        ranged = recs[recs["kind"].isin(["raise", "cut", "pause"])]
        ranged_key = pd.MultiIndex.from_frame(ranged[KEYWORD_KEYS].astype(str))
        bounds = {f"{name}_{end}": pd.to_numeric(ranged[f"{name}_{end}"]).round(
            1 if name == "clicks" else 2).to_numpy(float)
            for name in ("clicks", "cost", "gmv") for end in ("low", "high")}
        expects = pd.to_numeric(ranged["exp_clicks"]).to_numpy(float) >= 1
    for draw in range(draws):
        day = next_day_reports(shop.market, night, day_bids, paused=off, seed=1000 + draw,
                               seasonal=seasonal)
        report = day.keyword_report
        got = report.set_index(pd.MultiIndex.from_frame(report[KEYWORD_KEYS].astype(str)))
        spread.append({name: got[name].reindex(raised_key).sum() / true_raised[name].sum()
                       for name in ("clicks", "cost", "gmv")})
        if intervals:
            observed = got[["clicks", "cost", "orders", "gmv"]].reindex(bought_key).fillna(0.0)
            pit = run.context.model.outcome_pit(bought[KEYWORD_KEYS], bought["bid"].to_numpy(),
                                                observed.reset_index(drop=True), seed=draw)
            for name, u in pit.items():
                events = forecast.clicks if name in ("clicks", "cost") else forecast.orders
                covered.append(pd.DataFrame({
                    "kind": bought_kind, "metric": name, "expects": events[:, 0] >= 1,
                    "inside": (u >= 0.1) & (u <= 0.9), "above": u > 0.9, "below": u < 0.1}))
            # the ranges as printed, against the drawn day (paused: no row, 0)
            for name in ("clicks", "cost", "gmv"):
                value = got[name].reindex(ranged_key).fillna(0.0).to_numpy(float)
                low, high = bounds[f"{name}_low"], bounds[f"{name}_high"]
                printed.append(pd.DataFrame({
                    "kind": ranged["kind"].to_numpy(), "metric": name, "expects": expects,
                    "inside": (value >= low - 1e-9) & (value <= high + 1e-9),
                    "below": value < low - 1e-9, "above": value > high + 1e-9,
                    "from_zero": low <= 0, "shop": data["shop"]}))
    coverage = pd.concat(covered, ignore_index=True) if covered else pd.DataFrame()
    # the printed ranges' rows, in the coverage frame under metric "printed:<name>"
    if printed:
        ranges = pd.concat(printed, ignore_index=True)
        ranges["metric"] = "printed:" + ranges["metric"]
        coverage = pd.concat([coverage, ranges], ignore_index=True)
    return recs, table, pd.DataFrame(spread).assign(shop=data["shop"]), coverage


def by_kind(rows: pd.DataFrame, shops: int) -> pd.DataFrame:
    """Per kind of action: rows, the rows' d_* and the truth's, and their ratio."""
    grouped = rows[rows["kind"] != "other"].groupby("kind")
    table = pd.DataFrame({"rows": grouped.size(), "shops": grouped["shop"].nunique(),
                          "d_cost": grouped["d_cost"].sum(), "true": grouped["t_d_cost"].sum(),
                          "d_gmv": grouped["d_gmv"].sum(), "true ": grouped["t_d_gmv"].sum()})
    table["cost x"] = table["d_cost"] / table["true"]
    table["gmv x"] = table["d_gmv"] / table["true "]
    order = [k for k in (*KEYWORD_KINDS, *SLICE_ACTIONS) if k in table.index]
    return table.loc[order]


def campaign_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """Summary totals per campaign over the truth's: 10th, 50th and 90th percentile."""
    ratios = pd.DataFrame({
        "cost before": table["cost_before"] / table["t_cost_before"],
        "GMV before": table["gmv_before"] / table["t_gmv_before"],
        "cost after": table["cost_after"] / table["t_cost_after"],
        "GMV after": table["gmv_after"] / table["t_gmv_after"],
        "GMV after w/o adds": ((table["gmv_after"] - table["add_d_gmv"])
                               / (table["t_gmv_after"] - table["add_t_d_gmv"])),
        "ROI after": ((table["gmv_after"] / table["cost_after"])
                      / (table["t_gmv_after"] / table["t_cost_after"])),
    })
    return ratios.quantile([0.1, 0.5, 0.9]).T.rename(columns=lambda q: f"p{q * 100:.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--size", default="small")
    parser.add_argument("--medium", action="store_true", help="also the medium shop, seed 0")
    parser.add_argument("--floor", type=float, default=2.0)
    parser.add_argument("--budget", type=float, default=None, help="per campaign")
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--intervals", action="store_true",
                        help="coverage of the model's outcome intervals at the plan's bids")
    parser.add_argument("--night", type=dt.date.fromisoformat, default=NIGHT,
                        help="the planned night (YYYY-MM-DD); the history ends the day before")
    parser.add_argument("--seasonal", action="store_true",
                        help="histories and truth with the simulator's promotion calendar")
    parser.add_argument("--phase-factors", action="store_true",
                        help="give bidopt the calendar as config phases with their factors")
    args = parser.parse_args(argv)
    shops = [(seed, args.size) for seed in args.seeds] + ([(0, "medium")] if args.medium else [])
    rows, tables, spreads, coverages = [], [], [], []
    for seed, size in shops:
        r, t, s, c = judge_shop(seed, size, args.floor, args.budget, args.draws, args.intervals,
                                args.night, args.seasonal, args.phase_factors)
        rows.append(r)
        tables.append(t)
        spreads.append(s)
        coverages.append(c)
        print(f"{size} seed {seed}: {len(r):,} rows", file=sys.stderr)
    rows_all, table = pd.concat(rows, ignore_index=True), pd.concat(tables)
    pd.set_option("display.width", 200)
    print(f"\nexpected effect (d_*) against the truth's, by action (floor {args.floor}, "
          f"budget {args.budget}; {len(shops)} shops)")
    print(by_kind(rows_all, len(shops)).round(2).to_string())
    print("\nthe summary's totals per campaign over the truth's (percentiles over "
          f"{len(table)} campaigns)")
    print(campaign_ratios(table).round(3).to_string())
    shop_gain = table.groupby("shop")[["gmv_before", "gmv_after", "t_gmv_before",
                                       "t_gmv_after"]].sum()
    gain = ((shop_gain["gmv_after"] - shop_gain["gmv_before"])
            / (shop_gain["t_gmv_after"] - shop_gain["t_gmv_before"]))
    print("\nper shop, the summary's GMV gain over the truth's:",
          " ".join(f"{g:.2f}" for g in gain))
    spread = pd.concat(spreads)
    print(f"\none drawn day of the raised keywords over their truth ({args.draws} days per "
          "shop; 10th, 50th, 90th percentile per shop, then their range)")
    per_shop = spread.groupby("shop")[["clicks", "cost", "gmv"]].quantile([0.1, 0.5, 0.9])
    print(per_shop.groupby(level=1).agg(["min", "max"]).round(2).to_string())
    if args.intervals:
        coverage = pd.concat(coverages, ignore_index=True)
        is_printed = coverage["metric"].str.startswith("printed:")
        printed = coverage[is_printed].assign(
            metric=lambda f: f["metric"].str.removeprefix("printed:"),
            from_zero=lambda f: f["from_zero"].astype(bool))
        coverage = coverage[~is_printed]
        expecting = coverage[coverage["expects"]]
        grouped = expecting.groupby(["metric", "kind"])
        print("\nthe model's 80% outcome interval at the plan's bids, rows expecting >= 1 click "
              "(order): share of drawn days inside, below and above (nominal 0.8, 0.1, 0.1)")
        print(grouped[["inside", "below", "above"]].mean().assign(rows_x_days=grouped.size())
              .round(3).to_string())
        print("\nthe CSV's printed ranges (clicks_low..gmv_high) against the drawn days: share "
              "of row x days inside (ends included), below and above; all keyword rows, then "
              "those with exp_clicks >= 1; from_zero: share of ranges starting at 0")
        order = {"raise": 0, "cut": 1, "pause": 2}
        for label, part in (("all rows", printed), ("exp_clicks >= 1", printed[printed["expects"]])):
            grouped = part.groupby(["metric", "kind"])
            table_ = grouped[["inside", "below", "above", "from_zero"]].mean().assign(
                rows_x_days=grouped.size())
            table_ = table_.sort_index(key=lambda i: i.map(order) if i.name == "kind" else i)
            print(f"{label}:\n{table_.round(3).to_string()}")
        per_shop = printed.groupby(["metric", "kind", "shop"])["inside"].mean()
        print("per shop, share inside (min - max):")
        print(per_shop.groupby(level=[0, 1]).agg(["min", "max"]).round(3).to_string())
    off = ((table["d_cost"] - (table["cost_after"] - table["cost_before"])).abs().max(),
           (table["d_gmv"] - (table["gmv_after"] - table["gmv_before"])).abs().max())
    print(f"\nrows' d_* against the summary's after - before, largest difference: cost "
          f"{off[0]:.2e}, GMV {off[1]:.2e}")
    return 1 if max(off) > 0.01 else 0


if __name__ == "__main__":
    sys.exit(main())
