"""The run summary a person reads in the terminal or the nightly job's log."""

from __future__ import annotations

import math
import textwrap
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bidopt.track import over_nights

if TYPE_CHECKING:
    from bidopt.config import Config
    from bidopt.decide import Decision
    from bidopt.loop import RunResult
    from bidopt.model.calibration import EngagementLink


def _columns(char: str) -> int:
    """Terminal columns one character takes: CJK characters take two."""
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _take(chars, width: int) -> str:
    """The leading characters of ``chars`` that fit in ``width`` terminal columns."""
    out, used = "", 0
    for char in chars:
        if used + _columns(char) > width:
            break
        out, used = out + char, used + _columns(char)
    return out


def _cell(text: str, width: int) -> str:
    """Left-align in a fixed number of terminal columns. A longer name keeps its start and
    its end around a '~' (one column wide in every terminal, unlike '…'): campaigns often
    differ only at the end ('... 计划A', '... 计划B')."""
    if _width(text) > width:
        head = _take(text, (width - 1) // 2)
        tail = _take(reversed(text), width - 1 - _width(head))[::-1]
        text = head + "~" + tail
    return text + " " * (width - _width(text))


def _width(text: str) -> int:
    """Terminal columns ``text`` takes."""
    return sum(map(_columns, text))


def _money(value: float) -> str:
    """Two decimals; a sum too wide for its column (a budget of 1e9) in short form."""
    if not math.isfinite(value):
        return "-"
    return f"{value:,.2f}" if abs(value) < 1e8 else f"{value:.3g}"


def _roi(value: float) -> str:
    return f"{value:.2f}" if value is not None and math.isfinite(value) else "-"


def _held_by(row) -> str:
    """Which planned limit holds the campaign's plan back ('' : the objective or the nightly
    change limit does)."""
    held = [name for name, binds in (("floor", row.floor_binds), ("budget", row.budget_binds))
            if binds]
    return "+".join(held)


def objective_label(config: Config) -> str:
    """The objective as the plan values it, e.g. 'gmv + carts x1 + favourites x0.5 (as orders
    at the item price)' in a warm-up phase."""
    goal = config.objective
    weights = [f"{name} x{w:g}" for name, w in (("carts", goal.cart_weight),
                                               ("favourites", goal.favorite_weight)) if w > 0]
    if not weights or goal.target == "clicks":  # clicks are not weighed against carts
        return goal.target
    unit = "as orders" if goal.target == "orders" else "as orders at the item price"
    return f"{goal.target} + {' + '.join(weights)} ({unit})"


def _bound_words(decision: Decision) -> str:
    if not math.isfinite(decision.upper_bound):
        return "no proven bound: no plan meets the shop budget tonight"
    # the optimum of the problem solved, on the forecast and the planned limits: the words
    # must not read as a promise about the night, which the forecast's error decides
    return (f"proven bound {decision.upper_bound:,.2f} (on this forecast and the planned "
            f"limits, the plan is within {decision.gap:.2%} of the best plan)")


def shop_budget_line(decision: Decision) -> list[str]:
    """The shop-wide budget, when the config sets one: what the plan spends against it."""
    if decision.shop_budget is None:
        return []
    spent = float(decision.campaigns["cost_after"].sum())
    line = (f"shop budget {_money(decision.shop_budget)} (planned to "
            f"{_money(decision.shop_planned_budget)}): cost after {_money(spent)}")
    if spent > decision.shop_budget * (1 + 1e-9):
        why = ("the pinned bids and the nightly change limit allow no plan within it"
               if not decision.feasible else
               "at the plan's own bids, its crowd, region and hour actions save less than "
               "the solve counted")
        return [line + "  !! limit not met: " + why]
    return [line + ("; held by the shop budget" if decision.shop_binds else "")]


def added_keywords_line(decision: Decision) -> list[str]:
    """How much of the 'after' columns the keywords not bought yet make, and the shop's cost,
    GMV and ROI after without them: their forecast rests on the candidates file's market
    figures, not on the shop's reports, and errs by shop either way (docs/model.md, "Known
    gaps"), so a reader should see the part of the promise that rests on it. Wrapped to the table's width;
    nothing when the plan adds no keyword."""
    actions = decision.actions
    added = actions[actions["action"] == "add_keyword"] if len(actions) else actions
    if added.empty:
        return []
    campaigns = decision.campaigns
    cost = float(pd.to_numeric(added["d_cost"], errors="coerce").sum())
    gmv = float(pd.to_numeric(added["d_gmv"], errors="coerce").sum())
    rest_cost = float(campaigns["cost_after"].sum()) - cost
    rest_gmv = float(campaigns["gmv_after"].sum()) - gmv
    text = (f"of the after columns, {len(added):,} added keywords (not bought yet) take cost "
            f"{_money(cost)} and GMV {_money(gmv)}; without them the shop's cost after is "
            f"{_money(rest_cost)}, GMV after {_money(rest_gmv)}, ROI after "
            f"{_roi(rest_gmv / rest_cost if rest_cost > 0 else math.nan)}. An added keyword's "
            "forecast rests on the candidates file's market figures, not on this shop's "
            "reports, and errs either way by shop: on simulated shops 0.55-1.7x its true GMV "
            "(docs/model.md)")
    return textwrap.wrap(text, width=96, subsequent_indent=" " * 9)


def held_by_legend(decision: Decision, config: Config) -> list[str]:
    """What the table's ``planned`` floor is, and why a campaign can be 'held by' a limit its
    expected cost or ROI does not reach: the plan meets each limit with the optimiser's
    safety margins. Wrapped to the table's width; the budget's margin is named only where a
    budget is set."""
    campaigns = decision.campaigns
    settings = config.optimiser
    planned = ("planned: the floor with its margin, wider where the reports hold few days or "
               f"orders, so that the floor holds with probability {settings.floor_confidence:g} "
               "given how well they measure the campaign's ROI; see docs/optimiser.md")
    if not (campaigns["floor_binds"].any() or campaigns["budget_binds"].any()
            or decision.shop_binds):
        return textwrap.wrap(planned, width=96, subsequent_indent=" " * 9)
    limits = ["ROI above its planned floor"]
    if decision.shop_budget:
        limits.insert(0, f"spend at most {100 - settings.shop_budget_margin_pct:g}% of the "
                      "shop budget")
    if np.isfinite(campaigns["daily_budget"].to_numpy(float)).any():
        limits.insert(0, f"spend at most {100 - settings.budget_margin_pct:g}% of the "
                      "campaign's budget")
    text = (f"held by: the limit as the plan meets it, with margins for the forecast's error: "
            f"{' and '.join(limits)}, where the spend a keyword adds counts "
            f"{settings.added_spend_margin_pct:g}% more (cuts elsewhere do not net it out)"
            + (f", as does spend at a bid held on fewer than {settings.evidence_days} report "
               "days" if settings.evidence_days else "")
            + "; " + planned)
    return textwrap.wrap(text, width=96, subsequent_indent=" " * 9)


def campaign_table(campaigns: pd.DataFrame) -> str:
    """Expected cost, GMV and ROI per campaign before and after, plus a total line; with
    each campaign's floor as configured and as planned (``planned``: the floor plus the
    margin its reports call for, the ROI the plan must forecast)."""
    header = (f"{'campaign':<24} {'kw':>6} {'actions':>7} {'cost before':>12} {'cost after':>12} "
              f"{'GMV before':>12} {'GMV after':>12} {'ROI bef':>7} {'ROI aft':>7} "
              f"{'floor':>6} {'planned':>7} {'budget':>10} held by")
    lines = [header]
    for row in campaigns.itertuples():
        flag = "" if row.feasible else "  !! limit not met"
        lines.append(
            f"{_cell(str(row.campaign), 24)} {row.keywords:>6} {row.actions:>7} "
            f"{_money(row.cost_before):>12} {_money(row.cost_after):>12} "
            f"{_money(row.gmv_before):>12} {_money(row.gmv_after):>12} "
            f"{_roi(row.roi_before):>7} {_roi(row.roi_after):>7} {row.roi_floor:>6.2f} "
            f"{row.planned_floor:>7.2f} {_money(row.daily_budget):>10} {_held_by(row):<12}".rstrip()
            + flag
        )
    total = campaigns[["keywords", "actions", "cost_before", "cost_after", "gmv_before", "gmv_after"]].sum()
    roi_before = total.gmv_before / total.cost_before if total.cost_before else math.nan
    roi_after = total.gmv_after / total.cost_after if total.cost_after else math.nan
    lines.append(
        f"{'TOTAL':<24} {int(total.keywords):>6} {int(total.actions):>7} "
        f"{_money(total.cost_before):>12} {_money(total.cost_after):>12} "
        f"{_money(total.gmv_before):>12} {_money(total.gmv_after):>12} "
        f"{_roi(roi_before):>7} {_roi(roi_after):>7}"
    )
    return "\n".join(lines)


STATUSES = ("accepted", "scaled", "overridden", "rejected")


def proposal_table(proposals: pd.DataFrame, indent: str = "  ") -> list[str]:
    """One line per strategy x action kind: how many were proposed and what became of them."""
    if proposals.empty:
        return []
    keys = proposals[["strategy", "action"]].fillna("-").astype(str)
    counts = pd.crosstab([keys["strategy"], keys["action"]], proposals["status"])
    counts = counts.reindex(columns=list(STATUSES), fill_value=0)
    name_w = min(max(8, *(_width(n) for n in counts.index.get_level_values(0))), 24)
    kind_w = min(max(6, *(_width(k) for k in counts.index.get_level_values(1))), 20)
    lines = [f"{indent}{_cell('strategy', name_w)} {_cell('action', kind_w)} {'proposed':>8} "
             f"{'accepted':>8} {'scaled':>7} {'overridden':>10} {'rejected':>8}"]
    for (strategy, action), row in counts.iterrows():
        lines.append(
            f"{indent}{_cell(strategy, name_w)} {_cell(action, kind_w)} {int(row.sum()):>8,} "
            f"{row['accepted']:>8,} {row['scaled']:>7,} {row['overridden']:>10,} "
            f"{row['rejected']:>8,}"
        )
    return lines


def excel_number_notes(recommendations: pd.DataFrame, *, workbook_hint: bool = False
                       ) -> list[str]:
    """Names that Excel turns into numbers when it opens the CSV: a Taobao item ID of 12
    digits shows as 6.23457E+11 (16 and more lose their last digits), an ID with leading
    zeros loses them; a CSV saved from Excel then carries the changed names, and an upload
    or ``bidopt applied`` finds no such item. One note per column that has them.
    ``workbook_hint``: name ``output.format: xlsx``, whose workbook keeps them (only for
    bidopt's own CSV: another CSV format, such as a bulk sheet, has no workbook twin)."""
    notes = []
    for column in ("campaign", "item", "keyword"):
        if column not in recommendations:
            continue
        text = recommendations[column].dropna().astype(str).str.strip()
        digits = text[text.str.fullmatch(r"\d+")]
        changed = digits[(digits.str.len() >= 12) | ((digits.str.len() > 1)
                                                      & digits.str.startswith("0"))]
        if changed.empty:
            continue
        long = changed.str.len() >= 12  # one example of each kind
        examples = [kind.iloc[0] for kind in (changed[long], changed[~long]) if len(kind)]
        shown = [_excel_scientific(v) if len(v) >= 12 else str(int(v)) for v in examples]
        notes.append(
            f"{column} names such as {' and '.join(examples)} ({len(changed):,} rows) are "
            f"numbers to Excel, which shows them as {' and '.join(shown)}: check the file "
            f"without saving it from Excel (a CSV saved by Excel keeps them so, and its rows "
            f"then name no {column}), or open it through Data > From Text/CSV with the "
            f"{column} column as Text"
            + ("; or set output.format: xlsx to write a workbook that keeps them"
               if workbook_hint else ""))
    return notes


def _excel_scientific(digits: str) -> str:
    """How Excel's General format shows a number of 12 digits or more: 6.23457E+11."""
    mantissa, exponent = f"{float(digits):.5E}".split("E")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}E+{int(exponent):02d}"


