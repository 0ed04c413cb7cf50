"""ResponseModel on data where the answer is known: the simulator, and small hand-built frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from bidopt.model import Forecast, ResponseModel

KEYS = ["campaign", "item", "keyword", "platform"]


def _toy_history(seed: int = 0, n_kw: int = 60, days: int = 14) -> pd.DataFrame:
    """A second-price market in a few lines: ranks from competitor scores, traffic by rank."""
    rng = np.random.default_rng(seed)
    items = np.arange(n_kw) // 10
    vol = rng.lognormal(5, 1.0, n_kw)
    qs = rng.uniform(4, 10, n_kw)
    comp = np.sort(rng.lognormal(0, 0.5, (n_kw, 15)) * 5, axis=1)[:, ::-1]
    base = np.quantile(comp, 0.6, axis=1) / qs
    frames = []
    for d in range(days):
        for plat, share in (("mobile", 1.0), ("pc", 0.25)):
            bid = base * rng.uniform(0.7, 1.3, n_kw) * (0.6 if plat == "pc" else 1.0)
            scores = comp * rng.lognormal(0, 0.1, comp.shape)
            above = (scores > (bid * qs)[:, None]).sum(1)
            nxt = np.take_along_axis(scores, np.minimum(above, 14)[:, None], 1)[:, 0]
            cpc = np.minimum(np.where(above < 15, nxt, 0.5) / qs + 0.01, bid)
            imp = rng.poisson(vol * share * np.exp(-0.15 * above)).astype(float)
            clk = rng.binomial(imp.astype(int), 0.05 * (1 + above) ** -0.8).astype(float)
            orders = rng.binomial(clk.astype(int), 0.04).astype(float)
            frames.append(pd.DataFrame({
                "date": pd.Timestamp("2024-03-01") + pd.Timedelta(days=d),
                "campaign": [f"c{i // 3}" for i in items], "item": [f"i{i}" for i in items],
                "keyword": [f"k{k}" for k in range(n_kw)], "platform": plat, "bid": bid,
                "impressions": imp, "clicks": clk, "cost": clk * cpc, "orders": orders, "gmv": orders * 80.0,
                "carts": np.floor(clk * 0.1), "favorites": np.floor(clk * 0.05),
                "avg_rank": np.where(imp > 0, 1.0 + above, np.nan), "quality_score": qs,
            }))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def toy() -> pd.DataFrame:
    return _toy_history()


@pytest.fixture(scope="module")
def toy_model(toy) -> ResponseModel:
    return ResponseModel().fit(toy)


def test_sklearn_conventions(toy):
    model = ResponseModel(interval=0.9, half_life=None)
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.predict(toy[KEYS].head(3), np.ones(3))
    assert model.fit(toy) is model
    assert hasattr(model, "params_") and hasattr(model, "crowd_effects_")


def test_one_bid_per_entity_gives_column_arrays(toy_model, toy):
    ents = toy[KEYS].drop_duplicates().head(7)
    fc = toy_model.predict(ents, np.full(7, 0.8))
    assert isinstance(fc, Forecast)
    for m in ("impressions", "clicks", "cost", "orders", "gmv", "carts", "favorites", "rank"):
        arr = getattr(fc, m)
        assert arr.shape == (7, 1) and np.isfinite(arr).all() and (arr >= 0).all()
    assert fc.roi().shape == (7, 1)


def _grid(model: ResponseModel, ents: pd.DataFrame, lo=0.3, hi=3.0, n=25) -> tuple[Forecast, np.ndarray]:
    ref = np.exp(model.params_["xbar"].to_numpy())
    ix = model.index_.get_indexer(pd.MultiIndex.from_frame(ents[KEYS].astype(str)))
    bids = ref[ix][:, None] * np.geomspace(lo, hi, n)[None, :]
    return model.predict(ents, bids), bids


def test_landscape_is_monotone_and_second_price(toy_model, toy):
    ents = toy[KEYS].drop_duplicates()
    fc, bids = _grid(toy_model, ents)
    assert (np.diff(fc.rank, axis=1) <= 1e-9).all(), "higher bid must not worsen rank"
    assert (np.diff(fc.clicks, axis=1) >= -1e-9).all(), "clicks must not fall with the bid"
    assert (np.diff(fc.cost, axis=1) >= -1e-9).all()
    cpc = fc.cpc()
    has = fc.clicks > 0
    assert (cpc[has] <= bids[has] + 1e-12).all(), "second price never above the bid"
    assert (np.diff(np.where(has, cpc, 0), axis=1)[has[:, 1:] & has[:, :-1]] >= -1e-9).all()
    assert (fc.rank >= 1).all()
    # a real response: at 3x the usual bid the median keyword gets clearly more clicks
    assert np.median(fc.clicks[:, -1] / np.maximum(fc.clicks[:, 12], 1e-9)) > 1.5


def test_zero_order_keyword_gets_item_cvr(toy):
    hist = toy.copy()
    rows = (hist["keyword"] == "k0") & (hist["platform"] == "mobile")
    # 12 clicks and no order in total: one click on each of the first 12 days
    hist.loc[rows, "clicks"] = np.r_[np.ones(12), np.zeros(rows.sum() - 12)]
    hist.loc[rows, ["orders", "gmv"]] = 0.0
    hist.loc[rows, "cost"] = hist.loc[rows, "clicks"] * 0.5
    model = ResponseModel().fit(hist)
    p = model.params_.assign(**model.entities_)
    k0 = p[(p["keyword"] == "k0") & (p["platform"] == "mobile")]["cvr"].iloc[0]
    item = hist[hist["item"] == "i0"]
    item_cvr = item["orders"].sum() / item["clicks"].sum()
    assert k0 > 0
    assert 0.5 * item_cvr < k0 <= 1.05 * item_cvr


def test_intervals_contain_point_and_widen_with_less_data(toy):
    model = ResponseModel().fit(toy)
    ents = toy[KEYS].drop_duplicates()
    fc, _ = _grid(model, ents, 0.7, 1.3, 5)
    for m in ("clicks", "cost", "orders", "gmv"):
        assert (fc.low[m] <= getattr(fc, m) + 1e-12).all() and (getattr(fc, m) <= fc.high[m] + 1e-12).all()
    # the same keywords seen for 3 days instead of 14: relative interval must be wider
    short = toy[toy["date"] >= toy["date"].max() - pd.Timedelta(days=2)]
    fc_short, _ = _grid(ResponseModel(interval_kind="mean").fit(short), ents, 1.0, 1.0, 1)
    fc_long, _ = _grid(ResponseModel(interval_kind="mean").fit(toy), ents, 1.0, 1.0, 1)
    width = lambda f: (f.high["clicks"] - f.low["clicks"]) / np.maximum(f.clicks, 1e-9)  # noqa: E731
    ok = (fc_long.clicks > 0.5)[:, 0]
    assert np.median(width(fc_short)[ok]) > 1.2 * np.median(width(fc_long)[ok])


def test_unknown_and_candidate_keywords_get_sensible_forecasts(toy):
    cands = pd.DataFrame({
        "keyword": ["k1", "k2", "k3", "k4", "new_big", "new_small"],
        "item": "i0",
        "search_volume": [500.0, 800, 300, 1000, 5000, 50],
        "competition": 0.5, "market_ctr": 0.03, "market_cvr": 0.04, "market_cpc": [0.6, 0.7, 0.5, 0.8, 0.9, 0.4],
    })
    model = ResponseModel().fit(toy, candidates=cands)
    ents = pd.DataFrame({"campaign": "c0", "item": "i0", "keyword": ["new_big", "new_small", "never_heard"],
                         "platform": "mobile"})
    fc = model.predict(ents, np.tile(np.geomspace(0.1, 3, 8), (3, 1)))
    assert np.isfinite(fc.clicks).all() and (fc.clicks >= 0).all()
    assert (fc.cost <= fc.clicks * fc.bids + 1e-9).all()
    assert (np.diff(fc.clicks, axis=1) >= -1e-9).all()
    assert fc.clicks[0, -1] > fc.clicks[1, -1], "more search volume, more clicks"
    assert fc.orders[2, -1] > 0 and fc.clicks[2, -1] > 0, "unknown rows get pooled item figures"
    assert (fc.high["clicks"] >= fc.clicks).all()


@pytest.fixture(scope="module")
def sim():
    from bidopt.simulate import simulate_shop

    return simulate_shop(seed=5, days=14, size="small")


@pytest.fixture(scope="module")
def sim_model(sim) -> ResponseModel:
    return ResponseModel().fit(sim.keyword_report, crowds=sim.crowd_report, regions=sim.region_report,
                               items=sim.items, candidates=sim.candidates)


def test_simulated_landscape_matches_truth_direction(sim_model, sim):
    kr = sim.keyword_report
    last = kr[kr["date"] == kr["date"].max()].reset_index(drop=True)
    bids = np.clip(last["bid"].to_numpy()[:, None] * np.array([0.7, 1.0, 1.3]), 0.05, 100)
    fc = sim_model.predict(last[KEYS], bids)
    assert (np.diff(fc.rank, axis=1) <= 1e-9).all() and (np.diff(fc.clicks, axis=1) >= -1e-9).all()
    # crowd premiums lift the effective bid, so a keyword's price may exceed its bid, but never
    # the bid x the item's largest premium factor (learned from the reports, not given)
    cap = sim_model.params_["cpc_cap"].to_numpy()[sim_model.index_.get_indexer(pd.MultiIndex.from_frame(last[KEYS]))]
    top_premium = sim.market.crowds.groupby("item")["premium"].max().reindex(last["item"]).to_numpy()
    assert (cap >= 1).all() and (cap <= 1 + top_premium / 100 + 0.02).all()
    assert (fc.cpc() <= bids * cap[:, None] + 1e-12).all()
    truth = {m: last[KEYS].merge(sim.market.expected(last[KEYS].assign(bid=bids[:, j])), on=KEYS, how="left")
             for j, m in enumerate(("low", "mid", "high"))}
    for metric in ("clicks", "cost"):
        t_ratio = truth["high"][metric].sum() / truth["low"][metric].sum()
        p_ratio = getattr(fc, metric)[:, 2].sum() / getattr(fc, metric)[:, 0].sum()
        assert t_ratio > 1 and abs(np.log(p_ratio / t_ratio)) < np.log(1.5), (metric, p_ratio, t_ratio)
    # tomorrow's shop totals at the current bids within 15% of the truth
    for metric in ("clicks", "cost", "gmv"):
        assert abs(getattr(fc, metric)[:, 1].sum() / truth["mid"][metric].sum() - 1) < 0.15, metric


def test_thin_keywords_are_priced_like_the_truth(sim_model, sim):
    """Thin mobile keywords (1-10 clicks in 14 days) pay about what the truth says per click.

    Their price level is pooled with their item's; long-tail words that sit last in their
    auction and pay the minimum price must not drag it down (a log-mean level did: 0.8x)."""
    kr = sim.keyword_report
    last = kr[kr["date"] == kr["date"].max()].reset_index(drop=True)
    seen = kr.groupby(KEYS, sort=False)["clicks"].sum()
    clicks_seen = seen.reindex(pd.MultiIndex.from_frame(last[KEYS])).to_numpy()
    thin = last[(last["platform"] == "mobile") & (clicks_seen >= 1) & (clicks_seen <= 10)]
    fc = sim_model.predict(thin[KEYS], thin["bid"].to_numpy()[:, None])
    truth = thin[KEYS].merge(sim.market.expected(thin[[*KEYS, "bid"]]), on=KEYS, how="left")
    # forecast price per click, weighted by the truth's clicks
    forecast_cost = np.sum(fc.cost[:, 0] / np.maximum(fc.clicks[:, 0], 1e-12) * truth["clicks"])
    assert len(thin) > 50
    assert 0.88 < forecast_cost / truth["cost"].sum() < 1.12, forecast_cost / truth["cost"].sum()


def test_thin_keywords_get_the_traffic_the_truth_gives(sim_model, sim):
    """Mobile keywords with under 3 clicks in 14 days: their clicks at today's bids add up.

    Their volume is measured on impressions (10-100x more numerous at the page edge) with a
    log-normal spread between keywords; Gamma-shrunk click volumes put them at 0.75x."""
    kr = sim.keyword_report
    last = kr[kr["date"] == kr["date"].max()].reset_index(drop=True)
    seen = kr.groupby(KEYS, sort=False)["clicks"].sum()
    clicks_seen = seen.reindex(pd.MultiIndex.from_frame(last[KEYS])).to_numpy()
    thin = last[(last["platform"] == "mobile") & (clicks_seen < 3)]
    fc = sim_model.predict(thin[KEYS], thin["bid"].to_numpy()[:, None])
    truth = thin[KEYS].merge(sim.market.expected(thin[[*KEYS, "bid"]]), on=KEYS, how="left")
    assert len(thin) > 100
    ratio = fc.clicks[:, 0].sum() / truth["clicks"].sum()
    assert 0.85 < ratio < 1.15, ratio


def test_crowd_multipliers_recover_truth(sim_model, sim):
    est = sim_model.crowd_effects_.merge(sim.market.crowds, on=["campaign", "item", "crowd"], suffixes=("", "_true"))
    # pooled over items, the "carts & favourites" crowd converts ~2.4x, men ~0.6x
    by_crowd = est.groupby("crowd")[["cvr_mult", "cvr_mult_true"]].median()
    assert by_crowd["cvr_mult"].corr(by_crowd["cvr_mult_true"], method="spearman") > 0.85
    top = by_crowd["cvr_mult_true"].idxmax()
    assert by_crowd.loc[top, "cvr_mult"] > 1.6
    assert by_crowd.loc[by_crowd["cvr_mult_true"].idxmin(), "cvr_mult"] < 0.8
    assert (est["cvr_mult_low"] <= est["cvr_mult"]).all() and (est["cvr_mult"] <= est["cvr_mult_high"]).all()


def test_region_roi_posterior(sim_model):
    reg = sim_model.region_effects_
    assert len(reg) and {"roi", "roi_low", "roi_high", "cpc_mult", "cvr_mult"} <= set(reg.columns)
    p_low, p_high = reg.region_roi_below(0.01), reg.region_roi_below(1e6)
    assert (p_low < 0.05).all() and (p_high > 0.95).all()
    p_med = sim_model.region_roi_below(reg["roi"])
    assert ((p_med > 0.2) & (p_med < 0.8)).all()


def test_simulated_candidates_get_sensible_forecasts(sim_model, sim):
    cand = sim.candidates.head(40)
    items = sim.items.set_index("item")
    ents = pd.DataFrame({"campaign": items.loc[cand["item"], "campaign"].to_numpy(), "item": cand["item"].to_numpy(),
                         "keyword": cand["keyword"].to_numpy(), "platform": "mobile"})
    bids = cand["market_cpc"].to_numpy()[:, None] * np.array([0.5, 1.0, 2.0])
    fc = sim_model.predict(ents, bids)
    truth = sim.market.expected(added_keywords=ents.assign(bid=bids[:, 1]))
    truth = ents.merge(truth, on=KEYS, how="left")
    assert np.isfinite(fc.clicks).all() and (np.diff(fc.clicks, axis=1) >= -1e-9).all()
    assert (fc.cpc() <= bids * (1 + sim.market.crowds["premium"].max() / 100) + 1e-12).all()
    ratio = fc.clicks[:, 1].sum() / truth["clicks"].sum()
    # the volume level of new words is still uncertain (0.8x-1.7x of truth over small shops
    # 0-7 for every candidate at its market CPC; 0.01x-3.5x when their rank was a line in the
    # competition index fitted on a handful of words); the ranking is asserted below
    assert 0.4 < ratio < 2.5, ratio


def candidates_at_market_cpc(model: ResponseModel, shop) -> tuple[pd.DataFrame, Forecast, pd.DataFrame]:
    """Every listed candidate on mobile at its market CPC: its rows, the model's forecast and
    the truth's outcome (aligned row by row)."""
    cand = shop.candidates
    items = shop.items.set_index("item")
    ents = pd.DataFrame({"campaign": items.loc[cand["item"], "campaign"].to_numpy(), "item": cand["item"].to_numpy(),
                         "keyword": cand["keyword"].to_numpy(), "platform": "mobile"})
    bids = cand["market_cpc"].to_numpy()
    truth = ents.merge(shop.market.expected(added_keywords=ents.assign(bid=bids)), on=KEYS, how="left")
    return ents, model.predict(ents, bids[:, None]), truth


