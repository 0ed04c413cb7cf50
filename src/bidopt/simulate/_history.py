"""Draw the daily performance reports a seller would export, from the market's truth.

Per day: competitor scores jitter, searches arrive (Poisson per keyword x platform x crowd),
each crowd's auction is run at the effective bid (bid x (1 + premium)), and impressions,
clicks, orders, carts and favourites are binomial draws on the position curve; order values
are gamma sums. Crowd totals are sums of the same draws; region and hour reports split each
campaign's daily totals by region / hour weights (multinomial for counts, cents for money),
so every report grain adds up to the keyword report.

With daily budgets (the cuts draw from a stream of their own, so the days a budget does not
reach are the days drawn without budgets), a campaign whose day would spend more than its budget goes offline once
the budget is spent: its clicks are taken in a random order (every keyword shares the day's
hour profile and a click's price does not depend on its hour, so a random order is the
day's order) and those past the budget are dropped with their impressions, carts and
favourites; orders are dropped by the share of orders the lost hours carry (the evening
converts better), and GMV with them. The hour report then shows no traffic after the hour
the budget ran out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bidopt.schema import METRICS, REPORT_COLUMNS
from bidopt.simulate._auction import SCORE_JITTER, position_ctr, realised_auction, view_rate
from bidopt.simulate._calendar import calendar_factors
from bidopt.simulate._market import (
    MAX_CLICK_RATE,
    MAX_ORDER_RATE,
    Market,
    online_fractions,
    online_hours,
)

COUNTS = ("impressions", "clicks", "orders", "carts", "favorites")
MONEY = ("cost", "gmv")
ORDER_VALUE_SHAPE = 8.0  # gamma shape per order: order values vary by about 35%
KEYWORD_REPORT_COLUMNS = [c for c in REPORT_COLUMNS if c not in ("crowd", "region", "hour")]


def _split(rng: np.random.Generator, totals: dict[str, np.ndarray],
           weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Split per-row totals over k cells: counts multinomially, money by whole cents.

    ``weights`` has (n, k) arrays for impressions, clicks, orders and cost_per_click; cost
    follows each cell's clicks x price, gmv each cell's orders, carts and favourites clicks.
    Impressions are at least the cell's clicks.
    """
    def multinomial(n: np.ndarray, w: np.ndarray) -> np.ndarray:
        total = w.sum(axis=1, keepdims=True)
        p = np.where(total > 0, w / np.where(total > 0, total, 1.0), 1.0 / w.shape[1])
        p[:, -1] = np.clip(1.0 - p[:, :-1].sum(axis=1), 0.0, 1.0)
        return rng.multinomial(n.astype(np.int64), p)

    def cents(amount: np.ndarray, w: np.ndarray) -> np.ndarray:
        total_cents = np.round(amount * 100).astype(np.int64)
        total = w.sum(axis=1, keepdims=True)
        share = np.where(total > 0, w / np.where(total > 0, total, 1.0), weights["clicks"]
                         / np.maximum(weights["clicks"].sum(axis=1, keepdims=True), 1e-12))
        part = np.floor(total_cents[:, None] * share).astype(np.int64)
        rest = total_cents - part.sum(axis=1)
        part[np.arange(len(part)), share.argmax(axis=1)] += rest
        return part / 100.0

    clicks = multinomial(totals["clicks"], weights["clicks"])
    out = {
        "clicks": clicks,
        "impressions": clicks + multinomial(totals["impressions"] - totals["clicks"],
                                            weights["impressions"]),
        "orders": multinomial(totals["orders"], weights["orders"]),
        "carts": multinomial(totals["carts"], clicks.astype(float)),
        "favorites": multinomial(totals["favorites"], clicks.astype(float)),
    }
    out["cost"] = cents(totals["cost"], clicks * weights["cost_per_click"])
    out["gmv"] = cents(totals["gmv"], out["orders"].astype(float))
    return out


