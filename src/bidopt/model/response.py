"""ResponseModel: what follows tomorrow from a bid, per keyword x platform, with intervals.

Structure (see ``landscape``): ``rank(b) = exp(a - s (log b - xbar))`` floored at 1;
``clicks = V * g_platform(rank)``, ``impressions = U * h_platform(rank)``; ``cpc`` a second
price below the bid, flat once rank 1 is held; orders, GMV, carts and favourites follow the
clicks through empirically-Bayes shrunk per-keyword rates (``rates``). Keywords never seen are
priced from candidate market figures or their item's pooled parameters (``priors``).

This module is the estimator itself (fit, predict, outcome_pit); evaluating the fitted
parameters at bids lives in ``evaluate``, the in-sample passes at the end of fit in
``insample``, and the history-to-array helpers in ``history``.
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from bidopt.errors import DataError
from bidopt.model.effects import RegionEffects, fit_crowd_effects, fit_region_effects
from bidopt.model.evaluate import AOV_CV2, CPC_CV2, evaluate
from bidopt.model.forecast import FORECAST_METRICS, Forecast
from bidopt.model.history import first_index, group_codes, item_price, numeric, quality_shift
from bidopt.model.insample import calibrate_levels, day_variance, interval_scale
from bidopt.model.intervals import COUNT_METRICS, band_of, randomised_pit
from bidopt.model.landscape import (
    RANK_OFF,
    fit_position_curve,
    pooled_residual_variance,
    shrink_coefficient,
    weighted_moments,
)
from bidopt.model.priors import calibrate_candidates, entity_parameters_for, pooled_tables
from bidopt.model.rates import (
    MIN_STRENGTH,
    VolumeFit,
    group_means,
    group_sum,
    hierarchical_rate,
    keyword_shape,
    keyword_volume,
    within_group_tilt,
)
from bidopt.model.within import cpc_ceiling, fit_exponent, regime_codes

ENTITY_KEYS = ["campaign", "item", "keyword", "platform"]
REQUIRED = ("date", "campaign", "item", "keyword", "platform", "impressions", "clicks", "cost")
OPTIONAL_METRICS = ("orders", "gmv", "carts", "favorites")
INTERVAL_METRICS = ("clicks", "cost", "orders", "gmv")
CHUNK_CELLS = 1 << 15
"""Grid cells per block in predict: small enough for the CPU cache, large enough for numpy."""
CPC_SLOPE_CLICKS = 20.0
"""A day's weight in the CPC slope fit is ``paid / (paid + this)``, ``paid = cost / bid``: the
clicks it bought in units of full-bid clicks. Days of long-tail words paying the minimum price
carry almost no weight (their ``log(cpc / bid)`` says nothing about a second price)."""
KEYWORD_RATE_STRENGTH = 10.0
"""Typical prior strength of per-click rates across one item's keywords (about +-30%)."""