def test_candidates_are_ranked_like_the_truth(sim_model, sim):
    # Bidding the market CPC buys a good place on a quiet long-tail word and a poor one on a
    # contested head word: the forecast must tell them apart, not give every candidate one rank.
    _, forecast, truth = candidates_at_market_cpc(sim_model, sim)
    fc = forecast.clicks[:, 0]
    t = truth["clicks"].to_numpy()
    seen = (t > 0.05) & (fc > 0)
    assert seen.sum() > 50
    corr = np.corrcoef(np.log(fc[seen]), np.log(t[seen]))[0, 1]
    assert corr > 0.65  # 0.68 here; 0.59 when every candidate got one rank


def test_candidates_convert_like_bought_words_of_their_shape(sim_model, sim):
    # A new word's conversion prior is its item's, tilted by the word's size and length as
    # the bought words' are: the long tail converts better than head words. Without the
    # tilt the long candidates read 0.92x of their true GMV per click and the head words
    # (four characters or fewer) 3.4x as rosy as them; with it 0.98x and 2.4x.
    ents, fc, truth = candidates_at_market_cpc(sim_model, sim)
    short = ents["keyword"].str.replace(" ", "").str.len().to_numpy() <= 4

    def per_click_over_truth(rows):
        return ((fc.gmv[rows, 0].sum() / fc.clicks[rows, 0].sum())
                / (truth["gmv"][rows].sum() / truth["clicks"][rows].sum()))

    long_tail = per_click_over_truth(~short)
    assert 0.95 < long_tail < 1.05, long_tail
    assert per_click_over_truth(short) / long_tail < 3.0


