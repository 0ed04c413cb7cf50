"""Draw the daily performance reports a seller would export, from the market's truth.

Per day: competitor scores jitter, searches arrive (Poisson per keyword x platform x crowd),
each crowd's auction is run at the effective bid (bid x (1 + premium)), and impressions,
clicks, orders, carts and favourites are binomial draws on the position curve; order values
are gamma sums. Crowd totals are sums of the same draws; region and hour reports split each
campaign's daily totals by region / hour weights (multinomial for counts, cents for money),
so every report grain adds up to the keyword report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bidopt.schema import METRICS, REPORT_COLUMNS
from bidopt.simulate._auction import SCORE_JITTER, position_ctr, realised_auction, view_rate
from bidopt.simulate._calendar import calendar_factors
from bidopt.simulate._market import MAX_CLICK_RATE, MAX_ORDER_RATE, Market

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
                     seasonal: bool, active: np.ndarray | None = None) -> dict[str, pd.DataFrame]:
    """The keyword, crowd, region and hour reports of ``dates`` (a loop over days and crowds).

    ``active`` (days x bought rows, optional): False where a keyword is paused that day; it
    gets no searches and no keyword report row, as a paused keyword shows in no export.
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
    for d in range(days):
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
            for k, v in cell.items():
                kw_metrics[k][d] += v
                crowd_metrics[k][d, :, j] = np.bincount(item, weights=v, minlength=n_items)
            avg_rank[d] += rank * m._crowd_share[item, j]
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
    region_report, hour_report = _split_reports(m, rng, date_values, campaign_totals)
    return {"keyword_report": keyword_report, "crowd_report": crowd_report,
            "region_report": region_report, "hour_report": hour_report}


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
                   totals: dict[str, np.ndarray]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Region and hour reports: each campaign-day's totals split over regions and hours."""
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
        hour_parts.append(_split(rng, day, hour_w))
    regions = _cell_frame(dates, m._campaign_names, "region", m._region_names, region_parts,
                          ~m._excluded)
    hours = _cell_frame(dates, m._campaign_names, "hour", np.arange(24), hour_parts,
                        np.ones((n_camp, 24), dtype=bool))
    for frame in (regions, hours):
        for k in COUNTS:
            frame[k] = frame[k].astype(np.int64)
    return regions, hours
