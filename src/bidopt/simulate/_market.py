"""The ground truth of a simulated shop and its noise-free evaluators.

Benchmarks and tests judge a plan by what it would truly earn: :meth:`Market.expected`
evaluates bids, crowd premiums, region exclusions, hour discounts, added and paused keywords
under the truth the reports were drawn from.

Approximations (documented so judges know what "truth" means here):

- Crowds are simulated per keyword x crowd: the premium raises the effective bid for that
  crowd's searches, so rank and price differ by crowd.
- Hour discounts are evaluated exactly per distinct discount level (hours sharing a level share
  an auction outcome); hours differ only in search share and conversion.
- Regions act multiplicatively on keyword-level outcomes: an excluded region removes its
  search share; a region's competitor pressure multiplies the price per click (capped at the
  bid) and lowers CTR; its conversion multiplier scales orders. Ranks are not recomputed per
  region.
- The rank's day-to-day spread (competitor jitter) is integrated with a three-point rule for
  impressions and clicks; the price per click is taken at the mean rank (interpolating the
  sorted competitor scores), which keeps it monotone in the bid. The shop's own items do not
  compete with each other.
- ``expected`` describes a typical day: no weekday or promotion-calendar factors, unless
  the market is viewed on a day (:meth:`Market.on_day`).
- A campaign's daily budget (``budgets``, optional) takes its ads offline once its spend
  reaches the budget, hours taken in order 0..23: the hour that crosses it is online for the
  fraction that spends the rest, later hours not at all. Every metric of the campaign's
  keywords scales by each hour's online share (orders and GMV by the hour's share of orders,
  so the evening's higher conversion is what a budget cut loses). Without budgets nothing
  changes.
"""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pandas as pd

from bidopt.schema import METRICS, PLATFORMS
from bidopt.simulate._auction import (
    MAX_BID,
    MIN_BID,
    CompetitorBook,
    expected_auction,
    expected_price,
    position_ctr,
    rank_nodes,
    view_rate,
)
from bidopt.simulate._calendar import calendar_factors

KEYWORD_KEYS = ["campaign", "item", "keyword", "platform"]
MAX_CLICK_RATE = 0.95
MAX_ORDER_RATE = 0.9