def test_candidates_forecast_their_true_cost_and_gmv_in_total():
    """Candidates bid at their market CPC: the summed forecast near the truth's. The offsets
    were medians over the bought words with at least 5 clicks, matched on another item's
    market CTR and CVR: cost 1.35x, GMV 2.0x of the truth here (1.2-2.9x GMV over small shops
    0-9); calibrated on every listed word, each moved to its own item, 1.0x and 1.0x
    (0.7-1.6x GMV over those shops)."""
    from bidopt.simulate import simulate_shop

    shop = simulate_shop(seed=4, days=14, size="small")
    model = ResponseModel().fit(shop.keyword_report, crowds=shop.crowd_report, regions=shop.region_report,
                                items=shop.items, candidates=shop.candidates)
    _, fc, truth = candidates_at_market_cpc(model, shop)
    for name in ("cost", "gmv"):
        ratio = getattr(fc, name)[:, 0].sum() / truth[name].sum()
        assert 0.8 < ratio < 1.25, (name, ratio)


def test_a_word_listed_for_another_item_takes_its_own_items_ctr_and_cvr():
    from bidopt.model.priors import _market_frame, _match

    market = _market_frame(pd.DataFrame({
        "keyword": ["a1", "a2", "b1", "b2", "shared"],
        "item": ["A", "A", "B", "B", "B"],
        "search_volume": 100, "competition": 10, "market_cpc": 1.0,
        "market_ctr": [0.02, 0.02, 0.04, 0.04, 0.06],
        "market_cvr": [0.01, 0.01, 0.03, 0.03, 0.03],
    }))
    keys = pd.DataFrame({"keyword": ["shared", "shared", "shared"], "item": ["B", "A", "C"]})
    got = _match(keys, market)
    # its own entry as listed; item A sells at half item B's CTR and a third of its CVR over
    # their entries; an item without entries keeps the entry's figures
    assert got["market_ctr"].tolist() == pytest.approx([0.06, 0.03, 0.06])
    assert got["market_cvr"].tolist() == pytest.approx([0.03, 0.01, 0.03])
    assert (got["search_volume"] == 100).all()


