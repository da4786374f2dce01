"""The dashboard's compact cells give back exactly the values they were built from."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.blocks import Counts


@pytest.fixture
def values() -> np.ndarray:
    rng = np.random.default_rng(3)
    # Mostly small counts, a few far past 2**16 (a top game's viewers), zeros included.
    small = rng.integers(0, 2_000, 5_000)
    large = rng.integers(2**16, 400_000, 5_000)
    return np.where(rng.random(5_000) < 0.03, large, small).astype(np.int64)


def test_counts_give_back_every_value(values: np.ndarray) -> None:
    counts = Counts.of(values)
    assert len(counts) == len(values)
    assert len(counts.at) == int((values >= 2**16).sum()) > 0
    np.testing.assert_array_equal(counts.to_numpy(), values)
    assert counts.to_numpy().dtype == np.int64
    assert counts.nbytes < values.astype(np.int32).nbytes * 0.6


@pytest.mark.parametrize("start,stop", [(0, 0), (0, 10), (17, 4_321), (4_990, 5_000), (-30, -1)])
def test_counts_by_slice(values: np.ndarray, start: int, stop: int) -> None:
    np.testing.assert_array_equal(Counts.of(values)[start:stop], values[start:stop])


def test_counts_by_positions(values: np.ndarray) -> None:
    counts = Counts.of(values)
    large = np.flatnonzero(values >= 2**16)
    positions = np.concatenate([large[::3], np.arange(0, 5_000, 7), [4_999, 0, large[-1]]])
    np.testing.assert_array_equal(counts[positions], values[positions])
    np.testing.assert_array_equal(counts[np.array([], dtype=np.int64)], values[:0])


def test_counts_without_large_values_and_the_edges() -> None:
    values = np.array([0, 2**16 - 1, 2**16, 7], dtype=np.int64)
    counts = Counts.of(values)
    np.testing.assert_array_equal(counts.at, [2])
    np.testing.assert_array_equal(counts[1:3], [2**16 - 1, 2**16])
    np.testing.assert_array_equal(Counts.of(values[:2])[:], values[:2])
    with pytest.raises(ValueError, match="negative"):
        Counts.of(np.array([3, -1]))
    with pytest.raises(ValueError, match="contiguous"):
        counts[::2]


def test_a_block_keeps_every_cell_of_a_day_with_a_giant_game() -> None:
    from datetime import UTC, datetime, timedelta

    from dashboard.blocks import Block
    from store import DayHistory

    rng = np.random.default_rng(5)
    day = datetime(2026, 3, 1, tzinfo=UTC)
    slots = [day + timedelta(minutes=30 * i) for i in range(48)]
    channels = np.where(rng.random((6, 48)) < 0.6, rng.integers(1, 900, (6, 48)), 0)
    viewers = channels * rng.integers(1, 40, (6, 48))
    viewers[0] = np.where(channels[0] > 0, rng.integers(70_000, 350_000, 48), 0)  # Just Chatting
    history = DayHistory(
        day=day,
        dimension="game",
        slots=slots,
        levels=["channels"] * 48,
        keys=[f"g{k}" for k in range(6)],
        names=[f"<b>Game {k}</b>" for k in range(6)],
        channels=channels,
        viewers=viewers,
        total_channels=channels.sum(axis=0),
        total_viewers=viewers.sum(axis=0),
    )
    block = Block.of(history)
    assert len(block.viewers.at) == int((viewers >= 2**16).sum()) > 0
    for s in range(48):  # cell by cell, slot by slot, against the dense day
        cells = slice(int(block.offsets[s]), int(block.offsets[s + 1]))
        live = np.flatnonzero(channels[:, s])
        np.testing.assert_array_equal(block.row[cells], live)
        np.testing.assert_array_equal(block.viewers[cells], viewers[live, s])
        np.testing.assert_array_equal(block.channels[cells], channels[live, s])


def test_a_blocks_histograms_are_the_days() -> None:
    from datetime import UTC, datetime

    from dashboard.blocks import Block
    from store import DayHistory

    rng = np.random.default_rng(8)
    bins = rng.integers(0, 3_000, (5, 27))
    bins[0, 0] = 480_000  # a giant game's channel-slots at 0 viewers
    day = datetime(2026, 3, 1, tzinfo=UTC)
    history = DayHistory(
        day=day,
        dimension="game",
        slots=[day],
        levels=["channels"],
        keys=[f"g{k}" for k in range(5)],
        names=[""] * 5,
        channels=np.ones((5, 1), dtype=np.int64),
        viewers=np.ones((5, 1), dtype=np.int64),
        total_channels=np.array([5]),
        total_viewers=np.array([5]),
        histogram=bins,
    )
    np.testing.assert_array_equal(Block.of(history).histograms(), bins)
