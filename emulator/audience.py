"""Who draws how many viewers in the simulated market, calibrated to Twitch.

Audiences follow a rank-size curve fitted to Twitch's concentration of hours watched
(the top 100 channels about 20 %, the top 1,000 about 46 %, the top 10,000 about 76 %,
with a median live channel of 1–2 viewers); `docs/emulator.md` gives the sources and
what the emulator reaches. Drawing each channel's audience independently (Pareto draws)
let one lucky draw decide a whole language's or game's share; here the curve is fixed and
the big channels are dealt out to languages and games so that each gets its share of
viewers, while the many small channels get theirs by share of channels.
"""

from __future__ import annotations

import numpy as np

# Peak viewers (at the evening top of the daily cycle) of the channel at each rank of a
# 550,000-channel market; log-log interpolation between the knots. A smaller market
# keeps the shape: its ranks are stretched onto these.
MARKET_CHANNELS = 550_000
RANK_KNOTS: tuple[tuple[int, float], ...] = (
    (1, 150_000.0),
    (10, 69_000.0),
    (100, 24_000.0),
    (1_000, 2_800.0),
    (10_000, 340.0),
    (100_000, 14.6),
    (MARKET_CHANNELS, 0.85),
)
# The channels holding this share of all audience are dealt out by share of viewers;
# the rest (most channels, few viewers) by share of channels.
HEAD_SHARE = 0.9


def popularity_by_rank(n: int) -> np.ndarray:
    """Peak viewers of the channels of an `n`-channel market, largest first."""
    ranks = (np.arange(n, dtype=np.float64) + 1.0) * (MARKET_CHANNELS / n)
    knot_ranks = np.log([rank for rank, _ in RANK_KNOTS])
    knot_viewers = np.log([viewers for _, viewers in RANK_KNOTS])
    return np.exp(np.interp(np.log(np.maximum(ranks, 1.0)), knot_ranks, knot_viewers))


def deal_by_share(
    rng: np.random.Generator,
    popularity: np.ndarray,
    viewer_share: np.ndarray,
    channel_share: np.ndarray,
    mixed_in: float = 0.0,
) -> np.ndarray:
    """A group (language, game) for each channel so that groups get `viewer_share` of the
    audience and the small channels are spread by `channel_share`.

    `popularity` is sorted largest first. `mixed_in` is the part of a big channel's
    audience that ends up spread by channel share anyway (a channel that sometimes plays
    another game). The big channels go, largest first, to the group furthest below its
    target so far: the top is spread over the big groups as on Twitch, not left to a
    few draws.
    """
    viewer_share = viewer_share / viewer_share.sum()
    channel_share = channel_share / channel_share.sum()
    total = popularity.sum()
    head = int(np.searchsorted(np.cumsum(popularity), HEAD_SHARE * total)) + 1
    head = min(head, len(popularity))
    spread = (1.0 - HEAD_SHARE) + HEAD_SHARE * mixed_in
    target = np.maximum(viewer_share - spread * channel_share, 0.0)
    target /= target.sum()
    groups = np.empty(len(popularity), dtype=np.int64)
    dealt = np.zeros(len(target))
    cumulative = 0.0
    # A small jitter breaks ties between groups without letting chance decide shares.
    jitter = rng.random((head, len(target))) * 1e-9
    for i in range(head):
        cumulative += popularity[i]
        group = int(np.argmax(target * cumulative - dealt + jitter[i] * cumulative))
        groups[i] = group
        dealt[group] += popularity[i]
    groups[head:] = rng.choice(len(channel_share), size=len(popularity) - head, p=channel_share)
    return groups
