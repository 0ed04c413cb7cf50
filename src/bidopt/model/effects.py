"""Crowd and region multipliers relative to their item / campaign, shrunk like the rates.

A crowd's CVR multiplier is ``orders / (clicks x item CVR)`` for that crowd, with a Gamma prior
centred on the same crowd's multiplier across all items (which is itself shrunk to 1): a crowd
seen on one item with three orders does not get a premium on the strength of luck. Regions work
the same way inside their campaign, and carry a posterior of their ROI so a strategy can ask
"how sure are we this region is below the floor?".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from bidopt.model.evaluate import AOV_CV2, CPC_CV2
from bidopt.model.rates import gamma_interval, hierarchical_rate
from bidopt.schema import ALL

METRICS = ("impressions", "clicks", "cost", "orders", "gmv")


class RegionEffects(pd.DataFrame):
    """Region multipliers and ROI posterior per campaign x region."""

    _metadata: list[str] = []

    @property
    def _constructor(self):
        return RegionEffects

    def region_roi_below(self, floor: float | pd.Series) -> pd.Series:
        """Posterior probability that each row's ROI is below ``floor`` (scalar or per row)."""
        if len(self) == 0:
            return pd.Series(dtype=float, index=self.index)
        f = floor.reindex(self.index) if isinstance(floor, pd.Series) else float(floor)
        f = np.maximum(np.asarray(f, dtype=float), 1e-12)
        z = (np.log(f) - self["roi_log_mu"].to_numpy()) / np.maximum(self["roi_log_sd"].to_numpy(), 1e-9)
        return pd.Series(norm.cdf(z), index=self.index, name="p_roi_below")


