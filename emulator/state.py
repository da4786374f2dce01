"""What the emulator remembers between requests: tokens, rate-limit buckets, fault dice, stats."""

from __future__ import annotations

import random
import secrets
import threading
import time
import zlib
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Protocol

from emulator.config import EmulatorSettings
from emulator.table import StreamTable


class StreamSource(Protocol):
    """Where live streams come from: the simulated market, or a replayed recording."""

    def table(self) -> StreamTable: ...

    def now(self) -> float: ...

    def games(self) -> list[dict[str, str]]: ...


@dataclass(frozen=True)
class LiveClock:
    """The clock of the live feeds, chat and HLS video: wall time plus the offset the
    emulator started with. `POST /_emulator/clock` moves the listing's clock only: a
    backfill collects past slots while chat and video go on live, as on Twitch, whose
    `tmi-sent-ts` a reader buckets into minutes of its own clock."""

    offset_seconds: float

    def now(self) -> float:
        return time.time() + self.offset_seconds


@dataclass
class Token:
    client_id: str
    expires_at: float
    uses: int = 0


@dataclass
class Bucket:
    """Helix's per-client token bucket: `limit` points a minute, refilled continuously."""

    limit: int
    tokens: float
    stamp: float = field(default_factory=time.time)

    def take(self, now: float) -> bool:
        self.tokens = min(self.limit, self.tokens + (now - self.stamp) * self.limit / 60.0)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def headers(self, now: float) -> dict[str, str]:
        full_at = now + (self.limit - self.tokens) * 60.0 / self.limit
        return {
            "Ratelimit-Limit": str(self.limit),
            "Ratelimit-Remaining": str(int(self.tokens)),
            "Ratelimit-Reset": str(int(full_at + 0.999)),
        }


class EmulatorState:
    """Shared, lock-protected state of one emulator instance."""

    def __init__(
        self, settings: EmulatorSettings, source: StreamSource, client_id: str, secret: str
    ):
        self.settings = settings
        self.source = source
        self.client_id = client_id
        self.client_secret = secret
        self.lock = threading.Lock()
        self.tokens: dict[str, Token] = {}
        self.buckets: dict[str, Bucket] = {}
        self.igdb_calls: deque[float] = deque()
        self.dice = random.Random(settings.seed)
        self.counters: Counter[str] = Counter()
        self.malformed_served: dict[str, str] = {}  # stream id -> corruption applied
        self.live_clock = LiveClock(settings.clock_offset_seconds)

    def roll(self, probability: float) -> bool:
        if probability <= 0:
            return False
        with self.lock:
            return self.dice.random() < probability

    def choose(self, options: list[str]) -> str:
        with self.lock:
            return self.dice.choice(options)

    def count(self, name: str, amount: int = 1) -> None:
        with self.lock:
            self.counters[name] += amount

    def mint(self, client_id: str) -> tuple[str, int]:
        token = secrets.token_hex(15)
        expires_in = self.settings.token_expires_in
        with self.lock:
            self.tokens[token] = Token(client_id, time.time() + expires_in)
            self.counters["tokens_minted"] += 1
        return token, expires_in

    def is_malformed(self, stream_id: str) -> bool:
        """Deterministic per stream: the same stream is corrupted on every page it appears."""
        rate = self.settings.malformed_rate
        if rate <= 0:
            return False
        return zlib.crc32(f"{self.settings.seed}:{stream_id}".encode()) / 2**32 < rate

    def reset_stats(self) -> None:
        with self.lock:
            self.counters.clear()
            self.malformed_served.clear()
