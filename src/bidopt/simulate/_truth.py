"""Draw the ground truth of a shop: campaigns, items, keywords, competitors, crowds, regions.

Calibration aims (checked by tests and the benchmark): campaign ROIs around 1.5-4 at the
current bids; head words costly and converting worse, long-tail words cheap and converting
better; items whose ring is weaker than the keyword's (a new item on a head word) pay in CTR,
quality score and conversion, which is what "matched rings" picking exploits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bidopt.schema import PLATFORMS
from bidopt.simulate import _names as names
from bidopt.simulate._auction import MAX_BID, MIN_BID, CompetitorBook
from bidopt.simulate._market import Market

SIZES = {"small": (600, 30, 3), "medium": (10_000, 300, 10), "large": (100_000, 3_000, 40)}
MAX_KEYWORDS_PER_ITEM = 200

# Per ring (0 head, 1 precise, 2 long tail).
RING_VOLUME = np.array([4000.0, 400.0, 30.0])  # median daily mobile searches
RING_VOLUME_SD = np.array([0.6, 0.7, 0.8])
RING_COMPETITORS = np.array([[25, 61], [8, 31], [2, 11]])  # integers(low, high) on mobile
RING_CTR = np.array([0.045, 0.055, 0.065])  # rank-1 CTR
PC_CTR = 0.6  # side-column PC ads draw fewer clicks than mobile feed ads
RING_CVR = np.array([0.6, 1.0, 1.4])  # relative to the item's base conversion
RING_COMPETITOR_ROI = np.array([1.6, 2.8, 4.0])  # the ROI competitors' bids imply
ENTRANCE_VOLUME, ENTRANCE_COMPETITOR_ROI = 150.0, 4.0
COMPETITOR_QUALITY = 7.0  # typical competitor quality score (score = bid x quality)
TIER_SHARE = (0.15, 0.45, 0.40)  # best-sellers, growing items, new / zero-sales items
TIER_KEYWORD_WEIGHT = np.array([1.6, 1.0, 0.7])
# The seller's current ring mix per item tier: imperfect on purpose.
TIER_RING_MIX = np.array([[0.15, 0.40, 0.45], [0.08, 0.37, 0.55], [0.05, 0.25, 0.70]])
MAX_HEADS, MAX_PRECISE = 3, 80  # bought per item (leaves room for candidates)
CANDIDATE_RINGS = np.array([0, 1, 1, 2, 2, 2, 2])  # plus one promotion entrance word


@dataclass
class Truth:
    """What :func:`build_truth` draws: the market, the item table and the seller's history."""

    market: Market
    items: pd.DataFrame
    candidates: pd.DataFrame
    bid_paths: np.ndarray  # days x bought rows
    quality_paths: np.ndarray  # days x bought rows


