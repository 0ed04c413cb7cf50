"""Promotion days in the forecast: how a calendar phase's days differ from ordinary days.

A phase may say how its days' search traffic, conversion and carts compare with an ordinary
day's (``traffic_factor``, ``conversion_factor``, ``cart_factor``; Double 11 brings about
2.5x the searches and twice the conversion). The response model is fitted on ordinary days:
report days inside such a phase are divided by its factors before the fit, and the forecast
for a night inside one is multiplied by them. Bids, ranks and prices are left as they are:
the factors scale how many people search and buy, not the auction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from bidopt.config import Config, Phase, did_you_mean
from bidopt.errors import ConfigError, DataError

if TYPE_CHECKING:
    from bidopt.model import Forecast


@dataclass(frozen=True)
class DayFactors:
    """One day's traffic, conversion and cart rates relative to an ordinary day."""

    traffic: float = 1.0
    conversion: float = 1.0
    carts: float = 1.0

    @classmethod
    def of(cls, phase: Phase | None) -> DayFactors:
        if phase is None:
            return cls()
        return cls(phase.traffic_factor or 1.0, phase.conversion_factor or 1.0,
                   phase.cart_factor or 1.0)

    @property
    def ordinary(self) -> bool:
        return self == DayFactors()

    @property
    def roi(self) -> float:
        """The day's ROI (GMV / spend) against an ordinary day's at the same bids: its
        conversion factor (the traffic factor scales GMV and spend alike). The history a
        strategy reads holds ordinary days; its ROI times this is the planned night's."""
        return self.conversion

    def roi_words(self, ordinary_roi: float) -> str:
        """' (0.62 on an ordinary day, x2 on the night's conversion)', or '' on an
        ordinary night: where a reason quotes the night's ROI of a history figure."""
        if self.roi == 1.0:
            return ""
        return f" ({ordinary_roi:.2f} on an ordinary day, x{self.roi:g} on the night's conversion)"

    def per_metric(self) -> dict[str, float]:
        """Multiplier of each report metric: volume scales everything, conversion the
        orders and GMV per click, the cart factor carts and favourites per click."""
        return {
            "impressions": self.traffic, "clicks": self.traffic, "cost": self.traffic,
            "orders": self.traffic * self.conversion, "gmv": self.traffic * self.conversion,
            "carts": self.traffic * self.carts, "favorites": self.traffic * self.carts,
        }

    def describe(self) -> str:
        parts = [(self.traffic, "traffic"), (self.conversion, "conversion"), (self.carts, "carts")]
        return ", ".join(f"{name} x{value:g}" for value, name in parts if value != 1.0)


def ordinary_days(history: dict[str, pd.DataFrame], config: Config) -> tuple[dict, list[str]]:
    """The history with every day of a factored phase divided by its factors.

    Returns the rescaled frames (the input frames are not modified) and a note naming the
    days rescaled, so the user sees that the fit did not take those days at face value.
    """
    dates = pd.to_datetime(history["keywords"]["date"].unique())
    phases = {day: config.phase_for(day.date()) for day in dates}
    factors = {day: DayFactors.of(phase) for day, phase in phases.items()}
    special = {day: f for day, f in factors.items() if not f.ordinary}
    if not special:
        return history, []
    divisors = pd.DataFrame([f.per_metric() for f in special.values()],
                            index=pd.DatetimeIndex(list(special)))
    out = {}
    for grain, frame in history.items():
        if frame.empty or "date" not in frame:
            out[grain] = frame
            continue
        frame = frame.copy()
        per_row = divisors.reindex(pd.DatetimeIndex(frame["date"])).fillna(1.0)
        for metric in divisors.columns.intersection(frame.columns):
            frame[metric] = frame[metric].to_numpy(float) / per_row[metric].to_numpy(float)
        out[grain] = frame
    by_phase: dict[str, list[pd.Timestamp]] = {}
    for day in sorted(special):
        by_phase.setdefault(phases[day].name, []).append(day)
    named = "; ".join(
        f"{name} {days[0].date()}" + (f" .. {days[-1].date()}" if len(days) > 1 else "")
        + f" ({special[days[0]].describe()})" for name, days in by_phase.items())
    note = (f"{len(special)} report days fall in calendar phases with factors and were "
            f"divided by them before the fit: {named}")
    return out, [note]


