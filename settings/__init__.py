"""One settings object for the whole product, read once from the environment (and `.env`).

Nothing else in the code reads ``os.environ``: the entry points build a :class:`Settings`
and hand it to constructors. Without Twitch credentials the collector talks to the local
Twitch emulator; with them it talks to the real Twitch and IGDB APIs. Every base URL can
still be overridden one by one (for another mock, a proxy, or a staging host).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo.errors import ConfigurationError, InvalidURI
from pymongo.uri_parser import parse_uri

from settings.errors import SettingsError as SettingsError  # re-exported
from slots import DEFAULT_SNAPSHOT_MINUTES, Cadence, parse_snapshot_minutes

# Credentials the emulator accepts; they are not secrets (they only open the local fake).
EMULATOR_CLIENT_ID = "genreradarlocalclient0000000000"
EMULATOR_CLIENT_SECRET = "genreradarlocalsecret000000000"

REAL_URLS = {
    "oauth": "https://id.twitch.tv/oauth2",
    "helix": "https://api.twitch.tv/helix",
    "igdb": "https://api.igdb.com/v4",
}

LOCAL_MONGODB_URI = "mongodb://127.0.0.1:27017/"

# Twitch's broadcaster languages (ISO 639-1 plus "other"): the `--all` mode splits the live
# listing by these, one cursor chain each.
TWITCH_LANGUAGES = (
    "ar",
    "asl",
    "bg",
    "ca",
    "cs",
    "da",
    "de",
    "el",
    "en",
    "es",
    "fi",
    "fr",
    "hi",
    "hu",
    "id",
    "it",
    "ja",
    "ko",
    "ms",
    "nl",
    "no",
    "pl",
    "pt",
    "ro",
    "ru",
    "sk",
    "sv",
    "th",
    "tl",
    "tr",
    "uk",
    "vi",
    "zh",
    "zh-hk",
    "other",
)


class Settings(BaseSettings):
    """Every setting of the product; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    # Twitch / IGDB
    twitch_client_id: str = ""
    twitch_client_secret: SecretStr = SecretStr("")
    twitch_oauth_url: str = ""
    twitch_helix_url: str = ""
    igdb_url: str = ""
    twitch_cdn_url: str = ""
    emulator_url: str = "http://127.0.0.1:8780"

    # MongoDB
    mongodb_uri: str = LOCAL_MONGODB_URI
    mongodb_uri_readonly: str = ""
    mongodb_db: str = "genre_radar"
    mongodb_timeout_ms: int = Field(default=5000, ge=100)

    # Collection
    snapshot_top_n: int = Field(default=1000, ge=1)
    # market: list every live stream, store the top N in full, roll up all of them;
    # top: list and store only the top N (1 request per 100 streams; no long tail).
    snapshot_scope: Literal["market", "top"] = "market"
    snapshot_minutes: str = DEFAULT_SNAPSHOT_MINUTES
    snapshot_misfire_grace_seconds: int = Field(default=600, ge=1)
    # A snapshot with more quarantined records than this share of all it received is
    # stored but marked degraded (a broken API or a changed record shape).
    degraded_quarantine_share: float = Field(default=0.05, ge=0, le=1)
    spool_dir: Path = Path(".local/spool")
    all_streams_concurrency: int = Field(default=6, ge=1, le=32)
    # Languages whose listing is split by category, and into how many chains.
    all_streams_split_languages: str = "en"
    all_streams_split_chains: int = Field(default=8, ge=1, le=64)
    # Every listed channel is stored per slot (`channel_slots`) for this many days.
    channel_slots_days: float = Field(default=35.0, gt=0)
    # Follower totals, once a day: the top channels of the newest listing (0: none) and
    # these logins (comma-separated), a batch of `followers_per_run` between snapshots.
    followers_top: int = Field(default=10_000, ge=0)
    followers_channels: str = ""
    followers_per_run: int = Field(default=500, ge=1)

    # Frames: thumbnails sampled after each snapshot (0 everywhere turns sampling off)
    frames_top: int = Field(default=12, ge=0)
    frames_random: int = Field(default=12, ge=0)
    frames_non_game: int = Field(default=12, ge=0)
    frame_width: int = Field(default=320, ge=16, le=1920)
    frame_height: int = Field(default=180, ge=16, le=1080)
    frames_max_age_days: float = Field(default=7.0, gt=0)
    frames_max_count: int = Field(default=5000, ge=0)
    clip_frames: int = Field(default=0, ge=0, le=30)
    clip_streams: int = Field(default=3, ge=0)
    clip_seconds: float = Field(default=6.0, gt=0, le=60)
    clip_url_template: str = ""
    classifier_model_dir: Path = Path("models/genre")
    classifier_category_model_dir: Path = Path("models/category")
    # Classifier genres enter the market rollups only from a model whose card shows at
    # least this balanced accuracy on its validation games (chance: 1 / genres).
    classifier_min_balanced_accuracy: float = Field(default=0.5, ge=0, le=1)

    # Chat: the IRC reader of the top channels (`python -m chat run`)
    chat_irc_url: str = ""  # default: the emulator's chat, or Twitch's over TLS with credentials
    chat_emulator_port: int = Field(default=8781, ge=1, le=65535)
    chat_channels: int = Field(default=1000, ge=0)  # the newest snapshot's top N
    chat_joins_per_10s: int = Field(default=20, ge=1)  # Twitch: 20 for users, 2,000 for bots
    chat_nick: str = ""  # empty: an anonymous justinfan login (read-only)
    chat_oauth_token: SecretStr = SecretStr("")
    # Channels are split across readers by a hash of the login: reader `chat_shard` of
    # `chat_shards` reads its part; shard 0 also builds the chat rollups.
    chat_shards: int = Field(default=1, ge=1, le=64)
    chat_shard: int = Field(default=0, ge=0)
    chat_flush_seconds: float = Field(default=5.0, gt=0)  # the live view is this fresh
    chat_follow_seconds: float = Field(default=60.0, gt=0)
    chat_rollup_grace_seconds: float = Field(default=90.0, ge=0)
    chat_topics: str = "worldcup,patch,speedrun,giveaway"  # keywords whose emotes are counted
    chat_minutes_retention_days: float = Field(default=7.0, gt=0)
    chat_max_pending_minutes: int = Field(default=180, ge=1)  # then spooled to disk

    # Highlights (`python -m highlights run`): these channels (comma-separated logins) and
    # the newest snapshot's top N get a clip read every few minutes and scored; the chat
    # reader counts their chat per second for it.
    highlight_channels: str = ""
    highlight_top: int = Field(default=0, ge=0)
    highlight_clip_seconds: int = Field(default=60, ge=10, le=120)
    highlight_every_minutes: float = Field(default=10.0, gt=0)
    highlight_model_dir: Path = Path("models/highlights")
    # How far behind real time the last second of a clip is (Twitch: a few seconds)
    highlight_latency_seconds: float = Field(default=0.0, ge=0)
    highlight_clip_url_template: str = ""
    # Each moment's video (20 s around it) is kept this many days, and this many at most
    highlight_moment_clip_days: float = Field(default=14.0, gt=0)
    highlight_moment_clips: int = Field(default=500, ge=0)

    # HTTP behaviour
    http_timeout_seconds: float = Field(default=10.0, gt=0)
    http_max_attempts: int = Field(default=8, ge=1)
    backoff_initial_seconds: float = Field(default=0.5, ge=0)
    backoff_max_seconds: float = Field(default=30.0, ge=0)

    # Dashboard: requests each client address may make to the JSON API (/api/v1).
    api_rate_limit: str = "60/minute"

    log_level: str = "INFO"

    @field_validator("api_rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError('must read like "60/minute" or "1000 per hour"') from None
        return value

    @field_validator("snapshot_minutes")
    @classmethod
    def _minutes(cls, value: str) -> str:
        parse_snapshot_minutes(value)
        return value

    @field_validator("mongodb_uri", "mongodb_uri_readonly")
    @classmethod
    def _mongodb_uri(cls, value: str) -> str:
        if value:
            try:
                parse_uri(value, validate=True, connect_timeout=None)
            except (InvalidURI, ConfigurationError, ValueError) as error:
                # The message of pymongo never repeats the password; the URI itself is
                # left out for the same reason.
                raise ValueError(f"not a MongoDB connection string ({error})") from None
        return value

    @field_validator("mongodb_db")
    @classmethod
    def _database_name(cls, value: str) -> str:
        # MongoDB's (and Atlas's) rules for database names.
        refused = sorted({c for c in value if c in '/\\. "$*<>:|?' or ord(c) < 32})
        if not value or refused or len(value.encode()) >= 64:
            shown = " ".join(repr(c) for c in refused)
            raise ValueError(
                'must be 1 to 63 bytes without / \\ . space " $ * < > : | ? '
                + (f"(has {shown})" if refused else "")
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        secret = self.twitch_client_secret.get_secret_value()
        if self.twitch_client_id and not secret:
            raise ValueError("TWITCH_CLIENT_ID is set but TWITCH_CLIENT_SECRET is not")
        if secret and not self.twitch_client_id:
            raise ValueError("TWITCH_CLIENT_SECRET is set but TWITCH_CLIENT_ID is not")
        if self.chat_shard >= self.chat_shards:
            raise ValueError(f"CHAT_SHARD must be below CHAT_SHARDS ({self.chat_shards})")
        if self.snapshot_misfire_grace_seconds >= self.cadence.shortest.total_seconds():
            raise ValueError(
                "SNAPSHOT_MISFIRE_GRACE_SECONDS must be shorter than the interval between "
                f"snapshot minutes {self.snapshot_minutes!r}"
            )
        return self

    @property
    def cadence(self) -> Cadence:
        """When snapshots are taken (`SNAPSHOT_MINUTES`)."""
        return Cadence.parse(self.snapshot_minutes)

    @property
    def followed_logins(self) -> tuple[str, ...]:
        return tuple(p.strip().lower() for p in self.followers_channels.split(",") if p.strip())

    @property
    def split_languages(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.all_streams_split_languages.split(",") if p.strip())

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(p.strip().lower() for p in self.chat_topics.split(",") if p.strip())

    @property
    def chat_url(self) -> str:
        """The Twitch IRC endpoint the chat reader connects to."""
        if self.chat_irc_url:
            return self.chat_irc_url
        if self.uses_emulator:
            host = urlsplit(self.emulator_url).hostname or "127.0.0.1"
            return f"irc://{host}:{self.chat_emulator_port}"
        return "ircs://irc.chat.twitch.tv:6697"

    @property
    def uses_emulator(self) -> bool:
        """True when no real Twitch credentials are configured."""
        return not self.twitch_client_id

    @property
    def client_id(self) -> str:
        return self.twitch_client_id or EMULATOR_CLIENT_ID

    @property
    def client_secret(self) -> str:
        return self.twitch_client_secret.get_secret_value() or EMULATOR_CLIENT_SECRET

    def _url(self, explicit: str, kind: str, emulator_path: str) -> str:
        if explicit:
            return explicit.rstrip("/")
        if self.uses_emulator:
            return self.emulator_url.rstrip("/") + emulator_path
        return REAL_URLS[kind]

    @property
    def oauth_url(self) -> str:
        return self._url(self.twitch_oauth_url, "oauth", "/oauth2")

    @property
    def helix_url(self) -> str:
        return self._url(self.twitch_helix_url, "helix", "/helix")

    @property
    def igdb_base_url(self) -> str:
        return self._url(self.igdb_url, "igdb", "/v4")

    @property
    def clip_url(self) -> str:
        """Where streamlink reads a channel's live clip (`{login}` is replaced)."""
        if self.clip_url_template:
            return self.clip_url_template
        if self.uses_emulator:
            return "hls://" + self.emulator_url.rstrip("/") + "/hls/{login}/index.m3u8"
        return "https://www.twitch.tv/{login}"

    @property
    def followed_channels(self) -> tuple[str, ...]:
        """The logins of HIGHLIGHT_CHANNELS, lower-cased."""
        return tuple(p.strip().lower() for p in self.highlight_channels.split(",") if p.strip())

    @property
    def highlight_clip_url(self) -> str:
        """Where streamlink reads a clip for highlights (`{login}`, `{seconds}` replaced)."""
        if self.highlight_clip_url_template:
            return self.highlight_clip_url_template
        if self.uses_emulator:
            base = "hls://" + self.emulator_url.rstrip("/")
            return base + "/hls/{login}/index.m3u8?seconds={seconds}"
        return "https://www.twitch.tv/{login}"

    @property
    def dashboard_mongodb_uri(self) -> str:
        """The dashboard's (read-only) connection string, falling back to the local default."""
        return self.mongodb_uri_readonly or self.mongodb_uri


def load_settings() -> Settings:
    """The settings from the environment, or :class:`SettingsError` naming every problem
    on its own line (the variable and why), never a traceback and never a secret value."""
    try:
        return Settings()
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False, include_input=False):
            name = "_".join(str(part) for part in item["loc"]).upper()
            message = str(item["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}: {message}" if name else message)
        raise SettingsError(problems) from None
