"""The simulated Twitch market the emulator serves.

Deterministic from a seed: channels with audiences on a rank-size curve calibrated to
Twitch (`emulator.audience`), each with a language, a usual game and a habit of going
live, at any hour or in its local evening, so the live set follows a daily cycle and
channels come and go. At the default 550,000 channels it looks like Twitch: 70,000–105,000
live channels over the day, about 2.3 million viewers on average, three in four live
channels under 5 viewers (`python -m emulator.calibration`, `docs/emulator.md`). Viewer
counts wobble every `drift_seconds`, so a client paging slowly sees streams move between
pages, as on Twitch.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from emulator.audience import deal_by_share, popularity_by_rank
from emulator.catalogue import IGDB_GENRES, LANGUAGES, Category, named_categories
from emulator.config import EmulatorSettings
from emulator.planted import (
    DAILY_NOISE,
    LATE_GAMES,
    LAUNCH_NAMES,
    SMALL_CHANNEL_AUDIENCE,
    SMALL_CHANNEL_GAMES,
    Launch,
    launches,
)
from emulator.table import StreamTable

_U64 = np.uint64
# Share of a channel's broadcasts spent on its second game.
SECOND_GAME_SHARE = 0.25
# Share of channels that go live at any hour; the rest start in their local evening.
ANY_HOUR_SHARE = 0.65
_LANGUAGE_TAGS = {
    "en": "English",
    "es": "Español",
    "pt": "Português",
    "de": "Deutsch",
    "fr": "Français",
    "ru": "Русский",
    "ja": "日本語",
    "ko": "한국어",
}
# Free-form stream tags besides the language's, most used first: a channel's draw follows a
# Zipf law over this list, so "Chill" is everywhere and "Roguelike" is rare.
_STYLE_TAGS = [
    "Chill", "Gaming", "Funny", "Competitive", "Casual", "FirstPlaythrough", "Interactive",
    "NoBackseating", "Vtuber", "Ranked", "Speedrun", "Community", "LGBTQIAPlus", "Chatting",
    "Girl", "Variety", "Relaxing", "PvP", "Hardcore", "Cozy", "Educational", "Horror",
    "Retro", "Modded", "Challenge", "Blind", "Multiplayer", "Solo", "Drops", "Esports",
    "Story", "Music", "Art", "ADHD", "Streamer", "Tryhard", "Roleplay", "Coaching",
    "Roguelike", "Indie",
]  # fmt: skip
_MAX_TAGS = 10  # Helix's limit per channel
_TITLES = [
    "{game} grind | !discord",
    "chill {game} with chat",
    "RANKED {game} until I win",
    "first time playing {game}!",
    "{game} | day {n} | !socials",
    "",
    "🔴 LIVE {game} 24/7?",
    "road to top 500 — {game}",
    "late night {game} vibes",
]
_PREFIXES = [
    "dark",
    "pixel",
    "shadow",
    "lucky",
    "night",
    "frost",
    "iron",
    "neo",
    "mega",
    "sly",
    "tiny",
    "big",
    "lazy",
    "hyper",
    "zen",
    "void",
    "star",
    "moon",
    "red",
    "blue",
]
_SUFFIXES = [
    "gamer",
    "tv",
    "plays",
    "live",
    "bear",
    "fox",
    "wolf",
    "cat",
    "ninja",
    "wizard",
    "_gg",
    "stream",
    "dude",
    "queen",
    "king",
    "bot",
    "og",
    "pro",
    "x",
    "z",
]
_GAME_WORDS = (
    ["Neon", "Iron", "Hollow", "Crystal", "Last", "Wild", "Silent", "Broken", "Star"],
    ["Frontier", "Legends", "Kingdom", "Protocol", "Rift", "Harvest", "Arena", "Tactics"],
)


# Follower totals grow from this instant (2025-01-01 UTC) on.
FOLLOWERS_SINCE = 1_735_689_600.0


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a fast, well-spread hash of uint64 arrays."""
    x = x.astype(_U64, copy=True)
    x ^= x >> _U64(30)
    x *= _U64(0xBF58476D1CE4E5B9)
    x ^= x >> _U64(27)
    x *= _U64(0x94D049BB133111EB)
    x ^= x >> _U64(31)
    return x


