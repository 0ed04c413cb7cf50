"""The YAML config: pydantic models, loading with clear errors, and the JSON Schema.

One config describes one shop (or one set of campaigns): where its exports are, the ROI
floor and daily budget per campaign, bid rules per platform, the objective, which
strategies run with which parameters, and where the recommendations go.
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import models_json_schema

from bidopt.errors import ConfigError
from bidopt.plugins import DISABLE_ENV, plugins_disabled


class _Section(BaseModel):
    # inf and nan are never a floor, budget or bid; YAML's .inf would otherwise pass gt=0
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_as_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """YAML's ``true`` is not the number 1 (pydantic would read ``roi_floor: true`` as 1.0)."""
        if isinstance(value, bool):
            annotation = str(cls.model_fields[info.field_name].annotation)
            if ("float" in annotation or "int" in annotation) and "bool" not in annotation:
                raise ValueError("expected a number, not true or false")
        return value


class Sources(_Section):
    """Input files. Relative paths are relative to the config file's folder."""

    reports: list[Path] = Field(
        default_factory=list,
        description="Performance reports (keyword, crowd, region, hour), CSV/XLSX/Parquet.",
    )
    items: Path | None = Field(None, description="Items file: item, price, unit_cost, sales_30d.")
    candidates: Path | None = Field(None, description="Keyword candidates for long-tail picking.")
    date_order: Literal["auto", "month_first", "day_first"] = Field(
        "auto", description="How to read dates like 03/12/2026: month_first (US), day_first "
        "(UK, EU), or auto (only where a day above 12 in the file shows the order).")

    @field_validator("reports", mode="before")
    @classmethod
    def _one_report(cls, value: Any) -> Any:
        """``reports: kw.csv`` is a list of that one file (or pattern)."""
        return [value] if isinstance(value, str) else value

    @property
    def is_empty(self) -> bool:
        return not self.reports and self.items is None and self.candidates is None


class CampaignLimits(_Section):
    """ROI floor and daily budget of one campaign; unset fields take the shop default."""

    roi_floor: float | None = Field(None, gt=0, description="Minimum GMV / spend, e.g. 2.0.")
    daily_budget: float | None = Field(
        None, gt=0, description="Maximum spend per day; unset or null: the shop default "
        "(constraints.daily_budget)."
    )


class Constraints(_Section):
    """Shop defaults and per-campaign overrides."""

    roi_floor: float = Field(..., gt=0, description="Shop default ROI floor (GMV / spend).")
    daily_budget: float | None = Field(
        None, gt=0, description="Shop default daily budget per campaign; null = no budget."
    )
    shop_budget: float | None = Field(
        None, gt=0, description="Optional budget for the whole shop; null = none."
    )
    campaigns: dict[str, CampaignLimits] = Field(
        default_factory=dict, description="Per-campaign overrides, keyed by campaign name."
    )

    def for_campaign(self, campaign: str) -> tuple[float, float]:
        """(roi_floor, daily_budget) of a campaign; an unset budget is +inf."""
        override = self.campaigns.get(campaign, CampaignLimits())
        floor = override.roi_floor if override.roi_floor is not None else self.roi_floor
        budget = override.daily_budget if override.daily_budget is not None else self.daily_budget
        return floor, (math.inf if budget is None else budget)


class PlatformBids(_Section):
    min: float = Field(0.05, gt=0, description="Lowest bid the platform accepts.")
    max: float = Field(100.0, gt=0, description="Highest bid the platform accepts.")
    step: float = Field(0.01, gt=0, description="Bid increment.")

    @model_validator(mode="after")
    def _ordered(self) -> PlatformBids:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class PinnedBid(_Section):
    campaign: str
    item: str
    keyword: str
    platform: Literal["mobile", "pc", "all"] = Field(
        "mobile", description="'all' where the reports have no device split (Amazon).")
    bid: float = Field(..., gt=0)


