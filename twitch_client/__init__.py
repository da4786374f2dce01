"""Client of the Twitch APIs the collector uses: OAuth, Helix streams and games, IGDB.

:class:`TwitchClient` is the composition root: it owns the HTTP session, the token
provider, the rate limiters and the retry policy, and exposes the few calls the
scheduler needs. Base URLs come from :class:`settings.Settings`, so the same code talks to
Twitch, to the local emulator, or to any faithful mock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import requests

from settings import TWITCH_LANGUAGES, Settings
from twitch_client.auth import AppTokenProvider
from twitch_client.emotes import get_emotes
from twitch_client.errors import ClipUnavailable, NetworkError
from twitch_client.followers import follower_total
from twitch_client.games import get_games
from twitch_client.igdb import game_genres
from twitch_client.models import Emote, Game, QuarantinedRecord, Stream
from twitch_client.ratelimit import FixedRateLimiter, HelixBucket
from twitch_client.streams import StreamListing, list_all_streams, list_streams
from twitch_client.thumbnails import ThumbnailUnavailable, fetch_thumbnail, on_cdn
from twitch_client.transport import RequestStats, RetryPolicy, Transport
from twitch_client.videos import Archive, current_archive

__all__ = [
    "Archive",
    "ClipUnavailable",
    "Emote",
    "Game",
    "QuarantinedRecord",
    "Stream",
    "StreamListing",
    "ThumbnailUnavailable",
    "TwitchClient",
]

IGDB_REQUESTS_PER_SECOND = 4.0


class TwitchClient:
    """The calls the collector makes to Twitch and IGDB."""

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._settings = settings
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = "genre-radar/0.1 (+https://github.com/genre-radar)"
        self.tokens = AppTokenProvider(
            settings.oauth_url,
            settings.client_id,
            settings.client_secret,
            self._session,
            timeout=settings.http_timeout_seconds,
        )
        self.helix_bucket = HelixBucket(sleep=sleep)
        self._igdb_limiter = FixedRateLimiter(IGDB_REQUESTS_PER_SECOND, sleep=sleep)
        self._igdb_unreachable: NetworkError | None = None  # open circuit, until reset_stats
        self.transport = Transport(
            self._session,
            self.tokens,
            policy=policy
            or RetryPolicy(
                max_attempts=settings.http_max_attempts,
                initial_backoff=settings.backoff_initial_seconds,
                max_backoff=settings.backoff_max_seconds,
            ),
            timeout=settings.http_timeout_seconds,
            sleep=sleep,
        )

    @property
    def stats(self) -> RequestStats:
        return self.transport.stats

    def reset_stats(self) -> None:
        """Start a new run: fresh counts, and IGDB is tried again."""
        self.transport.stats = RequestStats()
        self._igdb_unreachable = None

    def _helix_get(self, path: str) -> Callable[[list[tuple[str, Any]]], Any]:
        url = self._settings.helix_url + path

        def fetch(params: list[tuple[str, Any]]) -> Any:
            return self.transport.send(
                "GET",
                url,
                params=params,
                limiter=self.helix_bucket,
                on_headers=self.helix_bucket.update,
                on_rate_limited=self.helix_bucket.exhaust,
            )

        return fetch

    def top_streams(self, limit: int | None) -> StreamListing:
        """The `limit` most watched live streams (all of them if None), most viewed first."""
        return list_streams(self._helix_get("/streams"), limit=limit)

    def live_stream(self, login: str) -> Stream | None:
        """The live stream of the channel `login`, or None when it is offline."""
        listing = list_streams(
            self._helix_get("/streams"), limit=1, filters=[("user_login", login.lower())]
        )
        return listing.streams[0] if listing.streams else None

    def all_streams(self, languages: list[str] | None = None) -> StreamListing:
        """Every live stream, listed per language with several cursor chains at once (the
        biggest languages split further by category)."""
        return list_all_streams(
            self._helix_get("/streams"),
            languages=languages or list(TWITCH_LANGUAGES),
            concurrency=self._settings.all_streams_concurrency,
            fetch_top_games=self._helix_get("/games/top"),
            split_languages=self._settings.split_languages,
            split_chains=self._settings.all_streams_split_chains,
        )

    def games(self, ids: Iterable[str]) -> tuple[list[Game], list[QuarantinedRecord]]:
        """Helix game metadata for these Twitch game ids."""
        return get_games(self._helix_get("/games"), ids)

    def global_emotes(self) -> tuple[list[Emote], list[QuarantinedRecord]]:
        """Twitch's global emotes (free for everyone)."""
        return get_emotes(self._helix_get("/chat/emotes/global"))

    def channel_emotes(self, broadcaster_id: str) -> tuple[list[Emote], list[QuarantinedRecord]]:
        """One channel's subscriber, bits and follower emotes."""
        return get_emotes(self._helix_get("/chat/emotes"), broadcaster_id)

    def follower_total(self, broadcaster_id: str) -> int:
        """A channel's follower count (`FollowersUnavailable` when the token may not)."""
        return follower_total(self._helix_get("/channels/followers"), broadcaster_id)

    def current_archive(self, user_id: str, stream_id: str) -> Archive | None:
        """The archive (VOD) the live stream `stream_id` is recorded into, if kept."""
        return current_archive(self._helix_get("/videos"), user_id, stream_id)

    def igdb_genres(self, igdb_ids: Iterable[str]) -> dict[str, list[str]]:
        """IGDB genre names for these IGDB game ids (IGDB's 4 requests/s respected).

        IGDB is optional (the curated file answers without it), so an IGDB that cannot
        be reached costs one attempt, not a round of retries, and is not asked again
        until the next run (`reset_stats`): the NetworkError is raised at once."""
        if self._igdb_unreachable is not None:
            raise self._igdb_unreachable
        base = self._settings.igdb_base_url

        def post(endpoint: str, query: str) -> Any:
            return self.transport.send(
                "POST", f"{base}/{endpoint}", data=query, limiter=self._igdb_limiter, retry=False
            )

        try:
            return game_genres(post, igdb_ids)
        except NetworkError as error:
            self._igdb_unreachable = NetworkError(f"IGDB unreachable this run ({error})")
            raise self._igdb_unreachable from None

    def thumbnail(self, template: str, width: int, height: int) -> bytes:
        """One stream's preview JPEG; `ThumbnailUnavailable` says why there is none.
        TWITCH_CDN_URL, when set, replaces the CDN the template names."""
        if self._settings.twitch_cdn_url:
            template = on_cdn(template, self._settings.twitch_cdn_url)
        return fetch_thumbnail(
            self._session, template, width, height, timeout=self._settings.http_timeout_seconds
        )

    def close(self) -> None:
        self._session.close()
