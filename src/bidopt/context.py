"""What a strategy sees: the night being planned, the history, the fitted model, the rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bidopt.config import Config, PlatformBids, did_you_mean
from bidopt.schema import GRAIN_KEYS, METRICS
from bidopt.seasonality import DayFactors, scale_forecast
from bidopt.weekdays import WeekdayFactors

if TYPE_CHECKING:
    from bidopt.model import Forecast, ResponseModel

KEYWORD_KEYS = list(GRAIN_KEYS["keywords"])


@dataclass
class RunContext:
    """Everything a strategy may read. Strategies must not modify it."""

    date: dt.date
    config: Config
    history: dict[str, pd.DataFrame]
    """Daily history per grain (``keywords``, ``crowds``, ``regions``, ``hours``) within
    the look-back window."""
    keywords: pd.DataFrame
    """One row per campaign x item x keyword x platform: ``bid`` (in force on the last
    report day), ``quality_score``, ``avg_rank``, window sums of every metric, ``days``."""
    items: pd.DataFrame
    candidates: pd.DataFrame
    model: ResponseModel
    campaigns: pd.DataFrame
    """One row per campaign: ``roi_floor``, ``daily_budget`` (inf when none), and in a run
    how well the history measures its ROI (``roi_se``, ``spend_days``, ``orders``; see
    :func:`campaign_evidence`)."""
    warnings: list[str] = field(default_factory=list)
    day: DayFactors = field(default_factory=DayFactors)
    """How the planned night differs from an ordinary day: its calendar phase's factors,
    with the traffic factor times the night's weekday factor (``weekdays``)."""
    weekdays: WeekdayFactors = field(default_factory=WeekdayFactors)
    """The weekday factors of search volume measured on the history (``bidopt.weekdays``;
    all 1 when not measured)."""
    _state: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)

    def in_force(self, kind: str) -> pd.DataFrame:
        """Settings recorded in force for this shop by ``bidopt applied`` (the config's
        ``state_file``): what the reports cannot show. One row per setting, the last
        recorded value, with ``night`` (the planned night of the file it came from):

        - ``"hour_discount"``: ``campaign, hour`` (int 0-23), ``value`` (percent);
        - ``"crowd_premium"``: ``campaign, item, crowd``, ``value`` (percent);
        - ``"region"``: ``campaign, region``, ``value`` (1 switched on, 0 off);
        - ``"paused"``: ``campaign, item, keyword, platform``.

        Empty (with these columns) when nothing is recorded. The config's own options
        always win over these: a strategy should use them only where its config is silent.
        """
        from bidopt.state import read_state, settings, state_path

        if self._state is None:
            self._state = read_state(state_path(self.config), self.config.shop)
        return settings(self._state, kind)

    def bid_rules(self, platform: str) -> PlatformBids:
        return self.config.bids.for_platform(platform)

    def forecast(self, entities: pd.DataFrame, bids: np.ndarray) -> Forecast:
        """The response model's forecast for the planned night at the given bids.

        The model forecasts an ordinary day; a calendar phase's factors and the night's
        weekday factor scale it (``bidopt.seasonality``, ``bidopt.weekdays``)."""
        return scale_forecast(self.model.predict(entities, bids), self.day)

    def roi_floor(self, campaigns: pd.Series) -> np.ndarray:
        """ROI floor for each campaign name in ``campaigns``."""
        floors = self.campaigns.set_index("campaign")["roi_floor"]
        return campaigns.map(floors).fillna(self.config.constraints.roi_floor).to_numpy(float)


def keyword_state(daily: pd.DataFrame) -> pd.DataFrame:
    """Collapse the daily keyword history to one row per keyword x platform.

    The bid is the one in force on the keyword's last report day (what the user has now);
    metrics are summed over the window; rank is impression-weighted.
    """
    if daily.empty:
        columns = [*KEYWORD_KEYS, "bid", "quality_score", "avg_rank", *METRICS, "days"]
        return pd.DataFrame(columns=columns)
    ordered = daily.sort_values("date")
    grouped = ordered.groupby(KEYWORD_KEYS, sort=False, observed=True)
    state = grouped[list(METRICS)].sum()
    state["bid"] = grouped["bid"].last()  # last non-null bid
    state["quality_score"] = grouped["quality_score"].last()
    weighted = (ordered["avg_rank"] * ordered["impressions"]).groupby(
        [ordered[k] for k in KEYWORD_KEYS], sort=False, observed=True
    ).sum(min_count=1)
    state["avg_rank"] = weighted / state["impressions"].where(state["impressions"] > 0)
    state["days"] = grouped["date"].nunique()
    state["last_date"] = grouped["date"].max()
    return state.reset_index()