def scale_forecast(forecast: Forecast, factors: DayFactors) -> Forecast:
    """``forecast`` (an ordinary day's) scaled to a day with ``factors``.

    Interval bounds are scaled by the same factors: an approximation (a bigger day's
    relative spread is a little narrower), on the cautious side.
    """
    if factors.ordinary:
        return forecast
    for metric, factor in factors.per_metric().items():
        setattr(forecast, metric, getattr(forecast, metric) * factor)
        for bounds in (forecast.low, forecast.high):
            if metric in bounds:
                bounds[metric] = bounds[metric] * factor
    return forecast


def measure_factors(keywords: pd.DataFrame, config: Config,
                    ordinary: tuple[str, ...] = ()) -> pd.DataFrame:
    """Each calendar phase's factors as a past season's keyword report shows them.

    Against the report's ordinary days (in no phase, or in the phases named in
    ``ordinary``): searches as mean daily impressions,
    conversion as orders per click, carts as carts and favourites per click; with a
    standard error from the counts behind each ratio. Impressions are taken at the bids of
    the time, so a promotion bought with raised bids shows that in its traffic factor too.
    """
    days = keywords.groupby("date")[["impressions", "clicks", "orders", "carts", "favorites"]].sum()
    phase = pd.Series([getattr(config.phase_for(d.date()), "name", None) for d in days.index],
                      index=days.index)
    unknown = sorted(set(ordinary) - {p.name for p in config.calendar})
    if unknown:
        names = [p.name for p in config.calendar]
        raise ConfigError([f"no calendar phase is named '{name}'{did_you_mean(name, names)}"
                           for name in unknown])
    baseline = (phase.isna() | phase.isin(ordinary)).to_numpy()
    ordinary_days = days[baseline]
    if ordinary_days.empty:
        raise DataError("the reports hold no ordinary day to measure the phases against: "
                        "no day outside the calendar's phases (name a phase whose days are "
                        "ordinary, e.g. --ordinary exposure, or give reports that reach "
                        "beyond the season)")
    ordinary_names = set(ordinary)
    ordinary = ordinary_days
    base = ordinary.sum()
    daily = ordinary["impressions"]
    spread = (daily.std() / daily.mean()) ** 2 if len(daily) > 1 and daily.mean() > 0 else 1.0
    spread = max(spread, 1e-12)
    rows = []
    for spec in config.calendar:
        if spec.name in ordinary_names:
            continue
        own = days[(phase == spec.name).to_numpy()]
        if own.empty:
            rows.append({"phase": spec.name, "days": 0})
            continue
        sums = own.sum()
        rows.append({
            "phase": spec.name, "days": len(own),
            # searches vary from day to day far more than counting noise: their standard
            # error is the ordinary days' spread over the days on each side
            **_ratio("traffic", sums["impressions"] / len(own),
                     base["impressions"] / len(ordinary), len(own) / spread,
                     len(ordinary) / spread),
            **_ratio("conversion", sums["orders"] / sums["clicks"],
                     base["orders"] / base["clicks"], sums["orders"], base["orders"]),
            **_ratio("carts", (sums["carts"] + sums["favorites"]) / sums["clicks"],
                     (base["carts"] + base["favorites"]) / base["clicks"],
                     sums["carts"] + sums["favorites"], base["carts"] + base["favorites"]),
        })
    table = pd.DataFrame(rows)
    table.attrs["ordinary_days"] = len(ordinary)
    return table


def _ratio(name: str, phase: float, ordinary: float, n_phase: float, n_ordinary: float) -> dict:
    """A ratio and its standard error, ``n`` being the effective counts behind each side
    (the relative variance of a side is 1 / n)."""
    if not (ordinary > 0) or not (n_phase > 0):
        return {name: float("nan"), f"{name}_se": float("nan")}
    value = phase / ordinary
    return {name: value, f"{name}_se": value * (1 / n_phase + 1 / n_ordinary) ** 0.5}
