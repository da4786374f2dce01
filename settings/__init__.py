"""One settings object for the whole product, read once from the environment (and `.env`).

Nothing else in the code reads ``os.environ``: the entry points build a :class:`Settings`
and hand it to constructors. Without Twitch credentials the collector talks to the local
Twitch emulator; with them it talks to the real Twitch and IGDB APIs. Every base URL can
still be overridden one by one (for another mock, a proxy, or a staging host).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Credentials the emulator accepts; they are not secrets (they only open the local fake).
EMULATOR_CLIENT_ID = "genreradarlocalclient0000000000"
EMULATOR_CLIENT_SECRET = "genreradarlocalsecret000000000"

REAL_URLS = {
    "oauth": "https://id.twitch.tv/oauth2",
    "helix": "https://api.twitch.tv/helix",
    "igdb": "https://api.igdb.com/v4",
    "cdn": "https://static-cdn.jtvnw.net",
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
    snapshot_minutes: str = "0,30"
    snapshot_misfire_grace_seconds: int = Field(default=600, ge=1)
    spool_dir: Path = Path(".local/spool")
    all_streams_concurrency: int = Field(default=6, ge=1, le=32)

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

    # HTTP behaviour
    http_timeout_seconds: float = Field(default=10.0, gt=0)
    http_max_attempts: int = Field(default=8, ge=1)
    backoff_initial_seconds: float = Field(default=0.5, ge=0)
    backoff_max_seconds: float = Field(default=30.0, ge=0)

    log_level: str = "INFO"

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
    def cdn_url(self) -> str:
        return self._url(self.twitch_cdn_url, "cdn", "/cdn")

    @property
    def dashboard_mongodb_uri(self) -> str:
        """The dashboard's (read-only) connection string, falling back to the local default."""
        return self.mongodb_uri_readonly or self.mongodb_uri


def load_settings(**overrides: object) -> Settings:
    """Build the settings from the environment, with explicit overrides (tests, CLI flags)."""
    return Settings(**overrides)  # type: ignore[arg-type]
