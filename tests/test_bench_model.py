"""``bench_model.calibration_slope``: the slope of truth on forecast reads shrinkage right."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_model  # noqa: E402


@pytest.fixture()
def keywords():
    rng = np.random.default_rng(0)
    n = 20_000
    group = rng.integers(0, 8, n)
    level = rng.normal(0.0, 0.5, n)  # each keyword's log rate around its campaign's
    truth = np.exp(1.0 + 0.3 * group + level)
    weight = rng.gamma(2.0, 1.0, n)
    return rng, group, level, truth, weight


def test_a_calibrated_forecast_has_slope_one(keywords):
    rng, group, level, truth, weight = keywords
    # a reading with noise, shrunk by exactly what the noise calls for: E[level | reading]
    reading = level + rng.normal(0.0, 0.5, len(level))
    posterior_mean = 0.5 * reading
    forecast = np.exp(1.0 + 0.3 * group + posterior_mean)
    slope = bench_model.calibration_slope(forecast, truth, group, weight)
    assert slope == pytest.approx(1.0, abs=0.05)


def test_over_and_under_shrinking_move_the_slope(keywords):
    rng, group, level, truth, weight = keywords
    reading = level + rng.normal(0.0, 0.5, len(level))
    over = np.exp(0.25 * reading)  # shrunk twice too far: the best are better than forecast
    under = np.exp(1.0 * reading)  # not shrunk: the plan's picks are flattered
    assert bench_model.calibration_slope(over, truth, group, weight) == pytest.approx(2.0, abs=0.1)
    assert bench_model.calibration_slope(under, truth, group, weight) == pytest.approx(0.5, abs=0.05)


def test_campaign_levels_do_not_enter(keywords):
    rng, group, level, truth, weight = keywords
    forecast = np.exp(0.5 * (level + rng.normal(0.0, 0.5, len(level))))
    shifted = forecast * np.exp(rng.normal(0.0, 1.0, 8))[group]  # each campaign off by its own factor
    assert bench_model.calibration_slope(shifted, truth, group, weight) == pytest.approx(
        bench_model.calibration_slope(forecast, truth, group, weight), rel=1e-9)