class Bids(_Section):
    mobile: PlatformBids = Field(default_factory=PlatformBids)
    pc: PlatformBids = Field(default_factory=PlatformBids)
    max_change_pct: float = Field(
        30.0, gt=0, le=500, description="Largest change of one bid in one night, in percent."
    )
    pinned: list[PinnedBid] = Field(
        default_factory=list, description="Bids kept exactly as given; never changed."
    )

    def for_platform(self, platform: str) -> PlatformBids:
        return self.pc if platform == "pc" else self.mobile

    @model_validator(mode="after")
    def _pins_within_bounds(self) -> Bids:
        """A pinned bid the platform would refuse is a mistake to report, not to clip."""
        for i, pin in enumerate(self.pinned):
            rules = self.for_platform(pin.platform)
            if not rules.min <= pin.bid <= rules.max:
                raise ValueError(f"pinned[{i}] ('{pin.keyword}'): bid {pin.bid:g} is outside "
                                 f"the {pin.platform} bounds {rules.min:g}-{rules.max:g}")
        return self


class Objective(_Section):
    target: Literal["gmv", "profit", "clicks", "orders"] = Field(
        "gmv", description="What to maximise while every constraint holds."
    )
    cart_weight: float = Field(0.0, ge=0, description="Value of one add-to-cart, in orders.")
    favorite_weight: float = Field(0.0, ge=0, description="Value of one favourite, in orders.")
    default_margin: float = Field(
        0.3, gt=0, le=1, description="Margin used for profit when an item has no unit_cost."
    )


class Optimiser(_Section):
    bids: Literal["free", "proposals"] = Field(
        "free",
        description="free: the optimiser may move any bid within the nightly limit; "
        "proposals: only toward what a strategy proposed (and cuts that repair a limit).",
    )
    levels: int = Field(21, ge=3, le=81, description="Bid levels per keyword in the grid.")
    min_clicks_to_raise: int = Field(
        2, ge=0,
        description="Clicks a keyword needs in the look-back window before the optimiser "
        "may raise its bid: below this the model has too little of the keyword's own answer "
        "to bet the ROI floor on (strategies may still propose raises; they are judged the "
        "same way).",
    )
    floor_confidence: float = Field(
        0.9, ge=0.5, lt=1.0,
        description="Plan each campaign's ROI high enough above its floor that, given how "
        "well the history measures that campaign's ROI, the floor holds with this probability "
        "(its day-to-day spread, with Student's t on few days, and never better than its "
        "order count allows: a short history is planned further above the floor).",
    )
    roi_margin_pct: float = Field(
        5.0, ge=0, le=100,
        description="Smallest margin above the floor any campaign is planned with, in percent "
        "(on top of the margin on added spend below).",
    )
    added_spend_margin_pct: float = Field(
        20.0, ge=0, le=300,
        description="Spend the plan adds over today's bids counts this much more (percent) "
        "against the ROI floor and the budget: spend at bids the history has not seen is "
        "where the forecast errs (see docs/optimiser.md, 'Judged on truth'). The default 20 "
        "goes with history.engagement on; with it off, 30 is what held the floors as well "
        "(docs/optimiser.md, 'Carts and favourites as conversion evidence').",
    )
    evidence_days: int = Field(
        3, ge=0, le=60,
        description="Days in the look-back window a bid must have held (or been topped) "
        "for the spend it buys to count as seen: spend above the bid held on this many days "
        "counts as added spend (with added_spend_margin_pct) also when it is kept, so that "
        "raises of the last nights carry the margin until their days are in. 0: only "
        "tonight's raises count.",
    )
    new_keyword_margin_pct: float = Field(
        50.0, ge=0, le=300,
        description="Margin above the floor that keywords not bought yet are planned with, "
        "in percent: their forecast comes from market figures, not their own days.",
    )
    budget_margin_pct: float = Field(
        10.0, ge=0, lt=100,
        description="Plan each campaign's expected spend this far (percent) below its daily "
        "budget (on top of the margin on added spend). The platform stops a campaign's ads "
        "once its budget is spent, so a forecast that runs over costs the rest of that "
        "day's traffic, not money; but the evening it loses converts best, so a campaign "
        "planned near its floor falls below it.",
    )
    shop_budget_margin_pct: float = Field(
        15.0, ge=0, lt=100,
        description="Plan the shop's expected spend this far (percent) below the shop budget "
        "(on top of the margin on added spend). No platform enforces a shop budget, so a "
        "forecast that runs over is spent.",
    )
    min_gain: float = Field(
        0.3, ge=0,
        description="Expected gain per day, in money, a change must bring to be worth making "
        "(orders and clicks objectives count it at the shop's order value and value per "
        "click); stops churn of tiny changes.",
    )


