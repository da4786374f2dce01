"""A moment's video cut out of an emulator clip: a valid MP4 of the asked seconds, from a
keyframe, with picture and sound, across a timestamp wrap; and VOD links."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import av
import numpy as np
import pytest

from emulator.cdn import PTS_WRAP_SEGMENTS, STILL_SIZE, clip_segment, drawn_frame
from emulator.helix import twitch_duration
from emulator.moments import CONFIGS, MomentSchedule
from highlights.cut import cut_moment
from highlights.decode import decode_clip
from highlights.errors import ClipUndecodable
from twitch_client import Archive
from twitch_client.errors import SchemaError
from twitch_client.videos import current_archive

SCHEDULE = MomentSchedule(CONFIGS["demo"], 7)


def _clip(first: int, segments: int = 30) -> bytes:
    still = drawn_frame("g:cut", *STILL_SIZE)
    return b"".join(
        clip_segment(still, "cutter", n, SCHEDULE) for n in range(first, first + segments)
    )


def _probe(data: bytes) -> dict[str, Any]:
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        first = next(container.decode(video))
        return {
            "format": container.format.name,
            "duration": float(container.duration or 0) / 1e6,
            "codecs": sorted(s.codec_context.name for s in container.streams),
            "first_key": first.key_frame,
            "first_time": float(first.time or 0),
        }


@pytest.mark.parametrize("first", [900_000_000, PTS_WRAP_SEGMENTS * 5 - 12])
def test_a_cut_is_an_mp4_of_the_asked_seconds_from_a_keyframe(first: int) -> None:
    # The second clip crosses the point where the segments' timestamps wrap to zero.
    data = _clip(first)
    cut = cut_moment(data, 23.3, 20.0)
    assert 22.0 <= cut.start <= 23.3  # the keyframe at or before the asked start
    probe = _probe(cut.data)
    assert "mp4" in probe["format"] and probe["codecs"] == ["aac", "h264"]
    assert probe["first_key"] and probe["first_time"] == pytest.approx(0.0, abs=0.01)
    assert probe["duration"] == pytest.approx(cut.seconds, abs=0.3)
    assert 20.0 <= cut.seconds <= 21.5
    decoded = decode_clip(cut.data)
    assert decoded.problems == {} and decoded.audio is not None
    assert decoded.seconds == pytest.approx(cut.seconds, abs=0.3)
    # The same pictures as the clip at those seconds (copied, not re-encoded).
    whole = decode_clip(data)
    at = round(cut.start * whole.fps)
    np.testing.assert_array_equal(decoded.frames[:8], whole.frames[at : at + 8])


def test_a_cut_past_the_clips_end_keeps_what_there_is() -> None:
    cut = cut_moment(_clip(900_000_000, 10), 15.0, 20.0)
    assert cut.seconds == pytest.approx(20.0 - cut.start, abs=0.3)


def test_what_is_no_clip_is_a_clear_error() -> None:
    with pytest.raises(ClipUndecodable):
        cut_moment(b"not a video at all" * 100, 0.0, 10.0)


def test_a_vod_link_points_at_the_moment_in_the_archive() -> None:
    archive = Archive("2001", "77", datetime(2026, 12, 6, 10, 0, tzinfo=UTC))
    moment = archive.created_at + timedelta(hours=1, minutes=2, seconds=3)
    assert archive.url_at(moment) == "https://www.twitch.tv/videos/2001?t=1h2m3s"
    assert archive.url_at(archive.created_at - timedelta(seconds=5)).endswith("?t=0h0m0s")
    assert twitch_duration(3 * 3600 + 8 * 60 + 33) == "3h8m33s" and twitch_duration(7) == "7s"


def test_the_current_archive_is_the_one_of_the_live_stream() -> None:
    asked: list[list[tuple[str, Any]]] = []

    def fetch(params: list[tuple[str, Any]]) -> Any:
        asked.append(params)
        return {
            "data": [
                {"id": "1", "stream_id": "5", "created_at": "2026-12-01T10:00:00Z"},
                {"id": "2", "stream_id": "9", "created_at": "2026-12-06T08:00:00Z"},
            ]
        }

    found = current_archive(fetch, "42", "9")
    assert found == Archive("2", "9", datetime(2026, 12, 6, 8, tzinfo=UTC))
    assert ("user_id", "42") in asked[0] and ("type", "archive") in asked[0]
    assert current_archive(fetch, "42", "10") is None  # archives off, or not this stream
    with pytest.raises(SchemaError):
        current_archive(
            lambda _: {"data": [{"id": "3", "stream_id": "4", "created_at": "x"}]}, "1", "4"
        )
    with pytest.raises(SchemaError):
        current_archive(lambda _: {"nothing": 1}, "1", "4")


def test_the_decoder_reads_a_clip_across_the_timestamp_wrap_as_one_minute() -> None:
    decoded = decode_clip(_clip(PTS_WRAP_SEGMENTS * 5 - 12))
    assert decoded.seconds == pytest.approx(60.0, abs=0.5)
    assert len(decoded.frames) == 240 and decoded.audio is not None
