"""Does bidopt's nightly plan beat what users run today? Judged on the simulator's truth.

    python benchmarks/bench_plan.py [--seeds 0 1 2 3 4] [--floors 2.0 2.5]
                                    [--no-medium | --medium-seeds 0 1 2 3]
                                    [--strategies default|all] [--detail] [--min-share 0.6]
                                    [--max-broken 0.1] [--verdict shop|population] [--jobs 2]
                                    [--objective gmv|clicks|orders|profit]
                                    [--margin 5] [--added-spend-margin 30] [--budget 1.2 [--no-cap]]
                                    [--optimiser min_clicks_to_raise=3]
                                    [--night 2026-11-11 --seasonal [--phase-factors]]
                                    [--gap [10 15 20]]
                                    [--night 2026-11-28 --weekday] [--weekday-factors]

For every simulated shop and ROI floor: write the shop's exports, run bidopt's full nightly
plan in-process (``plan_night``: read, fit, propose, decide), compute the four baselines of
DOMAIN.md ("What users run today") and the oracle (``bidopt.baselines``; also held to
bidopt's planned floors and budgets, ``oracle_held``), and evaluate EVERY
plan with ``Market.expected`` at the plan's bids: the simulator's noise-free truth, never the
response model's forecast. All methods start from the same keyword state (the one bidopt
builds from the reports) and are held to the same grid and nightly change limit.

A campaign violates its floor when its true ROI is below floor x (1 - 0.5%). Where even the oracle cannot hold a
floor within the change limit, the campaign is counted as "unattainable" and left out of
every method's violations. A method is *valid* when it violates nothing; bidopt *beats* a
baseline when bidopt is valid and the baseline is invalid or earns less of the objective
(``--objective``: GMV by default, or clicks, orders or profit, GMV x the item's margin -
cost with the margins bidopt plans with (the items file's price and unit cost); bidopt and
the oracle maximise it, the rule sets do what they always do, and gains and shares are in
its units).

Budgets: ``--budget X`` gives every campaign a daily budget of X times its average daily
spend in an uncapped draw of the history; the history bidopt reads is then drawn with those
budgets in force (a day whose spend reaches the budget stops there and its hour report ends
early), and every plan is judged on truth with the budgets in force (``Market.expected(...,
budgets=...)``): a plan cannot overspend, it loses the rest of the day's traffic instead.
The tables count the campaigns whose ads go offline before midnight (``offline``: the plan
would spend more than the budget on the uncapped truth).
``--no-cap`` is the old judge: histories and truth uncapped, a budget counted as broken (a
violation) when true cost exceeds it by more than 0.5%.

Promotion nights: ``--seasonal`` draws histories with the simulator's Double 11 / Double 12
calendar and judges every plan on the truth of ``--night`` (its weekday and promotion
factors, ``Market.on_day``); ``--phase-factors`` gives bidopt that calendar as config phases
with their traffic, conversion and cart factors (``bidopt.simulate.calendar_config``), as a
seller who measured last year's promotion would. The baselines are computed from the keyword
state bidopt builds, which with ``--phase-factors`` has the promotion days rescaled.

Where the distance to the oracle goes: ``--gap 10 15 20`` also plans with the oracle on the
truth seen through one of bidopt's errors at a time (each keyword's level at today's bids, as
the window shows it or as bidopt forecasts it; the shape of its answer to the bid, as bidopt
forecasts it), and on bidopt's whole forecast, each with every floor raised by each margin
(``benchmarks/plan_gap.py``). The views do not enter the verdict.

Weekdays: the histories always carry the simulator's weekday pattern of search volume, but
without ``--seasonal`` the plans are judged on a typical day (``Market.expected``), whatever
weekday ``--night`` is. ``--weekday`` judges them on the truth of ``--night``'s weekday
(``Market.on_day(night, seasonal=False)``); ``--weekday-factors`` runs bidopt with
``history.weekdays: true`` (off by default, as in bidopt).

How far to trust the total share: under each floor's sums, bidopt's share of the oracle's
gain with the shops resampled (``benchmarks/resample.py``). Shops differ so much that six of
them leave the share at floor 2.5 anywhere in a band tens of points wide; ``--seeds 0 ... 29
--medium-seeds 0 1 2 3`` (34 shops, about 3 minutes) narrows it to about ten points.

How well the floors hold over many shops: under each floor's sums, the campaigns whose floor
binds in bidopt's plan (the solver prices it), the margin they were planned with above it,
and how many of them break on truth, against the probability each was planned to hold with
(``optimiser.floor_confidence``). On a population of shops a few floors break by chance (a
window that happened to run lucky); ``--max-broken 0.1`` fails the run when more break than
planned.

Exit status: 0 when bidopt is valid and beats every baseline in every shop x floor (and
captures at least --min-share of the oracle's gain in total, and breaks no more than
--max-broken of its binding floors, when given); 1 otherwise. Over a population of shops a
floor or two breaks by chance, so ``--verdict population`` judges the sums instead: bidopt
earns more than every baseline over all shops, breaks no more of its binding floors than it
planned for (``1 - floor_confidence``, or ``--max-broken``) and, when given, captures
--min-share; the shops that would fail alone are listed, not judged. ``--jobs 2`` runs the
shops in two processes (the same output, in the same order): 68 shops took 179 s on two
cores against 320 s in one process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from plan_gap import (
    at_todays_bids,
    calibration_table,
    gap_plans,
    level_error_table,
    level_errors,
    views,
    window_levels,
)
from resample import interval_line

from bidopt.baselines import BASELINES, baseline_plans, oracle_plan, truth_outcome
from bidopt.config import CampaignLimits, Config, parse_config
from bidopt.context import KEYWORD_KEYS
from bidopt.decide import item_economics, spend_seen
from bidopt.loop import RunResult, SourceOverrides, plan_night
from bidopt.plugins import build_registry, get_plugin_manager
from bidopt.simulate import Market, calendar_config, simulate_shop, write_shop

NIGHT = dt.date(2026, 11, 25)  # the default planned night; the history ends the day before
TOL = 0.005  # relative slack before a floor or budget counts as broken
# "bids_only" (with --strategies all): bidopt with its default strategies, i.e. bid changes
# alone, so that the table shows what the playbook strategies add on top. "oracle_held": the
# oracle held to the floors and budgets bidopt planned with (its safety margins), judged
# against the real ones: the share of the oracle's gain that the margins alone leave.
METHODS = ("bidopt", "bids_only", *BASELINES, "oracle_held", "oracle")


def methods(truth: dict) -> list[str]:
    """The methods present, in table order (``--gap``'s views last, as added)."""
    return [m for m in METHODS if m in truth] + [m for m in truth if m not in METHODS]


@dataclass
class Case:
    """One shop at one floor: per-method campaign totals on truth, and bidopt's own run."""

    shop: str
    floor: float
    truth: dict[str, pd.DataFrame]  # method -> per-campaign cost, gmv, clicks, orders, roi
    run: RunResult
    market: Market
    bidopt_bids: pd.DataFrame
    seconds: float
    judged: Config  # the config every method is judged by (bidopt may have planned tighter)
    capped: bool = False  # truth stops a campaign at its budget (else: over budget = broken)
    level_errors: pd.DataFrame | None = None  # --gap with window levels: plan_gap.level_errors


# -- bidopt's plan as the simulator's inputs --------------------------------------------------
def plan_inputs(recs: pd.DataFrame, state: pd.DataFrame, market: Market) -> tuple[pd.DataFrame, dict]:
    """Every action of bidopt's recommendations in the form ``Market.expected`` takes.

    Returns the bid of every bought keyword (moved or kept) and the other plan parts
    (paused/added keywords, crowd premiums, the full excluded-region set, hour discounts).
    """
    bids = state[KEYWORD_KEYS].reset_index(drop=True).assign(bid=state["bid"].to_numpy(float))
    moved = recs[recs["action"] == "set_bid"]
    index = pd.MultiIndex.from_frame(bids[KEYWORD_KEYS].astype(str))
    rows = index.get_indexer(pd.MultiIndex.from_frame(moved[KEYWORD_KEYS].astype(str)))
    bids.loc[rows[rows >= 0], "bid"] = pd.to_numeric(moved["proposed"]).to_numpy(float)[rows >= 0]
    extra: dict[str, pd.DataFrame] = {}
    paused = recs[recs["action"] == "pause_keyword"]
    if len(paused):
        extra["paused_keywords"] = paused[KEYWORD_KEYS].copy()
        rows = index.get_indexer(pd.MultiIndex.from_frame(paused[KEYWORD_KEYS].astype(str)))
        bids.loc[rows[rows >= 0], "bid"] = 0.0  # for the diagnosis; evaluation uses paused
    added = recs[recs["action"] == "add_keyword"]
    if len(added):
        extra["added_keywords"] = added[KEYWORD_KEYS].assign(
            bid=pd.to_numeric(added["proposed"]).to_numpy(float))
    crowds = recs[recs["action"] == "set_crowd_premium"]
    if len(crowds):
        extra["crowd_premiums"] = crowds[["item", "crowd"]].assign(
            premium=pd.to_numeric(crowds["proposed"]).to_numpy(float))
    regions = recs[recs["action"].isin(["exclude_region", "include_region"])]
    if len(regions):
        now = market.regions.loc[market.regions["excluded"].astype(bool), ["campaign", "region"]]
        keys = set(map(tuple, now.astype(str).to_numpy()))
        for action, campaign, region in regions[["action", "campaign", "region"]].astype(str).to_numpy():
            (keys.add if action == "exclude_region" else keys.discard)((campaign, region))
        extra["excluded_regions"] = pd.DataFrame(sorted(keys), columns=["campaign", "region"])
    hours = recs[recs["action"] == "set_hour_discount"]
    if len(hours):
        extra["hour_discounts"] = hours[["campaign"]].assign(
            hour=pd.to_numeric(hours["hour"]).astype(int),
            discount=pd.to_numeric(hours["proposed"]).to_numpy(float))
    return bids, extra


def on_truth(market: Market, bids: pd.DataFrame, margins: pd.Series | None = None,
             **extra) -> pd.DataFrame:
    """Per-campaign cost, GMV, clicks, orders and ROI of a plan on the simulator's truth,
    and profit (GMV x the item's margin - cost) when ``margins`` (per item) is given.

    A zero bid means paused: the row is passed as paused (an unlisted keyword would keep
    its current bid in ``Market.expected``).
    """
    live = bids["bid"].to_numpy(float) > 0
    paused = [bids.loc[~live, KEYWORD_KEYS]]
    if "paused_keywords" in extra:
        paused.append(extra.pop("paused_keywords")[KEYWORD_KEYS])
    paused_frame = pd.concat(paused, ignore_index=True).drop_duplicates()
    expected = market.expected(bids[live], paused_keywords=paused_frame, **extra)
    totals = market.campaign_totals(expected).set_index("campaign")
    if extra.get("budgets") is not None:  # what the plan would spend if nothing stopped it
        extra = {k: v for k, v in extra.items() if k != "budgets"}
        free = market.expected(bids[live], paused_keywords=paused_frame, **extra)
        totals["uncapped_cost"] = free.groupby("campaign")["cost"].sum()
    if margins is not None:
        profit = expected["gmv"] * expected["item"].map(margins).to_numpy(float) - expected["cost"]
        totals["profit"] = profit.groupby(expected["campaign"]).sum()
    return totals


# -- one case --------------------------------------------------------------------------------
def run_case(label: str, market: Market, files: dict[str, Path], floor: float,
             strategies: str, optimiser: dict[str, float] | None = None,
             budgets: dict[str, float] | None = None, night: dt.date = NIGHT,
             calendar: list[dict] | None = None, objective: str = "gmv",
             history_days: int = 14, capped: bool = False, weekdays: bool = False,
             gap: tuple[float, ...] = (), window: pd.DataFrame | None = None) -> Case:
    """bidopt, the baselines and the oracle on one shop at one floor, all judged on truth.

    ``optimiser`` overrides bidopt's optimiser settings (e.g. ``roi_margin_pct``); ``budgets``
    sets a daily budget per campaign; ``calendar`` gives bidopt config phases. Everything is
    judged against ``floor`` and those budgets on ``market`` (a day view on promotion nights);
    with ``capped`` the truth stops each campaign at its budget. ``gap`` (floor margins in
    percent) adds the oracle planned on each view of ``plan_gap`` at each margin (``window``
    from its levels, when given).
    """
    data: dict = {"shop": label, "constraints": {"roi_floor": floor},
                  "objective": {"target": objective}, "calendar": calendar or [],
                  "history": {"days": history_days, "weekdays": weekdays}}
    if budgets:
        data["constraints"]["campaigns"] = {name: {"daily_budget": round(b, 2)}
                                            for name, b in budgets.items()}
    data["optimiser"] = dict(optimiser or {})
    pm = get_plugin_manager(entry_points=False)
    registry = build_registry(pm)
    sources = SourceOverrides([p for n, p in sorted(files.items()) if n.endswith("report")],
                              files["items"], files["candidates"])
    truth = {}
    if capped and budgets:
        extra_truth = {"budgets": {name: round(b, 2) for name, b in budgets.items()}}
    else:
        extra_truth = {}
    if strategies == "all":
        alone = plan_night(parse_config(data), registry, date=night, sources=sources)
        bids, extra = plan_inputs(alone.recommendations, alone.context.keywords, market)
        truth["bids_only"] = on_truth(market, bids, item_margins(alone)[1], **extra,
                                      **extra_truth)
        data["strategies"] = {name: {} for name in registry.strategies}
    config = parse_config(data)
    start = time.perf_counter()
    run = plan_night(config, registry, date=night, sources=sources)
    seconds = time.perf_counter() - start
    state = run.context.keywords
    used = run.context.config.model_copy(update={"constraints": run.context.config.constraints
                                                 .model_copy(update={"roi_floor": floor})})
    margin, margins = item_margins(run)
    bids, extra = plan_inputs(run.recommendations, state, market)
    truth["bidopt"] = on_truth(market, bids, margins, **extra, **extra_truth)
    for name, plan in baseline_plans(state, used).items():
        truth[name] = on_truth(market, plan, margins, **extra_truth)
    seen = spend_seen(run.context, state[KEYWORD_KEYS].assign(current=state["bid"], kind="bought"))
    held = oracle_plan(state, market, held_to_plan(used, run),
                       added_spend_margin_pct=used.optimiser.added_spend_margin_pct,
                       seen_cost=seen, margin=margin)
    truth["oracle_held"] = on_truth(market, held.bids, margins, **extra_truth)
    truth["oracle"] = on_truth(market, oracle_plan(state, market, used, margin=margin).bids,
                               margins, **extra_truth)
    errors = None
    if gap:
        today = at_todays_bids(run.context.forecast, market, state)
        seen_as = views(market, run.context.forecast, today, window)
        for name, plan in gap_plans(state, seen_as, used, gap, margin).items():
            truth[name] = on_truth(market, plan, margins, **extra_truth)
        if window is not None:
            errors = level_errors(window, today, state)
    return Case(label, floor, truth, run, market, bids, seconds, used, bool(extra_truth), errors)


def item_margins(run: RunResult) -> tuple[np.ndarray, pd.Series]:
    """The margin of each keyword's item as bidopt plans profit with it (the items file's
    price and unit cost, else ``objective.default_margin``): per keyword row, and per item."""
    items = run.context.keywords["item"]
    margin = item_economics(run.context, items)[1]
    return margin, pd.Series(margin, index=items.to_numpy()).groupby(level=0).first()


def held_to_plan(config: Config, run: RunResult) -> Config:
    """``config`` with every campaign's floor and budget replaced by the ones bidopt planned
    (the margin on added spend is passed to ``oracle_plan`` on its own)."""
    planned = run.decision.campaigns
    campaigns = {
        str(r.campaign): CampaignLimits(
            roi_floor=float(r.planned_floor),
            daily_budget=float(r.planned_budget) if np.isfinite(r.planned_budget) else None)
        for r in planned.itertuples(index=False)
    }
    constraints = config.constraints.model_copy(update={"campaigns": campaigns})
    return config.model_copy(update={"constraints": constraints})


def limits(case: Case) -> pd.DataFrame:
    """Floor and budget per campaign, and whether the oracle can hold the floor at all."""
    config = case.judged
    names = case.truth["oracle"].index
    frame = pd.DataFrame([config.constraints.for_campaign(n) for n in names], index=names,
                         columns=["floor", "budget"])
    frame["attainable"] = case.truth["oracle"]["roi"] >= frame["floor"] * (1 - TOL)
    return frame


def floor_broken(totals: pd.DataFrame, lim: pd.DataFrame) -> pd.Series:
    """Per campaign: True where an attainable floor is broken on truth."""
    roi = totals["roi"].reindex(lim.index).fillna(np.inf)
    return (roi < lim["floor"] * (1 - TOL)) & lim["attainable"]


def violations(totals: pd.DataFrame, lim: pd.DataFrame) -> pd.Series:
    """Per campaign: True where an attainable floor, or a budget, is broken on truth (a
    truth that stops campaigns at their budgets never breaks one)."""
    over = totals["cost"].reindex(lim.index).fillna(0) > lim["budget"] * (1 + TOL)
    return floor_broken(totals, lim) | over


def floors_held(case: Case) -> pd.DataFrame:
    """Per campaign of bidopt's plan: whether its planned floor holds the plan back
    (``binds``: the solver prices it, or the plan sits within 2% of it), the margin it was
    planned with above the floor, and whether the floor breaks on truth (``broken``)."""
    planned = case.run.decision.campaigns.set_index("campaign")
    lim = limits(case)
    return pd.DataFrame({
        "binds": planned["floor_binds"].reindex(lim.index).fillna(False).astype(bool),
        "margin": (planned["planned_floor"] / planned["roi_floor"] - 1).reindex(lim.index),
        "broken": floor_broken(case.truth["bidopt"], lim)})


def binding_broken_share(frame: pd.DataFrame) -> float:
    """Of the campaigns whose floor binds (``floors_held``), the share broken on truth."""
    bind = frame["broken"][frame["binds"]]
    return float(bind.mean()) if len(bind) else 0.0


def floors_held_line(frame: pd.DataFrame, confidence: float) -> str:
    """One line: how many of bidopt's floors bind and how many of those break on truth,
    against the probability each was planned to hold with (``optimiser.floor_confidence``)."""
    bind = frame[frame["binds"]]
    rate = binding_broken_share(frame)
    return (f"  bidopt's floors: {len(bind)} of {len(frame)} campaigns planned at their floor "
            f"(margin above it: median {bind['margin'].median():+.0%}), "
            f"{int(bind['broken'].sum())} of them broken on truth ({rate:.1%}); each was "
            f"planned to hold with probability {confidence:g}; broken elsewhere: "
            f"{int(frame.loc[~frame['binds'], 'broken'].sum())}")


def offline(totals: pd.DataFrame, lim: pd.DataFrame) -> pd.Series:
    """Per campaign: True where the plan would spend more than its budget, i.e. (on a
    capped truth) its ads go offline before midnight."""
    totals = totals.reindex(lim.index)
    cost = totals["uncapped_cost"] if "uncapped_cost" in totals else totals["cost"]
    return cost.fillna(0) > lim["budget"] * (1 + 1e-6)


def score(case: Case) -> pd.DataFrame:
    """One row per method: the objective's ``value`` on truth, GMV, cost, ROI, violations,
    gain in the objective over keep, oracle share."""
    lim = limits(case)
    target = case.judged.objective.target
    rows = []
    for method in methods(case.truth):
        t = case.truth[method]
        gmv, cost = t["gmv"].sum(), t["cost"].sum()
        rows.append({"shop": case.shop, "floor": case.floor, "method": method,
                     "value": t[target].sum(), "gmv": gmv,
                     "cost": cost, "roi": gmv / cost if cost > 0 else np.nan,
                     "violations": int(violations(t, lim).sum()), "campaigns": len(lim),
                     "offline": int(offline(t, lim).sum()),
                     "unattainable": int((~lim["attainable"]).sum())})
    frame = pd.DataFrame(rows)
    keep = frame.loc[frame["method"] == "keep", "value"].iloc[0]
    frame["gain"] = frame["value"] - keep
    oracle_gain = frame.loc[frame["method"] == "oracle", "gain"].iloc[0]
    frame["share"] = frame["gain"] / oracle_gain if oracle_gain > 0 else np.nan
    return frame


def verdict(frame: pd.DataFrame) -> tuple[bool, list[str]]:
    """bidopt valid and ahead of every baseline in this shop x floor? With the reasons."""
    by = frame.set_index("method")
    problems = []
    ours = by.loc["bidopt"]
    if ours["violations"]:
        problems.append(f"bidopt breaks {ours['violations']} campaign floor(s)/budget(s) on truth")
    for name in BASELINES:
        other = by.loc[name]
        if not ours["violations"] and not other["violations"] and other["value"] >= ours["value"]:
            problems.append(f"{name} earns {other['value']:,.0f} >= bidopt {ours['value']:,.0f} "
                            "with every floor held")
        if ours["violations"] and other["violations"] < ours["violations"]:
            problems.append(f"{name} breaks fewer floors ({other['violations']})")
    return not problems, problems


# -- printing --------------------------------------------------------------------------------
def print_table(frame: pd.DataFrame, title: str, objective: str = "gmv",
                budgets: bool = False) -> None:
    """The methods' sums; with an objective other than GMV its column comes first; with
    budgets, the campaigns whose spend reaches the budget (offline before midnight)."""
    other = objective != "gmv"
    print(f"\n{title}")
    print(f"{'method':<12} " + (f"{objective:>10} " if other else "")
          + f"{'GMV':>10} {'cost':>10} {'ROI':>6} {'viol':>6} "
          + (f"{'offline':>7} " if budgets else "") + f"{'gain vs keep':>13} "
          f"{'oracle share':>13}")
    for r in frame.itertuples(index=False):
        share = "" if not np.isfinite(r.share) else f"{r.share:>12.0%}"
        print(f"{r.method:<12} " + (f"{r.value:>10,.0f} " if other else "")
              + f"{r.gmv:>10,.0f} {r.cost:>10,.0f} {r.roi:>6.2f} "
              f"{r.violations:>3}/{r.campaigns:<2} "
              + (f"{r.offline:>4}/{r.campaigns:<2} " if budgets else "")
              + f"{r.gain:>+13,.0f} {share:>13}")


def print_detail(case: Case) -> None:
    """Per campaign: true ROI and GMV of every method, and the attainability of the floor."""
    lim = limits(case)
    print(f"\n  per campaign, {case.shop} floor {case.floor} (true ROI / GMV; * = floor broken)")
    print("  " + f"{'campaign':<16}" + "".join(f"{m:>18}" for m in methods(case.truth)))
    for name in lim.index:
        cells = []
        for method in methods(case.truth):
            t = case.truth[method].reindex(lim.index)
            broken = violations(case.truth[method], lim)[name]
            cells.append(f"{t.loc[name, 'roi']:.2f}{'*' if broken else ' '}/{t.loc[name, 'gmv']:,.0f}")
        note = "" if lim.loc[name, "attainable"] else "  (floor unattainable in one night)"
        print(f"  {name:<16}" + "".join(f"{c:>18}" for c in cells) + note)


def keyword_forecast(case: Case, state: pd.DataFrame, bids: np.ndarray) -> pd.DataFrame:
    """bidopt's own one-day forecast (the response model) of every state row at ``bids``:
    cost and GMV (0 where paused) and the rank."""
    fc = case.run.context.forecast(state[KEYWORD_KEYS], np.maximum(bids, 0.01)[:, None])
    live = bids > 0
    out = pd.DataFrame({name: np.where(live, np.asarray(getattr(fc, name), float)[:, 0], 0.0)
                        for name in ("cost", "gmv")})
    return out.assign(rank=np.asarray(fc.rank, float)[:, 0])


RANK_BANDS = (1.0, 1.05, 1.2, 1.5, 2.0, 3.0, 5.0, 8.0, 100.0)
"""Forecast ranks today that ``diagnose`` splits the moved mobile bids by."""


def diagnose(case: Case) -> None:
    """bidopt's forecast against truth, at the kept bids and at the chosen ones.

    Per campaign, and then per kind of move (bids raised / cut / kept): the forecast cost and
    ROI at today's bids against truth (the history's level), and the change in cost and GMV
    the model expected from the night's moves against the change truth delivers. On short
    histories (``--days 3``) both parts err more: which one breaks a floor shows here.
    A forecast marginal ROI (dGMV / dCost) above the floor with a true one below it is the
    signature of a model that under-forecasts how cost grows with the bid. Last, the moved
    mobile bids by their forecast rank today: where along the page the forecast of a move errs.
    """
    state = case.run.context.keywords.reset_index(drop=True)
    chosen = case.bidopt_bids["bid"].to_numpy(float)
    current = state["bid"].to_numpy(float)
    parts = {"fc0": keyword_forecast(case, state, current), "fc1": keyword_forecast(case, state, chosen),
             "t0": pd.DataFrame(truth_outcome(case.market, state, current, names=("cost", "gmv"))),
             "t1": pd.DataFrame(truth_outcome(case.market, state, chosen, names=("cost", "gmv")))}
    frame = pd.concat(parts, axis=1)
    frame.columns = [f"{a}_{b}" for a, b in frame.columns]
    frame["campaign"] = state["campaign"].to_numpy()
    frame["platform"] = state["platform"].to_numpy()
    labels = [f"{a:g}-{b:g}" for a, b in zip(RANK_BANDS[:-1], RANK_BANDS[1:], strict=True)]
    frame["rank"] = pd.cut(parts["fc0"]["rank"].to_numpy(), RANK_BANDS, labels=labels)
    frame["move"] = np.select([chosen <= 0, chosen > current + 1e-9, chosen < current - 1e-9],
                              ["paused", "raised", "cut"], "kept")
    change = np.where(current > 0, chosen / np.where(current > 0, current, 1) - 1, 0)
    counts = frame["move"].value_counts()
    print(f"\n  diagnosis, {case.shop} floor {case.floor}: bidopt moves "
          + ", ".join(f"{counts.get(m, 0)} {m}" for m in ("raised", "cut", "paused", "kept"))
          + f" of {len(frame)} bids; mean change of moved bids "
          f"{change[frame['move'].isin(['raised', 'cut']).to_numpy()].mean():+.1%}")
    header = (f"  {'':<16} {'fc cost':>8} {'true':>7} {'fc ROI':>7} {'true':>6} | "
              f"{'keep: fc cost':>13} {'true':>7} {'fc ROI':>7} {'true':>6} | "
              f"{'moves: fc dCost':>15} {'true':>7} "
              f"{'fc dGMV':>8} {'true':>7} {'fc mROI':>8} {'true':>7}")
    print(header)

    def line(label: str, g: pd.DataFrame) -> None:
        tot = g.sum(numeric_only=True)
        fdc, tdc = tot["fc1_cost"] - tot["fc0_cost"], tot["t1_cost"] - tot["t0_cost"]
        fdg, tdg = tot["fc1_gmv"] - tot["fc0_gmv"], tot["t1_gmv"] - tot["t0_gmv"]

        def div(a: float, b: float) -> float:
            return a / b if abs(b) > 1e-9 else np.nan

        print(f"  {label:<16} {tot['fc1_cost']:>8,.0f} {tot['t1_cost']:>7,.0f} "
              f"{div(tot['fc1_gmv'], tot['fc1_cost']):>7.2f} {div(tot['t1_gmv'], tot['t1_cost']):>6.2f} | "
              f"{tot['fc0_cost']:>13,.0f} {tot['t0_cost']:>7,.0f} "
              f"{div(tot['fc0_gmv'], tot['fc0_cost']):>7.2f} {div(tot['t0_gmv'], tot['t0_cost']):>6.2f} | "
              f"{fdc:>+15,.0f} {tdc:>+7,.0f} "
              f"{fdg:>+8,.0f} {tdg:>+7,.0f} {div(fdg, fdc):>8.2f} {div(tdg, tdc):>7.2f}")

    for name, g in frame.groupby("campaign", sort=True):
        line(str(name), g)
    for move in ("raised", "cut", "paused"):
        g = frame[frame["move"] == move]
        if len(g):
            line(f"[{move} bids]", g)
    # where the forecast of a move errs: mobile bids moved, by their forecast rank today
    for move in ("raised", "cut"):
        for band, g in frame[(frame["move"] == move) & (frame["platform"] == "mobile")].groupby(
                "rank", observed=True):
            line(f"  {move} at {band}", g)


def print_level_errors(errors: pd.DataFrame) -> None:
    """``--gap``: how far each keyword's ROI at today's bids is off the truth, read by the
    ``window`` view and forecast by bidopt (``plan_gap.level_errors``)."""
    table = level_error_table(errors)
    print("\n  each keyword's ROI at today's bids against truth (keywords with a click in their "
          "window): root mean square of the log ratio, weighted by true cost")
    print(f"  {'platform':8s} {'true clicks/14d':>15s} {'keywords':>8s} {'true cost':>10s} "
          f"{'window':>7s} {'bidopt':>7s}")
    for (platform, band), row in table.iterrows():
        print(f"  {platform:8s} {band:>15s} {int(row['keywords']):8,d} {row['true_cost']:10,.0f} "
              f"{row['window']:7.2f} {row['forecast']:7.2f}")
    print("\n  bidopt's forecast against truth within campaigns: slope of the true log on the "
          "forecast's, weighted by true cost (1 = neither shrunk too far nor too little)")
    print(f"  {'platform':8s} {'window clicks':>15s} {'keywords':>8s} {'GMV/click':>10s} {'ROI':>7s}")
    for (platform, band), row in calibration_table(errors).iterrows():
        print(f"  {platform:8s} {band:>15s} {int(row['keywords']):8,d} {row['per_click']:10.2f} "
              f"{row['roi']:7.2f}")


@dataclass
class CaseReport:
    """What ``main`` needs of one shop x floor: small enough to come back from a worker
    process (a ``Case`` holds the fitted model and the plugin registry)."""

    shop: str
    floor: float
    frame: pd.DataFrame  # score()
    held: pd.DataFrame  # floors_held()
    confidence: float  # the floor_confidence bidopt planned with
    problems: list[str]  # verdict(): why this shop x floor fails alone
    text: str  # its tables, as printed
    level_errors: pd.DataFrame | None = None


def report_case(case: Case, args: argparse.Namespace) -> CaseReport:
    """Score one case and print its tables (the per-campaign detail and the diagnosis too
    when bidopt breaks a floor there, or with ``--detail``) into the report."""
    frame = score(case)
    good, problems = verdict(frame)
    out = io.StringIO()
    with redirect_stdout(out):
        unatt = frame["unattainable"].iloc[0]
        note = f"; {unatt} campaign floor(s) unattainable in one night" if unatt else ""
        print_table(frame, f"== {case.shop}, ROI floor {case.floor}{note}: "
                           f"{'bidopt OK' if good else 'bidopt FAILS'}", args.objective,
                    bool(args.budget))
        counts = case.run.recommendations["action"].value_counts()
        print("bidopt actions: " + (", ".join(f"{a} {n}" for a, n in counts.items()) or "none"))
        if args.detail or frame.set_index("method").loc["bidopt", "violations"] > 0:
            print_detail(case)
            diagnose(case)
    return CaseReport(case.shop, case.floor, frame, floors_held(case),
                      case.run.context.config.optimiser.floor_confidence,
                      [f"{case.shop} floor {case.floor}: {p}" for p in problems],
                      out.getvalue(), case.level_errors)


def in_processes(fn, jobs: list[tuple], workers: int) -> list:
    """``[fn(*job) for job in jobs]``, in order; with ``workers`` > 1 in that many spawned
    processes (not forked: a fork of a process whose model fits left thread pools behind
    can hang on a lock one of those threads held)."""
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(min(workers, len(jobs)),
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            return list(pool.map(fn, *zip(*jobs, strict=True)))
    return [fn(*job) for job in jobs]


def run_shop(label: str, seed: int, size: str, args: argparse.Namespace,
             optimiser: dict) -> list[CaseReport]:
    """Draw one shop, write its exports and run every floor on it (in a worker process
    with ``--jobs``)."""
    draw = {"seed": seed, "days": args.days, "size": size, "seasonal": args.seasonal,
            "end_date": args.night - dt.timedelta(days=1)}
    shop = simulate_shop(**draw)
    budgets = None
    if args.budget:
        spend = shop.keyword_report.groupby("campaign")["cost"].sum() / args.days
        budgets = (spend * args.budget).round(2).to_dict()
        if not args.no_cap:  # the seller's budget was in force in the history too
            shop = simulate_shop(**draw, budgets=budgets)
            daily = shop.keyword_report.groupby(["campaign", "date"])["cost"].sum()
            at_budget = daily >= daily.index.get_level_values(0).map(budgets) * 0.999
            capped_days = at_budget.groupby(level=0).sum()
            print(f"{label}: history days at the budget per campaign: "
                  + ", ".join(f"{c} {n}" for c, n in capped_days.items()), file=sys.stderr)
    market = (shop.market.on_day(args.night, seasonal=True) if args.seasonal
              else shop.market.on_day(args.night, seasonal=False) if args.weekday
              else shop.market)
    gap = tuple(args.gap or (10.0, 15.0, 20.0)) if args.gap is not None else ()
    window = None
    if gap:
        window = window_levels(shop.keyword_report, shop.market,
                               budgets if budgets and not args.no_cap else None, args.seasonal)
    reports = []
    with tempfile.TemporaryDirectory(prefix="bidopt-bench-plan-") as tmp:
        files = write_shop(shop, Path(tmp) / label)
        for floor in args.floors:
            start = time.perf_counter()
            case = run_case(label, market, files, floor, args.strategies, optimiser, budgets,
                            args.night, calendar_config() if args.phase_factors else None,
                            args.objective, max(14, args.days),
                            capped=bool(budgets) and not args.no_cap,
                            weekdays=args.weekday_factors, gap=gap, window=window)
            reports.append(report_case(case, args))
            print(f"{label} floor {floor}: bidopt plan {case.seconds:.1f}s, "
                  f"case {time.perf_counter() - start:.1f}s", file=sys.stderr)
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--size", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--medium", action=argparse.BooleanOptionalAction, default=True,
                        help="Add medium shops (10 campaigns each; seed 0 unless "
                             "--medium-seeds says otherwise); on by default.")
    parser.add_argument("--medium-seeds", type=int, nargs="+", default=[0],
                        help="The seeds of the medium shops added (default: 0), e.g. "
                             "--seeds 0 ... 29 --medium-seeds 0 1 2 3 for a run over many shops.")
    parser.add_argument("--margin", type=float, default=None,
                        help="bidopt's optimiser.roi_margin_pct for this run (default: the "
                             "config default); every method is judged against the floor.")
    parser.add_argument("--floors", type=float, nargs="+", default=[2.0, 2.5])
    parser.add_argument("--added-spend-margin", type=float, default=None,
                        help="bidopt's optimiser.added_spend_margin_pct for this run (default: the "
                             "config default).")
    parser.add_argument("--budget-margin", type=float, default=None,
                        help="bidopt's optimiser.budget_margin_pct for this run (default: the "
                             "config default).")
    parser.add_argument("--optimiser", metavar="KEY=VALUE", action="append", default=[],
                        help="Any other optimiser setting for bidopt, e.g. "
                             "min_clicks_to_raise=3 (repeatable).")
    parser.add_argument("--budget", type=float, default=None,
                        help="Give each campaign a daily budget of this multiple of its average "
                             "daily spend in an uncapped history (e.g. 1.2); the history read "
                             "and the truth judged stop each campaign at its budget.")
    parser.add_argument("--no-cap", action="store_true",
                        help="With --budget: the old judge, histories and truth uncapped and a "
                             "budget broken when true cost exceeds it.")
    parser.add_argument("--days", type=int, default=14,
                        help="Days of history simulated; above 14, bidopt's history.days is "
                             "set to read them all.")
    parser.add_argument("--night", type=dt.date.fromisoformat, default=NIGHT,
                        help="The planned night (YYYY-MM-DD); the history ends the day before.")
    parser.add_argument("--seasonal", action="store_true",
                        help="Histories with the Double 11 / Double 12 calendar; plans judged "
                             "on the truth of --night with its calendar factors.")
    parser.add_argument("--weekday", action="store_true",
                        help="Judge on the truth of --night's weekday (its search volume), "
                             "not on a typical day (implied by --seasonal).")
    parser.add_argument("--weekday-factors", action=argparse.BooleanOptionalAction, default=False,
                        help="bidopt's history.weekdays (default off, as in bidopt).")
    parser.add_argument("--phase-factors", action="store_true",
                        help="Give bidopt the simulator's calendar as config phases with "
                             "traffic, conversion and cart factors.")
    parser.add_argument("--strategies", default="default", choices=["default", "all"],
                        help="default: the config's default strategies; all: every registered one.")
    parser.add_argument("--objective", default="gmv", choices=["gmv", "clicks", "orders", "profit"],
                        help="What bidopt and the oracle maximise (objective.target); gains "
                             "and shares are in its units.")
    parser.add_argument("--gap", type=float, nargs="*", default=None, metavar="PCT",
                        help="Where the distance to the oracle goes: also plan with the oracle "
                             "on truth seen through each of bidopt's errors (plan_gap.py), "
                             "with every floor raised by each margin given (percent; none "
                             "given: 10 15 20).")
    parser.add_argument("--detail", action="store_true",
                        help="Per-campaign tables, and the forecast of the night's moves against "
                             "truth (per campaign, per kind of move, per forecast rank).")
    parser.add_argument("--min-share", type=float, default=None,
                        help="Also fail when bidopt captures less than this share of the "
                             "oracle's total gain (e.g. 0.6).")
    parser.add_argument("--max-broken", type=float, default=None,
                        help="Also fail when more than this share of the campaigns whose "
                             "floor binds in bidopt's plan break it on truth (e.g. 0.1, the "
                             "1 - floor_confidence each floor is planned with).")
    parser.add_argument("--jobs", type=int, default=1,
                        help="Shops run in parallel in this many processes (e.g. 2 on two "
                             "cores); the output is the same, in the same order.")
    parser.add_argument("--verdict", default="shop", choices=["shop", "population"],
                        help="shop: fail when bidopt breaks a floor or trails a baseline in any "
                             "shop x floor; population: judge the sums over all shops (bidopt "
                             "earns more than every baseline, and breaks no more of its binding "
                             "floors than --max-broken, by default 1 - floor_confidence; a "
                             "budget broken on the uncapped judge, --no-cap, is listed per shop, "
                             "not judged).")
    args = parser.parse_args(argv)

    settings = {"roi_margin_pct": args.margin,
                "added_spend_margin_pct": args.added_spend_margin,
                "budget_margin_pct": args.budget_margin}
    optimiser = {name: value for name, value in settings.items() if value is not None}
    for item in args.optimiser:
        name, _, value = item.partition("=")
        optimiser[name.strip()] = value.strip()
    shops = [(f"{args.size}-{s}", s, args.size) for s in args.seeds]
    if args.medium:
        shops += [(f"medium-{s}", s, "medium") for s in args.medium_seeds]
    shops = list(dict.fromkeys(shops))  # e.g. --size medium --seeds 0 1 names medium-0 too
    total_start = time.perf_counter()
    jobs = [(label, seed, size, args, optimiser) for label, seed, size in shops]
    per_shop = in_processes(run_shop, jobs, args.jobs)
    reports = [report for shop_reports in per_shop for report in shop_reports]

    frames = [r.frame for r in reports]
    ok = True
    failures: list[str] = []
    per_shop_notes: list[str] = []  # --verdict population: read, not judged
    for report in reports:
        print(report.text, end="")
        if args.verdict == "shop":
            ok &= not report.problems
            failures += report.problems
        else:
            per_shop_notes += report.problems
    errors = [r.level_errors.assign(shop=r.shop) for r in reports
              if r.level_errors is not None and r.floor == args.floors[0]]

    everything = pd.concat(frames, ignore_index=True)
    for floor, group in everything.groupby("floor"):
        present = methods(dict.fromkeys(group["method"]))
        totals = group.groupby("method", sort=False)[["value", "gmv", "cost", "gain", "violations",
                                                       "campaigns", "offline"]].sum().reindex(present)
        totals["roi"] = totals["gmv"] / totals["cost"]
        oracle_gain = totals.loc["oracle", "gain"]
        totals["share"] = totals["gain"] / oracle_gain if oracle_gain > 0 else np.nan
        totals = totals.reset_index().rename(columns={"index": "method"})
        totals["violations"] = totals["violations"].astype(int)
        totals["campaigns"] = totals["campaigns"].astype(int)
        totals["offline"] = totals["offline"].astype(int)
        print_table(totals, f"== ALL {len(group) // len(present)} shops, ROI floor {floor} "
                            "(sums; viol = campaigns broken / campaigns"
                            + ("; offline = campaigns whose spend reaches the budget"
                               if args.budget else "") + ")", args.objective, bool(args.budget))
        per_shop = group.pivot(index="shop", columns="method", values="gain")
        print(interval_line("bidopt", per_shop["bidopt"], per_shop["oracle"]))
        at_floor = [r for r in reports if r.floor == floor]
        held = pd.concat([r.held for r in at_floor])
        confidence = at_floor[0].confidence
        print(floors_held_line(held, confidence))
        broken_share = binding_broken_share(held)
        max_broken = args.max_broken
        if max_broken is None and args.verdict == "population":
            max_broken = 1.0 - confidence
        if max_broken is not None and broken_share > max_broken + 1e-12:
            ok = False
            failures.append(f"floor {floor}: {broken_share:.1%} of the floors that bind in "
                            f"bidopt's plan break on truth (> {max_broken:.1%})")
        if args.verdict == "population":
            by = totals.set_index("method")
            for name in BASELINES:
                if by.loc[name, "value"] >= by.loc["bidopt", "value"]:
                    ok = False
                    failures.append(f"floor {floor}: {name} earns {by.loc[name, 'value']:,.0f} "
                                    f">= bidopt {by.loc['bidopt', 'value']:,.0f} over all shops")
        share = totals.set_index("method").loc["bidopt", "share"]
        if args.min_share is not None and not (share >= args.min_share):
            ok = False
            failures.append(f"floor {floor}: bidopt captures {share:.0%} of the oracle's gain "
                            f"(< {args.min_share:.0%})")
    if errors:
        print_level_errors(pd.concat(errors, ignore_index=True))
    if args.strategies == "all":
        print("\nnote: the oracle moves bids only; bidopt's adds, crowd premiums, region and "
              "hour actions can take it past 100% of the oracle's gain")
    print(f"\ntotal {time.perf_counter() - total_start:.0f}s")
    if per_shop_notes:
        print("\nper shop (--verdict population: read, not judged):\n  "
              + "\n  ".join(per_shop_notes))
    if failures:
        print("\nFAIL:\n  " + "\n  ".join(failures))
    elif args.verdict == "population":
        print("\nPASS: over all shops bidopt earns more than every baseline, and no more of "
              "its binding floors break on truth than it planned for")
    else:
        print("\nPASS: bidopt holds every attainable floor on truth and beats every baseline")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
