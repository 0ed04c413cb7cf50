"""Empirical-Bayes rates: pooling as strong as the spread between siblings warrants."""

from __future__ import annotations

import numpy as np
import pytest

from bidopt.model.rates import hierarchical_rate


def _keyword_strength(seed: int, spread: float) -> float:
    """Prior strength found at the keyword level of 60 items, each with one dominant keyword
    (800 clicks) and nine small ones (30 clicks), true keyword CVRs log-normal with
    ``spread`` around their item's."""
    rng = np.random.default_rng(seed)
    items = np.repeat(np.arange(60), 10)
    clicks = np.tile(np.r_[800.0, np.full(9, 30.0)], 60)
    item_cvr = rng.lognormal(np.log(0.03), 0.3, 60)[items]
    true_cvr = item_cvr * rng.lognormal(-spread**2 / 2, spread, items.size)
    orders = rng.poisson(clicks * true_cvr).astype(float)
    fit = hierarchical_rate(orders, clicks, [np.zeros_like(items), items, np.arange(items.size)])
    return fit.strengths[-1]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_real_spread_between_keywords_is_found(seed):
    # The dominant keyword is most of its item: judged against a parent fitted on its own
    # data it shows no spread, and every keyword used to get its item's rate (m ~ 16+).
    # The true strength here is 1 / (exp(0.4^2) - 1) ~ 5.8.
    assert 2.0 < _keyword_strength(seed, spread=0.4) < 12.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_spread_means_strong_pooling(seed):
    assert _keyword_strength(seed, spread=0.0) > 25.0
