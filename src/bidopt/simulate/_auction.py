"""Generalised-second-price auction kernels, vectorised over many keyword auctions at once.

Competitors' ad scores (bid x quality score) live in one flat array, sorted high to low
within each auction (keyword x platform). Counting the competitors above an own score and
finding the next-lower one are segment reductions (``np.add.reduceat`` /
``np.maximum.reduceat``), so a whole shop is evaluated without a Python loop per keyword.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

MIN_BID = 0.05
MAX_BID = 100.0
MIN_PRICE = 0.05  # what a click costs when no lower ad sets the price
PRICE_STEP = 0.01  # GSP: next-lower score / own quality score + one step

# Day-to-day log-sd of each competitor's ad score (independent across competitors, so the
# rank is a sum of independent Bernoulli draws whose mean and variance are exact).
SCORE_JITTER = 0.12

# Position curves per platform (index 0 mobile, 1 pc): ads beyond ``SLOTS`` are not shown;
# the share of searchers who scroll down to a rank falls off logistically around
# ``VIEW_CENTER``; CTR given a view falls by exp(-decay) per rank.
SLOTS = np.array([20.0, 30.0])
VIEW_CENTER = np.array([7.5, 12.0])
VIEW_SCALE = np.array([1.0, 2.0])
CTR_DECAY = np.array([0.32, 0.15])


def view_rate(rank: np.ndarray, platform: np.ndarray) -> np.ndarray:
    """Share of searches in which an ad at ``rank`` is displayed on screen."""
    seen = 1.0 / (1.0 + np.exp((rank - VIEW_CENTER[platform]) / VIEW_SCALE[platform]))
    return np.where(rank <= SLOTS[platform] + 0.5, seen, 0.0)


def position_ctr(rank: np.ndarray, platform: np.ndarray) -> np.ndarray:
    """CTR at ``rank`` relative to rank 1, given the ad was seen."""
    return np.exp(-CTR_DECAY[platform] * (rank - 1.0))


@dataclass(frozen=True)
class Segments:
    """Competitor scores of a set of auctions laid out contiguously, one segment per row."""

    scores: np.ndarray  # flat, high to low within a segment
    source: np.ndarray  # index of each flat score in the book (to apply daily jitter)
    owner: np.ndarray  # row each flat score belongs to
    starts: np.ndarray  # first flat index of each row
    length: np.ndarray  # competitors per row (>= 1)

    def __len__(self) -> int:
        return len(self.starts)

    def score_at(self, position: np.ndarray, scores: np.ndarray | None = None) -> np.ndarray:
        """The (interpolated) score at a 0-based position; 0 beyond the last competitor."""
        scores = self.scores if scores is None else scores
        k = np.floor(position).astype(np.int64)
        frac = position - k

        def at(j: np.ndarray) -> np.ndarray:
            idx = self.starts + np.minimum(j, self.length - 1)
            return np.where(j < self.length, scores[idx], 0.0)

        return (1.0 - frac) * at(k) + frac * at(k + 1)


@dataclass(frozen=True)
class CompetitorBook:
    """Every auction's competitor scores in one flat array."""

    scores: np.ndarray
    start: np.ndarray  # per auction
    length: np.ndarray  # per auction

    @property
    def auction_of_score(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.start)), self.length)

    def gather(self, auctions: np.ndarray) -> Segments:
        """Lay out the competitors of the given auctions (one row each, repeats allowed)."""
        length = self.length[auctions]
        starts = np.cumsum(length) - length
        total = int(length.sum())
        source = np.repeat(self.start[auctions] - starts, length) + np.arange(total)
        owner = np.repeat(np.arange(len(auctions)), length)
        return Segments(self.scores[source], source, owner, starts, length)


# Three-point Gauss-Hermite rule: expectations over the day-to-day spread of the rank.
RANK_NODES = ((0.0, 2.0 / 3.0), (-float(np.sqrt(3.0)), 1.0 / 6.0), (float(np.sqrt(3.0)), 1.0 / 6.0))


def expected_auction(
    seg: Segments, eff_bid: np.ndarray, quality: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the rank over the competitors' daily jitter.

    The rank is 1 + the number of competitors whose jittered score beats ours: a sum of
    independent Bernoulli draws, so its mean and variance are exact and smooth in the bid.
    """
    if len(seg) == 0:
        return np.zeros(0), np.zeros(0)
    own = eff_bid * quality
    with np.errstate(divide="ignore"):
        log_own = np.log(own)
    beats = ndtr((np.log(seg.scores) - log_own[seg.owner]) / SCORE_JITTER)
    n_above = np.add.reduceat(beats, seg.starts)
    variance = np.add.reduceat(beats * (1.0 - beats), seg.starts)
    return 1.0 + n_above, np.sqrt(variance)


def rank_nodes(seg: Segments, mean: np.ndarray, sd: np.ndarray):
    """(weight, rank) at the quadrature nodes of the rank's day-to-day distribution."""
    for x, weight in RANK_NODES:
        yield weight, np.clip(mean + x * sd, 1.0, seg.length + 1.0)


def expected_price(seg: Segments, mean: np.ndarray, eff_bid: np.ndarray,
                   quality: np.ndarray) -> np.ndarray:
    """GSP price per click at the mean rank, never above the bid and monotone in it.

    The next-lower score is the sorted competitor scores interpolated at the rank's
    position: a smooth stand-in for its expectation.
    """
    return gsp_price(seg.score_at(mean - 1.0), eff_bid, quality)


def realised_auction(
    seg: Segments, scores: np.ndarray, eff_bid: np.ndarray, quality: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Realised rank and GSP price per click against one day's competitor ``scores``."""
    own = (eff_bid * quality)[seg.owner]
    above = scores > own
    n_above = np.add.reduceat(above.astype(np.int32), seg.starts)
    next_score = np.maximum.reduceat(np.where(above, 0.0, scores), seg.starts)
    return 1.0 + n_above, gsp_price(next_score, eff_bid, quality)


def gsp_price(next_score: np.ndarray, eff_bid: np.ndarray, quality: np.ndarray) -> np.ndarray:
    """Next-lower ad's score / own quality score + one step, never above the own bid."""
    price = np.maximum(next_score / quality + PRICE_STEP, MIN_PRICE)
    return np.minimum(price, eff_bid)
