"""Parameters for keywords without history: candidate market figures, else pooled medians.

A candidate keyword (from the long-tail picker) has market figures: search volume, market CTR,
CVR and CPC. These are on the platform's scale, not ours, so they are calibrated on the
keywords that appear both in the candidates list and in our history (log offsets per
platform, fitted on every such keyword: ``calibrate_candidates``), then blended with the
item's own rates: the market says how big and how contested a word is, the item says how
well *this* product converts. Rows unknown to both get
the median parameters of their item, campaign, platform or shop, with wide variances.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bidopt.model.rates import keyword_shape

if TYPE_CHECKING:
    from bidopt.model.response import ResponseModel

KEYS = ["campaign", "item", "keyword", "platform"]
POOLED_COLUMNS = ["xbar", "a", "beta", "log_V", "log_U", "rho", "kappa_m1", "xc", "cvr", "aov",
                  "cart_rate", "fav_rate", "var_beta", "var_kappa", "var_rho", "cpc_cap", "gamma_c", "gamma_i",
                  "alpha", "cvr_centre"]
UNKNOWN_VARIANCE = {"var_log_V": 2.0, "var_a": 0.5, "var_log_cvr": 0.5, "var_log_aov": 0.1}
MARKET_COLUMNS = ("search_volume", "competition", "market_ctr", "market_cvr", "market_cpc")
CVR_MARKET_WEIGHT = 0.5
"""Weight of the calibrated market CVR against the item's own CVR (log blend) for candidates."""


def _market_frame(candidates: pd.DataFrame | None) -> pd.DataFrame | None:
    """Candidates with numeric market columns, one row per (keyword, item) or keyword."""
    if candidates is None or "keyword" not in candidates.columns or "search_volume" not in candidates.columns:
        return None
    c = candidates.copy()
    c["keyword"] = c["keyword"].astype(str)
    if "item" not in c.columns:
        c["item"] = np.nan
    c["item"] = c["item"].astype("string")
    for col in MARKET_COLUMNS:
        c[col] = pd.to_numeric(c[col], errors="coerce") if col in c.columns else np.nan
    return c


def _match(keys: pd.DataFrame, market: pd.DataFrame) -> pd.DataFrame:
    """Market figures per row of ``keys``: exact (keyword, item) first, else keyword alone.

    A keyword-alone match takes another item's entry, whose CTR and CVR are that item's on
    the word: they are moved to the row's own item by the two items' typical market CTR and
    CVR over all their entries (``_item_levels``), where both items have entries.
    """
    by_pair = market.dropna(subset=["item"]).drop_duplicates(["keyword", "item"]).set_index(["keyword", "item"])
    by_kw = market.drop_duplicates("keyword").set_index("keyword")
    cols = list(MARKET_COLUMNS)
    out = pd.DataFrame(np.nan, index=range(len(keys)), columns=cols)
    if len(by_pair):
        ix = by_pair.index.get_indexer(pd.MultiIndex.from_arrays([keys["keyword"].astype(str), keys["item"].astype(str)]))
        hit = ix >= 0
        out.loc[hit, cols] = by_pair[cols].to_numpy()[ix[hit]]
    ix = by_kw.index.get_indexer(keys["keyword"].astype(str))
    hit = (ix >= 0) & out["search_volume"].isna().to_numpy()
    out.loc[hit, cols] = by_kw[cols].to_numpy()[ix[hit]]
    source = by_kw["item"].to_numpy(dtype=object)[ix[hit]]
    levels = _item_levels(market)
    if hit.any() and len(levels):
        own = keys["item"].astype(str).to_numpy()[hit]
        for col in ("market_ctr", "market_cvr"):
            shift = (levels[col].reindex(own).to_numpy(float)
                     - levels[col].reindex(pd.Index(source).astype(str)).to_numpy(float))
            out.loc[hit, col] = out.loc[hit, col].to_numpy(float) * np.exp(np.nan_to_num(shift))
    return out