@pytest.fixture(scope="module")
def held_out_day():
    """Fit on 14 simulated days; the 15th (realised, at the seller's own next bids) is held out."""
    from bidopt.simulate import simulate_shop

    shop = simulate_shop(seed=1, days=15, size="medium")
    kr = shop.keyword_report
    day = kr["date"].max()
    model = ResponseModel().fit(kr[kr["date"] < day], items=shop.items)
    return model, kr[kr["date"] == day].reset_index(drop=True)


def test_outcome_intervals_cover_a_held_out_day(held_out_day):
    model, held = held_out_day
    fc = model.predict(held[KEYS], held["bid"].to_numpy())
    pit = model.outcome_pit(held[KEYS], held["bid"].to_numpy(), held, seed=0)
    for m in ("clicks", "cost", "orders", "gmv"):
        low, high, y = fc.low[m][:, 0], fc.high[m][:, 0], held[m].to_numpy()
        assert (0 <= low).all() and (low <= high).all()
        # calibration with the discreteness randomised away: nominal 80%, aim 70-90%
        cov = np.mean((pit[m] >= 0.1) & (pit[m] <= 0.9))
        assert 0.7 <= cov <= 0.9, (m, cov)
        # the closed interval holds a count's whole atom at 0, so it covers at least as much
        closed = np.mean((low <= y + 1e-9) & (y <= high + 1e-9))
        assert closed >= cov - 0.02, (m, closed, cov)
    # rows that expect no click are uniform-PIT whatever the spread: check the informative ones
    busy = fc.clicks[:, 0] >= 1
    assert busy.sum() > 1000
    for m in ("clicks", "cost"):
        cov = np.mean(((pit[m] >= 0.1) & (pit[m] <= 0.9))[busy])
        assert 0.7 <= cov <= 0.9, (m, cov)
    # zero-heavy counts: the lower bound is 0 where a day without an order is likely, and the
    # bounds of counts are whole numbers (or the point forecast, which they always contain)
    rare = fc.orders[:, 0] < 0.05
    assert rare.any() and (fc.low["orders"][rare, 0] == 0).all() and (fc.high["orders"][rare, 0] < 1).all()
    for m in ("clicks", "orders"):
        b = np.r_[fc.low[m][:, 0], fc.high[m][:, 0]]
        point = np.r_[getattr(fc, m)[:, 0], getattr(fc, m)[:, 0]]
        assert ((b == np.round(b)) | (b == point)).all()
    for m, factor in model.interval_scale_.items():
        assert np.isfinite(factor).all() and (factor >= 1).all(), m


