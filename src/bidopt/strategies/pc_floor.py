"""PC at the floor: PC traffic is small, so its bids stay at the platform minimum (0.05 on
ZTC) and the money goes to mobile, unless a PC keyword proves it earns on its own.

"Proves out" means evidence, not hope: enough PC clicks in the window, a few orders, an
observed ROI at or above the campaign's floor, and the model's forecast at the current bid
agreeing. Anything short of that is walked down toward the floor (the decision step applies
the nightly change limit, so it takes a few nights).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from bidopt.context import KEYWORD_KEYS, RunContext
from bidopt.hookspecs import hookimpl
from bidopt.strategy import Strategy, StrategyParams, no_proposals


class PcFloorParams(StrategyParams):
    floor_bid: float | None = Field(
        None, gt=0, description="PC bid to hold; default: the config's bids.pc.min."
    )
    min_clicks: int = Field(30, ge=1, description="PC clicks in the window needed to prove out.")
    min_orders: int = Field(3, ge=0, description="PC orders in the window needed to prove out.")
    roi_margin: float = Field(
        1.0, gt=0,
        description="PC proves out at ROI >= floor x this (observed and forecast both).",
    )
    platform: str = Field("pc", description="Platform name treated as PC.")


def propose(context: RunContext, params: PcFloorParams) -> pd.DataFrame:
    state = context.keywords
    pc = state[state["platform"].astype(str) == params.platform]
    if len(pc) == 0:
        return no_proposals(f"no '{params.platform}' keywords in the reports")
    rules = context.bid_rules("pc")
    # a floor_bid the platform would refuse is held at its nearest bound instead
    floor_bid = min(max(params.floor_bid or rules.min, rules.min), rules.max)
    step = rules.step
    bid = pc["bid"].to_numpy(float)
    clicks, orders = pc["clicks"].to_numpy(float), pc["orders"].to_numpy(float)
    cost, gmv = pc["cost"].to_numpy(float), pc["gmv"].to_numpy(float)
    target = context.roi_floor(pc["campaign"]) * params.roi_margin
    ordinary = np.divide(gmv, cost, out=np.zeros_like(gmv), where=cost > 0)
    observed = ordinary * context.day.roi  # the history's ordinary days, at the night's conversion
    fc = context.forecast(pc[KEYWORD_KEYS], np.maximum(bid, 0.01)[:, None])
    forecast_roi = fc.roi()[:, 0]
    proven = ((clicks >= params.min_clicks) & (orders >= params.min_orders)
              & (observed >= target) & (forecast_roi >= target))
    act = ~proven & np.isfinite(bid) & (bid > floor_bid + step / 2)
    if not act.any():
        return no_proposals()
    chosen = pc.loc[act, KEYWORD_KEYS].reset_index(drop=True)
    chosen["action"] = "set_bid"
    chosen["current"] = bid[act]
    chosen["proposed"] = floor_bid
    chosen["reason"] = [
        f"PC: ROI {r:.2f}{context.day.roi_words(d)} on {c:.0f} clicks and {o:.0f} orders does "
        f"not prove out (needs >= {params.min_clicks} clicks, >= {params.min_orders} orders, "
        f"ROI >= {t:.2f}); hold PC at the floor {floor_bid:.2f} and spend on mobile"
        for r, d, c, o, t in zip(observed[act], ordinary[act], clicks[act], orders[act],
                                 target[act], strict=True)
    ]
    return chosen


@hookimpl
def bidopt_register_strategies(register) -> None:
    register(
        Strategy(
            name="pc_floor",
            propose=propose,
            params=PcFloorParams,
            description="Hold PC bids at the platform floor unless PC's own ROI proves out.",
        )
    )