class PluginSettings(_Section):
    timeout_seconds: float = Field(
        60.0, gt=0, description="A strategy still running after this long is dropped."
    )


class PhaseObjective(_Section):
    target: Literal["gmv", "profit", "clicks", "orders"] | None = None
    cart_weight: float | None = Field(None, ge=0)
    favorite_weight: float | None = Field(None, ge=0)


class Phase(_Section):
    """A stretch of the promotion calendar with its own floor, budget and objective.

    ``start``/``end`` are ``MM-DD`` (every year) or ``YYYY-MM-DD``; both days included. The
    optional factors say how the phase's days differ from an ordinary day
    (``bidopt.seasonality``).
    """

    name: str
    start: str = Field(..., pattern=r"^(\d{4}-)?\d{2}-\d{2}$")
    end: str = Field(..., pattern=r"^(\d{4}-)?\d{2}-\d{2}$")
    roi_floor: float | None = Field(None, gt=0, description="Replaces the shop default floor.")
    daily_budget: float | None = Field(
        None, gt=0, description="Replaces the default budget (null: none in this phase).")
    shop_budget: float | None = Field(
        None, gt=0, description="Replaces the shop-wide budget (a burst day spends more; "
        "null: none in this phase).")
    objective: PhaseObjective = Field(default_factory=PhaseObjective)
    traffic_factor: float | None = Field(
        None, ge=0.1, le=20, description="Searches on these days relative to an ordinary day "
        "(e.g. 2.5 on Double 11): scales the forecast of a night in the phase, and the "
        "phase's report days are divided by it before the fit.")
    conversion_factor: float | None = Field(
        None, ge=0.1, le=20, description="Orders per click relative to an ordinary day "
        "(e.g. 2 on Double 11, 0.8 in a warm-up while buyers wait).")
    cart_factor: float | None = Field(
        None, ge=0.1, le=20, description="Carts and favourites per click relative to an "
        "ordinary day (e.g. 1.6 in a warm-up).")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _yaml_dates(cls, value: Any) -> Any:
        """YAML reads an unquoted ``2026-11-11`` as a date, not as text."""
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
        return value

    @model_validator(mode="after")
    def _real_dates(self) -> Phase:
        if len(self.start) != len(self.end):
            raise ValueError(f"phase '{self.name}': start and end must both be MM-DD (every "
                             f"year) or both YYYY-MM-DD, got {self.start} and {self.end}")
        for text in (self.start, self.end):
            try:  # a leap year, so that an every-year 02-29 is a real day
                dt.date.fromisoformat(text if len(text) == 10 else f"2000-{text}")
            except ValueError:
                raise ValueError(f"phase '{self.name}': {text} is not a date") from None
        if len(self.start) == 10 and self.end < self.start:
            raise ValueError(f"phase '{self.name}' ends ({self.end}) before it starts "
                             f"({self.start}), so it never applies")
        return self

    def contains(self, day: dt.date) -> bool:
        def as_date(text: str) -> dt.date:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            month, dom = int(text[:2]), int(text[3:])
            if (month, dom) == (2, 29) and not calendar.isleap(day.year):
                dom = 28  # an every-year phase on 02-29 holds 02-28 in other years
            return dt.date(day.year, month, dom)

        start, end = as_date(self.start), as_date(self.end)
        if len(self.start) == 5 and end < start:  # e.g. 12-20 .. 01-05 spans the new year
            return day >= start or day <= end
        return start <= day <= end


class History(_Section):
    days: int = Field(14, ge=1, le=365, description="Look-back window in days.")
    weekdays: bool = Field(
        False, description="Measure the weekday pattern of search volume in the keyword "
        "report (from two full weeks of days on) and forecast the planned night's weekday: "
        "report days are divided by their weekday's factor before the fit, the night's "
        "forecast multiplied by its own. Off by default: night after night on simulated "
        "shops without budgets it broke more floors (docs/optimiser.md, 'Weekdays').")
    engagement: bool = Field(
        True, description="Measure each campaign's conversion on its orders together with its "
        "add-to-cart and favourite events (收藏加购), which come from the same buyers three to "
        "five times as often: the forecast of its GMV is then closer than its orders alone "
        "allow. Turn it off for a window in which carts stop meaning orders (a pre-sale "
        "warm-up without its calendar phase) (docs/model.md, 'Why carts and favourites "
        "count as conversion evidence').")


