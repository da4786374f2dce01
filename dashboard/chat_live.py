"""The chat of the last hour, minute by minute: what the Chat page's live section shows.

Read from the reader shards' `chat_live` documents (each minute's counts, packed for this
view) by `_id`. A minute that readers no longer rewrite (`settled_after` its end) is
summarised once and kept; the newer ones are read again when the worker's latest read is
older than `REFRESH_SECONDS`, so the visitors of a worker share one read. A settled minute
lacking a shard's document is asked for again every `RETRY_MISSING` (a reader's spool may
still write it). Per-emote counts are kept only for the last `NOW_MINUTES` minutes: they
are all that "now" shows, and most of a minute's bytes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from store import LiveCounts, StoreReader

LIVE_MINUTES = 60
NOW_MINUTES = 5
MINUTE = timedelta(minutes=1)
COMPLETE_AFTER = timedelta(seconds=15)  # a reader's minute is complete this long after it ends


def settled_after(flush_seconds: float) -> timedelta:
    """How long after its end a minute is final: complete, then written at a reader's next
    flush, with a flush's worth of margin for a slow write."""
    return COMPLETE_AFTER + timedelta(seconds=2 * flush_seconds + 15)


REFRESH_SECONDS = 5.0
LIVE_REFRESH_MS = 10_000  # how often the page's live section asks
RETRY_MISSING = timedelta(minutes=1)  # a final minute lacking a document is asked again


def _nothing(dtype: type | str) -> np.ndarray:
    return np.zeros(0, dtype=dtype)


@dataclass(frozen=True)
class LiveMinute:
    """One minute of chat over every reader shard that stored it: per channel read, its
    messages and free and paid emote uses; per (channel, emote) its uses, while the minute
    is one of the newest."""

    minute: datetime
    shards_read: int
    channels: np.ndarray  # logins
    messages: np.ndarray
    free: np.ndarray
    paid: np.ndarray
    pair_channel: np.ndarray  # index into `channels`
    pair_emote: np.ndarray  # emote ids
    pair_paid: np.ndarray  # bool
    pair_uses: np.ndarray
    names: dict[str, str]  # emote id → text

    @classmethod
    def of(cls, minute: datetime, shards: Sequence[LiveCounts]) -> LiveMinute:
        """The minute over these shards' counts (in shard order)."""
        offsets = np.cumsum([0, *(len(c.channels) for c in shards)])[:-1]
        names: dict[str, str] = {}
        for counts in shards:
            names.update(counts.names)

        def joined(field: str, dtype: type | str) -> np.ndarray:
            parts = [getattr(c, field) for c in shards]
            return np.concatenate(parts).astype(dtype) if parts else _nothing(dtype)

        return cls(
            minute=minute,
            shards_read=len(shards),
            channels=joined("channels", object),
            messages=joined("messages", np.int64),
            free=joined("free", np.int64),
            paid=joined("paid", np.int64),
            pair_channel=np.concatenate(
                [c.pair_channel + offset for c, offset in zip(shards, offsets, strict=True)]
            ).astype(np.int32)
            if shards
            else _nothing(np.int32),
            pair_emote=joined("pair_emote", object),
            pair_paid=joined("pair_paid", bool),
            pair_uses=joined("pair_uses", np.int64),
            names=names,
        )

    def without_emotes(self) -> LiveMinute:
        return replace(
            self,
            pair_channel=_nothing(np.int32),
            pair_emote=_nothing(object),
            pair_paid=_nothing(bool),
            pair_uses=_nothing(np.int64),
            names={},
        )


