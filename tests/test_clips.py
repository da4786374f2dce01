"""Optional live-clip frames: streamlink reads the emulator's HLS clip over HTTP, PyAV
decodes it, frames land in GridFS beside the thumbnails."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from conftest import FROZEN_AT, SAMPLE_FRAMES, EmulatorFactory, FerretDB, collector_settings
from scheduler.app import build_collector
from scheduler.clips import FramesUndecodable, frames_from_clip
from store import FrameStore, frame_id
from twitch_client.clips import ClipUnavailable, read_clip

pytestmark = pytest.mark.integration
SLOT = FROZEN_AT


def test_a_clip_gives_k_frames_spread_over_it(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(frames_dir=SAMPLE_FRAMES, frozen_at=FROZEN_AT)  # stays live
    login = emulator.state.source.table().records[0]["user_login"]
    clip = read_clip(f"hls://{emulator.url}/hls/{login}/index.m3u8", seconds=10)
    frames = frames_from_clip(clip, 4, 160, 90)
    assert len(frames) == 4
    sizes = {Image.open(io.BytesIO(f)).size for f in frames}
    assert sizes == {(160, 90)}
    assert len(set(frames)) > 1  # spread over the clip, not one frame four times
    with pytest.raises(ClipUnavailable) as offline:
        read_clip(f"hls://{emulator.url}/hls/nobody_live_here/index.m3u8", seconds=2)
    # Twitch's plugin answers an offline channel with no streams; the generic HLS plugin
    # raises on the 404 playlist, which is read as offline too.
    assert offline.value.reason == "offline"
    with pytest.raises(FramesUndecodable, match=r"undecodable|no video"):
        frames_from_clip(b"\x47" * 5000, 3, 160, 90)


def test_the_collector_stores_clip_frames_when_configured(
    make_emulator: EmulatorFactory, ferretdb: FerretDB, database_name: str, tmp_path: Path
) -> None:
    emulator = make_emulator(frames_dir=SAMPLE_FRAMES, frozen_at=FROZEN_AT)
    settings = collector_settings(
        emulator.url,
        ferretdb.uri,
        database_name,
        tmp_path / "spool",
        frames_top=2,
        frames_random=0,
        frames_non_game=0,
        clip_frames=3,
        clip_streams=2,
        clip_seconds=10,
    )
    job = build_collector(settings, clock=lambda: FROZEN_AT)  # frame retention ages by it
    summary = job.collect(SLOT)
    job.close()
    assert summary.frames == 2 + 2 * 3 and summary.frame_failures == 0
    frames = FrameStore(ferretdb.uri, database_name)
    documents = frames.frame_documents()
    assert Counter(d["metadata"]["source"] for d in documents) == {"thumbnail": 2, "clip": 6}
    for document in documents:
        if document["metadata"]["source"] == "clip":
            assert document["_id"] == frame_id(
                SLOT, document["metadata"]["stream_id"], "clip", document["metadata"]["clip_index"]
            )
    frames.db.client.drop_database(database_name)
    frames.close()
