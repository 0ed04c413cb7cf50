"""Weekdays in the forecast: the shop's weekly pattern of search volume, from its reports.

Searches are not the same every day of the week (more at weekends for most shops). The
response model forecasts an ordinary day, the window's average one; so the fit sees every
report day divided by its weekday's factor, and the forecast of the planned night is
multiplied by the night's. A weekday scales how many people search: impressions, clicks,
cost, orders, GMV, carts and favourites alike, as a calendar phase's ``traffic_factor``
does (``bidopt.seasonality``); ROI is unchanged.

The factors are measured on the keyword report's daily impressions. Each keyword x platform
has its own level (a fixed effect), so keywords that come and go do not move the days; bid
changes move impressions too (a raise lifts a keyword up the page), so a keyword-day's bid
against the keyword's usual bid enters with an exponent per platform x rank band. Keyword-
days are pooled with weights that stop a few head words from making the day: a keyword-day's
relative variance is its Poisson noise plus the day-to-day spread measured over all of them.
Each day's index is that weighted mean of observed over expected; the spread of those
indices within a weekday is the noise a weekday's mean carries. With two weeks each weekday
is seen twice, so the weekday means are shrunk toward 1 (normal-normal empirical Bayes,
the pattern's variance by moments), and the factors stay 1 when the window holds fewer than
two of every weekday or the pattern is not distinguishable from the noise (F test).

Days a calendar phase rescaled are measured as rescaled. Campaign-days whose spend reached
the daily budget are left out: when the ads stop, the keywords that had no click yet lose
all their impressions, so such a day's impressions cannot be scaled back to a full day by
the share of its clicks that was online (``bidopt.budgets`` does that for the fit), and a
day whose spend only just reached the budget is cut too. A shop whose budgets stop its ads
on most days may then have too few of some weekday to measure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from bidopt.schema import GRAIN_KEYS

NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MIN_PER_WEEKDAY = 2
"""Every weekday must be in the window this many times (two full weeks) to be measured."""
SIGNIFICANCE = 0.05
"""The weekday means must differ by more than their noise at this level (F test)."""
RANK_BANDS = (3.5, 8.5, 15.5)
"""A keyword's bid moves its impressions by its rank: little at the top, a lot at the page
edge; one bid exponent per platform x band of the keyword's median rank."""
ITERATIONS = 12
CONVERGED = 1e-4
"""The alternating fit stops when no weekday's log mean moves by more than this (and no bid
exponent by more than ten times it)."""
SCALED = ("impressions", "clicks", "cost", "orders", "gmv", "carts", "favorites")


@dataclass(frozen=True)
class WeekdayFactors:
    """Search volume of each weekday (Monday first) against the window's average day."""

    factors: tuple[float, ...] = (1.0,) * 7
    measured: tuple[float, ...] | None = None
    """The weekday means before shrinkage (None when not measured)."""
    noise: float = float("nan")
    """Standard deviation of one day's log index around its weekday's mean."""
    p_value: float = float("nan")
    days: int = 0
    reason: str = ""
    """Why the factors are 1 ('' when they are measured)."""

    @property
    def used(self) -> bool:
        return any(f != 1.0 for f in self.factors)

    def factor(self, day: dt.date | pd.Timestamp) -> float:
        return self.factors[pd.Timestamp(day).day_of_week]

    def per_row(self, dates: pd.Series) -> np.ndarray:
        return np.asarray(self.factors)[pd.DatetimeIndex(dates).day_of_week.to_numpy()]

    def ordinary(self, keywords: pd.DataFrame) -> pd.DataFrame:
        """The daily keyword history with each day divided by its weekday's factor (every
        metric alike); the input is not modified."""
        if not self.used or keywords.empty:
            return keywords
        divisor = self.per_row(keywords["date"])
        out = keywords.copy(deep=False)  # the other columns stay shared: the history is big
        for name in SCALED:
            if name in out.columns:
                out[name] = keywords[name].to_numpy(float) / divisor
        return out

    def describe(self) -> str:
        """'Mon 0.98, Tue 0.97, ..., Sun 1.06'."""
        return ", ".join(f"{name} {f:.2f}" for name, f in zip(SHORT, self.factors, strict=True))

    def summary_line(self, night: dt.date) -> list[str]:
        """The run summary's line on the planned night's weekday, when its factor is not 1."""
        value = self.factor(night)
        if not self.used or round(value, 3) == 1.0:
            return []
        return [f"weekday: {NAMES[pd.Timestamp(night).day_of_week]}, forecast at "
                f"{value:.3f}x an average day's search volume (measured on {self.days} report "
                f"days: {self.describe()})"]