def _unit(x: np.ndarray) -> np.ndarray:
    """Hash to floats uniform in [0, 1)."""
    return (_mix(x) >> _U64(11)).astype(np.float64) * 2.0**-53


def _launch_categories(rng: np.random.Generator) -> list[Category]:
    """The categories planted launches use: no channel's usual game, half of them too new
    for IGDB to know their genres."""
    genre_ids = sorted(IGDB_GENRES)
    return [
        Category(
            str(900_000 + 41 * i),
            name,
            str(500_000 + i),
            tuple(sorted({int(g) for g in rng.choice(genre_ids, size=2)})),
            0.0,
            i % 2 == 0,
            0.0,
        )
        for i, name in enumerate(LAUNCH_NAMES)
    ]


def _synthetic_categories(rng: np.random.Generator, count: int) -> list[Category]:
    genre_ids = sorted(IGDB_GENRES)
    rows = []
    for i in range(count):
        first, second = _GAME_WORDS
        name = f"{first[i % len(first)]} {second[(i // len(first)) % len(second)]} {i // 72 + 1}"
        genres = tuple(sorted({int(g) for g in rng.choice(genre_ids, size=rng.integers(1, 3))}))
        weight = 0.9 / (i + 1) ** 0.6
        # Every fifth synthetic game is too new for IGDB to know its genres.
        known = i % 5 != 4
        rows.append(Category(str(700_000 + 37 * i), name, str(400_000 + i), genres, weight, known))
    return rows


@dataclass(frozen=True)
class LiveArrays:
    """The live streams of one instant, one entry per stream."""

    channel: np.ndarray  # index of the channel
    viewers: np.ndarray
    game: np.ndarray  # index into Market.categories
    seconds_live: np.ndarray
    stream_id: np.ndarray


@dataclass(frozen=True)
class _Channels:
    user_id: np.ndarray
    login: list[str]
    display: list[str]
    language: np.ndarray  # index into LANGUAGES
    utc_offset: np.ndarray  # hours
    main_game: np.ndarray  # index into categories
    second_game: np.ndarray
    popularity: np.ndarray
    start_hour: np.ndarray  # local
    duration_hours: np.ndarray
    live_probability: np.ndarray
    # Tags: up to 9 indexes into _STYLE_TAGS (-1: none), whether the game's and the
    # genre's name are tags too, and how the channel writes them (0 as listed, 1 lower
    # case, 2 upper case).
    style_tags: np.ndarray
    game_tag: np.ndarray
    genre_tag: np.ndarray
    tag_case: np.ndarray


