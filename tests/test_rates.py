"""Empirical-Bayes rates: pooling as strong as the spread between siblings warrants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bidopt.model.rates import (
    group_means,
    hierarchical_rate,
    keyword_shape,
    lognormal_multiplier,
    within_group_tilt,
)


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


def test_within_group_tilt_recovers_slopes_an_items_head_words_would_bias():
    rng = np.random.default_rng(0)
    n_items, per_item = 400, 12
    groups = np.repeat(np.arange(n_items), per_item)
    item_rate = 0.03 * rng.lognormal(0.0, 0.5, n_items)[groups]
    size = rng.normal(0.0, 2.0, groups.size)  # log volume relative to the item's keywords
    length = rng.normal(0.0, 0.5, groups.size)
    clicks = 40.0 * np.exp(0.8 * size)  # head words carry most of an item's clicks
    orders = rng.poisson(clicks * item_rate * np.exp(-0.1 * size + 0.6 * length)).astype(float)
    features = np.column_stack([size, length])
    slopes = within_group_tilt(orders, clicks, features, groups)
    assert slopes == pytest.approx([-0.1, 0.6], abs=0.03)
    # against each item's pooled rate (mostly its head words') the size slope comes out flat
    pooled = (np.bincount(groups, orders) / np.bincount(groups, clicks))[groups]
    naive = within_group_tilt(orders, clicks * pooled, size, np.zeros_like(groups))
    assert naive[0] > -0.08
    assert within_group_tilt(np.zeros(3), clicks[:3], features[:3], groups[:3]).tolist() == [0.0, 0.0]
    # a feature that never varies within an item (all words equally long) gets no slope, and
    # the other is still fitted
    flat = np.column_stack([size, np.zeros_like(size)])
    orders = rng.poisson(clicks * item_rate * np.exp(-0.1 * size)).astype(float)
    assert within_group_tilt(orders, clicks, flat, groups) == pytest.approx([-0.1, 0.0], abs=0.03)


def test_keyword_shape_is_log_volume_and_length_and_group_means_centre_it():
    words = pd.Series(["连衣裙", "碎花连衣裙 宽松", "T恤", "纯棉T恤 短袖 宽松"])
    shape = keyword_shape(words, np.array([1000.0, 10.0, 50.0, 50.0]))
    assert shape["length"].tolist() == pytest.approx(np.log([3, 7, 2, 8]))  # spaces aside
    groups = np.array([0, 0, 1, 1])
    centred = shape.to_numpy() - group_means(shape, groups, 2)[groups]
    assert centred[:, 0] == pytest.approx([np.log(10.0), -np.log(10.0), 0.0, 0.0])
    assert centred[:, 1] == pytest.approx([-np.log(7 / 3) / 2, np.log(7 / 3) / 2,
                                           -np.log(4) / 2, np.log(4) / 2])