def shop_dimensions(size: str, n_keywords: int | None) -> tuple[int, int, int]:
    """(keywords, items, campaigns) of a shop size, or scaled to ``n_keywords``."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, not {size!r}")
    if n_keywords is None:
        return SIZES[size]
    n = int(n_keywords)
    if n < 1:
        raise ValueError("n_keywords must be at least 1")
    per_item = float(np.interp(np.log10(n), np.log10([600, 10_000]), [20.0, 33.3]))
    n_items = max(1, round(n / per_item))
    per_campaign = float(np.interp(np.log10(n_items), np.log10([30, 300, 3_000]), [10, 30, 75]))
    return n, n_items, max(1, min(n_items, round(n_items / per_campaign)))


def _lognormal(rng: np.random.Generator, sd: float, size) -> np.ndarray:
    return np.exp(rng.normal(0.0, sd, size))


def _campaigns(rng: np.random.Generator, n_campaigns: int) -> pd.DataFrame:
    order = rng.permutation(len(names.CATEGORIES))
    c = np.arange(n_campaigns)
    category = order[c % len(order)]
    purpose = np.array(names.CAMPAIGN_PURPOSES, dtype=object)[(c // len(order)) % 4]
    lap = c // (len(order) * 4)
    suffix = np.where(lap > 0, (lap + 1).astype(str).astype(object), "")
    name = names.CATEGORY_NAMES[category] + "-" + purpose + suffix
    return pd.DataFrame({"campaign": name.astype(str), "category": category})


def _items(rng: np.random.Generator, campaigns: pd.DataFrame, n_items: int) -> pd.DataFrame:
    n_campaigns = len(campaigns)
    campaign = np.sort(np.concatenate([
        np.arange(min(n_campaigns, n_items)),
        rng.integers(0, n_campaigns, max(0, n_items - n_campaigns)),
    ]))
    category = campaigns["category"].to_numpy()[campaign]
    tier = rng.choice(3, size=n_items, p=TIER_SHARE)
    sales = np.select(
        [tier == 0, tier == 1],
        [np.round(rng.lognormal(np.log(900), 0.6, n_items)) + 200,
         np.clip(np.round(rng.lognormal(np.log(60), 0.7, n_items)), 5, 400)],
        np.where(rng.random(n_items) < 0.55, 0, rng.integers(1, 16, n_items)),
    ).astype(np.int64)
    base_price = names.CATEGORY_PRICE[category]
    price = np.maximum(np.round(base_price * _lognormal(rng, 0.3, n_items)) - 0.1, 9.9)
    category_cvr = 0.035 * (100.0 / base_price) ** 0.3
    width = max(4, len(str(n_items)))
    number = pd.Series(np.arange(1, n_items + 1)).astype(str).str.zfill(width).to_numpy(object)
    return pd.DataFrame({
        "item": (names.CATEGORY_NAMES[category] + "-" + number).astype(str),
        "price": price,
        "unit_cost": np.round(price * rng.uniform(0.30, 0.55, n_items), 2),
        "sales_30d": sales,
        "tier": tier,
        "campaign": campaigns["campaign"].to_numpy()[campaign],
        "campaign_idx": campaign,
        "category": category,
        # social proof: best-sellers convert better than zero-sales items
        "base_cvr": category_cvr * (0.7 + 0.15 * np.log10(1 + sales)) * _lognormal(rng, 0.2, n_items),
        "image_quality": _lognormal(rng, 0.25, n_items),
    })


def _keyword_counts(rng: np.random.Generator, tier: np.ndarray, n_keywords: int) -> np.ndarray:
    """Keywords per item: sums to ``n_keywords``, best-sellers carry more, at most 200."""
    n_items = len(tier)
    floor = min(3, n_keywords // n_items)
    weight = TIER_KEYWORD_WEIGHT[tier] * _lognormal(rng, 0.3, n_items)
    counts = floor + rng.multinomial(n_keywords - floor * n_items, weight / weight.sum())
    over = np.maximum(counts - MAX_KEYWORDS_PER_ITEM, 0).sum()
    counts = np.minimum(counts, MAX_KEYWORDS_PER_ITEM)
    while over > 0:  # rare: hand the excess to items with room
        room = np.flatnonzero(counts < MAX_KEYWORDS_PER_ITEM)
        if len(room) == 0:
            raise ValueError("n_keywords exceeds 200 keywords per item")
        take = min(over, len(room))
        counts[room[:take]] += 1
        over -= take
    return counts


def _slot_in_ring(frame: pd.DataFrame) -> np.ndarray:
    return frame.groupby(["item_idx", "ring"], sort=False).cumcount().to_numpy()


def _keywords(rng: np.random.Generator, items: pd.DataFrame, n_keywords: int) -> pd.DataFrame:
    """The shop's bought keywords and its candidates, one row per (item, keyword)."""
    tier = items["tier"].to_numpy()
    n_items = len(items)
    item_idx = np.repeat(np.arange(n_items), _keyword_counts(rng, tier, n_keywords))
    mix = np.cumsum(TIER_RING_MIX[tier[item_idx]], axis=1)
    ring = (rng.random(len(item_idx))[:, None] > mix).sum(axis=1).clip(0, 2)
    kw = pd.DataFrame({"item_idx": item_idx, "ring": ring})
    j = _slot_in_ring(kw)
    kw.loc[(kw["ring"] == 0) & (j >= MAX_HEADS), "ring"] = 1
    j = _slot_in_ring(kw)
    kw.loc[(kw["ring"] == 1) & (j >= MAX_PRECISE), "ring"] = 2
    kw["j"] = _slot_in_ring(kw)
    kw["bought"] = True
    # Candidates continue each item's ring sequence, so they never repeat a bought word.
    bought = kw.groupby(["item_idx", "ring"]).size()
    cand = pd.DataFrame({
        "item_idx": np.repeat(np.arange(n_items), len(CANDIDATE_RINGS)),
        "ring": np.tile(CANDIDATE_RINGS, n_items),
    })
    already = bought.reindex(pd.MultiIndex.from_frame(cand)).fillna(0).to_numpy(int)
    cand["j"] = already + _slot_in_ring(cand)
    cand["bought"] = False
    kw = pd.concat([kw, cand], ignore_index=True)
    offsets = rng.integers(0, [names.N_HEADS, names.N_PRECISE, names.N_LONG_TAIL], (n_items, 3))
    stride = np.array([1, 7, 5])  # coprime with 4, 96 and 4032: distinct slots per item
    ring, j, item = kw["ring"].to_numpy(), kw["j"].to_numpy(), kw["item_idx"].to_numpy()
    slot = offsets[item, ring] + stride[ring] * j
    category = items["category"].to_numpy()[item]
    kw["keyword"] = names.keyword_names(category, ring, slot).astype(str)
    kw["entrance"] = False
    entrance = pd.DataFrame({"item_idx": np.arange(n_items), "ring": 2, "j": -1, "bought": False,
                             "entrance": True})
    promotion = np.arange(n_items) + rng.integers(0, len(names.PROMOTIONS))
    entrance["keyword"] = names.entrance_names(items["category"].to_numpy(), promotion).astype(str)
    kw = pd.concat([kw, entrance], ignore_index=True)
    kw = kw.sort_values(["bought", "item_idx"], ascending=[False, True], kind="stable")
    return kw.reset_index(drop=True)