class ResponseModel(BaseEstimator):
    """Per keyword x platform bid response: bid landscape, position curve, CPC, shrunk rates.

    Parameters
    ----------
    interval : float
        Central probability of the forecast intervals (0.8 gives 10th/90th percentiles).
    interval_kind : {"outcome", "mean"}
        ``"outcome"`` (default): where tomorrow's realised number falls (rate posterior plus
        day-to-day and count noise; whole numbers for counts, 0 when a zero day is likely),
        recalibrated in ``fit`` on the history's last day (``interval_scale_``). ``"mean"``:
        where the expected value lies (posterior only; not recalibrated). See docs/model.md.
    half_life : float or None
        Recency weighting of history in days; ``None`` weighs every day equally.
    rank_weight_impressions : float
        A day's weight in the rank fit is ``imps / (imps + this)``: avg rank over few
        impressions is noisy.
    rank_offset : float
        The rank model is linear in ``log(rank - rank_offset)``: 0 gives log-log; near 1 it
        lets the elasticity steepen with the bid until rank 1 caps it, as a GSP auction does.
    engagement : bool
        Match each campaign x platform's conversion to its orders together with its
        add-to-cart and favourite events (``calibration.EngagementLink``), not to its
        orders alone. No effect on a history without those columns.
    """

    def __init__(
        self,
        interval: float = 0.8,
        interval_kind: str = "outcome",
        half_life: float | None = 14.0,
        rank_weight_impressions: float = 5.0,
        rank_offset: float = 0.7,
        engagement: bool = True,
    ):
        self.interval = interval
        self.interval_kind = interval_kind
        self.half_life = half_life
        self.rank_weight_impressions = rank_weight_impressions
        self.rank_offset = rank_offset
        self.engagement = engagement

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        keywords: pd.DataFrame,
        *,
        crowds: pd.DataFrame | None = None,
        regions: pd.DataFrame | None = None,
        items: pd.DataFrame | None = None,
        candidates: pd.DataFrame | None = None,
    ) -> ResponseModel:
        """Learn every keyword's response from its daily history (and the side reports)."""
        if not 0 < self.interval < 1:
            raise ValueError(f"interval must be in (0, 1), got {self.interval}")
        if self.interval_kind not in ("outcome", "mean"):
            raise ValueError(f"interval_kind must be 'outcome' or 'mean', got {self.interval_kind!r}")
        missing = [c for c in REQUIRED if c not in keywords.columns]
        if missing:
            raise DataError(f"keyword history lacks columns {missing}")
        if len(keywords) == 0:
            raise DataError("keyword history is empty")
        df = keywords
        n_rows = len(df)

        ent, n_ent = group_codes(*(df[k] for k in ENTITY_KEYS))
        first = first_index(ent, n_ent)
        table = df[ENTITY_KEYS].iloc[first].reset_index(drop=True)
        table = table.astype({k: str for k in ENTITY_KEYS})
        plat_codes, plat_names = pd.factorize(table["platform"], sort=True)
        self.platforms_ = [str(p) for p in plat_names]
        n_plat = len(self.platforms_)
        pe = plat_codes.astype(np.int64)
        camp_p, _ = group_codes(table["campaign"], table["platform"])
        item_p, n_item_p = group_codes(table["campaign"], table["item"], table["platform"])
        camp, _ = group_codes(table["campaign"])
        item, _ = group_codes(table["campaign"], table["item"])
        lev_platform = [pe, camp_p, item_p, np.arange(n_ent)]
        lev_rates = [camp, item, item_p, np.arange(n_ent)]

        # ---- row arrays
        num = {m: numeric(df, m) for m in ("impressions", "clicks", "cost", *OPTIONAL_METRICS)}
        imp, clk, cost = num["impressions"], num["clicks"], num["cost"]
        bid = numeric(df, "bid", np.nan)
        rank = numeric(df, "avg_rank", np.nan)
        dates = pd.to_datetime(df["date"]).to_numpy()
        age = (dates.max() - dates) / np.timedelta64(1, "D")
        w_day = np.ones(n_rows) if not self.half_life else 0.5 ** (age / float(self.half_life))
        # a day's price per click; none where its clicks cost nothing (refunded invalid
        # clicks, a cost rounded to 0.00): log(0) would poison the price fit
        with np.errstate(divide="ignore", invalid="ignore"):
            cpc_row = np.where((clk > 0) & (cost > 0), cost / clk, np.nan)
        valid_bid = np.isfinite(bid) & (bid > 0)
        # ad score = bid x quality score: express every day's bid in today's quality terms
        qs_shift = quality_shift(ent, n_ent, dates, numeric(df, "quality_score", np.nan))
        x = np.where(valid_bid, np.log(np.where(valid_bid, bid, 1.0)), 0.0) + qs_shift
        off = self.rank_offset
        z_lo, z_hi = np.log(1.0 - off), np.log(RANK_OFF - off)

        # ---- bid -> rank
        has_rank = valid_bid & np.isfinite(rank) & (rank >= 1)
        self.has_rank_data_ = bool(has_rank.any())
        w_r = np.where(has_rank, w_day * (imp + 1) / (imp + 1 + self.rank_weight_impressions), 0.0)
        # log(rank - offset) is close to linear in log bid over a wider range than log rank
        z_obs = np.where(has_rank, np.log(np.where(has_rank, rank, 1.0) - off), 0.0)
        lr_obs = np.where(has_rank, np.log(np.where(has_rank, rank, 1.0)), 0.0)
        mom = weighted_moments(ent, n_ent, x, z_obs, w_r)
        s2_rank = pooled_residual_variance(mom) if self.has_rank_data_ else 1.0
        slope = shrink_coefficient(mom["sxy"], mom["sxx"], s2_rank, lev_platform, prior=-1.0)
        beta = np.minimum(slope.coef, 0.0)
        has_ent_rank = mom["sw"] > 0
        inter = shrink_coefficient(mom["sw"] * np.nan_to_num(mom["ybar"]), mom["sw"], s2_rank, lev_platform, prior=np.log(5.0))
        # reference log bid: mean over rank days, else over any bid days
        wb = np.where(valid_bid, w_day, 0.0)
        sw_b = group_sum(ent, wb, n_ent)
        xbar_any = np.where(sw_b > 0, group_sum(ent, wb * x, n_ent) / np.maximum(sw_b, 1e-300), np.nan)
        xbar = np.where(has_ent_rank, mom["xbar"], xbar_any)
        never_shown = group_sum(ent, imp, n_ent) <= 0
        a = np.where(has_ent_rank, inter.coef, np.where(never_shown, z_hi, inter.coef))
        self.s2_rank_ = s2_rank

        # ---- cpc: log(cpc / bid) = rho + (kappa - 1)(x - xc); slope from the log fit,
        # level from totals (sum cost / sum clicks x bid-curve): campaign cost is a sum, so
        # the level must be unbiased in money, not in log
        has_cpc = valid_bid & (clk > 0) & np.isfinite(cpc_row)
        y_c = np.where(has_cpc, np.log(np.where(has_cpc, cpc_row, 1.0)) + qs_shift - x, 0.0)
        paid = np.where(has_cpc, cost / np.where(valid_bid, bid, 1.0), 0.0)
        w_c = np.where(has_cpc, w_day * paid / (paid + CPC_SLOPE_CLICKS), 0.0)
        mom_c = weighted_moments(ent, n_ent, x, y_c, w_c)
        s2_c = pooled_residual_variance(mom_c) if has_cpc.any() else 0.1
        # the price's answer to the bid depends on where the keyword sits (flat at the top,
        # steeper where competitors thin out): slopes pooled per platform x rank regime
        lr_ref = np.log(off + np.exp(np.clip(a, z_lo, z_hi)))
        regime, n_regime = regime_codes(pe, lr_ref)
        lev_cpc = [np.zeros(n_ent, dtype=np.int64), regime, np.arange(n_ent)]
        kap = shrink_coefficient(mom_c["sxy"], mom_c["sxx"], s2_c, lev_cpc, prior=-0.3)
        kappa_m1 = np.clip(kap.coef, -1.0, 0.5)
        xc = np.where(mom_c["sw"] > 0, mom_c["xbar"], xbar)

        # fill bids never known with a hint from cpc (bid >= cpc), then the pooled typical bid
        med_x = np.nanmedian(xbar) if np.isfinite(xbar).any() else 0.0
        xbar = np.where(np.isfinite(xbar), xbar, med_x)
        xc = np.where(np.isfinite(xc), xc, xbar)
        bid_curve = np.where(has_cpc, clk * np.exp(x - qs_shift + kappa_m1[ent] * (x - xc[ent])), 0.0)
        # level in money: cost / (clicks x bid curve), shrunk keyword -> item -> campaign ->
        # platform as a rate, so every group's level is its ratio of sums. A log mean would
        # be dragged down by the long-tail words that sit last in their auction and pay the
        # minimum price (log(0.05 / bid) is a huge outlier worth a few cents), and it would
        # set the level of every thin keyword of the group about 20% too low.
        cost_w = np.where(has_cpc, w_day * cost, 0.0)
        cost_sum = group_sum(ent, cost_w, n_ent)
        curve_sum = group_sum(ent, w_day * bid_curve, n_ent)
        # (a history without one paid click: assume a click costs 70% of the bid)
        shop_level = cost_sum.sum() / curve_sum.sum() if curve_sum.sum() > 0 else 0.7
        # one click's price at the reference bid: scales cost to a count-like quantity
        unit_cpc = shop_level * np.exp(xc) * (1 + CPC_CV2)
        level = hierarchical_rate(cost_sum, curve_sum, lev_platform, unit=unit_cpc,
                                  prior_rate=shop_level)
        log_cpc_level = np.log(np.maximum(level.rate, 1e-6))
        cpc_shape = level.shape
        # crowd premiums lift the effective bid: the price may exceed the keyword bid, up to
        # the largest premium factor the item's days have shown
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio_row = np.where(valid_bid, cpc_row / np.where(valid_bid, bid, 1.0), np.nan)
        cpc_cap = cpc_ceiling(ent, item_p, int(item_p.max()) + 1, ratio_row, clk)

        # ---- rank per row: observed, else predicted at the row's bid, else off the page
        z_row = np.clip(a[ent] + beta[ent] * np.where(valid_bid, x - xbar[ent], 0.0), z_lo, z_hi)
        lr_pred_row = np.log(off + np.exp(z_row))
        log_rank = np.where(has_rank, lr_obs, np.where(imp > 0, lr_pred_row, np.log(RANK_OFF)))

        # ---- traffic: position curves (across keywords), then each keyword's own response
        # exponent (``within``) and volume, both judged at the rank its bid predicts
        curve_c, _, _ = fit_position_curve(ent, n_ent, pe, n_plat, log_rank, clk, w_day)
        curve_i, _, _ = fit_position_curve(ent, n_ent, pe, n_plat, log_rank, imp, w_day)
        lr_fit = np.where(valid_bid, lr_pred_row, log_rank)
        gammas, expos, seen = {}, {}, {}
        for name, curve, counts in (("impressions", curve_i, imp), ("clicks", curve_c, clk)):
            s_row = curve.log_at(pe[ent], lr_fit)
            g = fit_exponent(ent, n_ent, regime, n_regime, s_row, counts, w_day)
            gammas[name] = g
            expos[name] = group_sum(ent, w_day * np.exp(g[regime][ent] * s_row), n_ent)
            seen[name] = group_sum(ent, w_day * counts, n_ent)
        # impressions outnumber clicks 10-100x at the page edge: the keyword's volume is
        # measured on them, and its clicks per impression (at rank 1) pooled like a rate
        vol_i = keyword_volume(seen["impressions"], expos["impressions"], lev_platform)
        ctr = hierarchical_rate(seen["clicks"], expos["clicks"] * vol_i.rate, lev_platform,
                                typical_strength=KEYWORD_RATE_STRENGTH)
        vol_c = VolumeFit(rate=vol_i.rate * ctr.rate,
                          var_log=vol_i.var_log + 1.0 / np.maximum(ctr.shape, 1e-3))
        self.response_exponents_ = {k: v.reshape(n_plat, -1) for k, v in gammas.items()}
        self.click_exposure_ = expos["clicks"]

        # ---- per-click rates
        sums = {m: group_sum(ent, w_day * num[m], n_ent) for m in num}
        # keywords of one item convert differently (head words worse, long tail better: the
        # rings of the long-tail strategy): the prior of a keyword's conversion is its item's,
        # tilted by the keyword's size (log volume at rank 1) and its length among the item's
        # keywords, each slope learnt from the shop's orders; around that, assume about +-30%
        # (m ~ 10) where data cannot tell
        shape = keyword_shape(table["keyword"], vol_i.rate)
        centre = group_means(shape, item_p, n_item_p)
        slopes = within_group_tilt(sums["orders"], sums["clicks"], shape.to_numpy() - centre[item_p], item_p)
        self.cvr_tilt_ = pd.Series(slopes, index=shape.columns)
        first_of_item = first_index(item_p, n_item_p)
        self.shape_centre_ = pd.DataFrame(centre, columns=shape.columns, index=pd.MultiIndex.from_frame(
            table[["campaign", "item", "platform"]].iloc[first_of_item]))
        tilt = np.exp((shape.to_numpy() - centre[item_p]) @ slopes)
        # pooling no stronger than that typical spread: on keywords with a handful of orders
        # the likelihood reads siblings as alike (m ~ 50 at the keyword level on the medium
        # shop, where the truth's keywords spread by 35% around their item: m ~ 8)
        cvr = hierarchical_rate(sums["orders"], sums["clicks"] * tilt, lev_rates,
                                strength_bounds=(MIN_STRENGTH, KEYWORD_RATE_STRENGTH),
                                typical_strength=KEYWORD_RATE_STRENGTH)
        cvr = dataclasses.replace(cvr, rate=cvr.rate * tilt, parent_rate=cvr.parent_rate * tilt)
        carts, favs = (
            hierarchical_rate(sums[name], sums["clicks"], lev_rates,
                              typical_strength=KEYWORD_RATE_STRENGTH)
            for name in ("carts", "favorites")
        )
        price = item_price(table, items)
        shop_aov = sums["gmv"].sum() / sums["orders"].sum() if sums["orders"].sum() > 0 else np.nan
        price = np.where(np.isfinite(price), price, shop_aov if np.isfinite(shop_aov) else 1.0)
        ratio0 = sums["gmv"].sum() / np.sum(sums["orders"] * price) if sums["orders"].sum() > 0 else 1.0
        aov_m = hierarchical_rate(
            sums["gmv"], sums["orders"] * price, lev_rates, unit=price * ratio0 * (1 + AOV_CV2), prior_rate=ratio0
        )
        aov = aov_m.rate * price

        self.position_curves_ = {"clicks": curve_c, "impressions": curve_i}
        self.params_ = pd.DataFrame(
            {
                "platform_code": pe,
                "xbar": xbar,
                "a": a,
                "beta": beta,
                "var_beta": np.where(np.isfinite(slope.var), slope.var, 1.0),
                "var_a": np.where(np.isfinite(inter.var), inter.var, 1.0),
                "log_V": np.log(np.maximum(vol_c.rate, 1e-12)),
                "var_log_V": vol_c.var_log,
                "log_U": np.log(np.maximum(vol_i.rate, 1e-12)),
                "rho": log_cpc_level,
                "var_rho": 1.0 / np.maximum(cpc_shape, 1e-3),
                "kappa_m1": kappa_m1,
                "cpc_cap": cpc_cap,
                "gamma_c": gammas["clicks"][regime],
                "gamma_i": gammas["impressions"][regime],
                "var_kappa": np.where(np.isfinite(kap.var), kap.var, 0.1),
                "xc": xc,
                "cvr": cvr.rate,
                "cvr_tilt": tilt,
                "var_log_cvr": 1.0 / np.maximum(cvr.shape, 1e-3),
                "aov": aov,
                "var_log_aov": 1.0 / np.maximum(aov_m.shape, 1e-3),
                "cart_rate": carts.rate,
                "fav_rate": favs.rate,
                "clicks_seen": sums["clicks"],
                "n_days": group_sum(ent, w_day, n_ent),
            }
        )
        self.entities_ = table
        self.index_ = pd.MultiIndex.from_frame(table)

        self.calibration_ = calibrate_levels(self, ent, valid_bid, x, w_day, num)
        # ---- day-to-day residual variance of each metric around the model at the row's bid
        self.day_variance_ = day_variance(self, ent, valid_bid, x, w_day, num)
        # days are overdispersed, not Poisson: a keyword's level is known to within the
        # day-to-day variance over its number of days, not just 1 / its count
        nd = np.maximum(self.params_["n_days"].to_numpy(), 1.0)
        dv = self.day_variance_
        self.params_["var_log_V"] += dv["clicks"] / nd
        self.params_["var_log_cvr"] += max(dv["orders"] - dv["clicks"], 0.0) / nd
        self.params_["var_rho"] += max(dv["cost"] - dv["clicks"], 0.0) / nd
        self.interval_scale_ = interval_scale(self, ent, valid_bid, x, dates, num)
        self.pooled_ = pooled_tables(table, self.params_)
        self.candidates_ = None if candidates is None else candidates.copy()
        self.candidate_calibration_ = calibrate_candidates(self, table, candidates)
        self.crowd_effects_ = fit_crowd_effects(crowds, keywords, self.interval)
        self.region_effects_ = fit_region_effects(regions, self.interval)
        self.n_features_in_ = len(ENTITY_KEYS)
        return self

    # ------------------------------------------------------------------ predict
    def predict(self, entities: pd.DataFrame, bids: np.ndarray) -> Forecast:
        """Expected one-day metrics for every entity at every candidate bid (vectorised)."""
        check_is_fitted(self, "params_")
        missing = [k for k in ENTITY_KEYS if k not in entities.columns]
        if missing:
            raise DataError(f"entities lack columns {missing}")
        b = np.asarray(bids, dtype=float)
        if b.ndim == 1:
            b = b[:, None]
        if b.shape[0] != len(entities):
            raise ValueError(f"bids has {b.shape[0]} rows for {len(entities)} entities")
        params = entity_parameters_for(self, entities)
        b = np.maximum(b, 1e-6)
        n, n_bids = b.shape
        block = max(1, CHUNK_CELLS // max(n_bids, 1))
        if n <= block:
            return self._evaluate(params, b, intervals=True)
        # cache-sized row blocks, evaluated on every core (numpy releases the GIL)
        names = (*FORECAST_METRICS, "rank")
        out = {m: np.empty((n, n_bids)) for m in names}
        low = {m: np.empty((n, n_bids)) for m in INTERVAL_METRICS}
        high = {m: np.empty((n, n_bids)) for m in INTERVAL_METRICS}

        def run(i: int) -> None:
            rows = slice(i, i + block)
            fc = self._evaluate({k: v[rows] for k, v in params.items()}, b[rows], True)
            for m in names:
                out[m][rows] = getattr(fc, m)
            for m in INTERVAL_METRICS:
                low[m][rows] = fc.low[m]
                high[m][rows] = fc.high[m]

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            list(pool.map(run, range(0, n, block)))
        return Forecast(bids=b, **out, low=low, high=high, interval=self.interval)

    def _evaluate(self, p: dict[str, np.ndarray], b: np.ndarray, intervals: bool | str
                  ) -> Forecast | dict:
        """Forecast arrays from per-entity parameter columns (see ``evaluate``)."""
        return evaluate(self, p, b, intervals)

    def outcome_pit(self, entities: pd.DataFrame, bids: np.ndarray, observed: pd.DataFrame,
                    seed: int = 0) -> dict[str, np.ndarray]:
        """Randomised PIT of realised one-day outcomes under the outcome intervals' distribution.

        For checking calibration: with ``u = outcome_pit(...)[m]``, ``mean((u >= 0.1) & (u <=
        0.9))`` is the coverage of the 80% interval with the discreteness of counts randomised
        away (the closed interval ``[low, high]`` of a count covers its whole atom at 0).
        """
        check_is_fitted(self, "params_")
        params = entity_parameters_for(self, entities)
        b = np.maximum(np.asarray(bids, dtype=float).reshape(-1), 1e-6)[:, None]
        spec = self._evaluate(params, b, intervals="spec")
        plat = np.clip(np.asarray(params["platform_code"], dtype=np.int64), 0, len(self.platforms_) - 1)
        group = plat * 4 + band_of(params["clicks_seen"])
        rng = np.random.default_rng(seed)
        out = {}
        for m, (mu, cnt, s2, core, unit_n) in spec.items():
            c = self.interval_scale_[m][group]
            out[m] = randomised_pit(observed[m].to_numpy(float), mu[:, 0], cnt[:, 0], c * s2[:, 0],
                                    c * core[:, 0] + unit_n[:, 0], COUNT_METRICS[m], rng)
        return out

    # ------------------------------------------------------------------ effects
    def region_roi_below(self, floor: float | pd.Series) -> pd.Series:
        """Posterior probability that each region's ROI is below ``floor``."""
        check_is_fitted(self, "params_")
        if not isinstance(self.region_effects_, RegionEffects):
            return pd.Series(dtype=float)
        return self.region_effects_.region_roi_below(floor)
