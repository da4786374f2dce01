"""Opaque pagination cursors, shaped like Twitch's (base64 JSON with `a`/`b` parts).

Clients must not parse them; the emulator encodes a keyset position (viewers, stream id),
a page offset (games/top), or one of the degenerate cursors the real API hands out.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

DEGENERATE = "IA"  # base64 of a single space: always an empty page


def _b64(data: object) -> str:
    return base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


@dataclass(frozen=True)
class Cursor:
    kind: str  # "key", "offset", "loop" (back to page 1), "end" (empty page), "degenerate"
    viewers: int = 0
    stream_id: str = ""
    offset: int = 0


def encode_key(viewers: int, stream_id: str) -> str:
    return _b64({"b": None, "a": {"Cursor": _b64({"s": viewers, "d": stream_id})}})


def encode_offset(offset: int) -> str:
    return _b64({"b": None, "a": {"Offset": offset}})


def encode_special(kind: str) -> str:
    return (
        DEGENERATE
        if kind == "degenerate"
        else _b64({"b": None, "a": {"Cursor": _b64({kind: True})}})
    )


def decode(cursor: str) -> Cursor:
    """Raise ValueError for anything this emulator did not issue."""
    if cursor == DEGENERATE:
        return Cursor("degenerate")
    try:
        outer = json.loads(base64.b64decode(cursor, validate=True))
        part = outer["a"]
        if "Offset" in part:
            return Cursor("offset", offset=int(part["Offset"]))
        inner = json.loads(base64.b64decode(part["Cursor"], validate=True))
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise ValueError("invalid cursor") from error
    for special in ("loop", "end"):
        if inner.get(special):
            return Cursor(special)
    try:
        return Cursor("key", viewers=int(inner["s"]), stream_id=str(inner["d"]))
    except (KeyError, ValueError, TypeError) as error:
        raise ValueError("invalid cursor") from error