class Output(_Section):
    path: str = Field(
        "recommendations-{date}.csv",
        description="File to write, or a folder (ending in '/') for the default name; {date} "
        "is replaced by the planned night (YYYY-MM-DD). Default: recommendations-{date}.csv, "
        "or .xlsx with format xlsx.",
    )
    format: str = Field("csv", description="Output format: csv, or xlsx (an Excel workbook "
                        "that keeps all-digit IDs exact); plugins may add more, written with "
                        "bidopt's recommendations CSV beside them (<name>.recommendations.csv, "
                        "the file `bidopt applied` records).")
    encoding: Literal["utf-8-sig", "utf-8", "gbk", "gb18030"] = Field(
        "utf-8-sig", description="Of the CSV; utf-8-sig (with BOM) opens correctly in Excel."
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="Settings for the writer plugin of this format."
    )
    include_rejected: bool = Field(
        False, description="Also write rejected proposals, as action 'keep' rows (proposed = "
        "current, no effect; the reason says what was asked and why it was rejected)."
    )

    @field_validator("path")
    @classmethod
    def _only_the_date_placeholder(cls, value: str) -> str:
        """'{date:%Y%m%d}' or '{night}' would stay in the file name as written, and every
        night would replace the last one's plan."""
        other = sorted(set(re.findall(r"\{[^{}]*\}", value)) - {"{date}"})
        if other:
            raise ValueError(f"{', '.join(other)} is not a placeholder: only {{date}} (the "
                             "planned night, YYYY-MM-DD) is filled in")
        return value

    @model_validator(mode="after")
    def _a_workbook_is_not_named_csv(self) -> Output:
        """Excel opens a .csv as text, so a workbook named so shows as garbage; writing
        another name than the one given would break whatever picks the file up by that
        name. Only the default name follows the format (``file_name``)."""
        if (self.format == "xlsx" and "path" in self.model_fields_set
                and Path(self.path).suffix.lower() == ".csv"):
            raise ValueError(f"path {self.path!r} names a CSV, but format xlsx writes an Excel "
                             f"workbook: name it {Path(self.path).with_suffix('.xlsx')}")
        return self

    def file_name(self) -> str:
        """``path`` as set, else the default name with the format's suffix
        (recommendations-{date}.csv, or .xlsx for a workbook): Excel opens a file by it."""
        if "path" in self.model_fields_set or self.format != "xlsx":
            return self.path
        return self.path.removesuffix(".csv") + ".xlsx"