def _item_levels(market: pd.DataFrame) -> pd.DataFrame:
    """Per item of the candidates file: the median log market CTR and CVR of its entries."""
    rows = market.dropna(subset=["item"])
    if rows.empty:
        return pd.DataFrame(columns=["market_ctr", "market_cvr"])
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = pd.DataFrame({col: np.log(rows[col].where(rows[col] > 0)).to_numpy(float)
                             for col in ("market_ctr", "market_cvr")})
    logs["item"] = rows["item"].astype(str).to_numpy()
    return logs.groupby("item").median()


def calibrate_candidates(model: ResponseModel, table: pd.DataFrame, candidates: pd.DataFrame | None) -> dict:
    """Offsets between the candidates file's market figures and the fitted parameters of the
    bought words it lists, per platform (``model`` fitted up to its pooled tables).

    Volume, conversion and the rank at the market CPC are calibrated on every listed word,
    few clicks or none: the words with at least 5 clicks are a selection of those that did
    better than their market figures. Volume and conversion by Poisson likelihood on the
    words' counts (ratios of sums), the rank as a line in competition
    (``_rank_by_competition``). A bought word is mostly listed for other items only: its
    CTR and CVR are moved to its own item (``_match``). The price at the market CPC and the
    spreads of volume and impressions per search stay on the words with at least 5 clicks,
    whose price is measured. (docs/model.md, "Known gaps": with medians on the words with 5
    clicks and another item's CTR and CVR, the keywords a plan added were forecast at
    1.2-2.8x their true GMV on simulated shops.)
    """
    market = _market_frame(candidates)
    if market is None:
        return {}
    params = model.params_
    mk = _match(table, market)
    sv = mk["search_volume"].to_numpy()
    log_sv_ctr = np.log(np.maximum(sv * mk["market_ctr"].fillna(0.02).to_numpy(), 1e-9))
    log_cpc = np.log(np.maximum(mk["market_cpc"].to_numpy(), 1e-6))
    listed = np.isfinite(sv) & (sv > 0)
    seen = (params["clicks_seen"].to_numpy() >= 5) & listed
    cal: dict[str, dict[str, float]] = {}
    all_sv = market["search_volume"].to_numpy(dtype=float)
    ref_log = float(np.nanmedian(np.log(np.maximum(all_sv * market["market_ctr"].fillna(0.02).to_numpy(), 1e-9))))
    for plat in table["platform"].unique():
        on_plat = table["platform"].to_numpy() == plat
        rows = seen & on_plat
        p = params[rows]
        if rows.sum() >= 5:
            res_v = p["log_V"].to_numpy() - log_sv_ctr[rows]
            res_u = p["log_U"].to_numpy() - np.log(sv[rows])
            lc = log_cpc[rows]
            rho_at = p["rho"].to_numpy() + p["kappa_m1"].to_numpy() * (lc - p["xc"].to_numpy())
            every = listed & on_plat
            pe = params[every]
            rank_at = pe["a"].to_numpy() + pe["beta"].to_numpy() * (log_cpc[every] - pe["xbar"].to_numpy())
            rank_level, rank_slope, comp_mean = _rank_by_competition(
                rank_at, mk["competition"].to_numpy()[every])
            cal[str(plat)] = {
                "off_V": _volume_offset(params["clicks_seen"].to_numpy()[every],
                                        np.exp(log_sv_ctr[every]) * model.click_exposure_[every]),
                "var_V": float(np.nanvar(res_v)) + 0.05,
                "off_U": float(np.nanmedian(res_u)),
                "rank_at_cpc": rank_level,
                "rank_slope": rank_slope,
                "comp_mean": comp_mean,
                "rho_at_cpc": _money_level(np.minimum(rho_at, 0.0), p["clicks_seen"].to_numpy()),
                "off_cvr": _conversion_offset(model, table[every], params[every],
                                              mk["market_cvr"].to_numpy()[every]),
                "matched": int(every.sum()),
            }
        else:  # no overlap: scale pooled volume by the candidate's size among candidates
            pl = params[on_plat]
            cal[str(plat)] = {
                "off_V": float(np.nanmedian(pl["log_V"])) - ref_log,
                "var_V": 2.0,
                "off_U": float(np.nanmedian(pl["log_U"])) - ref_log + np.log(50.0),
                "rank_at_cpc": float(np.log(5.0)),
                "rank_slope": 0.0,
                "comp_mean": 0.0,
                "rho_at_cpc": float(np.log(0.7)),
                "off_cvr": 0.0,
                "matched": 0,
            }
    return cal


