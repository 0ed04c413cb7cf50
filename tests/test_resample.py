"""``benchmarks/resample.py``: the interval of a share over resampled shops says how far a
share summed over a few shops can be trusted."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from resample import interval_line, share_interval  # noqa: E402


def test_alike_shops_give_a_point():
    low, high = share_interval([3.0, 3.0, 3.0], [5.0, 5.0, 5.0])
    assert low == high == 0.6


def test_interval_holds_the_share_and_widens_with_the_spread():
    rng = np.random.default_rng(1)
    oracle = rng.uniform(500, 5000, 30)
    close = oracle * rng.normal(0.6, 0.05, 30)
    spread = oracle * rng.normal(0.6, 0.4, 30)
    for gain in (close, spread):
        low, high = share_interval(gain, oracle)
        assert low < gain.sum() / oracle.sum() < high
    assert np.subtract(*share_interval(spread, oracle)[::-1]) > 3 * np.subtract(
        *share_interval(close, oracle)[::-1])


def test_one_big_shop_drives_the_interval():
    # a shop with most of the oracle's gain moves every draw it lands in (or misses)
    gain, oracle = np.array([100.0, 80.0, 90.0, 5000.0]), np.array([120.0, 100.0, 110.0, 10000.0])
    low, high = share_interval(gain, oracle)
    assert low < 0.55 and high > 0.75


def test_too_few_shops_and_repeatable_draws():
    assert np.isnan(share_interval([1.0], [2.0])).all()
    assert "too few shops" in interval_line("bidopt", np.array([1.0]), np.array([2.0]))
    assert share_interval([1, 5, 2], [3, 6, 9]) == share_interval([1, 5, 2], [3, 6, 9])
    assert interval_line("bidopt", np.array([1.0, 2.0]), np.array([2.0, 4.0])) == (
        "bidopt's share with the 2 shops resampled (4,000 draws): 90% interval 50% to 50%")
