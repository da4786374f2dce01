"""Arrays and name lists packed for MongoDB documents.

Lists of names are stored as one string joined by the ASCII unit separator, and numbers as
zlib-compressed little-endian arrays: FerretDB v1 returns a large binary or string value
several times faster per byte than an array of many small values.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from bson.binary import Binary

SEPARATOR = "\x1f"
ENCODING = "zlib"


def pack(array: np.ndarray, dtype: np.dtype[Any]) -> Binary:
    return Binary(zlib.compress(np.ascontiguousarray(array, dtype=dtype).tobytes(), 6))


def unpack(data: bytes, dtype: np.dtype[Any], shape: tuple[int, ...]) -> np.ndarray:
    raw = zlib.decompress(data)
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def pack_planes(array: np.ndarray, dtype: np.dtype[Any]) -> Binary:
    """Like `pack`, but byte plane by byte plane (all first bytes, then all second bytes
    …): small integers leave the high planes all zeros, which zlib all but erases."""
    values = np.ascontiguousarray(array, dtype=dtype)
    planes = values.view(np.uint8).reshape(-1, dtype.itemsize).T
    return Binary(zlib.compress(np.ascontiguousarray(planes).tobytes(), 6))


def unpack_planes(data: bytes, dtype: np.dtype[Any], count: int) -> np.ndarray:
    """The `count` values `pack_planes` packed, as int64."""
    raw = np.frombuffer(zlib.decompress(data), np.uint8).reshape(dtype.itemsize, count)
    values = np.ascontiguousarray(raw.T).view(dtype).reshape(count)
    return values.astype(np.int64)


def join_names(names: Sequence[str]) -> str:
    return SEPARATOR.join(names)


def split_names(text: str, count: int) -> list[str]:
    """The `count` names `join_names` joined ("" alone is one empty name, or none)."""
    return text.split(SEPARATOR) if count else []


def pack_names(names: Sequence[str]) -> Binary:
    """`join_names`, zlib-compressed: for long lists of long names (tag sets), which
    otherwise make up half a document."""
    return Binary(zlib.compress(join_names(names).encode("utf-8"), 6))


def unpack_names(value: str | bytes, count: int) -> list[str]:
    """The names `pack_names` packed; a plain joined string (as documents written before
    compression hold) reads the same."""
    text = zlib.decompress(value).decode("utf-8") if isinstance(value, bytes) else value
    return split_names(text, count)
