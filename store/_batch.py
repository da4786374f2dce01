"""Everything one snapshot writes, as one unit that can be spooled to disk and replayed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bson import json_util

from store._channels import ChannelListing
from store._documents import GameDocument, QuarantineDocument, SnapshotDocument, StreamDocument
from store._records import RollupDocument
from store._spool_check import check_batch

_JSON_OPTIONS = json_util.JSONOptions(
    json_mode=json_util.JSONMode.CANONICAL, tz_aware=True, tzinfo=None
)


@dataclass
class SnapshotBatch:
    """The documents of one snapshot; written together, snapshot document last."""

    slot: datetime
    snapshot: SnapshotDocument
    streams: list[StreamDocument] = field(default_factory=list)
    quarantine: list[QuarantineDocument] = field(default_factory=list)
    rollups: list[RollupDocument] = field(default_factory=list)
    games: list[GameDocument] = field(default_factory=list)
    # Every listed channel (market and replay listings; None when only the top was listed)
    channels: ChannelListing | None = None

    def to_json(self) -> str:
        return json_util.dumps(
            {
                "slot": self.slot,
                "snapshot": self.snapshot,
                "streams": self.streams,
                "quarantine": self.quarantine,
                "rollups": self.rollups,
                "games": self.games,
                **({"channels": self.channels.to_json()} if self.channels is not None else {}),
            },
            json_options=_JSON_OPTIONS,
        )

    @classmethod
    def from_json(cls, text: str) -> SnapshotBatch:
        """The batch `to_json` wrote; ValueError for anything else (JSON of another shape,
        or documents the current model does not accept: `SpoolFileInvalid`)."""
        data = json_util.loads(text, json_options=_JSON_OPTIONS)
        if not isinstance(data, dict) or not isinstance(data.get("slot"), datetime):
            raise ValueError("not a spooled snapshot (no slot)")
        if not isinstance(data.get("snapshot"), dict):
            raise ValueError("not a spooled snapshot (no snapshot document)")
        lists = ("streams", "quarantine", "rollups", "games")
        if set(data) - {"slot", "snapshot", "channels", *lists} or not all(
            isinstance(data.get(k, []), list) for k in lists
        ):
            raise ValueError("not a spooled snapshot (unexpected fields)")
        check_batch({k: data.get(k, []) for k in ("slot", "snapshot", *lists)})
        channels = data.pop("channels", None)
        listing = None if channels is None else ChannelListing.from_json(channels)
        return cls(**data, channels=listing)
