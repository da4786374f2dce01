"""Arrays and name lists packed for MongoDB documents.

Lists of names are stored as one string joined by the ASCII unit separator, and numbers as
zlib-compressed little-endian arrays: FerretDB v1 returns a large binary or string value
several times faster per byte than an array of many small values. Documents kept long and
read a few at a time are packed `dense`: xz (LZMA) instead of zlib, about a seventh
smaller and about twice as slow to unpack; readers tell the two apart by xz's magic bytes.
"""

from __future__ import annotations

import lzma
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from bson.binary import Binary

SEPARATOR = "\x1f"
ENCODING = "zlib"
_XZ_MAGIC = b"\xfd7zXZ\x00"  # a zlib stream never starts so (its first byte is 0x?8)


def compress(data: bytes, *, dense: bool = False) -> Binary:
    return Binary(lzma.compress(data, preset=6) if dense else zlib.compress(data, 6))


def decompress(data: bytes) -> bytes:
    """What `compress` (either way) or `zlib.compress` compressed."""
    return lzma.decompress(data) if data[:6] == _XZ_MAGIC else zlib.decompress(data)


def pack(array: np.ndarray, dtype: np.dtype[Any]) -> Binary:
    return Binary(zlib.compress(np.ascontiguousarray(array, dtype=dtype).tobytes(), 6))


def unpack(data: bytes, dtype: np.dtype[Any], shape: tuple[int, ...]) -> np.ndarray:
    raw = decompress(data)
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def pack_planes(array: np.ndarray, dtype: np.dtype[Any], *, dense: bool = False) -> Binary:
    """Like `pack`, but byte plane by byte plane (all first bytes, then all second bytes
    …): small integers leave the high planes all zeros, which zlib all but erases."""
    values = np.ascontiguousarray(array, dtype=dtype)
    planes = values.view(np.uint8).reshape(-1, dtype.itemsize).T
    return compress(np.ascontiguousarray(planes).tobytes(), dense=dense)


def unpack_planes(data: bytes, dtype: np.dtype[Any], count: int) -> np.ndarray:
    """The `count` values `pack_planes` packed, as int64."""
    raw = np.frombuffer(decompress(data), np.uint8).reshape(dtype.itemsize, count)
    values = np.ascontiguousarray(raw.T).view(dtype).reshape(count)
    return values.astype(np.int64)


def join_names(names: Sequence[str]) -> str:
    return SEPARATOR.join(names)


def split_names(text: str, count: int) -> list[str]:
    """The `count` names `join_names` joined ("" alone is one empty name, or none)."""
    return text.split(SEPARATOR) if count else []


def pack_names(names: Sequence[str], *, dense: bool = False) -> Binary:
    """`join_names`, compressed: for long lists of long names (tag sets), which
    otherwise make up half a document."""
    return compress(join_names(names).encode("utf-8"), dense=dense)


def unpack_names(value: str | bytes, count: int) -> list[str]:
    """The names `pack_names` packed; a plain joined string (as documents written before
    compression hold) reads the same."""
    text = decompress(value).decode("utf-8") if isinstance(value, bytes) else value
    return split_names(text, count)


def zigzag(values: np.ndarray) -> np.ndarray:
    """Signed int64 values as unsigned-like ones, small magnitudes small (0, -1, 1, -2 …
    → 0, 1, 2, 3 …), so that their byte planes stay mostly zero."""
    signed = values.astype(np.int64)
    result: np.ndarray = (signed << 1) ^ (signed >> 63)
    return result


def unzigzag(values: np.ndarray) -> np.ndarray:
    unsigned = values.astype(np.int64)
    result: np.ndarray = (unsigned >> 1) ^ -(unsigned & 1)
    return result