def test_expected_value_intervals_are_narrower_than_outcome(toy):
    mean_model = ResponseModel(interval_kind="mean").fit(toy)
    fc = ResponseModel().fit(toy).predict(toy[KEYS].drop_duplicates(), np.ones(120))
    fc_mean = mean_model.predict(toy[KEYS].drop_duplicates(), np.ones(120))
    busy = fc.clicks[:, 0] > 5
    for m in ("clicks", "cost"):
        w_out = (fc.high[m] - fc.low[m])[busy, 0]
        w_mean = (fc_mean.high[m] - fc_mean.low[m])[busy, 0]
        assert np.median(w_mean / w_out) < 1, m


def test_candidate_rank_grows_with_competition_even_on_few_words():
    from bidopt.model.priors import _rank_by_competition

    rng = np.random.default_rng(0)
    # eight bought words in the candidates list: too few for a slope of their own, so the
    # prior (rank about in proportion to the number of competitors) ranks the candidates
    comp = rng.uniform(5, 100, 8)
    level, slope, mean = _rank_by_competition(np.log(comp) * 0.9 - 1.0 + rng.normal(0, 0.3, 8), comp)
    assert slope == pytest.approx(1.0)
    assert mean == pytest.approx(np.log(comp).mean())
    # two hundred words that say 0.5: their slope wins
    comp = rng.uniform(5, 100, 200)
    _, slope, _ = _rank_by_competition(0.5 * np.log(comp) + rng.normal(0, 0.3, 200), comp)
    assert 0.4 < slope < 0.65


