"""Carts and favourites as evidence of conversion (``calibration.EngagementLink``)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bidopt.model import ResponseModel
from bidopt.model.calibration import LINK_SD_MIN, engagement_link

KEYS = ["campaign", "item", "keyword", "platform"]


def test_a_campaign_with_unlucky_orders_is_read_between_its_orders_and_its_events():
    # ten campaigns at 4 events per order, then a thin and a big one whose events both say
    # 1.5x the orders they show
    orders = np.array([100.0, 150, 200, 250, 120, 180, 220, 90, 160, 140, 20, 300])
    engaged = 4.0 * orders
    engaged[-2:] *= 1.5
    link = engagement_link(orders, engaged)
    assert link is not None
    combined = link.orders(orders, engaged)
    implied = engaged / link.per_order
    assert (np.minimum(orders, implied) - 1e-9 <= combined).all()
    assert (combined <= np.maximum(orders, implied) + 1e-9).all()
    # a few orders say less than four times as many events: the thin campaign leans on them
    moved = np.log(combined / orders) / np.log(implied / orders)
    assert moved[-2] > 0.5 > moved[-1] > 0.1


def test_events_that_do_not_follow_orders_carry_little_weight():
    rng = np.random.default_rng(0)
    orders = rng.uniform(50, 300, 12).round()
    alike = engagement_link(orders, 4.0 * orders)
    unrelated = engagement_link(orders, rng.uniform(200, 1200, 12).round())
    assert alike.var == pytest.approx(LINK_SD_MIN**2 + 1 / orders.sum() + 1 / (4 * orders.sum()))
    assert unrelated.var > 5 * alike.var
    engaged = 4.0 * orders
    engaged[0] *= 2  # one campaign's events say twice its orders
    shift = {name: np.log(link.orders(orders, engaged)[0] / orders[0])
             for name, link in (("alike", alike), ("unrelated", unrelated))}
    assert shift["unrelated"] < 0.5 * shift["alike"]


def test_no_link_without_two_campaigns_that_show_orders_and_events():
    assert engagement_link(np.array([120.0, 40.0]), np.array([0.0, 0.0])) is None
    assert engagement_link(np.array([120.0, 0.0]), np.array([500.0, 30.0])) is None


@pytest.fixture(scope="module")
def shops():
    from bidopt.simulate import simulate_shop

    return [simulate_shop(seed=seed, days=14, size="small") for seed in range(6)]


def _campaign_roi_errors(shop, engagement: bool) -> np.ndarray:
    """log(forecast ROI / true ROI) per campaign at the last report day's bids."""
    kr = shop.keyword_report
    model = ResponseModel(engagement=engagement).fit(
        kr, crowds=shop.crowd_report, regions=shop.region_report, items=shop.items)
    last = kr[kr["date"] == kr["date"].max()].reset_index(drop=True)
    fc = model.predict(last[KEYS], last["bid"].to_numpy(float)[:, None])
    truth = shop.market.expected(last[KEYS].assign(bid=last["bid"]))
    frame = last[KEYS].assign(fc_cost=fc.cost[:, 0], fc_gmv=fc.gmv[:, 0])
    frame = frame.merge(truth[KEYS + ["cost", "gmv"]], on=KEYS)
    totals = frame.groupby("campaign")[["fc_cost", "fc_gmv", "cost", "gmv"]].sum()
    return np.log((totals["fc_gmv"] / totals["fc_cost"]) / (totals["gmv"] / totals["cost"]))


def test_campaign_roi_is_forecast_closer_to_the_truth_with_carts_and_favourites(shops):
    errors = {flag: np.concatenate([_campaign_roi_errors(shop, flag) for shop in shops])
              for flag in (False, True)}
    rms = {flag: float(np.sqrt(np.mean(e**2))) for flag, e in errors.items()}
    assert rms[True] < 0.85 * rms[False], rms


def test_a_report_without_carts_or_favourites_is_fitted_as_before(shops):
    kr = shops[0].keyword_report.drop(columns=["carts", "favorites"])
    last = kr[kr["date"] == kr["date"].max()].reset_index(drop=True)
    bids = last["bid"].to_numpy(float)[:, None]
    with_link = ResponseModel(engagement=True).fit(kr)
    without = ResponseModel(engagement=False).fit(kr)
    assert with_link.engagement_link_ is None
    np.testing.assert_allclose(with_link.predict(last[KEYS], bids).gmv,
                               without.predict(last[KEYS], bids).gmv)


def test_the_summary_says_how_carts_and_favourites_entered_conversion(shop, shop_files,
                                                                       tmp_path):
    from click.testing import CliRunner

    from bidopt.cli import cli
    from conftest import NIGHT, write_config

    line = re.compile(r"conversion: measured on the orders and on the carts and favourites, "
                      r"([\d.]+) per order in this history; they carry (\d+)(?:-(\d+))?% of each "
                      r"campaign x platform's level \(history\.engagement\)")
    outputs = {}
    for flag in (True, False):
        folder = tmp_path / str(flag)
        folder.mkdir()
        config = write_config(folder, shop_files, history={"engagement": flag})
        result = CliRunner().invoke(cli, ["run", "--config", str(config), "--date", NIGHT,
                                          "--dry-run"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        outputs[flag] = result.output
    found = line.search(outputs[True])
    assert found, outputs[True]
    kr = shop.keyword_report
    per_order = (kr["carts"].sum() + kr["favorites"].sum()) / kr["orders"].sum()
    assert float(found.group(1)) == pytest.approx(per_order, rel=0.1)  # recent days weigh more
    low, high = int(found.group(2)), int(found.group(3) or found.group(2))
    assert 0 < low <= high < 100
    assert "conversion: measured" not in outputs[False]
