"""The dashboard's loader before the compact history, kept to measure it beside the new.

It read every per-snapshot rollup of the cross dimensions and the channels into one long
frame per dimension (strings as categorical codes), at start and after every rebuild.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from store import KEY_SEPARATOR, schema

CROSS_DIMENSIONS = ["genre_language", "game_language"]
LOADED_DIMENSIONS = [*CROSS_DIMENSIONS, "channel"]


class _Columns:
    def __init__(self, text: list[str], numbers: list[str]) -> None:
        self._codes: dict[str, tuple[dict[str, int], array[int]]] = {
            c: ({}, array("i")) for c in text
        }
        self._numbers: dict[str, array[int]] = {c: array("q") for c in numbers}
        self._slots: array[int] = array("q")

    def add(self, slot_ns: int, texts: tuple[str, ...], numbers: tuple[int, ...]) -> None:
        self._slots.append(slot_ns)
        for (lookup, codes), text in zip(self._codes.values(), texts, strict=True):
            codes.append(lookup.setdefault(text, len(lookup)))
        for column, number in zip(self._numbers.values(), numbers, strict=True):
            column.append(number)

    def frame(self) -> pd.DataFrame:
        data: dict[str, Any] = {
            "slot": pd.to_datetime(np.frombuffer(self._slots, dtype=np.int64), utc=True)
        }
        for name, (lookup, codes) in self._codes.items():
            data[name] = pd.Categorical.from_codes(
                np.frombuffer(codes, dtype=np.int32), categories=list(lookup)
            )
        for name, values in self._numbers.items():
            data[name] = np.frombuffer(values, dtype=np.int64)
        return pd.DataFrame(data)


def load(db: Any) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, set[datetime]]:
    """What the old `MarketData._load_everything` did: every rollup, one long frame each."""
    published = {
        d["slot"] for d in db[schema.SNAPSHOTS].find({"status": schema.COMPLETE}, {"slot": 1})
    }
    # Small batches: a batch of whole-market rollups can exceed FerretDB's 48 MB message.
    documents: Iterable[dict[str, Any]] = db[schema.ROLLUPS].find(
        {"dimension": {"$in": LOADED_DIMENSIONS}}, {"written_at": 0}, batch_size=16
    )
    cross = {
        d: _Columns(["key", "language", "name"], ["channels", "viewers"]) for d in CROSS_DIMENSIONS
    }
    channels = _Columns(["login", "name", "game_id", "language"], ["viewers", "rank"])
    slots: set[datetime] = set()
    for doc in documents:
        if doc["slot"] not in published:
            continue
        slots.add(doc["slot"])
        slot_ns = int(doc["slot"].timestamp()) * 1_000_000_000
        if doc["dimension"] == "channel":
            for g in doc["groups"]:
                texts = (g["key"], g.get("name", ""), g.get("game_id", ""), g.get("language", ""))
                channels.add(slot_ns, texts, (g["viewers"], g.get("rank", 0)))
        else:
            columns = cross[doc["dimension"]]
            for g in doc["groups"]:
                first, _, language = g["key"].rpartition(KEY_SEPARATOR)
                columns.add(
                    slot_ns, (first, language, g.get("name", "")), (g["channels"], g["viewers"])
                )
    return {d: c.frame() for d, c in cross.items()}, channels.frame(), slots