def _market_words(rng: np.random.Generator, kw: pd.DataFrame, items: pd.DataFrame):
    """Per distinct keyword text: search volume and competitors (shared by all items)."""
    code, uniques = pd.factorize(kw["keyword"])
    first = pd.Series(np.arange(len(kw))).groupby(code).first().to_numpy()
    ring = kw["ring"].to_numpy()[first]
    entrance = kw["entrance"].to_numpy()[first]
    category = items["category"].to_numpy()[kw["item_idx"].to_numpy()[first]]
    n = len(uniques)
    popularity = _lognormal(rng, 0.3, len(names.CATEGORIES))[category]
    volume = np.where(entrance, ENTRANCE_VOLUME, RING_VOLUME[ring]) * popularity * np.exp(
        rng.normal(0.0, 1.0, n) * np.where(entrance, 0.5, RING_VOLUME_SD[ring]))
    pc_ratio = rng.uniform(0.10, 0.15, n)
    low, high = RING_COMPETITORS[ring].T
    n_mobile = np.where(entrance, rng.integers(2, 7, n), rng.integers(low, high))
    n_comp = np.stack([n_mobile, np.maximum(2, np.round(0.7 * n_mobile))], axis=1).astype(int)
    base_price = names.CATEGORY_PRICE[category]
    value_per_click = base_price * 1.1 * 0.035 * (100.0 / base_price) ** 0.3 * RING_CVR[ring]
    roi = np.where(entrance, ENTRANCE_COMPETITOR_ROI, RING_COMPETITOR_ROI[ring])
    cpc_level = value_per_click / roi * _lognormal(rng, 0.3, n)
    level = np.stack([cpc_level, cpc_level * rng.uniform(0.4, 0.7, n)], axis=1)
    length = n_comp.ravel()  # auction = 2 * word + platform
    auction_of_score = np.repeat(np.arange(len(length)), length)
    scores = (level.ravel()[auction_of_score] * COMPETITOR_QUALITY
              * _lognormal(rng, 0.5, len(auction_of_score)))
    scores = scores[np.lexsort((-scores, auction_of_score))]
    start = np.cumsum(length) - length
    book = CompetitorBook(scores=scores, start=start, length=length)
    words = {"code": code, "volume": volume, "pc_ratio": pc_ratio, "cpc_level": level,
             "n_competitors": n_comp}
    return words, book


def _crowds(rng: np.random.Generator, items: pd.DataFrame) -> pd.DataFrame:
    n_items, k = len(items), len(names.CROWDS)
    share = names.CROWD_SHARE * _lognormal(rng, 0.15, (n_items, k))
    share /= share.sum(axis=1, keepdims=True)
    ctr = names.CROWD_CTR * _lognormal(rng, 0.08, (n_items, k))
    ctr /= (share * ctr).sum(axis=1, keepdims=True)
    cvr = names.CROWD_CVR * _lognormal(rng, 0.10, (n_items, k))
    cvr /= (share * ctr * cvr).sum(axis=1, keepdims=True)
    aov = names.CROWD_AOV * _lognormal(rng, 0.05, (n_items, k))
    aov /= (share * ctr * cvr * aov).sum(axis=1, keepdims=True)
    premium = np.where(rng.random((n_items, k)) < 0.35,
                       rng.choice([5, 10, 15, 20, 30, 50], (n_items, k)), 0).astype(float)
    return pd.DataFrame({
        "campaign": np.repeat(items["campaign"].to_numpy(), k),
        "item": np.repeat(items["item"].to_numpy(), k),
        "crowd": np.tile(np.array(names.CROWDS), n_items),
        "share": share.ravel(), "ctr_mult": ctr.ravel(), "cvr_mult": cvr.ravel(),
        "aov_mult": aov.ravel(), "premium": premium.ravel(),
    })