@dataclass(frozen=True)
class LiveChat:
    """The last `LIVE_MINUTES` minutes up to `now` (those with chat stored, oldest first)."""

    now: datetime
    minutes: list[LiveMinute]
    shards: int

    @property
    def this_minute(self) -> datetime:
        return self.now.replace(second=0, microsecond=0)

    @property
    def first_minute(self) -> datetime:
        return self.this_minute - (LIVE_MINUTES - 1) * MINUTE

    def _now_minutes(self) -> list[LiveMinute]:
        since = self.this_minute - (NOW_MINUTES - 1) * MINUTE
        return [m for m in self.minutes if m.minute >= since]

    def per_minute(self) -> pd.DataFrame:
        """One row per minute of the hour, indexed by minute: `messages`, `free`, `paid`
        (emote uses), `shards_read`; NaN where no reader stored the minute (not zero)."""
        index = pd.date_range(self.first_minute, self.this_minute, freq="min", tz=UTC)
        frame = pd.DataFrame(
            {
                "messages": [int(m.messages.sum()) for m in self.minutes],
                "free": [int(m.free.sum()) for m in self.minutes],
                "paid": [int(m.paid.sum()) for m in self.minutes],
                "shards_read": [m.shards_read for m in self.minutes],
            },
            index=pd.DatetimeIndex([m.minute for m in self.minutes], tz=UTC)
            if self.minutes
            else pd.DatetimeIndex([], tz=UTC),
            dtype=float,
        )
        return frame.reindex(index)

    def top_channels(self, count: int = 10) -> pd.DataFrame:
        """The channels with the most emote uses in the last `NOW_MINUTES` minutes:
        `channel`, `uses`, `free`, `paid`, `messages`; ties by login."""
        now = self._now_minutes()
        if not now:
            return pd.DataFrame(columns=["channel", "uses", "free", "paid", "messages"])
        frame = pd.DataFrame(
            {
                "channel": np.concatenate([m.channels for m in now]),
                "free": np.concatenate([m.free for m in now]),
                "paid": np.concatenate([m.paid for m in now]),
                "messages": np.concatenate([m.messages for m in now]),
            }
        )
        totals = frame.groupby("channel", sort=True)[["free", "paid", "messages"]].sum()
        totals["uses"] = totals["free"] + totals["paid"]
        totals = totals.reset_index().sort_values(["uses", "channel"], ascending=[False, True])
        return totals[["channel", "uses", "free", "paid", "messages"]].head(count)

    def channels_now(self) -> list[str]:
        """Every channel read in the last `NOW_MINUTES` minutes, by login."""
        return sorted({str(c) for m in self._now_minutes() for c in m.channels})

    def channel_emotes(self, login: str, count: int = 10) -> pd.DataFrame:
        """One channel's most used emotes in the last `NOW_MINUTES` minutes: `emote` (id),
        `name`, `kind` (free | paid), `uses`; ties by emote id."""
        parts, names = [], {}
        for m in self._now_minutes():
            rows = np.flatnonzero(m.channels == login)
            picked = np.isin(m.pair_channel, rows)
            if picked.any():
                parts.append(
                    pd.DataFrame(
                        {
                            "emote": m.pair_emote[picked],
                            "paid": m.pair_paid[picked],
                            "uses": m.pair_uses[picked],
                        }
                    )
                )
                names.update(m.names)
        if not parts:
            return pd.DataFrame(columns=["emote", "name", "kind", "uses"])
        uses = pd.concat(parts).groupby(["emote", "paid"], sort=True)["uses"].sum().reset_index()
        uses = uses.sort_values(["uses", "emote"], ascending=[False, True]).head(count)
        return pd.DataFrame(
            {
                "emote": uses["emote"].to_numpy(),
                "name": [names.get(e, e) for e in uses["emote"]],
                "kind": np.where(uses["paid"], "paid", "free"),
                "uses": uses["uses"].to_numpy(),
            }
        )


class ChatLive:
    """The newest `LiveChat` of this worker, read again at most every `REFRESH_SECONDS`."""

    def __init__(
        self,
        reader: StoreReader,
        shards: Sequence[str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        flush_seconds: float = 5.0,
    ) -> None:
        self.reader = reader
        self.shards = list(shards)
        self.settled = settled_after(flush_seconds)
        self._clock = clock
        self._settled: dict[datetime, LiveMinute] = {}
        # Final minutes lacking a shard's document (or every one): what was found, and
        # when it was asked for; asked again every `RETRY_MISSING`, not every refresh.
        self._incomplete: dict[datetime, tuple[LiveMinute | None, datetime]] = {}
        self._latest: LiveChat | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def current(self) -> LiveChat:
        with self._lock:
            fresh = time.monotonic() - self._read_at < REFRESH_SECONDS
            if self._latest is None or not fresh:
                # From the read's start: a slow read must not make the next ask skip one.
                self._read_at = time.monotonic()
                self._latest = self._read(self._clock())
            return self._latest

    def _read(self, now: datetime) -> LiveChat:
        this = now.replace(second=0, microsecond=0)
        wanted = [this - i * MINUTE for i in range(LIVE_MINUTES - 1, -1, -1)]
        self._settled = {k: v for k, v in self._settled.items() if k >= wanted[0]}
        self._incomplete = {k: v for k, v in self._incomplete.items() if k >= wanted[0]}
        emotes_since = this - (NOW_MINUTES - 1) * MINUTE
        minutes = []
        unread = [m for m in wanted if self._due(m, now)]
        shard_counts: dict[datetime, list[LiveCounts]] = {m: [] for m in unread}
        for counts in self.reader.chat_live(unread, self.shards):
            shard_counts.setdefault(counts.minute, []).append(counts)
        for minute in wanted:
            found: LiveMinute | None
            if minute in self._settled:
                found = self._settled[minute]
            elif minute in shard_counts:
                stored = sorted(shard_counts[minute], key=lambda c: c.shard)
                found = LiveMinute.of(minute, stored) if stored else None
            else:
                found = self._incomplete[minute][0]
            if found is not None and minute < emotes_since and len(found.pair_uses):
                found = found.without_emotes()
            # Kept for good only with every shard's document: a final minute missing one
            # (a reader down, its spool written later) is asked for again now and then.
            if minute + MINUTE + self.settled <= now and minute in shard_counts:
                if found is not None and found.shards_read == len(self.shards):
                    self._settled[minute] = found
                    self._incomplete.pop(minute, None)
                else:
                    self._incomplete[minute] = (found, now)
            if found is not None:
                minutes.append(found)
        return LiveChat(now=now, minutes=minutes, shards=len(self.shards))

    def _due(self, minute: datetime, now: datetime) -> bool:
        """Whether `minute` is read in this refresh."""
        if minute in self._settled:
            return False
        incomplete = self._incomplete.get(minute)
        return incomplete is None or now - incomplete[1] >= RETRY_MISSING