def _cell_frame(dates: np.ndarray, campaigns: np.ndarray, dim: str, labels: np.ndarray,
                parts: list[dict[str, np.ndarray]], keep: np.ndarray) -> pd.DataFrame:
    """Stack per-day (campaign x cell) splits into a report frame."""
    n_camp, k = keep.shape
    frame = pd.DataFrame({
        "date": np.repeat(dates, n_camp * k),
        "campaign": np.tile(np.repeat(campaigns, k), len(dates)),
        dim: np.tile(labels, n_camp * len(dates)),
    })
    for m in METRICS:
        frame[m] = np.concatenate([p[m].ravel() for p in parts])
    frame = frame[np.tile(keep.ravel(), len(dates))].reset_index(drop=True)
    return frame


def simulate_reports(market: Market, rng: np.random.Generator, dates: pd.DatetimeIndex,
                     bid_paths: np.ndarray, quality_paths: np.ndarray,
                     seasonal: bool, active: np.ndarray | None = None,
                     budgets: np.ndarray | None = None) -> dict[str, pd.DataFrame]:
    """The keyword, crowd, region and hour reports of ``dates`` (a loop over days and crowds).

    ``active`` (days x bought rows, optional): False where a keyword is paused that day; it
    gets no searches and no keyword report row, as a paused keyword shows in no export.
    ``budgets`` (per campaign in the market's order, inf = none; optional): a campaign-day
    stops when its spend reaches its budget (module notes).
    """
    m = market
    n = m._n_bought
    rows = np.arange(n)
    book = m._book
    seg = book.gather(m._auction[rows])
    item, camp, plat = m._item_idx[rows], m._campaign_idx[rows], m._platform_idx[rows]
    n_items, n_crowds = m._crowd_share.shape
    n_camp = len(m._campaign_names)
    region = {k: v[camp] for k, v in m.region_factors().items()}
    calendar = calendar_factors(dates, seasonal)
    volume, ctr_top = m._search_volume[rows], m._ctr_top[rows]
    aov, cvr = m._aov[rows], m._cvr[rows]
    days = len(dates)
    kw_metrics = {k: np.zeros((days, n)) for k in METRICS}
    avg_rank = np.zeros((days, n))
    crowd_metrics = {k: np.zeros((days, n_items, n_crowds)) for k in METRICS}
    online = np.ones((days, n_camp))  # share of the day's spend the budget let through
    # the budget's cuts draw from a stream of their own: every campaign-day the budget does
    # not reach is drawn exactly as without budgets, and a capped one is a part of that day
    cut_rng = rng.spawn(1)[0] if budgets is not None else None
    for d in range(days):
        cells = []
        today = book.scores * np.exp(rng.normal(0.0, SCORE_JITTER, len(book.scores)))
        scores = today[seg.source]
        bid, quality = bid_paths[d], quality_paths[d].astype(float)
        for j in range(n_crowds):
            eff = bid * (1.0 + m._premium[item, j] / 100.0)
            rank, gsp = realised_auction(seg, scores, eff, quality)
            searches = rng.poisson(volume * calendar["volume"][d] * m._crowd_share[item, j]
                                   * region["reach"] * (1.0 if active is None else active[d]))
            impressions = rng.binomial(searches, view_rate(rank, plat))
            click_rate = np.minimum(ctr_top * m._crowd_ctr[item, j] * region["ctr"]
                                    * position_ctr(rank, plat), MAX_CLICK_RATE)
            clicks = rng.binomial(impressions, click_rate)
            order_rate = np.minimum(cvr * m._crowd_cvr[item, j] * region["cvr"]
                                    * calendar["cvr"][d], MAX_ORDER_RATE)
            orders = rng.binomial(clicks, order_rate)
            cell = {
                "impressions": impressions,
                "clicks": clicks,
                "cost": clicks * np.minimum(gsp * region["cpc"], eff),
                "orders": orders,
                "gmv": aov * m._crowd_aov[item, j] * rng.gamma(orders * ORDER_VALUE_SHAPE)
                / ORDER_VALUE_SHAPE,
                "carts": rng.binomial(clicks, np.minimum(m._cart_rate[rows] * calendar["carts"][d],
                                                         0.95)),
                "favorites": rng.binomial(clicks, np.minimum(
                    m._fav_rate[rows] * calendar["carts"][d], 0.95)),
            }
            cells.append(cell)
            avg_rank[d] += rank * m._crowd_share[item, j]
        if budgets is not None:
            online[d] = _cap_day(m, cut_rng, cells, camp, budgets)
        for j, cell in enumerate(cells):
            for k, v in cell.items():
                kw_metrics[k][d] += v
                crowd_metrics[k][d, :, j] = np.bincount(item, weights=v, minlength=n_items)
    for k in MONEY:
        kw_metrics[k] = np.round(kw_metrics[k], 2)
        crowd_metrics[k] = np.round(crowd_metrics[k], 2)
    date_values = dates.to_numpy().astype("datetime64[ns]")
    keyword_report = _keyword_frame(m, date_values, bid_paths, quality_paths, kw_metrics, avg_rank)
    if active is not None:
        keyword_report = keyword_report[active.ravel()].reset_index(drop=True)
    crowd_report = pd.DataFrame({
        "date": np.repeat(date_values, n_items * n_crowds),
        "campaign": np.tile(m.crowds["campaign"].to_numpy(), days),
        "item": np.tile(m.crowds["item"].to_numpy(), days),
        "crowd": np.tile(m.crowds["crowd"].to_numpy(), days),
    })
    for k in METRICS:
        values = crowd_metrics[k].ravel()
        crowd_report[k] = values if k in MONEY else values.astype(np.int64)
    campaign_totals = {k: np.stack([np.bincount(camp, weights=kw_metrics[k][d], minlength=n_camp)
                                    for d in range(days)]) for k in METRICS}
    region_report, hour_report = _split_reports(m, rng, date_values, campaign_totals,
                                                None if budgets is None else online)
    return {"keyword_report": keyword_report, "crowd_report": crowd_report,
            "region_report": region_report, "hour_report": hour_report}