def estimate_weekdays(keywords: pd.DataFrame, at_budget: pd.DataFrame | None = None
                      ) -> WeekdayFactors:
    """The weekday factors the keyword report's daily impressions show.

    ``keywords``: the daily keyword history (after any calendar phase's rescale);
    ``at_budget``: campaign-days whose spend reached the daily budget
    (``budgets.days_at_budget``; campaign, date), left out.
    """
    rows = keywords
    if at_budget is not None and len(at_budget):
        cut = pd.MultiIndex.from_frame(at_budget[["campaign", "date"]]
                                       .astype({"campaign": str}))
        here = pd.MultiIndex.from_arrays([rows["campaign"].astype(str), rows["date"]])
        rows = rows[~here.isin(cut)]
    rows = rows[np.isfinite(pd.to_numeric(rows["impressions"], errors="coerce")
                            .to_numpy(float))] if len(rows) else rows
    dates = pd.DatetimeIndex(pd.unique(rows["date"])) if len(rows) else pd.DatetimeIndex([])
    counts = np.bincount(dates.day_of_week.to_numpy(), minlength=7)
    if counts.min() < MIN_PER_WEEKDAY:
        return WeekdayFactors(days=len(dates), reason=(
            f"the window holds {len(dates)} report days: fewer than {MIN_PER_WEEKDAY} of "
            "every weekday"))
    day_index, weekday = _day_indices(rows)
    logs = np.log(np.maximum(day_index, 1e-9))
    means = np.bincount(weekday, logs, 7) / counts
    residual = logs - means[weekday]
    dof = len(logs) - 7
    noise2 = float(residual @ residual) / dof
    centred = means - means.mean()
    within = noise2 / counts  # the variance of each weekday's mean
    between = float(centred @ centred) / 6
    p_value = float(stats.f.sf(between / max(within.mean(), 1e-12), 6, dof))
    pattern = max(0.0, between - float(within.mean()))
    measured = tuple(float(f) for f in np.exp(centred) / np.exp(centred).mean())
    common = {"measured": measured, "noise": noise2 ** 0.5, "p_value": p_value,
              "days": len(dates)}
    if p_value > SIGNIFICANCE or pattern <= 0:
        return WeekdayFactors(**common, reason=(
            f"the weekday pattern of {len(dates)} report days is not distinguishable from "
            f"their day-to-day noise (p = {p_value:.2f})"))
    shrunk = np.exp(centred * pattern / (pattern + within))
    return WeekdayFactors(factors=tuple(float(f) for f in shrunk / shrunk.mean()), **common)


def _day_indices(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each report day's search volume against the keywords' own levels at their bids: the
    weighted mean of observed / expected impressions over its keyword-days; with each day's
    weekday (0 = Monday)."""
    key = rows.groupby(list(GRAIN_KEYS["keywords"]), sort=False, observed=True).ngroup().to_numpy()
    y = rows["impressions"].to_numpy(float)
    day, dates = pd.factorize(pd.DatetimeIndex(rows["date"]), sort=True)
    weekday = pd.DatetimeIndex(dates).day_of_week.to_numpy()
    n_keys = int(key.max()) + 1
    # the keyword-day's bid against the keyword's usual (mean log) bid; none known: 0
    bid = pd.to_numeric(rows["bid"], errors="coerce").to_numpy(float) if "bid" in rows \
        else np.full(len(y), np.nan)
    log_bid = np.log(np.where(bid > 0, bid, np.nan))
    known = np.isfinite(log_bid)
    usual = (np.bincount(key[known], log_bid[known], n_keys)
             / np.maximum(np.bincount(key[known], minlength=n_keys), 1))
    x = np.clip(np.where(known, log_bid - usual[key], 0.0), -1.0, 1.0)
    rank = pd.to_numeric(rows["avg_rank"], errors="coerce") if "avg_rank" in rows \
        else pd.Series(np.nan, index=rows.index)
    median_rank = rank.groupby(key).median().reindex(range(n_keys)).to_numpy(float)
    band = np.digitize(np.nan_to_num(median_rank, nan=99.0), RANK_BANDS)[key]
    group = pd.factorize(rows["platform"].astype(str))[0] * (len(RANK_BANDS) + 1) + band
    n_groups = int(group.max()) + 1
    beta = np.zeros(n_groups)
    level = np.ones(len(dates))  # each day's index, the weekday means' while iterating
    spread = 0.1  # relative day-to-day variance of one keyword-day beyond Poisson
    x2 = x * x
    at_bid = np.ones(len(y))
    means = np.zeros(7)
    for _ in range(ITERATIONS):
        last_beta, last_means = beta, means
        on_day = level[day]
        own = np.bincount(key, y, n_keys) / np.maximum(np.bincount(key, on_day * at_bid, n_keys),
                                                       1e-12)
        weight = 1.0 / (1.0 / np.maximum(own[key] * at_bid, 1e-9) + spread)
        ratio = y / np.maximum(own[key], 1e-12)
        fitted = at_bid * on_day
        step = (np.bincount(group, weight * (ratio - fitted) * fitted * x, n_groups)
                / np.maximum(np.bincount(group, weight * fitted ** 2 * x2, n_groups), 1e-12))
        beta = np.clip(beta + step, 0.0, 20.0)
        at_bid = np.exp(beta[group] * x)
        expected = own[key] * at_bid
        index = (np.bincount(day, weight * y / np.maximum(expected, 1e-12), len(dates))
                 / np.maximum(np.bincount(day, weight, len(dates)), 1e-12))
        means = (np.bincount(weekday, np.log(np.maximum(index, 1e-9)), 7)
                 / np.bincount(weekday, minlength=7))
        level = np.exp(means - means.mean())[weekday]
        mean = expected * level[day]
        big = mean >= 5
        if big.any():
            spread = float(np.clip(((y - mean) ** 2 - mean)[big].sum() / (mean ** 2)[big].sum(),
                                   0.01, 1.0))
        if (np.abs(means - last_means).max() < CONVERGED
                and np.abs(beta - last_beta).max() < 10 * CONVERGED):
            break
    return index, weekday
