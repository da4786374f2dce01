"""Viewer-count histograms: the shape of a group's audience, long tail included.

A histogram counts channels by viewers in fixed bins, so histograms add up across groups
and snapshots (a genre's is the sum of its games'), and percentiles of a whole window
come from summed counts without keeping any single stream. Bins are one viewer wide up
to 10, where most of the market is, so the median and the share of channels under 5
viewers are exact; above 10 a percentile is known to its bin.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Lower edges; the last bin is open-ended.
VIEWER_BINS: tuple[int, ...] = (
    *range(11),
    15,
    20,
    30,
    50,
    75,
    100,
    150,
    200,
    300,
    500,
    750,
    1000,
    2000,
    5000,
    10_000,
    50_000,
)
BIN_COUNT = len(VIEWER_BINS)
_EDGES = np.array(VIEWER_BINS, dtype=np.int64)


def bin_index(viewers: np.ndarray | Sequence[int]) -> np.ndarray:
    """The bin of each viewer count (negative counts go to the first bin)."""
    values = np.maximum(np.asarray(viewers, dtype=np.int64), 0)
    return np.searchsorted(_EDGES, values, side="right") - 1


def histogram(viewers: np.ndarray | Sequence[int]) -> np.ndarray:
    """Channel counts per bin of these viewer counts."""
    return np.bincount(bin_index(viewers), minlength=BIN_COUNT).astype(np.int64)


def quantile(
    counts: np.ndarray | Sequence[int], q: float, edges: Sequence[int] = VIEWER_BINS
) -> float:
    """The q-quantile of viewers per channel: the lower edge of the bin holding the
    channel at that rank (exact below 10 viewers). NaN for an empty histogram. `edges`:
    the bins' lower edges, for counts binned otherwise (directory counts)."""
    cumulative = np.cumsum(np.asarray(counts, dtype=np.int64))
    total = int(cumulative[-1]) if len(cumulative) else 0
    if total == 0:
        return float("nan")
    # The channel at (1-based) rank ceil(q * total), at least the first.
    rank = max(1, int(np.ceil(q * total)))
    return float(edges[int(np.searchsorted(cumulative, rank, side="left"))])


def share_below(
    counts: np.ndarray | Sequence[int], viewers: int, edges: Sequence[int] = VIEWER_BINS
) -> float:
    """Share of channels with fewer than `viewers` viewers (`viewers` must be a bin edge)."""
    lower = list(edges)
    if viewers not in lower:
        raise ValueError(f"{viewers} is not a bin edge of {lower[:12]}…")
    values = np.asarray(counts, dtype=np.int64)
    total = int(values.sum())
    return float(values[: lower.index(viewers)].sum()) / total if total else float("nan")


def trimmed(counts: np.ndarray) -> list[int]:
    """The counts as a list without trailing zero bins (what a rollup document stores)."""
    values = [int(c) for c in counts]
    while values and values[-1] == 0:
        values.pop()
    return values


def padded(stored: Sequence[int] | None) -> np.ndarray:
    """A stored (trimmed) histogram back to every bin."""
    result = np.zeros(BIN_COUNT, dtype=np.int64)
    if stored:
        result[: len(stored)] = stored
    return result