def test_crowd_multipliers_stay_finite_when_an_item_shows_gmv_without_orders():
    """An item whose keyword rows carry GMV but no orders (a report glitch the reader warns
    about) has no order value: its crowds fall back to the shop's, not to inf x 0 = NaN."""
    from bidopt.model.effects import fit_crowd_effects

    metrics = {"impressions": [1000, 1000], "clicks": [50, 50], "cost": [20.0, 20.0],
               "orders": [0, 3], "gmv": [120.0, 300.0], "carts": [0, 0], "favorites": [0, 0]}
    keywords = pd.DataFrame({"campaign": "c", "item": ["a", "b"], **metrics})
    crowds = pd.DataFrame({"campaign": "c", "item": ["a", "a", "b", "b"],
                           "crowd": ["x", "y", "x", "y"], "impressions": [400, 300, 400, 300],
                           "clicks": [20, 10, 20, 10], "cost": [8.0, 4.0, 8.0, 4.0],
                           "orders": [0, 0, 2, 1], "gmv": [60.0, 0.0, 200.0, 100.0],
                           "carts": 0, "favorites": 0})
    with np.errstate(invalid="raise"):
        fitted = fit_crowd_effects(crowds, keywords, 0.8)
    assert np.isfinite(fitted.filter(like="_mult").to_numpy(float)).all()