def _volume_offset(clicks: np.ndarray, exposure: np.ndarray) -> float:
    """Log offset of volume over market clicks (search volume x market CTR): each listed
    word's clicks Poisson with mean ``exposure x exp(offset)``, ``exposure`` its market
    clicks times its position curve at the ranks its bids bought. The likelihood's answer is
    the ratio of the sums; words with no click count through their exposure."""
    ok = np.isfinite(exposure) & (exposure > 0)
    return float(np.log(clicks[ok].sum() / exposure[ok].sum()))


def _conversion_offset(model: ResponseModel, keys: pd.DataFrame, params: pd.DataFrame,
                       market_cvr: np.ndarray) -> float:
    """Log offset of the market CVR that makes the listed words' orders, forecast as a
    candidate's conversion (the item's pooled CVR blended with the market's), sum to theirs.

    Their orders are their clicks times their fitted conversion (the keyword's rate shrunk
    toward its item's); a shop whose window holds no orders has keyword conversion 0: the
    offset is -inf, and its candidates are forecast to convert nothing either.
    """
    ok = np.isfinite(market_cvr) & (market_cvr > 0)
    clicks = params["clicks_seen"].to_numpy()[ok]
    if clicks.sum() <= 0:
        return 0.0
    item_cvr = (_pooled_lookup(model, keys[ok].astype(str).reset_index(drop=True))["cvr_centre"]
                * params["cvr_tilt"].to_numpy()[ok])
    w = CVR_MARKET_WEIGHT
    blend = np.exp((1 - w) * np.log(np.maximum(item_cvr, 1e-9)) + w * np.log(market_cvr[ok]))
    with np.errstate(divide="ignore"):
        return float(np.log(np.sum(clicks * params["cvr"].to_numpy()[ok]) / np.sum(clicks * blend)) / w)


def _money_level(log_ratio: np.ndarray, clicks: np.ndarray) -> float:
    """Log of the click-weighted mean price ratio: what the clicks cost in total.

    A median of logs sits below it: long-tail words pay less per click than head words, and
    the money is in the head. (It moves candidates' prices little: they are still 0.8-0.95x
    the truth's on the simulated shops; docs/optimiser.md.)
    """
    ok = np.isfinite(log_ratio) & (clicks > 0)
    if not ok.any():
        return float(np.log(0.7))
    return float(np.log(np.sum(clicks[ok] * np.exp(log_ratio[ok])) / np.sum(clicks[ok])))


RANK_COMPETITION_SLOPE = (1.0, 0.5)
"""Prior (mean, sd) of d log rank / d log competition at the market CPC (see below)."""


def _rank_by_competition(log_rank: np.ndarray, competition: np.ndarray) -> tuple[float, float, float]:
    """Log-rank at the market CPC as a line in log competition, from the bought words.

    Bidding the market's typical price lands a word among its competitors, so its rank grows
    about in proportion to their number: a good place on a quiet long-tail word, a poor one
    on a contested head word. One median rank for every candidate under-forecasts the long
    tail and over-forecasts head words. The bought words' own slope (Huber fit) is combined
    with the prior slope 1 by precision, so a shop with few words in the candidates list
    still ranks its candidates by competition. Returns (level at the mean log competition,
    slope, mean log competition); the slope is 0 where fewer than 3 words carry competition.
    """
    from sklearn.linear_model import HuberRegressor

    ok = np.isfinite(log_rank) & np.isfinite(competition) & (competition > 0)
    if ok.sum() < 3:
        return float(np.nanmedian(log_rank)), 0.0, 0.0
    lc = np.log(competition[ok])
    mean, sd = float(lc.mean()), float(lc.std())
    prior, prior_sd = RANK_COMPETITION_SLOPE
    if sd > 0 and ok.sum() >= 10:
        fit = HuberRegressor().fit(((lc - mean) / sd)[:, None], log_rank[ok])
        own = float(fit.coef_[0]) / sd
        resid = log_rank[ok] - fit.intercept_ - own * (lc - mean)
        var_own = max(float(np.var(resid)), 1e-6) / (ok.sum() * sd**2)
        slope = (own / var_own + prior / prior_sd**2) / (1 / var_own + 1 / prior_sd**2)
    else:
        slope = prior
    level = float(np.median(log_rank[ok] - slope * (lc - mean)))
    return level, float(slope), mean


