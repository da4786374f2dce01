"""Planted highlight moments: what a channel's sound, picture and chat do, second by second.

Each live channel has a schedule of *events* (highlights) and *distractors* (a loud bang,
a scene cut, a raid's chat spike: one signal each, none a highlight). An event shows in
each signal with its own probability — a cheer, fast action, a chat burst — so no single
signal gives every event away. The schedule of each 10-minute block is drawn from
(seed, login, block, configuration), so any second of any channel renders the same
without state: the HLS clips, the chat server and `export` (labelled clips for the
highlight model) all read it.

Two configurations differ in how often and how long, how each signal shows and what a
cheer sounds like, so a model fitted to one can be scored on the other ("heldout").
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

BLOCK_SECONDS = 600
AUDIO_RATE = 16_000
CHAT_LAG_SECONDS = 2.0  # chat reacts after the picture


@dataclass(frozen=True)
class MomentConfig:
    """How a generator plants moments; rates are per stream-hour."""

    name: str
    events_per_hour: float
    event_seconds: tuple[float, float]
    audio_share: float  # share of events with a cheer
    motion_share: float  # … with fast action
    chat_share: float  # … with a chat burst
    distractors_per_hour: float
    cheer_band_hz: tuple[float, float]
    cheer_tremolo_hz: float
    cheer_gain: tuple[float, float]  # times the background loudness
    chat_boost: tuple[float, float]  # times the chat rate during a burst
    hype_share: float  # share of burst messages with laughter/hype emotes
    caps_share: float  # … shouted in capitals


CONFIGS = {
    "train": MomentConfig(
        name="train",
        events_per_hour=30,
        event_seconds=(3.0, 8.0),
        audio_share=0.75,
        motion_share=0.7,
        chat_share=0.8,
        distractors_per_hour=30,
        cheer_band_hz=(700.0, 2_500.0),
        cheer_tremolo_hz=9.0,
        cheer_gain=(3.0, 6.0),
        chat_boost=(3.0, 8.0),
        hype_share=0.7,
        caps_share=0.5,
    ),
    # Another generator: shorter, rarer, weaker moments, more distractors, and a cheer in
    # another band with another tremolo.
    "heldout": MomentConfig(
        name="heldout",
        events_per_hour=20,
        event_seconds=(2.0, 6.0),
        audio_share=0.6,
        motion_share=0.6,
        chat_share=0.7,
        distractors_per_hour=45,
        cheer_band_hz=(400.0, 4_000.0),
        cheer_tremolo_hz=5.5,
        cheer_gain=(2.0, 4.5),
        chat_boost=(2.0, 5.0),
        hype_share=0.5,
        caps_share=0.35,
    ),
    # Dense moments for the demo and the end-to-end test: one every 40 s or so.
    "demo": MomentConfig(
        name="demo",
        events_per_hour=90,
        event_seconds=(4.0, 7.0),
        audio_share=1.0,
        motion_share=1.0,
        chat_share=1.0,
        distractors_per_hour=20,
        cheer_band_hz=(700.0, 2_500.0),
        cheer_tremolo_hz=9.0,
        cheer_gain=(4.0, 6.0),
        chat_boost=(5.0, 8.0),
        hype_share=0.7,
        caps_share=0.5,
    ),
}


@dataclass(frozen=True)
class Moment:
    """One planted moment from `start` (epoch seconds) for `seconds`."""

    start: float
    seconds: float
    highlight: bool
    audio: bool
    motion: bool
    chat: bool
    strength: float  # 0..1: how strongly each of its signals shows

    @property
    def end(self) -> float:
        return self.start + self.seconds


def _seed(*parts: int | str) -> list[int]:
    return [p if isinstance(p, int) else zlib.crc32(p.encode()) for p in parts]


@lru_cache(maxsize=8192)
def _block(seed: int, login: str, block: int, config: MomentConfig) -> tuple[Moment, ...]:
    rng = np.random.default_rng(_seed(seed, login, block, config.name))
    start = block * BLOCK_SECONDS
    moments: list[Moment] = []
    for _ in range(rng.poisson(config.events_per_hour * BLOCK_SECONDS / 3600)):
        flags = rng.random(3) < (config.audio_share, config.motion_share, config.chat_share)
        if not flags.any():
            flags[rng.integers(3)] = True
        moments.append(
            Moment(
                start=start + float(rng.uniform(0, BLOCK_SECONDS - 10)),
                seconds=float(rng.uniform(*config.event_seconds)),
                highlight=True,
                audio=bool(flags[0]),
                motion=bool(flags[1]),
                chat=bool(flags[2]),
                strength=float(rng.uniform(0.5, 1.0)),
            )
        )
    for _ in range(rng.poisson(config.distractors_per_hour * BLOCK_SECONDS / 3600)):
        family = int(rng.integers(3))
        moments.append(
            Moment(
                start=start + float(rng.uniform(0, BLOCK_SECONDS - 10)),
                seconds=float(rng.uniform(1.0, 6.0)),
                highlight=False,
                audio=family == 0,
                motion=family == 1,
                chat=family == 2,
                strength=float(rng.uniform(0.5, 1.0)),
            )
        )
    return tuple(sorted(moments, key=lambda m: m.start))


class MomentSchedule:
    """The planted moments of every channel under one configuration."""

    def __init__(self, config: MomentConfig, seed: int) -> None:
        self.config = config
        self.seed = seed

    def between(self, login: str, start: float, end: float) -> list[Moment]:
        """Moments overlapping [start, end)."""
        first, last = math.floor(start / BLOCK_SECONDS), math.floor(end / BLOCK_SECONDS)
        return [
            m
            for block in range(first - 1, last + 1)
            for m in _block(self.seed, login, block, self.config)
            if m.start < end and m.end > start
        ]

    def chat_at(self, login: str, when: float) -> tuple[float, float, float]:
        """(rate factor, hype share, caps share) of the chat at `when`."""
        for moment in self.between(login, when - 12, when + 1):
            lagged = moment.start + CHAT_LAG_SECONDS
            if moment.chat and lagged <= when < lagged + moment.seconds + 3:
                low, high = self.config.chat_boost
                factor = low + (high - low) * moment.strength
                if moment.highlight:
                    return factor, self.config.hype_share, self.config.caps_share
                return factor * 0.8, 0.1, 0.05  # a raid or a giveaway: many hellos
        return 1.0, 0.15, 0.03

    # Sound ---------------------------------------------------------------------------

    def audio(self, login: str, start: int, seconds: int, rate: int = AUDIO_RATE) -> np.ndarray:
        """Mono float32 samples in [-1, 1] of whole seconds [start, start + seconds)."""
        parts = [self._audio_second(login, s, rate) for s in range(start, start + seconds)]
        out = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        t = start + np.arange(out.size) / rate
        for moment in self.between(login, start, start + seconds):
            if moment.audio:
                out += self._burst(login, moment, t, rate)
        return np.asarray(np.clip(out, -1.0, 1.0), np.float32)

    def _audio_second(self, login: str, second: int, rate: int) -> np.ndarray:
        """Speech-like background: band noise in syllables, over a quiet two-tone bed."""
        rng = np.random.default_rng(_seed(self.seed, login, second, "audio"))
        t = np.arange(rate) / rate
        spectrum = np.fft.rfft(rng.standard_normal(rate))
        freqs = np.fft.rfftfreq(rate, 1 / rate)
        spectrum[(freqs < 150) | (freqs > 3_000)] = 0
        voice = np.fft.irfft(spectrum, rate)
        voice /= voice.std() + 1e-9
        syllables = np.clip(np.sin(2 * np.pi * rng.uniform(3, 5) * t + rng.uniform(0, 6)), 0, 1)
        talking = rng.random() < 0.8
        base = np.random.default_rng(_seed(self.seed, login, "level")).uniform(0.04, 0.1)
        tone = rng.choice((196.0, 220.0, 247.0, 262.0, 294.0))
        bed = 0.3 * np.sin(2 * np.pi * tone * t) + 0.2 * np.sin(2 * np.pi * tone * 1.5 * t)
        return np.asarray(base * (voice * syllables * talking + 0.3 * bed), np.float32)

    def _burst(self, login: str, moment: Moment, t: np.ndarray, rate: int) -> np.ndarray:
        inside = (t >= moment.start) & (t < moment.end)
        out = np.zeros(t.size, np.float32)
        count = int(inside.sum())
        if not count:
            return out
        rng = np.random.default_rng(_seed(self.seed, login, int(moment.start * 1000), "burst"))
        base = np.random.default_rng(_seed(self.seed, login, "level")).uniform(0.04, 0.1)
        local = t[inside] - moment.start
        envelope = np.minimum(1.0, local / 0.3) * np.minimum(1.0, (moment.seconds - local) / 0.5)
        if moment.highlight:  # a cheer: crowd-like band noise with a fast tremolo
            low, high = self.config.cheer_band_hz
            gain_low, gain_high = self.config.cheer_gain
            gain = gain_low + (gain_high - gain_low) * moment.strength
            noise = _band_noise(rng, count, rate, low, high)
            tremolo = 0.7 + 0.3 * np.sin(2 * np.pi * self.config.cheer_tremolo_hz * local)
            out[inside] = base * gain * noise * tremolo * envelope
        else:  # a bang: loud low rumble that dies away
            noise = _band_noise(rng, count, rate, 40.0, 300.0)
            decay = np.exp(-local / (0.3 + 0.5 * moment.strength))
            out[inside] = base * 8.0 * moment.strength * noise * decay * np.minimum(1, local / 0.02)
        return out

    # Picture -------------------------------------------------------------------------

    def frames(
        self, login: str, still: np.ndarray, start: float, count: int, fps: float
    ) -> np.ndarray:
        """`count` frames at `fps` from `start`: the still, drifting slowly; shaking and
        flashing in an action moment; cut to another shot in a distractor cut."""
        height, width = still.shape[0] * 9 // 10, still.shape[1] * 9 // 10
        room_y, room_x = still.shape[0] - height, still.shape[1] - width
        times = start + np.arange(count) / fps
        moments = [m for m in self.between(login, start, times[-1] + 1) if m.motion]
        shot = np.roll(still[::-1], still.shape[1] // 3, axis=1)  # the "other camera"
        out = np.empty((count, height, width, *still.shape[2:]), np.uint8)
        for i, when in enumerate(times):
            phase = 2 * np.pi * when / 20
            y = int(room_y / 2 * (1 + 0.5 * math.sin(phase)))
            x = int(room_x / 2 * (1 + 0.5 * math.cos(phase)))
            source, gain = still, 1.0
            for moment in moments:
                if not moment.start <= when < moment.end:
                    continue
                if moment.highlight:
                    rng = np.random.default_rng(_seed(self.seed, login, int(when * 1000)))
                    reach = moment.strength
                    y = int(rng.integers(0, room_y + 1) * reach + y * (1 - reach))
                    x = int(rng.integers(0, room_x + 1) * reach + x * (1 - reach))
                    gain = 1.0 + 0.6 * moment.strength * (i % 2)
                else:
                    source = shot
            frame = source[y : y + height, x : x + width].astype(np.float32) * gain
            out[i] = np.clip(frame, 0, 255).astype(np.uint8)
        return out


def _band_noise(
    rng: np.random.Generator, count: int, rate: int, low: float, high: float
) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(count))
    freqs = np.fft.rfftfreq(count, 1 / rate)
    spectrum[(freqs < low) | (freqs > high)] = 0
    noise = np.fft.irfft(spectrum, count)
    return np.asarray(noise / (noise.std() + 1e-9), np.float32)


def window_labels(moments: list[Moment], start: float, windows: int, seconds: float) -> np.ndarray:
    """1 for each window holding at least half of a highlight (or 3 s of a long one)."""
    labels = np.zeros(windows, np.int8)
    for moment in moments:
        if not moment.highlight:
            continue
        for i in range(windows):
            a = start + i * seconds
            overlap = min(a + seconds, moment.end) - max(a, moment.start)
            if overlap >= min(3.0, moment.seconds / 2):
                labels[i] = 1
    return labels


def chat_seconds(
    schedule: MomentSchedule, login: str, start: int, seconds: int, per_second: float
) -> Iterator[tuple[int, int, int]]:
    """(messages, hype emote uses, capital messages) of each second, drawn as the chat
    server would draw them for a channel chatting `per_second` messages a second."""
    rng = np.random.default_rng(_seed(schedule.seed, login, start, "chat"))
    for second in range(start, start + seconds):
        factor, hype, caps = schedule.chat_at(login, second + 0.5)
        messages = int(rng.poisson(per_second * factor))
        hyped = int(rng.binomial(messages, hype))
        yield messages, hyped + int(rng.poisson(0.3 * hyped)), int(rng.binomial(messages, caps))