def _regions(rng: np.random.Generator, campaigns: pd.DataFrame) -> pd.DataFrame:
    n_camp, regions = len(campaigns), np.array(names.REGIONS)
    k = len(regions)
    share = np.array(list(names.REGION_SHARE.values())) * _lognormal(rng, 0.15, (n_camp, k))
    share /= share.sum(axis=1, keepdims=True)
    ctr = _lognormal(rng, 0.08, (n_camp, k))
    remote = np.isin(regions, names.REMOTE_REGIONS)
    cvr = _lognormal(rng, 0.12, (n_camp, k)) * np.where(remote, 0.85, 1.0)
    cpc = 1.0 + np.abs(rng.normal(0.0, 0.04, (n_camp, k)))
    stronghold = np.zeros((n_camp, k), dtype=bool)
    candidates = np.flatnonzero(np.isin(regions, names.STRONGHOLD_CANDIDATES))
    picks = rng.permuted(np.tile(candidates, (n_camp, 1)), axis=1)
    n_strong = rng.integers(1, 3, n_camp)
    for extra in range(2):  # a loop over at most two strongholds per campaign
        rows = np.flatnonzero(n_strong > extra)
        stronghold[rows, picks[rows, extra]] = True
    cpc = np.where(stronghold, rng.uniform(1.8, 2.4, (n_camp, k)), cpc)
    ctr = np.where(stronghold, 0.8 * ctr, ctr)
    cvr = np.where(stronghold, rng.uniform(0.65, 0.80, (n_camp, k)), cvr)
    ctr /= (share * ctr).sum(axis=1, keepdims=True)
    cvr /= (share * ctr * cvr).sum(axis=1, keepdims=True)
    overseas = np.isin(regions, names.OVERSEAS_REGIONS)
    excluded = ((overseas & (rng.random((n_camp, 1)) < 0.7))
                | (remote & (rng.random((n_camp, 1)) < 0.2)))
    return pd.DataFrame({
        "campaign": np.repeat(campaigns["campaign"].to_numpy(), k),
        "region": np.tile(regions, n_camp),
        "share": share.ravel(), "ctr_mult": ctr.ravel(), "cvr_mult": cvr.ravel(),
        "cpc_mult": cpc.ravel(), "stronghold": stronghold.ravel(), "excluded": excluded.ravel(),
    })


def _hours() -> pd.DataFrame:
    share = names.HOUR_WEIGHT / names.HOUR_WEIGHT.sum()
    cvr = names.HOUR_CVR / (share * names.HOUR_CVR).sum()
    return pd.DataFrame({"hour": np.arange(24), "share": share, "cvr_mult": cvr})


