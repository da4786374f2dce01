"""What a spooled snapshot must look like to be written: the current batch model.

A spool file outlives the process that wrote it (an upgrade can come between), and it can
be edited or damaged by hand, so a file that parses is still checked against the typed
documents it must hold before any of it reaches the database. A file that fails is
rejected with the reason; the store never meets it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any, Literal, NotRequired

from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict

from store._documents import GameDocument, QuarantineDocument, SnapshotDocument, StreamDocument
from store._errors import SpoolFileInvalid
from store._rollups import DIMENSIONS, TAG_DIMENSIONS

# The largest viewer count a stored document may carry: no stream ever reached it, and
# sums of such counts still fit the history's columns.
MAX_VIEWER_COUNT = 10_000_000


class _RollupGroup(TypedDict):
    key: str
    channels: int
    viewers: int
    name: NotRequired[str]
    histogram: NotRequired[list[int]]


class _Rollup(TypedDict):
    _id: str
    slot: datetime
    dimension: Literal[DIMENSIONS + TAG_DIMENSIONS]  # type: ignore[valid-type]
    total_viewers: int
    total_channels: int
    groups: list[_RollupGroup]


class _Batch(TypedDict):
    slot: datetime
    snapshot: SnapshotDocument
    streams: list[StreamDocument]
    quarantine: list[QuarantineDocument]
    rollups: list[_Rollup]
    games: list[GameDocument]


@cache
def _batch_model() -> TypeAdapter[_Batch]:
    return TypeAdapter(_Batch)  # built on first use: imports of the store stay fast


def check_batch(data: Mapping[str, Any]) -> None:
    """Raise SpoolFileInvalid, naming the first problem, unless `data` is a whole batch of
    the current model: typed documents, viewer counts in range, no key MongoDB refuses."""
    try:
        _batch_model().validate_python(data, strict=True)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise SpoolFileInvalid(f"{where}: {first['msg']}") from None
    for stream in data["streams"]:
        if not 0 <= stream["viewer_count"] <= MAX_VIEWER_COUNT:
            raise SpoolFileInvalid(
                f"stream {stream['_id']}: viewer_count {stream['viewer_count']} out of range"
            )
    bad = _refused_key(data)
    if bad is not None:
        raise SpoolFileInvalid(f"field name {bad!r} cannot be stored (starts with $ or has a dot)")


def _refused_key(value: Any) -> str | None:
    """The first field name MongoDB would refuse, anywhere in `value`."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if not isinstance(key, str) or key.startswith("$") or "." in key:
                return str(key)
            found = _refused_key(inner)
            if found is not None:
                return found
    elif isinstance(value, list):
        for inner in value:
            found = _refused_key(inner)
            if found is not None:
                return found
    return None