def _cap_day(m: Market, rng: np.random.Generator, cells: list[dict[str, np.ndarray]],
             camp: np.ndarray, budgets: np.ndarray) -> np.ndarray:
    """Cut one day's per-crowd cells (in place) at each campaign's budget; returns per
    campaign the share of its uncapped spend that was bought (1 where the budget held)."""
    n_camp = len(m._campaign_names)
    n_rows = len(camp)
    spend = sum(np.bincount(camp, weights=c["cost"], minlength=n_camp) for c in cells)
    fraction = np.ones(n_camp)
    capped = np.flatnonzero(spend > budgets)
    if not len(capped):
        return fraction
    clicks = np.concatenate([c["clicks"] for c in cells]).astype(np.int64)
    cost = np.concatenate([c["cost"] for c in cells])
    with np.errstate(divide="ignore", invalid="ignore"):
        price = np.where(clicks > 0, cost / np.where(clicks > 0, clicks, 1), 0.0)
    kept = clicks.copy()
    cell_camp = np.tile(camp, len(cells))
    for c in capped:
        where = np.flatnonzero((cell_camp == c) & (clicks > 0))
        units = np.repeat(where, clicks[where])
        units = units[rng.permutation(len(units))]
        stay = np.cumsum(price[units]) <= budgets[c] + 1e-9
        kept[where] = np.bincount(units[stay], minlength=len(clicks))[where]
        fraction[c] = price[units[stay]].sum() / spend[c]
    _, order_share = online_fractions(m._hour_share, m._hour_cvr, fraction)
    click_share = np.where(spend > 0, fraction, 1.0)
    # orders kept per click kept: the lost hours' conversion against the day's
    order_tilt = order_share / np.where(click_share > 0, click_share, 1.0)
    lost = np.isin(camp, capped)  # the rows of the capped campaigns
    for j, cell in enumerate(cells):
        rows = slice(j * n_rows, (j + 1) * n_rows)
        now = cell["clicks"].astype(np.int64)
        keep = kept[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(now > 0, keep / np.where(now > 0, now, 1), 0.0)
        share = np.where(lost, share, 1.0)
        orders = cell["orders"].astype(np.int64)
        kept_orders = np.minimum(
            rng.binomial(orders, np.clip(share * order_tilt[camp], 0.0, 1.0)), keep)
        kept_orders = np.where(lost, kept_orders, orders)
        with np.errstate(divide="ignore", invalid="ignore"):
            gmv_share = np.where(orders > 0, kept_orders / np.where(orders > 0, orders, 1), 0.0)
        others = cell["impressions"] - now
        cell["impressions"] = np.where(lost, keep + rng.binomial(others, share), cell["impressions"])
        for name in ("carts", "favorites"):
            cell[name] = np.where(lost, rng.binomial(cell[name], share), cell[name])
        cell["cost"] = np.where(lost, keep * price[rows], cell["cost"])
        cell["gmv"] = np.where(lost, cell["gmv"] * gmv_share, cell["gmv"])
        cell["orders"] = kept_orders
        cell["clicks"] = np.where(lost, keep, now)
    return fraction


def _keyword_frame(m: Market, dates: np.ndarray, bid_paths: np.ndarray,
                   quality_paths: np.ndarray, kw_metrics: dict[str, np.ndarray],
                   avg_rank: np.ndarray) -> pd.DataFrame:
    days, n = bid_paths.shape
    keys = m.keywords
    frame = pd.DataFrame({"date": np.repeat(dates, n)})
    for col in ("campaign", "item", "keyword", "platform"):
        frame[col] = np.tile(keys[col].to_numpy(object), days)
    frame["bid"] = bid_paths.ravel()
    for k in METRICS:
        values = kw_metrics[k].ravel()
        frame[k] = values if k in MONEY else values.astype(np.int64)
    frame["avg_rank"] = np.round(avg_rank.ravel(), 1)
    frame["quality_score"] = quality_paths.ravel().astype(np.int64)
    return frame[KEYWORD_REPORT_COLUMNS]


def _split_reports(m: Market, rng: np.random.Generator, dates: np.ndarray,
                   totals: dict[str, np.ndarray], online: np.ndarray | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Region and hour reports: each campaign-day's totals split over regions and hours;
    ``online`` (days x campaigns): the share of the day's spend bought before a budget
    stopped the ads, so that the hours after it show nothing."""
    days, n_camp = totals["clicks"].shape
    reach = np.where(m._excluded, 0.0, m._region_share)
    region_w = {"impressions": reach, "clicks": reach * m._region_ctr,
                "orders": reach * m._region_ctr * m._region_cvr, "cost_per_click": m._region_cpc}
    hour_share = np.broadcast_to(m._hour_share, (n_camp, 24))
    hour_w = {"impressions": hour_share, "clicks": hour_share,
              "orders": hour_share * m._hour_cvr, "cost_per_click": np.ones((n_camp, 24))}
    region_parts, hour_parts = [], []
    for d in range(days):
        day = {k: v[d] for k, v in totals.items()}
        region_parts.append(_split(rng, day, region_w))
        if online is None or (online[d] >= 1).all():
            hour_parts.append(_split(rng, day, hour_w))
            continue
        on = online_hours(hour_share, online[d] * m._hour_share.sum())
        hour_parts.append(_split(rng, day, {k: v if k == "cost_per_click" else v * on
                                            for k, v in hour_w.items()}))
    regions = _cell_frame(dates, m._campaign_names, "region", m._region_names, region_parts,
                          ~m._excluded)
    hours = _cell_frame(dates, m._campaign_names, "hour", np.arange(24), hour_parts,
                        np.ones((n_camp, 24), dtype=bool))
    for frame in (regions, hours):
        for k in COUNTS:
            frame[k] = frame[k].astype(np.int64)
    return regions, hours