def build_truth(rng: np.random.Generator, n_keywords: int, n_items: int, n_campaigns: int,
                days: int) -> Truth:
    """Draw a whole shop's truth and the seller's bid and quality-score paths."""
    campaigns = _campaigns(rng, n_campaigns)
    items = _items(rng, campaigns, n_items)
    kw = _keywords(rng, items, n_keywords)
    words, book = _market_words(rng, kw, items)
    n_kw = len(kw)
    item = kw["item_idx"].to_numpy()
    ring = kw["ring"].to_numpy()
    gap = np.maximum(items["tier"].to_numpy()[item] - ring, 0)  # item weaker than the word
    cvr = (items["base_cvr"].to_numpy()[item] * RING_CVR[ring] * 0.75 ** gap
           * _lognormal(rng, 0.25, n_kw))
    aov = items["price"].to_numpy()[item] * np.exp(rng.normal(0.08, 0.08, n_kw))
    # One row per keyword x platform: row = 2 * keyword + platform.
    rows = np.repeat(np.arange(n_kw), 2)
    plat = np.tile([0, 1], n_kw)
    word = words["code"][rows]
    ctr_norm = RING_CTR[ring[rows]] * np.where(plat == 1, PC_CTR, 1.0)
    ctr_top = (ctr_norm * items["image_quality"].to_numpy()[item[rows]]
               * 0.8 ** gap[rows] * _lognormal(rng, 0.15, 2 * n_kw))
    quality = np.clip(np.round(6.5 + 3.0 * np.log(ctr_top / ctr_norm)
                               + rng.normal(0.0, 0.8, 2 * n_kw)), 1, 10)
    row_cvr = cvr[rows] * np.where(plat == 1, 0.9, 1.0)
    cpc_level = words["cpc_level"][word, plat]
    truth = pd.DataFrame({
        "campaign": items["campaign"].to_numpy()[item[rows]],
        "item": items["item"].to_numpy()[item[rows]],
        "keyword": kw["keyword"].to_numpy()[rows],
        "platform": np.array(PLATFORMS)[plat],
        "ring": ring[rows],
        "entrance": kw["entrance"].to_numpy()[rows],
        "search_volume": words["volume"][word] * np.where(plat == 1, words["pc_ratio"][word], 1.0),
        "quality_score": quality,
        "ctr_top": ctr_top,
        "cvr": row_cvr,
        "aov": aov[rows],
        "cart_rate": np.minimum(row_cvr * np.exp(rng.normal(np.log(2.5), 0.2, 2 * n_kw)), 0.5),
        "fav_rate": np.minimum(row_cvr * np.exp(rng.normal(np.log(1.8), 0.25, 2 * n_kw)), 0.5),
        "n_competitors": words["n_competitors"][word, plat],
        "competitor_score_median": np.nan,
        "competitor_score_top": book.scores[book.start[2 * word + plat]],
        "bid": np.nan,
    })
    auction = 2 * word + plat
    median = pd.Series(book.scores).groupby(book.auction_of_score).median().to_numpy()
    truth["competitor_score_median"] = median[auction]
    bought = kw["bought"].to_numpy()[rows]
    n_bought = int(bought.sum())
    # The seller's bids: around the market price on mobile, mostly near the floor on PC.
    b_plat = plat[bought]
    mobile_base = cpc_level[bought] * np.exp(rng.normal(-0.3, 0.45, n_bought))
    pc_base = np.where(rng.random(n_bought) < 0.8, rng.uniform(0.05, 0.30, n_bought),
                       mobile_base * rng.uniform(0.3, 0.7, n_bought))
    base_bid = np.where(b_plat == 0, mobile_base, pc_base)
    wobble = rng.uniform(0.05, 0.25, n_bought)
    bid_paths = np.round(np.clip(base_bid * np.exp(wobble * rng.normal(0, 1, (days, n_bought))),
                                 MIN_BID, MAX_BID), 2)
    steps = rng.choice([-1, 0, 1], p=[0.02, 0.96, 0.02], size=(days, n_bought))
    steps[-1] = 0
    drift = np.cumsum(steps[::-1], axis=0)[::-1]  # walk back from today's score
    quality_paths = np.clip(quality[bought] + drift, 1, 10)
    truth.loc[bought, "bid"] = bid_paths[-1]
    keywords = truth[bought].drop(columns="entrance").reset_index(drop=True)
    candidates_truth = truth[~bought].reset_index(drop=True)
    market = Market(
        keywords=keywords,
        candidates_truth=candidates_truth,
        crowds=_crowds(rng, items),
        regions=_regions(rng, campaigns),
        hours=_hours(),
        campaigns=campaigns.assign(category=names.CATEGORY_NAMES[campaigns["category"]].astype(str)),
        items=items,
        book=book,
        auction=np.concatenate([auction[bought], auction[~bought]]),
    )
    return Truth(market, items, _candidate_table(rng, candidates_truth), bid_paths, quality_paths)


def _candidate_table(rng: np.random.Generator, cand: pd.DataFrame) -> pd.DataFrame:
    """What the seller sees of candidates: noisy market statistics per (keyword, item)."""
    keys = ["keyword", "item"]
    mobile = cand[cand["platform"] == "mobile"].set_index(keys)
    both = cand.groupby(keys, sort=False)[["search_volume", "n_competitors"]].sum()
    both = both.reindex(mobile.index)
    n = len(mobile)
    table = pd.DataFrame({
        "search_volume": np.round(both["search_volume"].to_numpy() * _lognormal(rng, 0.1, n)),
        "competition": both["n_competitors"].to_numpy(),
        "market_ctr": np.round(mobile["ctr_top"].to_numpy() * 0.35 * _lognormal(rng, 0.1, n), 4),
        "market_cvr": np.round(mobile["cvr"].to_numpy() * _lognormal(rng, 0.15, n), 4),
        "market_cpc": np.round(mobile["competitor_score_median"].to_numpy() / COMPETITOR_QUALITY
                               * _lognormal(rng, 0.1, n), 2),
    }, index=mobile.index).reset_index()
    table["search_volume"] = table["search_volume"].astype(np.int64)
    table["competition"] = table["competition"].astype(np.int64)
    return table
