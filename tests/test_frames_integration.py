"""Frames over the wire: thumbnails from the emulator's CDN into GridFS on FerretDB, their
metadata, idempotence and retention."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from conftest import EmulatorFactory, FerretDB, collect_with_frames
from store import FrameStore, schema
from store import frame_id as frame_id_of

pytestmark = pytest.mark.integration
SLOT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_a_snapshot_stores_a_sample_of_real_frames_with_metadata_once(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    database_name: str,
    frames: FrameStore,
    tmp_path: Path,
) -> None:
    job = collect_with_frames(
        make_emulator,
        ferretdb,
        database_name,
        tmp_path,
        frames_top=5,
        frames_random=5,
        frames_non_game=4,
    )
    summary = job.collect(SLOT)
    assert summary.outcome == "stored" and summary.frames == 14 and summary.frame_failures == 0
    stored = frames.frame_documents()
    assert len(stored) == 14
    streams = {s["stream_id"]: s for s in frames.db[schema.STREAMS].find({"slot": SLOT})}
    games = frames.games({s["game_id"] for s in streams.values()})
    why = Counter(d["metadata"]["sampled_as"] for d in stored)
    assert why == {"top": 5, "random": 5, "non-game": 4}
    for document in stored:
        meta = document["metadata"]
        stream = streams[meta["stream_id"]]
        assert (meta["user_login"], meta["game_id"], meta["slot"]) == (
            stream["user_login"],
            stream["game_id"],
            SLOT,
        )
        if meta["sampled_as"] == "top":
            assert meta["rank"] <= 5
        if meta["sampled_as"] == "non-game":
            assert schema.genre_of(games[meta["game_id"]]) == schema.NON_GAME_GENRE
        data = frames.read_frame(document["_id"])
        assert len(data) == meta["bytes"] and Image.open(io.BytesIO(data)).size == (320, 180)
    # Bulk read equals single reads.
    ids = [d["_id"] for d in stored]
    assert frames.read_frames(ids) == {i: frames.read_frame(i) for i in ids}
    # Same slot again: the snapshot is skipped and no frame is stored twice.
    assert job.collect(SLOT).outcome == "skipped"
    assert len(frames.frame_documents()) == 14
    job.close()


def test_retention_deletes_by_age_then_by_count_with_their_labels(frames: FrameStore) -> None:
    now = SLOT
    for hours in range(6):
        slot = now - timedelta(hours=hours * 24)
        frame_id = frame_id_of(slot, f"s{hours}", "thumbnail")
        frames.put_frame(frame_id, b"\xff\xd8jpeg", {"slot": slot, "stream_id": f"s{hours}"})
        frames.write_labels([{"_id": f"{frame_id}@v", "frame_id": frame_id, "model_version": "v"}])
    deleted = frames.apply_retention(timedelta(days=3, hours=1), max_count=2, now=now)
    left = sorted(d["metadata"]["stream_id"] for d in frames.frame_documents())
    assert deleted == 4 and left == ["s0", "s1"]
    assert frames.labelled_frame_ids("v") == {
        frame_id_of(now, "s0", "thumbnail"),
        frame_id_of(now - timedelta(days=1), "s1", "thumbnail"),
    }
    assert frames.db[f"{schema.FRAMES_BUCKET}.chunks"].count_documents({}) == 2


def test_a_frame_stored_twice_keeps_the_first(frames: FrameStore) -> None:
    assert frames.put_frame("x", b"first", {"slot": SLOT, "stream_id": "s"})
    assert not frames.put_frame("x", b"second", {"slot": SLOT, "stream_id": "s"})
    assert frames.read_frame("x") == b"first"
    assert frames.db[f"{schema.FRAMES_BUCKET}.chunks"].count_documents({}) == 1
