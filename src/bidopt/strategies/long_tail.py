"""Long-tail picking, "门当户对" (matched rings).

Keywords sit on rings: big category words in the centre (huge volume, fierce competition),
precise words in the middle, long-tail words outside (low volume, cheap, converting well).
Items sit on the same rings by sales: best-sellers in the centre, zero-sales items outside.
An item buys the words of its own ring (and, optionally, rings further out); a new item
starts with long-tail words and moves inward as it sells.

Proposals: add candidate keywords of the item's rings (up to a nightly number and never past
200 keywords per item, bought ones included) at a starting bid from the market price per
click and the value a click is worth at the ROI floor; optional promotion entrance words
from a template such as "{promo}{category}"; pause bought words far inside the item's ring
that spend without orders, when a conversion-rate posterior says they are below the floor.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.stats import gamma

from bidopt.context import KEYWORD_KEYS, RunContext
from bidopt.hookspecs import hookimpl
from bidopt.strategies._labels import MATCHED_RINGS, label
from bidopt.strategy import Strategy, StrategyParams, no_proposals, unknown_names, with_notes

RING_NAMES = np.array(["head", "precise", "long-tail"], dtype=object)
MAX_KEYWORDS_PER_ITEM = 200


class PromotionWords(BaseModel):
    """Promotion entrance words: cheap long-tail words that open around a big promotion."""

    model_config = ConfigDict(extra="forbid")
    template: str = Field("{promo}{category}", description="How an entrance word is spelled.")
    promos: list[str] = Field(default_factory=lambda: ["双十一"], description="Promotion names.")
    category_pattern: str = Field(
        r"^([^-]+)",
        description="Regex whose first group takes the category word from the campaign name "
        "(for items without a category in the items file).",
    )
    bid_share: float = Field(
        0.5, gt=0, le=1,
        description="Starting bid without market figures: this share of value per click / floor.",
    )
    phases: list[str] = Field(
        default_factory=list,
        description="Calendar phases (calendar: in the config) whose nights add entrance words, "
        "e.g. [pre-sale, warm-up, burst]; empty: every night.",
    )


class LongTailParams(StrategyParams):
    item_ring_sales: tuple[float, float] = Field(
        (200.0, 5.0),
        description="sales_30d at or above the first: centre ring (best-seller); at or above "
        "the second: middle ring; below: outer ring (new / low-sales item).",
    )
    head_volume: float = Field(1500.0, gt=0, description="Daily searches of a head word.")
    head_competition: float = Field(55.0, gt=0, description="Competition of a head word.")
    tail_volume: float = Field(200.0, gt=0, description="A long-tail word has fewer searches...")
    tail_competition: float = Field(18.0, gt=0, description="...and less competition than this.")
    outer_rings: int = Field(
        1, ge=0, le=2, description="Rings further out than its own that an item may buy."
    )
    max_keywords_per_item: int = Field(
        MAX_KEYWORDS_PER_ITEM, ge=1, le=MAX_KEYWORDS_PER_ITEM,
        description="Cap on keywords per item, bought ones included (ZTC allows 200).",
    )
    max_adds_per_item: int = Field(10, ge=0, description="New keywords per item per night.")
    min_affordability: float = Field(
        0.6, gt=0,
        description="Add only where value per click / floor >= this x the market CPC.",
    )
    market_cvr_weight: float = Field(
        0.5, ge=0, le=1, description="Weight of the market CVR against the item's own (log blend)."
    )
    platform: str = Field("mobile", description="Platform new keywords are added on.")
    pause_ring_gap: int = Field(
        1, ge=1, le=2, description="Pause only words at least this many rings inside the item's."
    )
    pause_min_clicks: int = Field(30, ge=1, description="Clicks a word needs before pausing.")
    pause_probability: float = Field(
        0.9, gt=0.5, lt=1, description="Pause when P(ROI < floor) is at least this."
    )
    promotion: PromotionWords | None = Field(
        None, description="Entrance words to add; none unless configured."
    )

    @model_validator(mode="after")
    def _rings_in_order(self) -> LongTailParams:
        top, middle = self.item_ring_sales
        if not top > middle >= 0:
            raise ValueError(f"item_ring_sales must be [centre, middle] with centre > middle "
                             f">= 0, e.g. [200, 5]; got [{top:g}, {middle:g}]")
        return self


def item_ring(sales: np.ndarray, params: LongTailParams) -> np.ndarray:
    """0 best-seller, 1 growing, 2 new or low-sales (unknown sales count as new)."""
    top, middle = params.item_ring_sales
    sales = np.nan_to_num(np.asarray(sales, float), nan=0.0)
    return np.where(sales >= top, 0, np.where(sales >= middle, 1, 2))


def keyword_ring(volume: np.ndarray, competition: np.ndarray, params: LongTailParams) -> np.ndarray:
    """0 head, 1 precise, 2 long tail; unknown competition is judged on volume alone."""
    volume = np.asarray(volume, float)
    comp = np.asarray(competition, float)
    known = np.isfinite(comp)
    head = (volume >= params.head_volume) | (known & (comp >= params.head_competition))
    tail = (volume < params.tail_volume) & (~known | (comp < params.tail_competition))
    return np.where(head, 0, np.where(tail, 2, 1))


def _item_table(ctx: RunContext, params: LongTailParams) -> pd.DataFrame:
    """Per item: campaign, ring, price, shrunk conversion rate, value per click, floor."""
    state = ctx.keywords
    sums = state.groupby(["campaign", "item"], observed=True)[["clicks", "orders", "gmv"]].sum()
    shop_cvr = max(state["orders"].sum(), 1.0) / max(state["clicks"].sum(), 1.0)
    cvr = (sums["orders"] + 2.0) / (sums["clicks"] + 2.0 / shop_cvr)
    table = sums.reset_index().assign(cvr=cvr.to_numpy())
    items = ctx.items.drop_duplicates("item").set_index("item") if len(ctx.items) else None
    shop_aov = state["gmv"].sum() / max(state["orders"].sum(), 1.0)
    price = table["item"].map(items["price"]) if items is not None \
        else pd.Series(np.nan, index=table.index)
    table["price"] = pd.to_numeric(price, errors="coerce").fillna(shop_aov).to_numpy()
    sales = table["item"].map(items["sales_30d"]) if items is not None and "sales_30d" in items \
        else pd.Series(np.nan, index=table.index)
    table["sales_30d"] = pd.to_numeric(sales, errors="coerce").to_numpy()
    table["ring"] = item_ring(table["sales_30d"], params)
    table["floor"] = ctx.roi_floor(table["campaign"])
    bought = state.groupby(["campaign", "item"], observed=True)["keyword"].nunique()
    table["bought"] = bought.reindex(pd.MultiIndex.from_frame(table[["campaign", "item"]])).to_numpy()
    if items is not None and "category" in items:
        table["category"] = table["item"].map(items["category"]).astype(object)
    return table


def _candidates(ctx: RunContext, items: pd.DataFrame, params: LongTailParams) -> pd.DataFrame:
    """Candidate keywords per item (rows without an item apply to every item), not yet bought."""
    cand = ctx.candidates
    if cand is None or len(cand) == 0:
        return pd.DataFrame()
    cand = cand.copy()
    for col in ("item", "competition", "market_ctr", "market_cvr", "market_cpc"):
        if col not in cand:
            cand[col] = np.nan
    own = cand[cand["item"].notna()].merge(items, on="item")
    shared = cand[cand["item"].isna()].drop(columns="item").merge(items, how="cross")
    pairs = pd.concat([own, shared], ignore_index=True)
    bought = pd.MultiIndex.from_frame(ctx.keywords[["item", "keyword"]].astype(str))
    is_bought = pd.MultiIndex.from_frame(pairs[["item", "keyword"]].astype(str)).isin(bought)
    pairs = pairs[~is_bought].drop_duplicates(["item", "keyword"]).reset_index(drop=True)
    pairs["entrance"] = False
    return pairs


def _entrance_words(items: pd.DataFrame, params: LongTailParams, known: pd.DataFrame) -> pd.DataFrame:
    """Entrance words from the template for every item, unless already a candidate or bought."""
    promo = params.promotion
    if promo is None or not promo.promos:
        return pd.DataFrame()
    pattern = re.compile(promo.category_pattern)
    category = items["campaign"].astype(str).map(
        lambda name: (m.group(1) if (m := pattern.search(name)) else ""))
    if "category" in items:  # the items file's own category, where it names one
        own = items["category"].fillna("").astype(str).str.strip()
        named = (own != "") & ~own.str.fullmatch(r"[\d.]+")  # a 类目ID is no word
        category = own.where(named, category)
    frames = [items.assign(keyword=[promo.template.format(promo=p, category=c) for c in category])
              for p in promo.promos]
    words = pd.concat(frames, ignore_index=True)
    words = words[category.reindex(words.index % len(items)).to_numpy() != ""] if len(items) else words
    seen = pd.MultiIndex.from_frame(known[["item", "keyword"]].astype(str)) if len(known) else None
    if seen is not None:
        words = words[~pd.MultiIndex.from_frame(words[["item", "keyword"]].astype(str)).isin(seen)]
    return words.assign(entrance=True, search_volume=np.nan, competition=np.nan)


def _promotion_night(context: RunContext, params: LongTailParams) -> bool:
    """Whether tonight adds entrance words: on every night, or only in the phases named."""
    promo = params.promotion
    if promo is None or not promo.phases:
        return True
    phase = context.config.phase_for(context.date)
    return phase is not None and phase.name in promo.phases


def propose(context: RunContext, params: LongTailParams) -> pd.DataFrame:
    return with_notes(_propose(context, params), unknown_names(
        "long_tail.promotion.phases", params.promotion.phases if params.promotion else [],
        [p.name for p in context.config.calendar], where="the config's calendar"))


def _propose(context: RunContext, params: LongTailParams) -> pd.DataFrame:
    if len(context.keywords) == 0:
        return no_proposals()
    items = _item_table(context, params)
    frames = [_adds(context, items, params), _pauses(context, items, params)]
    frames = [f for f in frames if len(f)]
    if not frames:
        return no_proposals("" if len(context.candidates)
                            else "no keyword candidates among the sources")
    return pd.concat(frames, ignore_index=True)


def _adds(context: RunContext, items: pd.DataFrame, params: LongTailParams) -> pd.DataFrame:
    pairs = _candidates(context, items, params)
    entrance = (_entrance_words(items, params, pairs if len(pairs) else context.keywords)
                if _promotion_night(context, params) else pd.DataFrame())
    if len(entrance):
        bought = pd.MultiIndex.from_frame(context.keywords[["item", "keyword"]].astype(str))
        entrance = entrance[~pd.MultiIndex.from_frame(
            entrance[["item", "keyword"]].astype(str)).isin(bought)]
    pairs = pd.concat([p for p in (pairs, entrance) if len(p)], ignore_index=True) \
        if len(pairs) or len(entrance) else pd.DataFrame()
    if len(pairs) == 0 or params.max_adds_per_item == 0:
        return no_proposals()
    volume = pairs["search_volume"].to_numpy(float)
    ring = np.where(pairs["entrance"].to_numpy(bool), 2,
                    keyword_ring(volume, pairs["competition"].to_numpy(float), params))
    own_ring = pairs["ring"].to_numpy(int)
    fits = (ring >= own_ring) & (ring <= own_ring + params.outer_rings)
    # value per click of this word for this item, and what the floor lets it pay
    item_cvr = pairs["cvr"].to_numpy(float)
    market_cvr = pairs["market_cvr"].to_numpy(float)
    w = np.where(np.isfinite(market_cvr) & (market_cvr > 0), params.market_cvr_weight, 0.0)
    cvr = np.exp((1 - w) * np.log(item_cvr) + w * np.log(np.where(w > 0, market_cvr, 1.0)))
    # the rates are ordinary days' (bidopt.seasonality); the night converts day.roi x as well
    affordable_cpc = (cvr * context.day.roi * pairs["price"].to_numpy(float)
                      / pairs["floor"].to_numpy(float))
    market_cpc = pairs["market_cpc"].to_numpy(float)
    has_cpc = np.isfinite(market_cpc) & (market_cpc > 0)
    share = params.promotion.bid_share if params.promotion else 0.5
    start = np.where(has_cpc, np.minimum(market_cpc, affordable_cpc), affordable_cpc * share)
    rules = context.bid_rules(params.platform)
    start = np.clip(np.round(start, 2), rules.min, rules.max)
    ok = fits & (~has_cpc | (affordable_cpc >= params.min_affordability * market_cpc))
    ctr = np.nan_to_num(pairs["market_ctr"].to_numpy(float), nan=0.02)
    score = np.where(pairs["entrance"], np.inf, np.nan_to_num(volume) * ctr)
    pick = pairs.assign(kw_ring=ring, start=start, score=score, affordable=affordable_cpc)[ok]
    # outer rings first for new items (long tail first), then the most clicks
    pick = pick.sort_values(["item", "kw_ring", "score"], ascending=[True, False, False])
    room = np.minimum(params.max_adds_per_item,
                      np.maximum(params.max_keywords_per_item - pick["bought"].to_numpy(int), 0))
    pick = pick[pick.groupby("item").cumcount().to_numpy() < room]
    if len(pick) == 0:
        return no_proposals()
    out = pick[["campaign", "item", "keyword"]].reset_index(drop=True)
    out["platform"] = params.platform
    out["action"] = "add_keyword"
    out["current"] = 0.0
    out["proposed"] = pick["start"].to_numpy()
    name = label(context, MATCHED_RINGS)
    out["reason"] = [
        (f"{name}: promotion entrance word for a {RING_NAMES[r]} item; start at {b:.2f}"
         if e else
         f"{name}: {RING_NAMES[k]} word (searches {v:.0f}/day, competition {c:.0f}) for a "
         f"{RING_NAMES[r]} item (sales_30d {s:.0f}); start at {b:.2f} = min(market CPC, "
         f"value per click / floor = {a:.2f})")
        for e, k, r, v, c, s, b, a in zip(
            pick["entrance"], pick["kw_ring"], pick["ring"], np.nan_to_num(pick["search_volume"]),
            np.nan_to_num(pick["competition"]), np.nan_to_num(pick["sales_30d"]), pick["start"],
            pick["affordable"], strict=True)
    ]
    return out


def _pauses(context: RunContext, items: pd.DataFrame, params: LongTailParams) -> pd.DataFrame:
    """Bought words far inside the item's ring that spend without orders, on evidence."""
    state = context.keywords
    ring_of_item = items.set_index(["campaign", "item"])
    index = pd.MultiIndex.from_frame(state[["campaign", "item"]])
    own = ring_of_item["ring"].reindex(index).to_numpy(float)
    cvr = ring_of_item["cvr"].reindex(index).to_numpy(float)
    price = ring_of_item["price"].reindex(index).to_numpy(float)
    volume, competition = _bought_market(context)
    ring = keyword_ring(volume, competition, params)
    clicks, orders = state["clicks"].to_numpy(float), state["orders"].to_numpy(float)
    cost = state["cost"].to_numpy(float)
    floor = context.roi_floor(state["campaign"])
    # P(ROI < floor): conversion ~ Gamma(1 + orders, 1/cvr_item + clicks), CPC as seen
    cpc = np.divide(cost, clicks, out=np.zeros_like(cost), where=clicks > 0)
    needed = floor * cpc / np.maximum(price, 1e-9) / context.day.roi  # an ordinary day's CVR
    p_below = gamma.cdf(needed, 1.0 + orders, scale=1.0 / (1.0 / np.maximum(cvr, 1e-6) + clicks))
    act = ((own - ring >= params.pause_ring_gap) & (clicks >= params.pause_min_clicks)
           & (orders == 0) & (p_below >= params.pause_probability))
    if not act.any():
        return no_proposals()
    out = state.loc[act, KEYWORD_KEYS].reset_index(drop=True)
    out["action"] = "pause_keyword"
    out["current"] = state.loc[act, "bid"].to_numpy(float)
    out["proposed"] = 0.0
    name = label(context, MATCHED_RINGS)
    out["reason"] = [
        f"{name}: {RING_NAMES[k]} word on a {RING_NAMES[int(r)]} item spent {c:.2f} on "
        f"{n:.0f} clicks without an order (ROI below the floor with probability {p:.0%})"
        for k, r, c, n, p in zip(ring[act], own[act], cost[act], clicks[act], p_below[act],
                                 strict=True)
    ]
    return out


