"""Viewer-count histograms against a direct computation on the viewer counts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from store import histogram


def direct_quantile(values: np.ndarray, q: float) -> float:
    """The bin lower edge of the value at rank ceil(q·n), from the sorted values."""
    ordered = np.sort(values)
    value = ordered[max(1, math.ceil(q * len(ordered))) - 1]
    return float(max(edge for edge in histogram.VIEWER_BINS if edge <= value))


@pytest.mark.parametrize("seed", range(6))
def test_quantiles_and_shares_equal_a_direct_computation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.floor(1.5 * (1 - rng.random(2_000)) ** (-1 / 0.85)).astype(int)
    counts = histogram.histogram(values)
    assert counts.sum() == len(values)
    for q in (0.1, 0.5, 0.75, 0.9, 0.99):
        assert histogram.quantile(counts, q) == direct_quantile(values, q), q
    assert histogram.share_below(counts, 5) == pytest.approx((values < 5).mean())
    # below 10 viewers bins are one viewer wide: the median there is exact
    small = values[values < 10]
    assert (
        histogram.quantile(histogram.histogram(small), 0.5)
        == np.sort(small)[math.ceil(len(small) / 2) - 1]
    )


def test_histograms_add_and_survive_trimming() -> None:
    a, b = histogram.histogram([0, 1, 1, 7]), histogram.histogram([12, 60_000, 3])
    assert list(histogram.padded(histogram.trimmed(a))) == list(a)
    assert histogram.trimmed(a) == [1, 2, 0, 0, 0, 0, 0, 1]
    assert list(a + b) == list(histogram.histogram([0, 1, 1, 7, 12, 60_000, 3]))
    assert histogram.bin_index([-3])[0] == 0  # nonsense counts do not vanish


def test_empty_histograms_have_no_quantile_and_odd_edges_are_refused() -> None:
    assert math.isnan(histogram.quantile(np.zeros(histogram.BIN_COUNT), 0.5))
    with pytest.raises(ValueError, match="bin edge"):
        histogram.share_below(histogram.histogram([1, 2]), 4.5)  # type: ignore[arg-type]