def track_record_block(track: pd.DataFrame) -> list[str]:
    """The last uploaded plans' keyword changes against their reports (``bidopt.track``):
    one line per night and kind of change, forecast / reported over the changes in force,
    with the rows and reported orders a reader needs to judge one noisy day. A night whose
    changes match no report row prints nothing; one with no keyword report rows at all
    says so (its changes cannot be judged)."""
    if track is None or track.empty:
        return []
    matched = track.groupby("night", sort=False)["matched"].transform("sum")
    shown = track[~track["reported"].astype(bool) | (matched > 0)]
    if shown.empty:
        return []
    header = ["night", "change", "in force", "not in force", "no row", "clicks", "cost",
              "GMV", "ROI", "orders", "cost in range", "GMV in range"]
    table, missing = [], []
    for night, rows in shown.groupby("night", sort=False):
        if not bool(rows["reported"].iloc[0]):
            missing.append(f"  {night}  no keyword report rows that day: its "
                           f"{int(rows['rows'].sum()):,} uploaded changes are not compared")
            continue
        partial = bool(rows["partial"].eq(True).iloc[0])
        table += [_track_line(f"{night} partial" if partial else str(night), row)
                  for row in rows.itertuples()]
    table += [_track_line(f"{row.night} nights", row)
              for row in over_nights(shown).itertuples()]
    lines = ["last nights' uploaded changes against their reports (forecast / reported, "
             "over the changes in force):"]
    if table:
        widths = [max(_width(c) for c in column) for column in zip(header, *table, strict=True)]
        for cells in [header, *table]:
            text = [_cell(c, w) if i < 2 else f"{c:>{w}}"
                    for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
            lines.append(("  " + "  ".join(text)).rstrip())
    lines += missing
    if table:
        lines += textwrap.wrap(
            "not in force: the report's bid is not the plan's (upload failed or edited), or a "
            "paused keyword still shows; no row: no report row that day (a bid change "
            "counts 0 reported, a pause is in force); one day is noisy: mind the orders; the "
            "reports also carry the crowd premium, region and hour changes uploaded with the "
            "keywords', which these forecasts leave out (their effect is in their own rows); "
            "cost (GMV) in range: of the changes in force, the share whose reported cost (GMV) "
            "lies within the 80% range printed for it (cost_low to cost_high, gmv_low to "
            "gmv_high): 80% or more if the ranges are honest, more where many keywords show "
            "nothing (a range from 0 holds such a day); '-': a file written before the ranges"
            + ("; partial: the report holds less than half a usual day (exported before the "
               "day ended), not in the nights summed" if shown["partial"].eq(True).any()
               else ""),
            width=96, initial_indent="  ", subsequent_indent="  ")
    return lines


def _track_line(night: str, row) -> list[str]:
    """One row of the track-record table: counts, then forecast / reported (pauses: counts)."""
    counts = [night, row.kind, f"{int(row.in_force):,}", f"{int(row.not_in_force):,}",
              f"{int(row.no_row):,}"]
    if row.kind == "paused":
        return counts + [""] * 7
    return counts + [f"{_count(row.exp_clicks)} / {_count(row.clicks)}",
                     f"{_money(row.exp_cost)} / {_money(row.cost)}",
                     f"{_money(row.exp_gmv)} / {_money(row.gmv)}",
                     f"{_roi(row.exp_roi)} / {_roi(row.roi)}", _count(row.orders),
                     _share(row.cost_in_range, row.ranged), _share(row.gmv_in_range, row.ranged)]


def _share(part: float, whole: float) -> str:
    """'82%' of the changes with a range; '-' without any (a file written before them)."""
    if whole is None or not math.isfinite(whole) or whole <= 0:
        return "-"
    return f"{part / whole:.0%}"


def _count(value: float) -> str:
    return f"{value:,.0f}" if value is not None and math.isfinite(value) else "-"


def run_notes(result: RunResult, *, verbose: bool = False) -> list[str]:
    """What the run warns about: stale or short reports, overlapping files, pins and names
    that match nothing, ... (the first five input warnings unless ``verbose``), and names
    Excel would change in a CSV written (a workbook keeps them, and gets no such note)."""
    notes = list(result.context.warnings)
    written = [Path(p) for p in (result.output, result.review) if p is not None]
    if any(p.suffix.lower() == ".csv" for p in written):
        notes += excel_number_notes(
            result.recommendations,
            workbook_hint=result.context.config.output.format == "csv")
    if result.inputs.warnings:
        shown = result.inputs.warnings if verbose else result.inputs.warnings[:5]
        notes += [str(w) for w in shown]
        if len(shown) < len(result.inputs.warnings):
            notes.append(f"... {len(result.inputs.warnings) - len(shown)} more warnings (--verbose)")
    return notes


def engagement_line(link: EngagementLink | None) -> list[str]:
    """The run summary's line on how carts and favourites entered the conversion levels."""
    if link is None or link.weights is None or not len(link.weights):
        return []
    low, high = 100 * link.weights.min(), 100 * link.weights.max()
    share = f"{low:.0f}%" if round(low) == round(high) else f"{low:.0f}-{high:.0f}%"
    return [f"conversion: measured on the orders and on the carts and favourites, "
            f"{link.per_order:.1f} per order in this history; they carry {share} of each "
            "campaign x platform's level (history.engagement)"]


def format_summary(result: RunResult, config: Config, *, verbose: bool = False) -> str:
    decision = result.decision
    ctx = result.context
    history = ctx.history["keywords"]
    first, last = history["date"].min().date(), history["date"].max().date()
    status = decision.proposals["status"].value_counts()
    # Actions the plan takes; the CSV may also list rejected proposals (include_rejected).
    by_action = decision.actions["action"].value_counts()
    phase = config.phase_for(result.date)
    lines = [
        f"bidopt: shop '{config.shop}', planning the night of {result.date}"
        + (f" (calendar phase '{phase.name}')" if phase else ""),
        f"read {result.inputs.rows_read:,} rows from {len(result.inputs.files)} files; "
        f"{len(ctx.keywords):,} keyword x platform; history {first} .. {last}",
        *ctx.weekdays.summary_line(result.date),
        *engagement_line(getattr(ctx.model, "engagement_link_", None)),
        f"proposals: {len(decision.proposals):,} (accepted {status.get('accepted', 0):,}, "
        f"scaled {status.get('scaled', 0):,}, overridden {status.get('overridden', 0):,}, "
        f"rejected {status.get('rejected', 0):,})",
        *proposal_table(decision.proposals),
        "actions: " + (", ".join(f"{k} {v:,}" for k, v in by_action.items()) or "none"),
        "",
        campaign_table(decision.campaigns),
        *shop_budget_line(decision),
        *added_keywords_line(decision),
        *held_by_legend(decision, ctx.config),
        "",
        f"objective ({objective_label(ctx.config)}, net of {decision.change_cost:.3g} per change): "
        f"{decision.objective:,.2f}; " + _bound_words(decision),
    ]
    if block := track_record_block(result.track_record):
        lines += ["", *block]
    lines += [f"note: {n}" for n in run_notes(result, verbose=verbose)]
    if result.output is not None:
        rows, taken = len(result.recommendations), len(decision.actions)
        # with output.include_rejected the file also lists rejected proposals, which
        # change nothing: the row count alone disagrees with the actions counted above
        extra = (f": {taken:,} actions and {rows - taken:,} rejected proposals that change "
                 "nothing" if rows != taken else "")
        if result.review is None:
            lines.append(f"wrote {result.output} ({rows:,} rows{extra})")
        else:  # a writer plugin's file, and bidopt's own recommendations beside it
            lines += [f"wrote {result.output} (output format {config.output.format})",
                      f"wrote {result.review}, its review file ({rows:,} rows{extra}): every "
                      "change with its reason and expected effect; after the upload, record "
                      "it with `bidopt applied`"]
    else:
        lines.append("dry run: nothing written")
    return "\n".join(lines)
