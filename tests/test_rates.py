"""Empirical-Bayes rates: pooling as strong as the spread between siblings warrants."""

from __future__ import annotations

import numpy as np
import pytest

from bidopt.model.rates import hierarchical_rate, lognormal_multiplier, size_tilt


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


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lognormal_multipliers_find_the_spread_and_add_up(seed):
    # search volumes of one item's keywords span orders of magnitude (log-sd 2)
    rng = np.random.default_rng(seed)
    expected = rng.uniform(0.01, 5.0, 20_000)
    u = rng.lognormal(-2.0, 2.0, expected.size)  # mean exp(-2 + 2^2 / 2) = 1, like the prior
    counts = rng.poisson(expected * u).astype(float)
    fit = lognormal_multiplier(counts, expected)
    assert 3.0 < fit.sigma2 < 5.0
    assert np.sum(fit.mean * expected) == pytest.approx(counts.sum(), rel=0.05)
    # shrunk estimates rank the keywords better than the raw ratios among the thin ones
    thin = counts <= 2
    log_u = np.log(u[thin])
    raw = np.log((counts[thin] + 0.5) / expected[thin])
    assert np.corrcoef(np.log(fit.mean[thin]), log_u)[0, 1] >= np.corrcoef(raw, log_u)[0, 1] - 0.01


def test_a_head_word_at_the_page_edge_keeps_its_evidence():
    # 40 clicks where its item's rate expects 0.04: a Gamma multiplier pulls it down ~8x
    # (its tail is exponential); the log-normal one keeps it within a factor of 2 of the data
    rng = np.random.default_rng(0)
    expected = np.r_[0.04, rng.uniform(0.5, 5.0, 2_000)]
    counts = np.r_[40.0, rng.poisson(expected[1:] * rng.lognormal(-1.0, np.sqrt(2.0), 2_000))]
    fit = lognormal_multiplier(counts, expected)
    assert fit.mean[0] * expected[0] > 20.0
    gamma = hierarchical_rate(counts, expected, [np.zeros(counts.size, dtype=np.int64),
                                                 np.arange(counts.size)], prior_rate=1.0)
    assert gamma.rate[0] * expected[0] < 10.0


def test_size_tilt_recovers_how_conversion_falls_with_keyword_size():
    rng = np.random.default_rng(0)
    size = rng.normal(0.0, 2.0, 5_000)  # log volume relative to the item's keywords
    clicks = rng.gamma(2.0, 50.0, size.size)
    parent = np.full(size.size, 0.03)
    orders = rng.poisson(clicks * parent * np.exp(-0.08 * size)).astype(float)
    assert size_tilt(orders, clicks, parent, size) == pytest.approx(-0.08, abs=0.01)
    assert size_tilt(np.zeros(3), clicks[:3], parent[:3], size[:3]) == 0.0
