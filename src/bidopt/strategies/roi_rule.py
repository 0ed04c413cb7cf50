"""The common PPC rule: move each keyword's bid toward the target ROI.

new bid = bid x observed ROI / target ROI, the change capped (+-20% by default). It is
what most shops run today, and stays as the baseline the optimiser must beat. Keywords
with too few clicks to judge are left alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from bidopt.context import RunContext
from bidopt.hookspecs import hookimpl
from bidopt.strategy import Strategy, StrategyParams


class RoiRuleParams(StrategyParams):
    target_roi: float | None = Field(
        None, gt=0, description="ROI to steer toward; default: each campaign's ROI floor."
    )
    max_change_pct: float = Field(20.0, gt=0, le=100, description="Cap on one night's change.")
    min_clicks: int = Field(10, ge=1, description="Clicks in the window needed to act.")


def propose(context: RunContext, params: RoiRuleParams) -> pd.DataFrame:
    keywords = context.keywords
    clicks = keywords["clicks"].to_numpy(float)
    cost = keywords["cost"].to_numpy(float)
    gmv = keywords["gmv"].to_numpy(float)
    bid = keywords["bid"].to_numpy(float)
    target = (
        np.full(len(keywords), params.target_roi)
        if params.target_roi is not None
        else context.roi_floor(keywords["campaign"])
    )
    judged = (clicks >= params.min_clicks) & (cost > 0) & np.isfinite(bid) & (bid > 0)
    # the history holds ordinary days (bidopt.seasonality); the night converts day.roi x as well
    ordinary = np.divide(gmv, cost, out=np.zeros_like(gmv), where=cost > 0)
    roi = ordinary * context.day.roi
    cap = params.max_change_pct / 100.0
    factor = np.clip(roi / target, 1 - cap, 1 + cap)
    is_pc = keywords["platform"].to_numpy(str) == "pc"
    lowest = np.where(is_pc, context.bid_rules("pc").min, context.bid_rules("mobile").min)
    highest = np.where(is_pc, context.bid_rules("pc").max, context.bid_rules("mobile").max)
    proposed = np.clip(bid * factor, lowest, highest)
    act = judged & (np.abs(proposed - bid) >= 0.01)
    chosen = keywords.loc[act, ["campaign", "item", "keyword", "platform"]].copy()
    chosen["action"] = "set_bid"
    chosen["current"] = bid[act]
    chosen["proposed"] = proposed[act]
    chosen["reason"] = [
        f"ROI {r:.2f}{context.day.roi_words(o)} vs target {t:.2f} on {c:.0f} clicks: bid x{f:.2f}"
        for r, o, t, c, f in zip(roi[act], ordinary[act], target[act], clicks[act], factor[act],
                                 strict=True)
    ]
    return chosen.reset_index(drop=True)


@hookimpl
def bidopt_register_strategies(register) -> None:
    register(
        Strategy(
            name="roi_rule",
            propose=propose,
            params=RoiRuleParams,
            description="Move each bid toward the target ROI (bid x ROI / target, capped).",
        )
    )