class Market:
    """Live streams of a simulated Twitch at any instant."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        rng = np.random.default_rng(settings.seed)
        named = named_categories()
        generated = _synthetic_categories(rng, settings.games - len(named) - len(LAUNCH_NAMES))
        self.categories = named + generated + _launch_categories(rng)
        self._first_launch = len(named) + len(generated)
        names = [c.name for c in self.categories]
        self._small_boost = np.array([SMALL_CHANNEL_GAMES.get(n, 1.0) for n in names])
        self._late_hours = np.array([LATE_GAMES.get(n, 0.0) for n in names])
        self._channels = self._make_channels(rng, settings.channels)
        self._lock = threading.Lock()
        self._cache: tuple[int, StreamTable] | None = None
        self._by_login: dict[str, int] | None = None

    def _make_channels(self, rng: np.random.Generator, n: int) -> _Channels:
        weights = np.array([c.weight for c in self.categories])
        # Audiences by rank, handed to channels in a random order; languages and main
        # games dealt so that each gets its share of viewers (`emulator.audience`).
        by_rank = popularity_by_rank(n)
        order = rng.permutation(n)  # order[k]: the channel with the k-th largest audience
        popularity = np.empty(n)
        popularity[order] = by_rank
        language = np.empty(n, dtype=np.int64)
        language[order] = deal_by_share(
            rng,
            by_rank,
            np.array([lang.viewer_percent for lang in LANGUAGES]),
            np.array([lang.channel_percent for lang in LANGUAGES]),
        )
        main_game = np.empty(n, dtype=np.int64)
        main_game[order] = deal_by_share(
            rng, by_rank, category_viewer_shares(self.categories), weights, SECOND_GAME_SHARE
        )
        offsets = np.array([lang.utc_offset_hours for lang in LANGUAGES])[language]
        logins = [
            f"{_PREFIXES[i % 20]}{_SUFFIXES[(i // 20) % 20]}{i // 400 or ''}"
            for i in rng.permutation(n)
        ]
        any_hour = rng.random(n) < ANY_HOUR_SHARE
        return _Channels(
            user_id=(
                10_000_000 + np.arange(n, dtype=np.int64) * 7919 + settings_salt(self.settings)
            ),
            login=logins,
            display=[
                login.capitalize() if j % 3 else login.upper() for j, login in enumerate(logins)
            ],
            language=language,
            utc_offset=offsets + rng.integers(-1, 2, size=n),
            main_game=main_game,
            second_game=rng.choice(len(weights), size=n, p=weights / weights.sum()),
            popularity=popularity,
            # Many channels stream at any hour and the rest in their evening: the live
            # count swings about 1.5-fold over the day, as on Twitch.
            start_hour=np.where(
                any_hour, rng.uniform(0.0, 24.0, size=n), rng.normal(18.0, 3.5, size=n) % 24
            ),
            duration_hours=rng.uniform(1.5, 9.0, size=n),
            live_probability=rng.uniform(0.45, 0.98, size=n),
            **_tag_choices(np.random.default_rng(self.settings.seed + 7), n),
        )

    def games(self) -> list[dict[str, str]]:
        """Every category (Helix game fields without box art)."""
        return [{"id": c.twitch_id, "name": c.name, "igdb_id": c.igdb_id} for c in self.categories]

    def igdb_games(self) -> list[Category]:
        return [c for c in self.categories if c.is_game]

    def now(self) -> float:
        """Seconds since the epoch on the simulated clock."""
        if self.settings.frozen_at is not None:
            return self.settings.frozen_at.timestamp()
        return datetime.now(UTC).timestamp() + self.settings.clock_offset_seconds

    def table(self, at: float | None = None) -> StreamTable:
        """The live streams at `at` (default: now), cached for one drift period."""
        t = self.now() if at is None else at
        quantum = math.floor(t / self.settings.drift_seconds)
        with self._lock:
            if self._cache is None or self._cache[0] != quantum:
                self._cache = (quantum, StreamTable(self._live_records(t, quantum)))
            return self._cache[1]

    def live_arrays(self, t: float, quantum: int | None = None) -> LiveArrays:
        """The live streams at `t` as arrays (channel index, viewers, category index, seconds
        live, stream id): what the records are made of, for code that needs numbers only."""
        if quantum is None:
            quantum = math.floor(t / self.settings.drift_seconds)
        ch = self._channels
        n = len(ch.login)
        index = np.arange(n, dtype=np.uint64)
        salt = _U64(self.settings.seed)
        local = t + ch.utc_offset * 3600.0 - ch.start_hour * 3600.0
        day = np.floor(local / 86_400.0)
        into = local - day * 86_400.0
        session = _mix(
            index * _U64(1_000_003) + day.astype(np.int64).astype(np.uint64) * _U64(7) + salt
        )
        if self.settings.always_live:
            into = _unit(session ^ _U64(99)) * 6 * 3600.0 + 60.0
            live = np.ones(n, dtype=bool)
        else:
            live = (into < ch.duration_hours * 3600.0) & (_unit(session) < ch.live_probability)
        plays_second = _unit(session ^ _U64(12345)) < SECOND_GAME_SHARE
        game = np.where(plays_second, ch.second_game, ch.main_game)
        boost = np.ones(n)
        for launch in self.launches(t, t + 1.0):
            share = float(launch.share(t))
            plays = (_unit(session ^ _U64(0x1A0 + launch.number)) < share) & (
                game < self._first_launch
            )
            game = np.where(plays, launch.category, game)
            # A launch at its peak draws half again the channel's usual audience.
            boost = np.where(plays, 1.0 + 0.5 * share / launch.peak_share, boost)
        hour = ((t + ch.utc_offset * 3600.0) % 86_400.0) / 3600.0
        peak_hour = 21.0 + self._late_hours[game]
        cycle = 0.55 + 0.45 * np.cos((hour - peak_hour) / 24.0 * 2 * math.pi)
        ramp = np.minimum(1.0, 0.4 + into / 1800.0)
        noise = np.exp(0.25 * (_unit(session ^ _U64(quantum & 0xFFFFFFFF)) - 0.5))
        utc_day = _U64(int(t // 86_400.0) & 0xFFFFFFFF)
        game_day = _unit(game.astype(np.uint64) * _U64(2_654_435_761) ^ utc_day ^ salt)
        daily = np.exp(DAILY_NOISE * math.sqrt(12.0) * (game_day - 0.5))
        popularity = np.where(
            ch.popularity < SMALL_CHANNEL_AUDIENCE,
            ch.popularity * self._small_boost[game],
            ch.popularity,
        )
        viewers = np.floor(popularity * cycle * ramp * noise * daily * boost).astype(np.int64)
        # One broadcast per channel and (local) day: unique by construction, like Helix ids.
        stream_id = (
            40_000_000_000 + (day.astype(np.int64) % 40_000) * 1_000_000 + index.astype(np.int64)
        )
        on = np.flatnonzero(live)
        return LiveArrays(on, viewers[on], game[on], into[on], stream_id[on])

    def launches(self, start: float, end: float) -> list[Launch]:
        """The planted launches alive at some instant of [start, end) (the truth a
        rising-games detector is checked against)."""
        return launches(self._first_launch, self.settings.seed, start, end)

    def language_of(self, channels: np.ndarray) -> np.ndarray:
        """Index into LANGUAGES of these channels."""
        return np.asarray(self._channels.language[channels])

    def login_of(self, channel: int) -> str:
        return self._channels.login[channel]

    def user_id_of(self, channel: int) -> str:
        return str(self._channels.user_id[channel])

    def popularity_of(self, channel: int) -> float:
        return float(self._channels.popularity[channel])

    def audiences(self, channels: np.ndarray) -> np.ndarray:
        """The usual audience of these channels before any game's or hour's effect (the
        truth a channel's size is judged by when advice is checked)."""
        return np.asarray(self._channels.popularity[channels])

    def followers(self, channel: int, t: float) -> int:
        """The channel's follower total at `t`: a base that grows with the viewer-hours
        it draws (one follow per 50 viewer-hours), give or take an hourly noise of a few
        follows (unfollows included)."""
        ch = self._channels
        popularity = float(ch.popularity[channel])
        daily_watched = popularity * 0.55 * float(ch.duration_hours[channel])
        daily_watched *= float(ch.live_probability[channel])
        days = (t - FOLLOWERS_SINCE) / 86_400.0
        base = 25.0 * popularity + 3.0
        key = np.array([channel * 1_000_003 + int(t // 3600)], dtype=_U64)
        noise = (float(_unit(key ^ _U64(0xF0110)).item()) - 0.5) * (2.0 + 0.002 * base)
        return max(0, math.floor(base + daily_watched / 50.0 * days + noise))

    def channel_of_login(self, login: str) -> int | None:
        """The channel index of a login (None for logins the market has not)."""
        with self._lock:
            if self._by_login is None:
                self._by_login = {name: i for i, name in enumerate(self._channels.login)}
            return self._by_login.get(login.lower())

    def channel_of_user_id(self, user_id: str) -> int | None:
        if not user_id.isdigit():
            return None
        offset = int(user_id) - 10_000_000 - settings_salt(self.settings)
        index, remainder = divmod(offset, 7919)
        if remainder or not 0 <= index < len(self._channels.login):
            return None
        return index

    def _live_records(self, t: float, quantum: int) -> list[dict[str, Any]]:
        ch = self._channels
        arrays = self.live_arrays(t, quantum)
        records = []
        for i, viewers, game, into, stream_id in zip(
            arrays.channel.tolist(),
            arrays.viewers.tolist(),
            arrays.game.tolist(),
            arrays.seconds_live.tolist(),
            arrays.stream_id.tolist(),
            strict=True,
        ):
            category = self.categories[game]
            language = LANGUAGES[ch.language[i]].code
            started = datetime.fromtimestamp(t - into, UTC).replace(microsecond=0)
            title = _TITLES[stream_id % len(_TITLES)]
            login = ch.login[i]
            records.append(
                {
                    "id": str(stream_id),
                    "user_id": str(ch.user_id[i]),
                    "user_login": login,
                    "user_name": ch.display[i],
                    "game_id": category.twitch_id,
                    "game_name": category.name,
                    "type": "live",
                    "title": title.format(game=category.name, n=stream_id % 300),
                    "tags": stream_tags(
                        _LANGUAGE_TAGS.get(language),
                        ch.style_tags[i].tolist(),
                        category.name if ch.game_tag[i] else "",
                        IGDB_GENRES.get(category.genre_ids[0], "")
                        if ch.genre_tag[i] and category.genre_ids
                        else "",
                        int(ch.tag_case[i]),
                    ),
                    "viewer_count": viewers,
                    "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "language": language,
                    "thumbnail_url": thumbnail_template(self.settings.base_url, login),
                    "tag_ids": [],
                    "is_mature": False,
                }
            )
        return records


def category_viewer_shares(categories: Sequence[Category]) -> np.ndarray:
    """Each category's share of all viewers: the named ones' published percent, and what
    they leave spread over the generated games by share of channels."""
    named = np.array([c.viewer_percent or 0.0 for c in categories])
    tail = np.array([c.weight if c.viewer_percent is None else 0.0 for c in categories])
    left = max(100.0 - float(named.sum()), 0.0)
    shares: np.ndarray = named + (left * tail / tail.sum() if tail.sum() else 0.0)
    normalised: np.ndarray = shares / shares.sum()
    return normalised


def _tag_choices(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Each channel's tag habits, from a generator of their own (the rest of the market
    is drawn as before)."""
    weights = 1.0 / np.arange(1, len(_STYLE_TAGS) + 1) ** 1.1
    counts = np.minimum(rng.zipf(1.6, size=n) - 1, _MAX_TAGS - 1)  # most have 0–2
    styles = rng.choice(len(_STYLE_TAGS), size=(n, _MAX_TAGS - 1), p=weights / weights.sum())
    styles[np.arange(_MAX_TAGS - 1)[None, :] >= counts[:, None]] = -1
    return {
        "style_tags": styles.astype(np.int16),
        "game_tag": rng.random(n) < 0.35,
        "genre_tag": rng.random(n) < 0.2,
        "tag_case": rng.choice(3, size=n, p=[0.85, 0.12, 0.03]).astype(np.int8),
    }


def _tag_word(name: str) -> str:
    """A name as Twitch allows a tag: letters and digits only, at most 25."""
    return "".join(c for c in name if c.isalnum())[:25]


def stream_tags(
    language_tag: str | None, styles: Sequence[int], game: str, genre: str, case: int
) -> list[str]:
    """A stream's tags: its language's, then its style tags, the game's and the genre's
    names where the channel uses them, without repeats, at most ten, in its case."""
    wanted = [language_tag] if language_tag else []
    wanted += [_STYLE_TAGS[i] for i in styles if i >= 0]
    wanted += [t for t in (_tag_word(game), _tag_word(genre)) if t]
    written = [t.lower() if case == 1 else t.upper() if case == 2 else t for t in wanted]
    return list(dict.fromkeys(written))[:_MAX_TAGS]


def thumbnail_template(base_url: str, login: str) -> str:
    """Helix's thumbnail URL template, on the emulator's own CDN path."""
    return f"{base_url}/cdn/previews-ttv/live_user_{login}-{{width}}x{{height}}.jpg"


def settings_salt(settings: EmulatorSettings) -> int:
    """A per-seed offset for user ids, so two markets with different seeds do not collide."""
    return (settings.seed * 104_729) % 7919