class Config(_Section):
    """A bidopt config for one shop."""

    shop: str = Field("shop", description="Name shown in the summary.")
    sources: Sources = Field(default_factory=Sources)
    constraints: Constraints
    bids: Bids = Field(default_factory=Bids)
    objective: Objective = Field(default_factory=Objective)
    history: History = Field(default_factory=History)
    optimiser: Optimiser = Field(default_factory=Optimiser)
    plugins: PluginSettings = Field(default_factory=PluginSettings)
    calendar: list[Phase] = Field(
        default_factory=list,
        description="Promotion phases; the phase holding the planned night overrides the "
        "default ROI floor, budget and objective weights (first match wins).",
    )
    strategies: dict[str, dict[str, Any] | None] = Field(
        default_factory=lambda: {"roi_rule": {}},
        description="Strategies to run, by name, each with its parameters.",
    )
    output: Output = Field(default_factory=Output)
    state_file: str = Field(
        "bidopt-state.sqlite",
        description="SQLite file of the settings in force (crowd premiums, excluded regions), "
        "written by `bidopt applied` after an upload and read by every run; relative to the "
        "config's folder.")

    # Folder of the config file; relative source paths resolve against it.
    _base_dir: Path = PrivateAttr(default=Path("."))
    # The YAML line of every key path, to name the line of a problem found later.
    _lines: dict = PrivateAttr(default_factory=dict)

    @field_validator("calendar", mode="before")
    @classmethod
    def _no_phase_listed_again_without_dates(cls, value: Any) -> Any:
        """`bidopt factors` prints `- name: burst` with the factors to add to burst's entry;
        pasted as an entry of its own it has no dates, and 'start is required' would not
        say what went wrong."""
        if not isinstance(value, list):
            return value
        named: set[Any] = set()
        for entry in value:
            if not isinstance(entry, dict):
                continue
            name = entry.get("name")
            if name in named and "start" not in entry and "end" not in entry:
                raise ValueError(
                    f"calendar phase '{name}' is listed again, without start and end: add "
                    f"its other lines ({', '.join(k for k in entry if k != 'name')}) to its "
                    "first entry (bidopt factors prints the lines to add to each phase's "
                    "entry)")
            named.add(name)
        return value

    @model_validator(mode="after")
    def _every_phase_can_apply(self) -> Config:
        """The first phase holding a night wins; a phase every day of which an earlier
        phase already holds would never apply, which is a mistake in the order. Phase names
        are unique: `bidopt factors`, its --ordinary and the run's notes name phases."""
        seen: dict[str, Phase] = {}
        for phase in self.calendar:
            if phase.name in seen:
                first = seen[phase.name]
                raise ValueError(
                    f"two calendar phases are named '{phase.name}' ({first.start} .. "
                    f"{first.end} and {phase.start} .. {phase.end}): give each its own name "
                    "(bidopt factors measures each phase by its name)")
            seen[phase.name] = phase
        for i, phase in enumerate(self.calendar):
            years = [int(phase.start[:4])] if len(phase.start) == 10 else [2027, 2028]
            if len(phase.end) == 10:
                years = list(range(int(phase.start[:4]), int(phase.end[:4]) + 1))
            days = [dt.date(y, 1, 1) + dt.timedelta(d) for y in years for d in range(366)
                    if (dt.date(y, 1, 1) + dt.timedelta(d)).year == y]
            own = [d for d in days if phase.contains(d)]
            if own and all(any(p.contains(d) for p in self.calendar[:i]) for d in own):
                earlier = [p.name for p in self.calendar[:i] if any(p.contains(d) for d in own)]
                raise ValueError(
                    f"calendar phase '{phase.name}' never applies: every day of it is in "
                    f"{', '.join(repr(n) for n in earlier)} listed before it (the first phase "
                    "holding a night wins; list the shorter phase first)")
        return self

    def phase_for(self, day: dt.date) -> Phase | None:
        return next((phase for phase in self.calendar if phase.contains(day)), None)

    def for_night(self, day: dt.date) -> Config:
        """This config with the calendar phase of ``day`` applied."""
        phase = self.phase_for(day)
        if phase is None:
            return self
        # a budget written as null in the phase lifts it for the phase, as null does at the
        # top level; one not written keeps the default
        constraints = self.constraints.model_copy(update={
            key: value for key, value in
            (("roi_floor", phase.roi_floor), ("daily_budget", phase.daily_budget),
             ("shop_budget", phase.shop_budget))
            if value is not None or (key != "roi_floor" and key in phase.model_fields_set)
        })
        objective = self.objective.model_copy(
            update=phase.objective.model_dump(exclude_none=True)
        )
        return self.model_copy(update={"constraints": constraints, "objective": objective})

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else self._base_dir / path


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """'; did you mean X?' for the closest of ``choices``, or ''."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names allowed at the location of an unknown key."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        current = next(
            (
                t
                for t in (annotation, *getattr(annotation, "__args__", ()))
                if isinstance(t, type) and issubclass(t, BaseModel)
            ),
            None,
        )
    return list(getattr(current, "model_fields", {}))


def _describe(error: dict, model: type[BaseModel], prefix: tuple = ()) -> str:
    loc = tuple(error["loc"])
    where = ".".join(str(p) for p in (*prefix, *loc)) or "(top level)"
    if error["type"] == "extra_forbidden":
        hint = did_you_mean(str(loc[-1]), _fields_at(model, loc))
        return f"unknown key '{where}'{hint}"
    if error["type"] == "missing":
        return f"'{where}' is required"
    message = error["msg"].removeprefix("Value error, ")
    given = error.get("input")
    if loc[:1] == ("strategies",) and len(loc) == 2 and error["type"] == "dict_type":
        return (f"'{where}': a strategy's options are a mapping, not {given!r}: write "
                f"'{loc[1]}: {{}}' to run it with its defaults, or leave it out to turn it off")
    if isinstance(given, dict | list):  # a whole section: its validator names the value
        return f"'{where}': {message}"
    return f"'{where}': {message} (got {given!r})"


def parse_config(data: Any, *, base_dir: Path = Path("."), source: str = "config",
                 lines: dict[tuple, int] | None = None) -> Config:
    """Validate a config mapping; every problem is listed in one ConfigError.

    ``lines`` maps key paths to the YAML lines they are on, so that problems name a line."""
    if not isinstance(data, dict):
        raise ConfigError("the config must be a mapping of keys to values", source)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([_at_line(_describe(e, Config), e["loc"], lines)
                           for e in exc.errors()], source) from None
    config._base_dir = base_dir
    config._lines = lines or {}
    return config


def _key_lines(text: str) -> dict[tuple, int]:
    """The 1-based line of every key (and list entry) in a YAML text, by its path."""
    lines: dict[tuple, int] = {}

    def walk(node: yaml.Node, path: tuple) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                here = (*path, key.value)
                lines[here] = key.start_mark.line + 1
                walk(value, here)
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                lines[(*path, i)] = value.start_mark.line + 1
                walk(value, (*path, i))

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines
    if root is not None:
        walk(root, ())
    return lines


def _at_line(message: str, loc: tuple, lines: dict[tuple, int] | None) -> str:
    """``message`` prefixed with the line of the deepest part of ``loc`` the YAML has."""
    loc = tuple(loc)
    for end in range(len(loc), 0, -1):
        if lines and loc[:end] in lines:
            return f"line {lines[loc[:end]]}: {message}"
    return message


def load_config(path: Path) -> Config:
    """Read and validate a YAML config file (yaml.safe_load; never executes tags)."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError("config file not found", str(path)) from None
    except IsADirectoryError:
        raise ConfigError(f"is a folder, not a config file: give the YAML file in it (e.g. "
                          f"{Path(path) / 'bidopt.yaml'})", str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the config: {exc}", str(path)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"line {line}: the config is not UTF-8 text (saved as GBK?); save it "
                          "as UTF-8", str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"malformed YAML: {where}{problem}", str(path)) from None
    if data is None:
        raise ConfigError("the config file is empty", str(path))
    return parse_config(data, base_dir=Path(path).resolve().parent, source=str(path),
                        lines=_key_lines(text))


