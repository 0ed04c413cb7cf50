"""The market simulator behind the sample shop, the tests and the benchmarks.

:func:`simulate_shop` draws a seeded shop: a generalised-second-price keyword market with
quality scores, position-driven CTR, crowds, regions and hours (the ground truth,
:class:`Market`), and the daily reports a seller would export from it. :func:`write_shop`
writes those reports as CSV, in English or as GBK-encoded ZTC exports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bidopt.schema import CANDIDATE_COLUMNS, ITEM_COLUMNS
from bidopt.simulate._calendar import calendar_config, calendar_factors
from bidopt.simulate._history import simulate_reports
from bidopt.simulate._market import Market
from bidopt.simulate._names import CATEGORY_NAMES
from bidopt.simulate._truth import SIZES, build_truth, shop_dimensions
from bidopt.simulate._write import FILES as SHOP_FILES
from bidopt.simulate._write import write_shop

__all__ = [
    "DEFAULT_END_DATE",
    "SHOP_FILES",
    "SIZES",
    "Market",
    "SimulatedShop",
    "calendar_config",
    "calendar_factors",
    "next_day_reports",
    "shop_dimensions",
    "simulate_shop",
    "write_shop",
]

DEFAULT_END_DATE = dt.date(2026, 11, 24)


@dataclass
class SimulatedShop:
    """A simulated shop's exported reports, item and candidate tables, and its truth."""

    keyword_report: pd.DataFrame
    crowd_report: pd.DataFrame
    region_report: pd.DataFrame
    hour_report: pd.DataFrame
    items: pd.DataFrame
    candidates: pd.DataFrame
    market: Market


def simulate_shop(
    seed: int = 0,
    days: int = 14,
    size: str = "small",
    end_date: dt.date | None = None,
    n_keywords: int | None = None,
    *,
    seasonal: bool = False,
    budgets=None,
) -> SimulatedShop:
    """Draw a shop and ``days`` days of reports ending at ``end_date`` (default 2026-11-24).

    ``size``: "small" (~3 campaigns, 30 items, 600 keywords), "medium" (10, 300, 10,000),
    "large" (40, 3,000, 100,000); every keyword is bought on mobile and PC. ``n_keywords``
    overrides the keyword count (items and campaigns scale with it). ``seasonal`` applies
    the Double 11 / Double 12 calendar to the history (off by default: a stationary history
    is what bid models are judged on). ``budgets`` (campaign -> daily budget, optional;
    see :meth:`Market.budget_array`): a campaign's ads stop for the rest of a day once its
    spend reaches its budget, so such days show less than the bids would buy. The same
    arguments always give the same shop.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    n_kw, n_items, n_campaigns = shop_dimensions(size, n_keywords)
    truth_seed, history_seed = np.random.SeedSequence(seed).spawn(2)
    truth = build_truth(np.random.default_rng(truth_seed), n_kw, n_items, n_campaigns, days)
    end = pd.Timestamp(end_date or DEFAULT_END_DATE)
    dates = pd.date_range(end=end, periods=days, freq="D")
    reports = simulate_reports(truth.market, np.random.default_rng(history_seed), dates,
                               truth.bid_paths, truth.quality_paths, seasonal,
                               budgets=None if budgets is None
                               else truth.market.budget_array(budgets))
    return SimulatedShop(
        **reports,
        # the truth numbers categories; the export names them, as a seller's items file does
        items=truth.items.assign(category=CATEGORY_NAMES[truth.items["category"].to_numpy()])[
            list(ITEM_COLUMNS)].copy(),
        candidates=truth.candidates[list(CANDIDATE_COLUMNS)].copy(),
        market=truth.market,
    )


def next_day_reports(market: Market, day: dt.date, bids: np.ndarray, *,
                     paused: np.ndarray | None = None, seed: int = 0,
                     seasonal: bool = False, budgets=None) -> SimulatedShop:
    """One more day of reports from ``market`` with ``bids`` in force (closed-loop runs).

    ``bids`` and ``paused`` are aligned with ``market.keywords`` (the bought rows); a paused
    keyword gets no traffic and no keyword report row. Quality scores are today's. The same
    seed gives the same day for the same bids. ``budgets`` as in :func:`simulate_shop`.
    Items and candidates are not redrawn: the
    returned shop has empty ``items`` and ``candidates``.
    """
    n = len(market.keywords)
    bids = np.asarray(bids, dtype=float).reshape(1, n)
    active = None if paused is None else ~np.asarray(paused, dtype=bool).reshape(1, n)
    quality = market.keywords["quality_score"].to_numpy().reshape(1, n)
    reports = simulate_reports(market, np.random.default_rng(seed),
                               pd.DatetimeIndex([pd.Timestamp(day)]), bids, quality, seasonal,
                               active, None if budgets is None
                               else market.budget_array(budgets))
    return SimulatedShop(**reports, items=pd.DataFrame(columns=list(ITEM_COLUMNS)),
                         candidates=pd.DataFrame(columns=list(CANDIDATE_COLUMNS)), market=market)
