"""The dayparting strategy on a simulated shop, and its shrinkage on hand-made hours."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from bidopt import ConfigError
from bidopt.simulate import simulate_shop
from bidopt.testing import LAST_REPORT_DAY, assert_valid_proposals

import bidopt_dayparting.plugin as dayparting
from bidopt_dayparting.hours import hour_totals, shrunk_rates


@pytest.fixture(scope="module")
def night(bidopt_shop):
    from bidopt.testing import make_config, run_night

    config = make_config(bidopt_shop, strategies={"dayparting": {}})
    return run_night(config, plugins=[dayparting])


def test_proposes_hour_discounts_the_decision_step_can_score(night):
    assert not night.plugin_failures
    proposals = night.decision.proposals
    assert len(proposals) > 0
    assert set(proposals["action"]) == {"set_hour_discount"}
    assert proposals["proposed"].between(70, 130).all()  # 100% +- max_step_pct
    assert (proposals["proposed"] % 5 == 0).all()
    forecast = proposals[["base_clicks", "base_cost", "base_gmv", "exp_clicks", "exp_cost",
                          "exp_gmv"]].to_numpy(float)
    assert np.isfinite(forecast).all() and (forecast >= 0).all()
    raised = proposals["proposed"] > proposals["current"]
    assert (proposals.loc[raised, "exp_cost"] > proposals.loc[raised, "base_cost"]).all()
    assert "accepted" in set(proposals["status"]), "some must pay off under the ROI floor"


def test_spend_moves_toward_the_hours_that_truly_convert_better(night):
    truth = simulate_shop(seed=3, days=14, size="small", end_date=LAST_REPORT_DAY).market.hours
    cvr = truth.set_index("hour")["cvr_mult"]
    proposals = night.decision.proposals
    hour = proposals["hour"].astype(int)
    raised = cvr[hour[proposals["proposed"] > 100]].mean()
    cut = cvr[hour[proposals["proposed"] < 100]].mean()
    assert raised > cut


def test_each_campaign_stays_within_its_floor_and_spend(night):
    proposals = night.decision.proposals
    ctx = night.context
    for campaign, group in proposals.groupby("campaign"):
        hours = ctx.history["hours"]
        hours = hours[hours["campaign"] == campaign]
        base_cost = hours["cost"].sum() / hours["date"].nunique()
        cost = base_cost + (group["exp_cost"] - group["base_cost"]).sum()
        assert cost <= base_cost + 1e-6  # max_spend_increase_pct = 0: spend is moved, not added


def test_output_passes_bidopts_checks(bidopt_context):
    frame = dayparting.propose(bidopt_context, dayparting.DaypartingParams())
    checked = assert_valid_proposals(frame, bidopt_context)
    assert len(checked) == len(frame) > 0


def hand_made_hours(orders_per_click: np.ndarray, clicks: np.ndarray) -> pd.DataFrame:
    """One campaign, one day: 24 hours with the given clicks and conversion, CPC 1."""
    return pd.DataFrame({
        "date": pd.Timestamp("2026-11-24"), "campaign": "c", "hour": np.arange(24),
        "clicks": clicks, "cost": clicks * 1.0, "orders": clicks * orders_per_click,
        "gmv": clicks * orders_per_click * 100.0,
    })


def test_a_thin_hour_is_shrunk_toward_the_campaign_and_left_alone(bidopt_context):
    clicks = np.full(24, 2000.0)
    clicks[3] = 10.0
    rate = np.full(24, 0.02)
    rate[3] = 0.5  # 5 orders from 10 clicks: luck, not a golden hour
    table = shrunk_rates(hour_totals(hand_made_hours(rate, clicks)))
    assert table.loc[3, "cvr"] < 0.05  # raw: 0.5
    hours = hand_made_hours(rate, clicks).assign(campaign=bidopt_context.campaigns["campaign"][0])
    ctx = dataclasses.replace(bidopt_context, history={**bidopt_context.history, "hours": hours})
    frame = dayparting.propose(ctx, dayparting.DaypartingParams())
    assert 3 not in set(frame["hour"])


def test_hours_that_do_not_differ_get_no_proposals(bidopt_context):
    hours = hand_made_hours(np.full(24, 0.02), np.full(24, 1000.0))
    hours = hours.assign(campaign=bidopt_context.campaigns["campaign"][0])
    ctx = dataclasses.replace(bidopt_context, history={**bidopt_context.history, "hours": hours})
    assert dayparting.propose(ctx, dayparting.DaypartingParams()).empty


def test_bad_parameters_are_config_errors(bidopt_run):
    with pytest.raises(ConfigError, match="min_discount is above max_discount"):
        bidopt_run(dayparting, strategies={"dayparting": {"min_discount": 200,
                                                          "max_discount": 100}})