def _bought_market(context: RunContext) -> tuple[np.ndarray, np.ndarray]:
    """Searches per day and competition of bought words: from the candidates file where
    listed, else searches estimated as the model's impressions at a top bid (both platforms)."""
    state = context.keywords
    bids = np.clip(state["bid"].to_numpy(float) * 5.0, 0.05, 100.0)
    # an ordinary day's searches: a word's ring does not change on a promotion night
    top = (np.asarray(context.forecast(state[KEYWORD_KEYS], bids[:, None]).impressions)[:, 0]
           / context.day.traffic)
    by_word = pd.Series(top).groupby([state["item"].to_numpy(), state["keyword"].to_numpy()]).sum()
    pairs = pd.MultiIndex.from_frame(state[["item", "keyword"]])
    volume = by_word.reindex(pairs).to_numpy(float)
    competition = np.full(len(state), np.nan)
    cand = context.candidates
    if cand is not None and len(cand) and "search_volume" in cand:
        listed = cand.drop_duplicates("keyword").set_index("keyword")
        known = state["keyword"].map(listed["search_volume"]).to_numpy(float)
        volume = np.where(np.isfinite(known), known, volume)
        if "competition" in listed:
            competition = state["keyword"].map(listed["competition"]).to_numpy(float)
    return volume, competition


@hookimpl
def bidopt_register_strategies(register) -> None:
    register(
        Strategy(
            name="long_tail",
            propose=propose,
            params=LongTailParams,
            description="Matched rings (门当户对): add keywords of each item's ring (long tail first for new "
            "items), pause words far inside it that spend without orders.",
        )
    )
