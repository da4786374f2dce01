"""Typed records of the Helix API, validated where they arrive.

A record that does not validate is not dropped: it becomes a :class:`QuarantinedRecord`
with the reason, and the collector stores it in the quarantine collection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

# Ids are opaque to the client: Twitch sends digits, but nothing here computes with them,
# so any non-empty string is accepted (mocks and proxies use UUIDs). Only `igdb_id` goes
# into IGDB's numeric `where id = (…)` and stays digits-only.
OpaqueId = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=200)]
OptionalOpaqueId = Annotated[str, StringConstraints(strict=True, max_length=200)]
OptionalNumericId = Annotated[str, StringConstraints(strict=True, pattern=r"^[0-9]*$")]

M = TypeVar("M", bound=BaseModel)

# More viewers than any stream has had (the record is under 4 million): a larger count is a
# broken record, quarantined rather than summed into the market.
MAX_VIEWER_COUNT = 10_000_000


class Stream(BaseModel):
    """One live stream of `GET /helix/streams`. Unknown extra fields are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: OpaqueId
    user_id: OpaqueId
    user_login: Annotated[str, StringConstraints(strict=True, min_length=1)]
    user_name: Annotated[str, Field(strict=True)]
    game_id: OptionalOpaqueId = ""
    game_name: Annotated[str, Field(strict=True)] = ""
    type: Annotated[str, Field(strict=True)] = "live"
    title: Annotated[str, Field(strict=True)] = ""
    viewer_count: Annotated[int, Field(strict=True, ge=0, le=MAX_VIEWER_COUNT)]
    started_at: AwareDatetime
    language: Annotated[str, Field(strict=True)] = ""
    thumbnail_url: Annotated[str, Field(strict=True)] = ""
    tags: list[str] | None = None
    is_mature: bool = False


class Game(BaseModel):
    """One category of `GET /helix/games` (a game, or a non-game like Just Chatting)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: OpaqueId
    name: Annotated[str, StringConstraints(strict=True, min_length=1)]
    box_art_url: str = ""
    igdb_id: OptionalNumericId = ""


class Emote(BaseModel):
    """One emote of `GET /helix/chat/emotes/global` or `GET /helix/chat/emotes`.

    Global emotes have no `emote_type`; a channel's are `subscriptions`, `bitstier` or
    `follower`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: OpaqueId
    name: Annotated[str, StringConstraints(strict=True, min_length=1)]
    emote_type: Annotated[str, Field(strict=True)] = ""
    emote_set_id: Annotated[str, Field(strict=True)] = ""
    tier: Annotated[str, Field(strict=True)] = ""


@dataclass(frozen=True)
class QuarantinedRecord:
    """A record the API sent that failed validation, kept with the reason."""

    endpoint: str
    reason: str
    record: Any

    @property
    def fingerprint(self) -> str:
        """A stable text form of the raw record (to deduplicate repeats of the same record)."""
        return json.dumps(self.record, sort_keys=True, default=str)


def _reason(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "record"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def parse_records(
    model: type[M], records: list[Any], endpoint: str
) -> tuple[list[M], list[QuarantinedRecord]]:
    """Validate each raw record; return the good ones and the quarantined rest, in order."""
    good: list[M] = []
    bad: list[QuarantinedRecord] = []
    for record in records:
        if not isinstance(record, dict):
            bad.append(QuarantinedRecord(endpoint, "record is not a JSON object", record))
            continue
        try:
            good.append(model.model_validate(record))
        except ValidationError as error:
            bad.append(QuarantinedRecord(endpoint, _reason(error), record))
    return good, bad


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)