def campaign_limits(config: Config, campaigns: list[str]) -> pd.DataFrame:
    """ROI floor and daily budget for every campaign seen in the data."""
    rows = [(name, *config.constraints.for_campaign(name)) for name in campaigns]
    return pd.DataFrame(rows, columns=["campaign", "roi_floor", "daily_budget"])


def unknown_campaign_notes(config: Config, campaigns: list[str]) -> list[str]:
    """Campaign overrides that name no campaign of the reports: most often a typo, and
    their floor or budget would silently apply to nothing."""
    seen = set(campaigns)
    return [f"constraints.campaigns names '{name}', which is not in the reports: its limits "
            f"apply to nothing{did_you_mean(name, campaigns)}"
            for name in config.constraints.campaigns if name not in seen]


def phase_override_notes(config: Config, day: dt.date, campaigns: list[str]) -> list[str]:
    """Campaigns whose own limits (constraints.campaigns) stand in for the night's phase's:
    a phase replaces the shop defaults only, so on Double 11 a campaign with its own budget
    keeps it, and nothing in the table says why its budget is not the phase's."""
    phase = config.phase_for(day)
    if phase is None:
        return []
    notes = []
    seen = set(campaigns)
    for key, label in (("roi_floor", "ROI floor"), ("daily_budget", "daily budget")):
        value = getattr(phase, key)
        # a budget written as null in the phase lifts the shop default for the night; a
        # campaign's own budget still holds it
        lifted = value is None and key == "daily_budget" and key in phase.model_fields_set
        own = {name: getattr(limits, key) for name, limits in config.constraints.campaigns.items()
               if name in seen and getattr(limits, key) not in (None, value)}
        if (value is None and not lifted) or not own:
            continue
        named = ", ".join(f"'{name}' ({limit:,g})" for name, limit in list(own.items())[:5])
        more = f" and {len(own) - 5} more" if len(own) > 5 else ""
        keeps = "keeps its" if len(own) == 1 else "keep their"
        sets = f"lifts the {label} (null)" if lifted else f"sets the {label} {value:,g}"
        notes.append(f"calendar phase '{phase.name}' {sets}, but "
                     f"{named}{more} {keeps} own from constraints.campaigns tonight: a phase "
                     "replaces the shop default only")
    return notes


# of a usual day's impressions (the median of the other days): a campaign's for the run's
# partial-day note, the whole shop's for the track record's partial days
PARTIAL_DAY_SHARE = 0.5


def share_of_usual_day(by_day: pd.DataFrame, day) -> pd.Series:
    """Per row of ``by_day`` (impressions, one column per date): ``day``'s impressions over
    the median of its other days; NaN below 100 a usual day (too few to judge)."""
    usual = by_day.drop(columns=day).median(axis=1)
    return by_day[day] / usual.where(usual >= 100)


def partial_day_notes(daily: pd.DataFrame) -> list[str]:
    """Campaigns whose last report day holds far fewer impressions than their usual day: an
    export taken before the day's data was complete, or a file that lost rows, which the
    plan would otherwise take for a full day."""
    if daily.empty:
        return []
    by_day = daily.groupby(["campaign", "date"], observed=True)["impressions"].sum().unstack(
        fill_value=0.0)
    if by_day.shape[1] < 4:
        return []
    last = by_day.columns.max()
    share = share_of_usual_day(by_day, last)
    low = share[share < PARTIAL_DAY_SHARE].sort_values()
    if low.empty:
        return []
    named = ", ".join(f"'{name}' ({value:.0%})" for name, value in low.head(3).items())
    more = f" and {len(low) - 3} more" if len(low) > 3 else ""
    return [f"the last report day {last.date()} holds less than half a usual day's impressions "
            f"for {named}{more} (of the median day before it): a partial export, or a "
            "campaign stopped? The plan takes it for a full day"]


def campaign_evidence(daily: pd.DataFrame) -> pd.DataFrame:
    """How well the history measures each campaign's ROI, per campaign (index).

    - ``roi_se``: the relative standard error of its ROI, the std of daily ROI / its mean /
      sqrt(days), from the campaign's own day-to-day spread. A campaign whose spend rides on
      a few bursty keywords is known less well than a broad one, and the decision step plans
      it with a wider margin above its floor. NaN where fewer than 3 days had spend.
    - ``spend_days``: days with spend; ``orders``: the orders of those days (a window with
      few orders cannot know GMV better than their count allows).
    """
    totals = daily.groupby(["campaign", "date"], observed=True)[["cost", "gmv", "orders"]].sum()
    totals = totals[totals["cost"] > 0]
    roi = (totals["gmv"] / totals["cost"]).groupby(level="campaign", observed=True)
    days = roi.count()
    return pd.DataFrame({
        "roi_se": (roi.std() / roi.mean() / np.sqrt(days)).where(days >= 3),
        "spend_days": days.astype(float),
        "orders": totals["orders"].groupby(level="campaign", observed=True).sum().astype(float),
    })
