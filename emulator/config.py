"""Settings of the Twitch emulator (environment variables prefixed `EMULATOR_`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class EmulatorSettings(BaseSettings):
    """The simulated market, its faults and quirks; every rate is a probability per request."""

    model_config = SettingsConfigDict(
        env_prefix="EMULATOR_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    host: str = "127.0.0.1"
    port: int = 8780
    public_url: str = ""  # base URL put into thumbnail/box-art URLs; default http://host:port
    seed: int = 7

    # The simulated market
    channels: int = Field(default=550_000, ge=1)  # Twitch-sized: ~100,000 live at peak
    games: int = Field(default=400, ge=40)
    always_live: bool = False  # every channel live all the time (for `--all` benchmarks)
    drift_seconds: float = Field(default=10.0, gt=0)  # viewer counts change this often
    clock_offset_seconds: float = 0.0  # shift the simulated clock (tests, demos)
    # Stop the simulated clock here: the market never moves (tests that need one market)
    frozen_at: datetime | None = None

    # Replay instead of simulation: a JSON-lines file of Helix stream records with `observed_at`
    replay_file: Path | None = None

    # Faults
    latency_ms: float = Field(default=0.0, ge=0)
    error_rate: float = Field(default=0.0, ge=0, le=1)  # 429/500/503 mixed, 503 with HTML
    # Get Channel Followers' answer to every request: 200, or 401/403 as for a token
    # Twitch does not let read followers.
    followers_status: int = Field(default=200)
    fault_429_wait_seconds: float = Field(default=1.0, ge=0)
    token_ttl_requests: int = Field(default=0, ge=0)  # >0: a token dies after this many calls
    token_expires_in: int = Field(default=5_011_271, ge=1)
    malformed_rate: float = Field(default=0.0, ge=0, le=1)  # share of stream records corrupted

    # Paging quirks of the real API
    quirk_last_page_cursor: float = Field(default=0.5, ge=0, le=1)
    quirk_short_page: float = Field(default=0.05, ge=0, le=1)
    quirk_invalid_cursor: float = Field(default=0.02, ge=0, le=1)

    # Rate limits
    helix_points_per_minute: int = Field(default=800, ge=1)
    igdb_requests_per_second: float = Field(default=4.0, gt=0)

    # Thumbnails: JPEGs from `<frames_dir>/<genre>/<game>/*.jpg|png` when set, else drawn
    frames_dir: Path | None = None

    # Planted highlight moments in clips and chat (`emulator.moments`): train, heldout, demo
    moments: Literal["train", "heldout", "demo"] = "train"

    # Chat: an IRC server on `chat_port` (0 picks a free one) over the simulated market
    chat_enabled: bool = True
    chat_port: int = Field(default=8781, ge=0)
    chat_rate_scale: float = Field(default=1.0, gt=0)  # times the viewer-driven message rate
    chat_joins_per_10s: int = Field(default=20, ge=1)  # Twitch's limit for normal users
    chat_reconnect_rate: float = Field(default=0.0, ge=0)  # RECONNECTs per connection-minute

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
