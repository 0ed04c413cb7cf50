"""The baselines users run today, and the oracle: arithmetic, clamping and the change limit on
hand-made keyword states, and the oracle's promise (beats keep, holds the floor) on truth."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from bidopt.baselines import (
    baseline_plans,
    keep_bids,
    min_roas_bids,
    oracle_plan,
    roi_rule_bids,
    rule_ladder_bids,
)
from bidopt.config import parse_config
from bidopt.context import KEYWORD_KEYS, keyword_state
from bidopt.simulate import simulate_shop


def config(**bids):
    return parse_config({"constraints": {"roi_floor": 2.0}, "bids": bids})


def state(*rows: dict) -> pd.DataFrame:
    """Keyword state rows; unspecified metrics are zero, platform mobile, 14 days."""
    base = {"campaign": "c", "item": "i", "platform": "mobile", "bid": 1.0, "quality_score": 7,
            "avg_rank": 3.0, "impressions": 5000.0, "clicks": 0.0, "cost": 0.0, "orders": 0.0,
            "gmv": 0.0, "carts": 0.0, "favorites": 0.0, "days": 14}
    return pd.DataFrame([{**base, "keyword": f"k{n}", **row} for n, row in enumerate(rows)])


def bids(frame: pd.DataFrame) -> list[float]:
    return [round(b, 2) for b in frame["bid"]]


def test_keep_changes_nothing():
    s = state({"bid": 1.23}, {"bid": 0.05, "platform": "pc"}, {"bid": 7.5, "clicks": 40, "cost": 90})
    out = keep_bids(s, config())
    assert list(out.columns) == [*KEYWORD_KEYS, "bid"]
    assert bids(out) == [1.23, 0.05, 7.5]


def test_roi_rule_arithmetic_cap_and_evidence():
    s = state(
        {"clicks": 20, "cost": 10, "gmv": 19},   # ROI 1.9 / 2 -> x0.95
        {"clicks": 20, "cost": 10, "gmv": 60},   # ROI 6 -> x3, capped at +20%
        {"clicks": 20, "cost": 10, "gmv": 0},    # ROI 0 -> capped at -20%
        {"clicks": 9, "cost": 10, "gmv": 0},     # too few clicks: keep
        {"clicks": 0, "cost": 0, "gmv": 0},      # nothing spent: keep
    )
    assert bids(roi_rule_bids(s, config(), 2.0)) == [0.95, 1.2, 0.8, 1.0, 1.0]
    # Per-row targets (one per campaign floor) work the same way.
    per_row = roi_rule_bids(s, config(), np.array([1.9, 2.0, 2.0, 2.0, 2.0]))
    assert bids(per_row)[0] == 1.0


def test_rule_ladder_first_matching_rule_wins():
    s = state(
        {"clicks": 11, "orders": 0, "cost": 5},                          # dead: x0.9
        {"impressions": 50, "clicks": 2},                                # few impressions: +0.04
        {"bid": 0.55, "clicks": 20, "cost": 10, "orders": 2, "gmv": 40},  # ACOS .25 < .5: CPC .5 x1.2
        {"bid": 0.6, "clicks": 20, "cost": 10, "orders": 1, "gmv": 25},   # ACOS .4: CPC .5 x1.2 = .6
        {"bid": 0.5, "clicks": 20, "cost": 9, "orders": 1, "gmv": 12},    # ACOS .75: CPC .45 x .5/.75
        {"clicks": 5, "orders": 0, "cost": 3},                           # undecided: keep
        {"impressions": 50, "clicks": 11, "orders": 0, "cost": 5},        # dead beats few impressions
    )
    out = rule_ladder_bids(s, config(), 2.0)
    assert bids(out) == [0.9, 1.04, 0.6, 0.6, 0.35, 1.0, 0.9]


def test_rule_ladder_is_clamped_to_the_change_limit():
    # ACOS 4x the target: CPC x 1/8 would be a -87% cut; the nightly limit (30%) stops it.
    s = state({"bid": 1.0, "clicks": 20, "cost": 16, "orders": 1, "gmv": 8})
    assert bids(rule_ladder_bids(s, config(), 2.0)) == [0.7]
    assert bids(rule_ladder_bids(s, config(max_change_pct=10), 2.0)) == [0.9]


def test_min_roas_script_arithmetic_and_minimum_bid():
    s = state(
        {"clicks": 20, "gmv": 60},               # VPC 3 / 2 = 1.5 > bid + 0.10 -> 1.10
        {"clicks": 20, "gmv": 36},               # VPC 1.8 / 2 = 0.90 -> 0.90
        {"bid": 0.06, "clicks": 20, "gmv": 0},   # VPC 0 -> floored at the minimum bid 0.05
        {"clicks": 0},                            # no clicks: no value per click, keep
    )
    assert bids(min_roas_bids(s, config(), 2.0)) == [1.1, 0.9, 0.05, 1.0]


def test_every_rule_respects_bounds_step_and_limit():
    rng = np.random.default_rng(0)
    n = 300
    s = state(*[{} for _ in range(n)])
    s["platform"] = rng.choice(["mobile", "pc"], n)
    s["bid"] = np.round(rng.uniform(0.05, 3.0, n), 2)
    s["impressions"] = rng.integers(0, 5000, n).astype(float)
    s["clicks"] = rng.integers(0, 60, n).astype(float)
    s["cost"] = s["clicks"] * s["bid"] * rng.uniform(0.3, 1.0, n)
    s["orders"] = rng.binomial(s["clicks"].astype(int), 0.05).astype(float)
    s["gmv"] = s["orders"] * rng.uniform(20, 120, n)
    cfg = config(max_change_pct=25, pc={"min": 0.3, "max": 2.0, "step": 0.05})
    for name, plan in baseline_plans(s, cfg).items():
        b, cur = plan["bid"].to_numpy(), s["bid"].to_numpy()
        pc = (s["platform"] == "pc").to_numpy()
        assert (plan[KEYWORD_KEYS].to_numpy() == s[KEYWORD_KEYS].to_numpy()).all(), name
        assert (b[~pc] >= 0.05 - 1e-9).all() and (b[pc] >= 0.3 - 1e-9).all(), name
        assert (b[pc] <= 2.0 + 1e-9).all(), name
        assert np.allclose(b[pc] / 0.05, np.round(b[pc] / 0.05)), name
        assert np.allclose(b[~pc] / 0.01, np.round(b[~pc] / 0.01)), name
        # Within the nightly limit, unless a bound forces the bid back inside.
        inside = (b <= cur * 1.25 + 1e-9) & (b >= cur * 0.75 - 1e-9)
        forced = (pc & ((cur < 0.3) | (cur > 2.0)))
        assert (inside | forced).all(), name


@pytest.fixture(scope="module")
def small_shop():
    shop = simulate_shop(seed=0, size="small", end_date=dt.date(2026, 11, 24))
    return shop, keyword_state(shop.keyword_report)


def _on_truth(market, plan: pd.DataFrame) -> pd.DataFrame:
    live = plan["bid"].to_numpy() > 0
    paused = plan.loc[~live, KEYWORD_KEYS]
    expected = market.expected(plan[live], paused_keywords=paused if len(paused) else None)
    return market.campaign_totals(expected)


def test_oracle_beats_keep_and_holds_the_floor_on_truth(small_shop):
    shop, s = small_shop
    cfg = parse_config({"constraints": {"roi_floor": 2.0}})
    oracle = oracle_plan(s, shop.market, cfg)
    truth = _on_truth(shop.market, oracle.bids)
    keep = _on_truth(shop.market, keep_bids(s, cfg))
    assert truth["gmv"].sum() > keep["gmv"].sum()
    assert (truth["roi"] >= 2.0 * (1 - 1e-3)).all()
    # Within the same grid and change limit as bidopt (0 = paused).
    cur, b = s["bid"].to_numpy(), oracle.bids["bid"].to_numpy()
    moved = b > 0
    assert (b[moved] <= cur[moved] * 1.3 + 1e-9).all() and (b[moved] >= cur[moved] * 0.7 - 1e-9).all()


def test_a_profit_oracle_earns_more_profit_on_truth_than_the_gmv_oracle(small_shop):
    """Profit is GMV x the item's margin - cost: the oracle given each row's margin spends
    less than the GMV oracle and earns more of that profit, with the floor held."""
    shop, s = small_shop
    margin = np.where(s["item"].str.endswith(("1", "3", "5", "7", "9")), 0.5, 0.3)
    margins = pd.Series(margin, index=s["item"].to_numpy()).groupby(level=0).first()

    def profit_and_cost(target: str) -> tuple[float, float, pd.DataFrame]:
        cfg = parse_config({"constraints": {"roi_floor": 2.0}, "objective": {"target": target}})
        plan = oracle_plan(s, shop.market, cfg, margin=margin).bids
        live = plan["bid"].to_numpy() > 0
        paused = plan.loc[~live, KEYWORD_KEYS]
        rows = shop.market.expected(plan[live], paused_keywords=paused if len(paused) else None)
        profit = (rows["gmv"] * rows["item"].map(margins) - rows["cost"]).sum()
        return profit, rows["cost"].sum(), shop.market.campaign_totals(rows)

    profit, cost, totals = profit_and_cost("profit")
    gmv_profit, gmv_cost, _ = profit_and_cost("gmv")
    assert profit > gmv_profit and cost < gmv_cost
    assert (totals["roi"] >= 2.0 * (1 - 1e-3)).all()
    with pytest.raises(ValueError, match="profit"):  # without margins it cannot value profit
        oracle_plan(s, shop.market, parse_config({"constraints": {"roi_floor": 2.0},
                                                 "objective": {"target": "profit"}}))