def _sums(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    cols = [m for m in METRICS if m in frame.columns]
    out = frame.groupby(keys, sort=False, observed=True)[cols].sum().reset_index()
    for m in METRICS:
        if m not in out.columns:
            out[m] = 0.0
    return out


def _multipliers(
    seg: pd.DataFrame, base: pd.DataFrame, parent_keys: list[str], seg_key: str, interval: float
) -> pd.DataFrame:
    """Shrunk CTR/CVR/AOV/CPC multipliers of each segment row against its parent's totals."""
    b = seg.merge(base, on=parent_keys, how="left", suffixes=("", "_base"))
    with np.errstate(divide="ignore", invalid="ignore"):
        ctr = b["clicks_base"] / b["impressions_base"]
        cvr = b["orders_base"] / b["clicks_base"]
        aov = b["gmv_base"] / b["orders_base"]
        cpc = b["cost_base"] / b["clicks_base"]
    # a parent with GMV but no orders (or cost but no clicks) gives an infinite rate: unknown
    ctr, cvr, aov, cpc = (r.replace([np.inf, -np.inf], np.nan) for r in (ctr, cvr, aov, cpc))
    shop = {m: seg[m].sum() for m in METRICS}
    ctr = ctr.fillna(shop["clicks"] / max(shop["impressions"], 1e-9)).to_numpy()
    cvr = cvr.fillna(shop["orders"] / max(shop["clicks"], 1e-9)).to_numpy()
    aov = aov.fillna(shop["gmv"] / max(shop["orders"], 1e-9)).to_numpy()
    cpc = cpc.fillna(shop["cost"] / max(shop["clicks"], 1e-9)).to_numpy()
    seg_codes = pd.factorize(b[seg_key])[0].astype(np.int64)
    levels = [seg_codes, np.arange(len(b))]
    out = b[[*parent_keys, seg_key]].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = b["impressions"] / b["impressions_base"]
    out["share"] = share.fillna(0.0).to_numpy()
    fits = {
        "ctr": hierarchical_rate(b["clicks"].to_numpy(), b["impressions"].to_numpy() * ctr, levels, prior_rate=1.0),
        "cvr": hierarchical_rate(b["orders"].to_numpy(), b["clicks"].to_numpy() * cvr, levels, prior_rate=1.0),
        "aov": hierarchical_rate(b["gmv"].to_numpy(), b["orders"].to_numpy() * aov, levels,
                                 unit=np.maximum(aov, 1e-9) * (1 + AOV_CV2), prior_rate=1.0),
        "cpc": hierarchical_rate(b["cost"].to_numpy(), b["clicks"].to_numpy() * cpc, levels,
                                 unit=np.maximum(cpc, 1e-9) * CPC_CV2, prior_rate=1.0),
    }
    for name, fit in fits.items():
        out[f"{name}_mult"] = fit.rate
        lo, hi = gamma_interval(fit.shape, fit.rate, interval)
        out[f"{name}_mult_low"], out[f"{name}_mult_high"] = lo, hi
    vpc = fits["cvr"].rate * fits["aov"].rate
    vpc_var = 1 / np.maximum(fits["cvr"].shape, 1e-6) + 1 / np.maximum(fits["aov"].shape, 1e-6)
    z = norm.ppf(0.5 + interval / 2)
    sd = np.sqrt(vpc_var)
    out["value_per_click_mult"] = vpc
    out["value_per_click_mult_low"] = vpc * np.exp(-0.5 * vpc_var - z * sd)
    out["value_per_click_mult_high"] = np.maximum(vpc * np.exp(-0.5 * vpc_var + z * sd), vpc)
    out["clicks"] = b["clicks"].to_numpy()
    out["_base_vpc"] = cvr * aov
    out["_base_cpc"] = cpc
    out["_var"] = vpc_var + 1 / np.maximum(fits["cpc"].shape, 1e-6)
    return out


def _crowd_baseline(crowd_sums: pd.DataFrame, keywords: pd.DataFrame | None) -> pd.DataFrame:
    """Item totals the crowd multipliers are relative to: the crowd ``all`` rows if present,
    else the item's keyword-report totals, else the sum over crowds."""
    keys = ["campaign", "item"]
    all_rows = crowd_sums[crowd_sums["crowd"].astype(str) == ALL]
    if len(all_rows):
        return all_rows.drop(columns="crowd")
    if keywords is not None and {"campaign", "item"} <= set(keywords.columns):
        return _sums(keywords, keys)
    return crowd_sums.groupby(keys, sort=False)[list(METRICS)].sum().reset_index()


def fit_crowd_effects(crowds: pd.DataFrame | None, keywords: pd.DataFrame | None, interval: float) -> pd.DataFrame:
    """Multipliers per campaign x item x crowd (empty frame when there is no crowd report)."""
    cols = ["campaign", "item", "crowd", "share", "clicks"]
    if crowds is None or len(crowds) == 0 or not {"campaign", "item", "crowd"} <= set(crowds.columns):
        return pd.DataFrame(columns=cols)
    sums = _sums(crowds, ["campaign", "item", "crowd"])
    base = _crowd_baseline(sums, keywords)
    seg = sums[sums["crowd"].astype(str) != ALL]
    out = _multipliers(seg.reset_index(drop=True), base, ["campaign", "item"], "crowd", interval)
    return out.drop(columns=["_base_vpc", "_base_cpc", "_var"])


def fit_region_effects(regions: pd.DataFrame | None, interval: float) -> pd.DataFrame:
    """Multipliers and ROI posterior per campaign x region."""
    if regions is None or len(regions) == 0 or not {"campaign", "region"} <= set(regions.columns):
        return RegionEffects(pd.DataFrame(columns=["campaign", "region", "share", "roi", "roi_low", "roi_high", "clicks"]))
    sums = _sums(regions, ["campaign", "region"])
    all_rows = sums[sums["region"].astype(str) == ALL]
    seg = sums[sums["region"].astype(str) != ALL].reset_index(drop=True)
    base = all_rows.drop(columns="region") if len(all_rows) else seg.groupby("campaign", sort=False)[list(METRICS)].sum().reset_index()
    out = _multipliers(seg, base, ["campaign"], "region", interval)
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = out["_base_vpc"] * out["value_per_click_mult"] / (out["_base_cpc"] * out["cpc_mult"])
    roi = roi.replace([np.inf, -np.inf], np.nan).fillna(0.0).to_numpy()
    var = out["_var"].to_numpy()
    sd = np.sqrt(var)
    z = norm.ppf(0.5 + interval / 2)
    mu = np.log(np.maximum(roi, 1e-12)) - 0.5 * var
    out["roi"] = roi
    out["roi_low"] = np.exp(mu - z * sd)
    out["roi_high"] = np.maximum(np.exp(mu + z * sd), roi)
    out["roi_log_mu"] = mu
    out["roi_log_sd"] = sd
    return RegionEffects(out.drop(columns=["_base_vpc", "_base_cpc", "_var"]))