def pooled_tables(table: pd.DataFrame, params: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Median parameters per item x platform, campaign x platform, platform: priors for new rows."""
    cols = ["xbar", "a", "beta", "log_V", "log_U", "rho", "kappa_m1", "xc", "cvr", "aov", "cart_rate", "fav_rate",
            "var_beta", "var_kappa", "var_rho", "cpc_cap", "gamma_c", "gamma_i"]
    frame = pd.concat([table, params[cols]], axis=1)
    frame["alpha"] = frame["a"] - frame["beta"] * frame["xbar"]  # log rank at bid 1
    frame["cvr_centre"] = params["cvr"] / params["cvr_tilt"]  # as if of the item's typical shape
    seen = params["clicks_seen"].to_numpy() > 0
    base = frame[seen] if seen.any() else frame
    cols = [*cols, "alpha", "cvr_centre"]
    return {
        "item": base.groupby(["campaign", "item", "platform"], sort=False)[cols].median(),
        "campaign": base.groupby(["campaign", "platform"], sort=False)[cols].median(),
        "platform": base.groupby(["platform"], sort=False)[cols].median(),
        "shop": base[cols].median().to_frame().T,
    }


def entity_parameters_for(model: ResponseModel, entities: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per-row parameter arrays for ``entities``: fitted, candidate-calibrated, or pooled."""
    keys = entities[KEYS].astype(str).reset_index(drop=True)
    n = len(keys)
    ix = model.index_.get_indexer(pd.MultiIndex.from_frame(keys))
    known = ix >= 0
    params = model.params_
    out = {c: np.empty(n) for c in params.columns}
    for c in params.columns:
        out[c][known] = params[c].to_numpy()[ix[known]]
    if known.all():
        return out
    new = ~known
    nk = keys[new].reset_index(drop=True)
    pooled = _pooled_lookup(model, nk)
    plat_map = {p: i for i, p in enumerate(model.platforms_)}
    plat_code = nk["platform"].map(plat_map).fillna(0).to_numpy(dtype=float)
    fill = {
        "platform_code": plat_code,
        **{c: pooled[c] for c in ("xbar", "a", "beta", "log_V", "log_U", "rho", "kappa_m1", "xc", "aov",
                                   "cart_rate", "fav_rate", "var_beta", "var_kappa", "var_rho", "cpc_cap", "gamma_c",
                                   "gamma_i")},
        **{k: np.full(len(nk), v) for k, v in UNKNOWN_VARIANCE.items()},
        "clicks_seen": np.zeros(len(nk)),
        "n_days": np.zeros(len(nk)),
    }
    market = _market_frame(model.candidates_)
    cal = model.candidate_calibration_
    market_cvr, off_cvr = np.full(len(nk), np.nan), np.zeros(len(nk))
    if market is not None and cal:
        mk = _match(nk, market)
        sv = mk["search_volume"].to_numpy()
        has = np.isfinite(sv) & (sv > 0) & nk["platform"].isin(list(cal)).to_numpy()
        if has.any():
            c = {k: nk["platform"].map({p: v[k] for p, v in cal.items()}).to_numpy(dtype=float)
                 for k in ("off_V", "var_V", "off_U", "rank_at_cpc", "rank_slope", "comp_mean",
                           "rho_at_cpc", "off_cvr")}
            comp = mk["competition"].to_numpy(dtype=float)
            log_comp = np.log(np.where(np.isfinite(comp) & (comp > 0), comp, np.nan))
            rank_at = c["rank_at_cpc"] + np.where(np.isfinite(log_comp),
                                                  c["rank_slope"] * (log_comp - c["comp_mean"]), 0.0)
            ctr = mk["market_ctr"].fillna(0.02).to_numpy()
            lcpc = np.log(np.maximum(mk["market_cpc"].to_numpy(), 1e-6))
            has_cpc = has & np.isfinite(lcpc)
            fill["log_V"] = np.where(has, np.log(np.maximum(sv * ctr, 1e-9)) + c["off_V"], fill["log_V"])
            fill["var_log_V"] = np.where(has, c["var_V"], fill["var_log_V"])
            fill["log_U"] = np.where(has, np.log(np.maximum(sv, 1e-9)) + c["off_U"], fill["log_U"])
            fill["xbar"] = np.where(has_cpc, lcpc, fill["xbar"])
            fill["xc"] = np.where(has_cpc, lcpc, fill["xc"])
            fill["a"] = np.where(has_cpc, rank_at, fill["a"])
            fill["rho"] = np.where(has_cpc, c["rho_at_cpc"], fill["rho"])
            market_cvr = np.where(has, mk["market_cvr"].to_numpy(dtype=float), np.nan)
            off_cvr = c["off_cvr"]
    # the item's conversion as its bought words show it, tilted by the new word's shape
    fill["cvr_tilt"] = conversion_tilt(model, nk, np.exp(fill["log_U"]))
    fill["cvr"] = pooled["cvr_centre"] * fill["cvr_tilt"]
    ok = np.isfinite(market_cvr) & (market_cvr > 0)
    blend = (1 - CVR_MARKET_WEIGHT) * np.log(np.maximum(fill["cvr"], 1e-9)) + CVR_MARKET_WEIGHT * (
        np.log(np.where(ok, market_cvr, 1.0)) + off_cvr
    )
    fill["cvr"] = np.where(ok, np.exp(blend), fill["cvr"])
    for c in out:
        out[c][new] = fill[c]
    return out


def conversion_tilt(model: ResponseModel, keys: pd.DataFrame, volume: np.ndarray) -> np.ndarray:
    """The conversion tilt of new rows against their item's bought words (1 where the item
    has none): the same slopes on size and length the fit learnt (``rates.keyword_shape``)."""
    shape = keyword_shape(keys["keyword"], volume)
    ix = model.shape_centre_.index.get_indexer(pd.MultiIndex.from_frame(keys[["campaign", "item", "platform"]]))
    centre = np.where((ix >= 0)[:, None], model.shape_centre_.to_numpy()[np.maximum(ix, 0)], shape.to_numpy())
    return np.exp((shape.to_numpy() - centre) @ model.cvr_tilt_.reindex(shape.columns).to_numpy())


def _pooled_lookup(model: ResponseModel, keys: pd.DataFrame) -> dict[str, np.ndarray]:
    """Median parameters of the finest pooled group each row belongs to."""
    n = len(keys)
    got = np.zeros(n, dtype=bool)
    res = {c: np.full(n, np.nan) for c in POOLED_COLUMNS}
    tables = model.pooled_
    for level, cols in (("item", ["campaign", "item", "platform"]), ("campaign", ["campaign", "platform"]),
                        ("platform", ["platform"])):
        t = tables[level]
        idx = t.index.get_indexer(pd.MultiIndex.from_frame(keys[cols]) if len(cols) > 1 else keys[cols[0]])
        hit = (idx >= 0) & ~got
        for c in POOLED_COLUMNS:
            res[c][hit] = t[c].to_numpy()[idx[hit]]
        got |= hit
    shop = tables["shop"]
    for c in POOLED_COLUMNS:
        res[c][~got] = float(shop[c].iloc[0])
    # keep the pooled landscape consistent with the pooled reference bid
    res["a"] = res["alpha"] + res["beta"] * res["xbar"]
    return res