def online_hours(hour_cost: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """Per campaign and hour, the share of the hour the ads are online under ``budget``.

    ``hour_cost`` (campaigns x 24) is what each hour would spend uncapped, in hour order;
    once the running spend reaches the budget the ads stop: the crossing hour is online for
    the fraction that spends the rest of the budget, later hours are off. An infinite (or
    non-binding) budget leaves every hour fully online.
    """
    hour_cost = np.asarray(hour_cost, dtype=float)
    budget = np.asarray(budget, dtype=float).reshape(-1, 1)
    before = np.cumsum(hour_cost, axis=1) - hour_cost  # spent when the hour starts
    room = np.clip(budget - before, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(hour_cost > 0, room / np.where(hour_cost > 0, hour_cost, 1.0), 1.0)
    share = np.clip(share, 0.0, 1.0)
    return np.where(before >= budget, 0.0, share)


def online_fractions(hour_share: np.ndarray, hour_cvr: np.ndarray,
                     spend_fraction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of a day's clicks and of its orders kept when the ads stop after
    ``spend_fraction`` of the day's spend (spend per click flat over the day), per campaign."""
    fraction = np.asarray(spend_fraction, dtype=float)
    online = online_hours(np.broadcast_to(hour_share, (len(fraction), len(hour_share))),
                          fraction * hour_share.sum())
    orders = hour_share * hour_cvr
    return (online * hour_share).sum(axis=1) / hour_share.sum(), \
        (online * orders).sum(axis=1) / orders.sum()


class Market:
    """Truth frames plus vectorised evaluators of a plan under that truth.

    Frames (public, read-only by convention): ``keywords`` (bought keyword x platform rows),
    ``candidates_truth`` (not bought), ``crowds`` (item x crowd), ``regions``
    (campaign x region), ``hours`` (hour), ``campaigns``.
    """

    def __init__(
        self,
        *,
        keywords: pd.DataFrame,
        candidates_truth: pd.DataFrame,
        crowds: pd.DataFrame,
        regions: pd.DataFrame,
        hours: pd.DataFrame,
        campaigns: pd.DataFrame,
        items: pd.DataFrame,
        book: CompetitorBook,
        auction: np.ndarray,
    ) -> None:
        self.keywords = keywords
        self.candidates_truth = candidates_truth
        self.crowds = crowds
        self.regions = regions
        self.hours = hours
        self.campaigns = campaigns
        self._book = book
        self._auction = auction  # per universe row (keywords then candidates)
        self._campaign_names = campaigns["campaign"].to_numpy()
        self._item_names = items["item"].to_numpy()
        self._crowd_names = crowds["crowd"].drop_duplicates().to_numpy()
        self._region_names = regions["region"].drop_duplicates().to_numpy()
        self._index_arrays(pd.concat([keywords, candidates_truth], ignore_index=True))
        self._day = {"volume": 1.0, "cvr": 1.0, "carts": 1.0}

    def on_day(self, day: dt.date, *, seasonal: bool) -> Market:
        """This market on one calendar day: ``expected`` then applies the day's weekday
        volume and, with ``seasonal``, its promotion factors, as the history's days do."""
        view = copy.copy(self)
        factors = calendar_factors(pd.DatetimeIndex([pd.Timestamp(day)]), seasonal)
        view._day = {name: float(values[0]) for name, values in factors.items()}
        return view

    # -- set-up ---------------------------------------------------------------------------
    def _index_arrays(self, universe: pd.DataFrame) -> None:
        """Per-row arrays of the universe (bought rows first), and the lookup index."""
        self._universe = universe[KEYWORD_KEYS].reset_index(drop=True)
        self._n_bought = len(self.keywords)
        self._index = pd.MultiIndex.from_frame(
            universe[["item", "keyword", "platform"]].astype(str)
        )
        self._item_idx = pd.Index(self._item_names).get_indexer(universe["item"])
        self._campaign_idx = pd.Index(self._campaign_names).get_indexer(universe["campaign"])
        self._platform_idx = pd.Index(PLATFORMS).get_indexer(universe["platform"])
        for name in ("search_volume", "quality_score", "ctr_top", "cvr", "aov",
                     "cart_rate", "fav_rate"):
            setattr(self, f"_{name}", universe[name].to_numpy(float))
        self._bid = universe["bid"].to_numpy(float)
        n_items, n_crowds = len(self._item_names), len(self._crowd_names)

        def crowd_matrix(col: str) -> np.ndarray:
            return self.crowds[col].to_numpy(float).reshape(n_items, n_crowds)

        self._crowd_share = crowd_matrix("share")
        self._crowd_ctr = crowd_matrix("ctr_mult")
        self._crowd_cvr = crowd_matrix("cvr_mult")
        self._crowd_aov = crowd_matrix("aov_mult")
        self._premium = crowd_matrix("premium")
        n_camp, n_reg = len(self._campaign_names), len(self._region_names)

        def region_matrix(col: str) -> np.ndarray:
            return self.regions[col].to_numpy(float).reshape(n_camp, n_reg)

        self._region_share = region_matrix("share")
        self._region_ctr = region_matrix("ctr_mult")
        self._region_cvr = region_matrix("cvr_mult")
        self._region_cpc = region_matrix("cpc_mult")
        self._excluded = region_matrix("excluded").astype(bool)
        self._hour_share = self.hours["share"].to_numpy(float)
        self._hour_cvr = self.hours["cvr_mult"].to_numpy(float)

    # -- lookups --------------------------------------------------------------------------
    def _rows(self, frame: pd.DataFrame, what: str) -> np.ndarray:
        """Universe rows of (item, keyword, platform) keys; unknown keys are an error."""
        keys = pd.MultiIndex.from_frame(frame[["item", "keyword", "platform"]].astype(str))
        rows = self._index.get_indexer(keys)
        if (rows < 0).any():
            bad = frame.loc[rows < 0, ["item", "keyword", "platform"]].head(3)
            raise ValueError(
                f"{int((rows < 0).sum())} {what} rows are not in the market, e.g. "
                + "; ".join(" / ".join(map(str, r)) for r in bad.itertuples(index=False))
            )
        return rows

    @staticmethod
    def _both_platforms(frame: pd.DataFrame) -> pd.DataFrame:
        if "platform" in frame.columns:
            return frame
        return pd.concat([frame.assign(platform=p) for p in PLATFORMS], ignore_index=True)

    def _codes(self, values: pd.Series, names: np.ndarray, what: str) -> np.ndarray:
        codes = pd.Index(names).get_indexer(values.astype(str))
        if (codes < 0).any():
            raise ValueError(f"unknown {what}: {sorted(set(values[codes < 0]))[:5]}")
        return codes

    # -- plan state -----------------------------------------------------------------------
    def _plan_premiums(self, crowd_premiums: pd.DataFrame | None) -> np.ndarray:
        premium = self._premium.copy()
        if crowd_premiums is not None and len(crowd_premiums):
            i = self._codes(crowd_premiums["item"], self._item_names, "item")
            c = self._codes(crowd_premiums["crowd"], self._crowd_names, "crowd")
            premium[i, c] = crowd_premiums["premium"].to_numpy(float)
        return premium

    def _plan_exclusions(self, excluded_regions: pd.DataFrame | None) -> np.ndarray:
        if excluded_regions is None:
            return self._excluded.copy()
        excluded = np.zeros_like(self._excluded)
        if len(excluded_regions):
            c = self._codes(excluded_regions["campaign"], self._campaign_names, "campaign")
            r = self._codes(excluded_regions["region"], self._region_names, "region")
            excluded[c, r] = True
        return excluded

    def _plan_discounts(self, hour_discounts: pd.DataFrame | None) -> np.ndarray:
        discount = np.ones((len(self._campaign_names), 24))
        if hour_discounts is not None and len(hour_discounts):
            c = self._codes(hour_discounts["campaign"], self._campaign_names, "campaign")
            h = hour_discounts["hour"].to_numpy(int)
            discount[c, h] = hour_discounts["discount"].to_numpy(float) / 100.0
        return discount

    def region_factors(self, excluded: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Per campaign: searches reached, and CTR/price/CVR multipliers of reached regions."""
        excluded = self._excluded if excluded is None else excluded
        share = np.where(excluded, 0.0, self._region_share)
        reach = share.sum(axis=1)
        clicks = share * self._region_ctr
        click_total = clicks.sum(axis=1)
        safe_reach = np.where(reach > 0, reach, 1.0)
        safe_clicks = np.where(click_total > 0, click_total, 1.0)
        return {
            "reach": reach,
            "ctr": click_total / safe_reach,
            "cpc": (clicks * self._region_cpc).sum(axis=1) / safe_clicks,
            "cvr": (clicks * self._region_cvr).sum(axis=1) / safe_clicks,
        }

    def _hour_levels(self, discount: np.ndarray) -> list[tuple[float, np.ndarray, np.ndarray]]:
        """(bid factor, share of searches, CVR multiplier) per distinct discount level."""
        levels = []
        for factor in np.unique(discount):
            if factor <= 0:
                continue  # hour switched off
            in_level = discount == factor
            share = (in_level * self._hour_share).sum(axis=1)
            cvr = (in_level * self._hour_share * self._hour_cvr).sum(axis=1)
            levels.append((float(factor), share, cvr / np.where(share > 0, share, 1.0)))
        return levels

    # -- evaluation -----------------------------------------------------------------------
    def _evaluate(
        self,
        rows: np.ndarray,
        bid: np.ndarray,
        premium: np.ndarray,
        excluded: np.ndarray,
        discount: np.ndarray,
        budget: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """Expected daily outcome of universe ``rows`` at ``bid`` under one plan state;
        ``budget`` (per campaign, inf = none) takes a campaign offline once it is spent."""
        seg = self._book.gather(self._auction[rows])
        item, camp, plat = self._item_idx[rows], self._campaign_idx[rows], self._platform_idx[rows]
        quality = self._quality_score[rows]
        region = {k: v[camp] for k, v in self.region_factors(excluded).items()}
        out = {m: np.zeros(len(rows)) for m in METRICS}
        rank_sum, traffic_sum = np.zeros(len(rows)), np.zeros(len(rows))
        levels = []  # (hours of the level per campaign, its outcome), with a budget only
        for factor, hour_share, hour_cvr in self._hour_levels(discount):
            level_share = hour_share[camp]
            if not level_share.any():
                continue
            if budget is not None:
                out = {m: np.zeros(len(rows)) for m in METRICS}
                levels.append((discount == factor, out))
            for j in range(premium.shape[1]):
                eff = bid * (1.0 + premium[item, j] / 100.0) * factor
                mean, sd = expected_auction(seg, eff, quality)
                traffic = self._crowd_share[item, j] * level_share
                searches = (self._search_volume[rows] * self._day["volume"] * traffic
                            * region["reach"])
                click_top = np.minimum(self._ctr_top[rows] * self._crowd_ctr[item, j]
                                       * region["ctr"], MAX_CLICK_RATE)
                impressions, clicks = np.zeros(len(rows)), np.zeros(len(rows))
                for weight, rank in rank_nodes(seg, mean, sd):
                    node_impressions = weight * searches * view_rate(rank, plat)
                    impressions += node_impressions
                    clicks += node_impressions * np.minimum(
                        click_top * position_ctr(rank, plat), MAX_CLICK_RATE)
                price = expected_price(seg, mean, eff, quality)
                cost = clicks * np.minimum(price * region["cpc"], eff)
                order_rate = np.minimum(
                    self._cvr[rows] * self._crowd_cvr[item, j] * region["cvr"] * hour_cvr[camp]
                    * self._day["cvr"], MAX_ORDER_RATE)
                orders = clicks * order_rate
                out["impressions"] += impressions
                out["clicks"] += clicks
                out["cost"] += cost
                out["orders"] += orders
                out["gmv"] += orders * self._aov[rows] * self._crowd_aov[item, j]
                out["carts"] += clicks * np.minimum(self._cart_rate[rows] * self._day["carts"],
                                                    0.95)
                out["favorites"] += clicks * np.minimum(self._fav_rate[rows] * self._day["carts"],
                                                        0.95)
                rank_sum += mean * traffic
                traffic_sum += traffic
        if budget is not None:
            out = self._capped(camp, levels, budget)
        base_rank, _ = expected_auction(seg, bid, quality)
        out["rank"] = np.where(
            traffic_sum > 0, rank_sum / np.where(traffic_sum > 0, traffic_sum, 1.0), base_rank
        )
        return out

    def _capped(self, camp: np.ndarray, levels: list[tuple[np.ndarray, dict]],
                budget: np.ndarray) -> dict[str, np.ndarray]:
        """Sum the discount levels' outcomes with each campaign offline once its budget is
        spent (hours in order 0..23; see :func:`online_hours`)."""
        n_camp = len(self._campaign_names)
        share = self._hour_share
        orders_w = share * self._hour_cvr
        hour_cost = np.zeros((n_camp, 24))
        for in_level, level in levels:
            level_cost = np.bincount(camp, weights=level["cost"], minlength=n_camp)
            weight = in_level * share
            total = weight.sum(axis=1, keepdims=True)
            hour_cost += level_cost[:, None] * weight / np.where(total > 0, total, 1.0)
        online = online_hours(hour_cost, budget)
        out = {m: np.zeros(len(camp)) for m in METRICS}
        for in_level, level in levels:
            kept = {}
            for name, w in (("traffic", share), ("orders", orders_w)):
                weight = in_level * w
                total = weight.sum(axis=1)
                kept[name] = np.where(total > 0, (weight * online).sum(axis=1)
                                      / np.where(total > 0, total, 1.0), 1.0)[camp]
            for m in METRICS:
                out[m] += level[m] * kept["orders" if m in ("orders", "gmv") else "traffic"]
        return out

    def budget_array(self, budgets) -> np.ndarray:
        """Per campaign (in the market's order) the daily budget of ``budgets`` (one number
        for every campaign, a mapping or Series campaign -> budget, or a frame with
        ``campaign`` and ``budget``); inf where none is given."""
        if np.ndim(budgets) == 0 and not isinstance(budgets, dict):
            return np.full(len(self._campaign_names), float(budgets))
        if isinstance(budgets, pd.DataFrame):
            budgets = budgets.set_index("campaign")["budget"]
        series = pd.Series(budgets, dtype=float)
        unknown = sorted(set(map(str, series.index)) - set(map(str, self._campaign_names)))
        if unknown:
            raise ValueError(f"unknown campaign in budgets: {unknown[:5]}")
        series.index = series.index.astype(str)
        values = series.reindex(self._campaign_names.astype(str)).to_numpy(float)
        return np.where(np.isfinite(values), values, np.inf)

    def expected(
        self,
        bids: pd.DataFrame | None = None,
        *,
        crowd_premiums: pd.DataFrame | None = None,
        excluded_regions: pd.DataFrame | None = None,
        hour_discounts: pd.DataFrame | None = None,
        added_keywords: pd.DataFrame | None = None,
        paused_keywords: pd.DataFrame | None = None,
        budgets=None,
    ) -> pd.DataFrame:
        """Noise-free expected next-day outcome of a plan, one row per bought keyword x platform.

        ``bids`` (campaign, item, keyword, platform, bid): keywords not listed keep their
        current bid; a candidate listed here is bought. ``crowd_premiums`` (item, crowd,
        premium %): unlisted cells keep their current premium. ``excluded_regions``
        (campaign, region): the full excluded set (None keeps the current one).
        ``hour_discounts`` (campaign, hour, discount %): unlisted hours are 100%.
        ``added_keywords`` (keyword, item, [platform], bid): candidates to start buying, on
        both platforms when ``platform`` is absent. ``paused_keywords`` (campaign, item,
        keyword, platform): stop buying. Bids are clipped to [0.05, 100].
        ``budgets`` (campaign -> daily budget, a mapping, Series or frame with ``campaign``
        and ``budget``; optional): a campaign's ads go offline once its spend reaches its
        budget, hours in order 0..23 (the module's notes); campaigns not listed have none.
        """
        bid = self._bid.copy()
        active = np.zeros(len(bid), dtype=bool)
        active[: self._n_bought] = True
        for frame, what in ((added_keywords, "added keyword"), (bids, "bid")):
            if frame is not None and len(frame):
                frame = self._both_platforms(frame)
                rows = self._rows(frame, what)
                bid[rows] = frame["bid"].to_numpy(float)
                active[rows] = True
        if paused_keywords is not None and len(paused_keywords):
            active[self._rows(self._both_platforms(paused_keywords), "paused keyword")] = False
        rows = np.flatnonzero(active)
        plan_bid = np.clip(bid[rows], MIN_BID, MAX_BID)
        out = self._evaluate(
            rows,
            plan_bid,
            self._plan_premiums(crowd_premiums),
            self._plan_exclusions(excluded_regions),
            self._plan_discounts(hour_discounts),
            None if budgets is None else self.budget_array(budgets),
        )
        frame = self._universe.iloc[rows].reset_index(drop=True)
        frame["bid"] = plan_bid
        frame["rank"] = out["rank"]
        for m in METRICS:
            frame[m] = out[m]
        return frame

    def campaign_totals(self, expected_frame: pd.DataFrame) -> pd.DataFrame:
        """Per campaign: cost, gmv, clicks, orders and ROI (GMV / cost; NaN without cost)."""
        totals = (expected_frame.groupby("campaign", sort=True)[["cost", "gmv", "clicks", "orders"]]
                  .sum().reset_index())
        cost = totals["cost"].to_numpy(float)
        totals["roi"] = np.where(cost > 0, totals["gmv"] / np.where(cost > 0, cost, 1.0), np.nan)
        return totals

    def _auction_at(self, keys_frame: pd.DataFrame, bids) -> tuple[np.ndarray, ...]:
        """Rows, clipped bids, mean rank and price per click at those bids."""
        rows = self._rows(keys_frame, "keyword")
        bid = np.clip(np.broadcast_to(np.asarray(bids, dtype=float), (len(rows),)),
                      MIN_BID, MAX_BID)
        seg = self._book.gather(self._auction[rows])
        quality = self._quality_score[rows]
        mean, _ = expected_auction(seg, bid, quality)
        return rows, bid, mean, expected_price(seg, mean, bid, quality)

    def rank_for_bid(self, keys_frame: pd.DataFrame, bids) -> np.ndarray:
        """Expected rank of each (item, keyword, platform) at ``bids`` (no crowd premium)."""
        return self._auction_at(keys_frame, bids)[2]

    def cpc_for_bid(self, keys_frame: pd.DataFrame, bids) -> np.ndarray:
        """Expected price per click at ``bids`` (no crowd premium), across the campaign's
        currently reached regions, never above the bid."""
        rows, bid, _, gsp = self._auction_at(keys_frame, bids)
        region_cpc = self.region_factors()["cpc"][self._campaign_idx[rows]]
        return np.minimum(gsp * region_cpc, bid)