def check_strategies(config: Config, known: dict[str, Any], source: str = "config") -> dict:
    """Validate the strategies section against the registered strategies.

    Returns {name: validated params}. Unknown names and bad parameters are ConfigErrors with
    a did-you-mean hint.
    """
    problems: list[str] = []
    validated: dict[str, Any] = {}
    for name, params in config.strategies.items():
        strategy = known.get(name)
        if strategy is None:
            hint = did_you_mean(name, known)
            disabled = (f"; third-party plugins are off ({DISABLE_ENV} is set)"
                        if plugins_disabled() else "")
            problems.append(_at_line(f"unknown strategy 'strategies.{name}'{hint} "
                                     f"(known: {', '.join(sorted(known))}){disabled}",
                                     ("strategies", name), config._lines))
            continue
        try:
            validated[name] = strategy.params.model_validate(params or {})
        except ValidationError as exc:
            for error in exc.errors():
                problems.append(_at_line(
                    _describe(error, strategy.params, ("strategies", name)),
                    ("strategies", name, *error["loc"]), config._lines))
    if problems:
        raise ConfigError(problems, source)
    return validated


def config_json_schema(
        strategies: dict[str, tuple[type[BaseModel], str]] | None = None) -> dict:
    """JSON Schema of the config, for editors that complete YAML.

    ``strategies`` (name -> its params model and description, from the registry) describes
    each strategy's options under ``strategies``, so an editor completes and checks them
    too; names not listed stay allowed (a plugin installed elsewhere).
    """
    strategies = strategies or {}
    models = [Config, *(model for model, _ in strategies.values())]
    keys, top = models_json_schema([(m, "validation") for m in models],
                                   ref_template="#/$defs/{model}")
    defs = top.get("$defs", {})
    schema = dict(defs.pop(Config.__name__))
    if strategies:
        options = {name: {"anyOf": [keys[(model, "validation")], {"type": "null"}],
                          "description": description}
                   for name, (model, description) in strategies.items()}
        schema["properties"]["strategies"] = {
            **schema["properties"]["strategies"], "properties": options}
    if defs:
        schema["$defs"] = defs
    schema["title"] = "bidopt config"
    return schema
