"""Bid grids: the bids a keyword may take tomorrow, on the platform's step, within bounds
and within the nightly change limit."""

from __future__ import annotations

import numpy as np

from bidopt.config import Config

N_LEVELS = 21
_EPS = 1e-9


def platform_rules(config: Config, platform: np.ndarray) -> tuple[np.ndarray, ...]:
    """(min, max, step) arrays for each entity's platform."""
    is_pc = platform == "pc"
    rules = (config.bids.mobile, config.bids.pc)
    lo = np.where(is_pc, rules[1].min, rules[0].min)
    hi = np.where(is_pc, rules[1].max, rules[0].max)
    step = np.where(is_pc, rules[1].step, rules[0].step)
    return lo, hi, step


def snap(bid: np.ndarray, step: np.ndarray, toward: np.ndarray | None = None) -> np.ndarray:
    """Put bids on the step grid; with ``toward``, round toward it (never past the limit)."""
    ticks = bid / step
    if toward is None:
        ticks = np.round(ticks)
    else:
        ticks = np.where(bid > toward, np.floor(ticks + _EPS), np.ceil(ticks - _EPS))
    return np.round(ticks * step, 10)


def bid_grid(
    current: np.ndarray, platform: np.ndarray, config: Config, n_levels: int = N_LEVELS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Levels (n, L) around each current bid, their validity, and the baseline column.

    The middle column is the current bid within bounds (the "keep" choice), as it is even
    off the step: the platform took it, and snapping it would make "keep" a change (0.06 ->
    0.10 with a step of 0.1). Other columns spread evenly across the nightly change limit,
    rounded toward the current bid so that no level exceeds the limit; duplicates from
    rounding are marked invalid.
    """
    lo, hi, step = platform_rules(config, platform)
    base = np.clip(np.round(current, 10), lo, hi)
    limit = config.bids.max_change_pct / 100.0
    rel = np.linspace(-limit, limit, n_levels)
    raw = current[:, None] * (1.0 + rel[None, :])
    levels = snap(raw, step[:, None], toward=current[:, None])
    levels = np.clip(levels, lo[:, None], hi[:, None])
    mid = n_levels // 2
    levels[:, mid] = base
    valid = np.ones(levels.shape, dtype=bool)
    valid[:, :mid] = levels[:, :mid] < levels[:, 1 : mid + 1] - _EPS
    valid[:, mid + 1 :] = levels[:, mid + 1 :] > levels[:, mid:-1] + _EPS
    return levels, valid, np.full(len(current), mid)


def clamp_to_limits(
    proposed: np.ndarray, current: np.ndarray, platform: np.ndarray, config: Config
) -> np.ndarray:
    """A proposed bid moved inside bounds and the change limit, on the step grid."""
    lo, hi, step = platform_rules(config, platform)
    limit = config.bids.max_change_pct / 100.0
    clipped = np.clip(proposed, current * (1 - limit), current * (1 + limit))
    return np.clip(snap(clipped, step, toward=current), lo, hi)
