"""Highlights end to end without a browser: the emulator's planted moments in its HLS clip
(streamlink + PyAV over HTTP) and chat (IRC, counted per second by the chat reader into
FerretDB), scored by a trained model, stored, and compared with the planted truth."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chat.daemon import ChatDaemon
from emulator.helix import archives_kept
from emulator.moments import CHAT_LAG_SECONDS, CONFIGS, MomentSchedule, window_labels
from emulator.server import EmulatorServer
from highlights.decode import decode_clip
from highlights.detect import ChannelGame, Detector
from highlights.model import HighlightModel
from settings import Settings
from store import (
    ChatStore,
    HighlightStore,
    Store,
    clip_features,
    highlight_day_id,
    read_channel_clips,
    read_moment_clip,
)
from store.schema import CHAT_MINUTES, HIGHLIGHT_FAILURES, HIGHLIGHT_GAMES, HIGHLIGHT_WINDOWS
from tests.conftest import EmulatorFactory, collector_settings
from twitch_client import Archive, TwitchClient

pytestmark = pytest.mark.integration
CLIP_SECONDS = 30
SEED = 7


def planted_start(login: str) -> float:
    """An emulator time from which the channel's next 30 s hold one clear highlight (with
    sound, action and chat) in the middle and nothing else planted around it."""
    schedule = MomentSchedule(CONFIGS["demo"], SEED)
    base = 1_900_000_000
    for candidate in range(base, base + 200_000, 10):
        moments = schedule.between(login, candidate - 15, candidate + 60)
        middle = [m for m in moments if candidate + 14 <= m.start and m.end <= candidate + 22]
        if len(moments) == 1 and len(middle) == 1 and middle[0].seconds >= 5:
            return float(candidate)
    raise AssertionError("no quiet stretch with one highlight")


def _top_login(emulator: EmulatorServer) -> str:
    market = emulator.state.source
    live = market.live_arrays(market.now())
    return market.login_of(int(live.channel[int(np.argmax(live.viewers))]))


async def _read_chat(daemon: ChatDaemon, emulator_now: Any, until: float) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(daemon.run(stop))
    while emulator_now() < until:
        await asyncio.sleep(0.2)
    stop.set()
    await task


def test_planted_moments_are_detected_from_clip_and_chat_and_stored(
    make_emulator: EmulatorFactory, store: Store, tmp_path: Path, highlight_model: Path
) -> None:
    probe = make_emulator(moments="demo")
    login = _top_login(probe)
    target = planted_start(login)
    emulator = make_emulator(
        moments="demo", clock_offset_seconds=target - time.time(), chat_joins_per_10s=200
    )
    offset = emulator.state.settings.clock_offset_seconds
    host, port = store.db.client.address or ("127.0.0.1", 27017)
    settings = collector_settings(
        emulator.url,
        f"mongodb://{host}:{port}/",
        store.db.name,
        tmp_path / "spool",
        chat_irc_url=emulator.chat_url,
        chat_flush_seconds=0.5,
        chat_follow_seconds=0.5,
        highlight_channels=login,
    )
    daemon = ChatDaemon(settings, ChatStore(store.db), TwitchClient(settings), channels=lambda: [])
    asyncio.run(_read_chat(daemon, lambda: time.time() + offset, target + CLIP_SECONDS + 2))

    model = HighlightModel.load(highlight_model)
    client = TwitchClient(settings)

    def archive_of(channel: str) -> Archive | None:
        stream = client.live_stream(channel)
        return None if stream is None else client.current_archive(stream.user_id, stream.id)

    detector = Detector(
        model,
        HighlightStore(store.db),
        settings.highlight_clip_url,
        CLIP_SECONDS,
        ["0of1"],
        clock=lambda: time.time() + offset,
        archive_of=archive_of,
    )
    result = detector.detect(login, ChannelGame("123", "Some Game", "Shooter"))
    assert result.status == "stored" and result.windows == 3
    assert result.problems == {}  # sound, picture and chat were all there

    (clip,) = read_channel_clips(store.db, login, [datetime.fromtimestamp(target, UTC)])
    start = clip["start"].timestamp()
    schedule = MomentSchedule(CONFIGS["demo"], SEED)
    (planted,) = schedule.between(login, start, start + 30)
    truth = window_labels([planted], start, 3, 10.0)
    assert truth.sum() >= 1  # the planted highlight is inside the clip
    overlap = [
        min(start + 10 * i + 10, planted.end) - max(start + 10 * i, planted.start) for i in range(3)
    ]
    # Chat answers a little later and for a few seconds more (emulator.moments)
    touched = [
        start + 10 * i < planted.end + CHAT_LAG_SECONDS + 5 and start + 10 * i + 10 > planted.start
        for i in range(3)
    ]
    probabilities = np.array(clip["probabilities"])
    threshold = model.main.threshold
    best = int(np.argmax(overlap))
    assert probabilities[best] >= threshold
    assert all(p < threshold for p, near in zip(probabilities, touched, strict=True) if not near)
    chosen = [m["window"] for m in clip["moments"]]
    assert best in chosen and all(touched[w] for w in chosen)
    for moment in clip["moments"]:
        assert moment["top_features"] and all(f["contribution"] > 0 for f in moment["top_features"])
    _assert_moment_videos_and_vod_links(store, emulator, login, clip["moments"], planted)
    # The chat features came from the per-second counts the reader stored.
    stored_seconds = 0
    for document in store.db[CHAT_MINUTES].find():
        for entry in document["channels"]:
            if entry["channel"] == login:
                assert sum(entry["seconds"]["messages"]) == entry["messages"]
                stored_seconds += 1
    assert stored_seconds >= 1
    # Chat rises most in a window the planted moment touches, and more than in any window it
    # does not. How much it rises is left to the unit tests: the emulator sends chat in real
    # time, and on a busy machine a delayed burst spreads over more seconds.
    chat_rise = clip_features(clip)["chat_rate_rise"]
    assert max(chat_rise) > 0 and touched[int(np.argmax(chat_rise))]
    assert all(r < max(chat_rise) for r, near in zip(chat_rise, touched, strict=True) if not near)
    # The day's index of clips by game says the same.
    index = store.db[HIGHLIGHT_GAMES].find_one()
    assert index is not None
    (entry,) = index["clips"].values()
    assert entry == {
        "login": login,
        "game_id": "123",
        "game_name": "Some Game",
        "genre": "Shooter",
        "seconds": 30.0,
        "moments": len(chosen),
    }


def _assert_moment_videos_and_vod_links(
    store: Store, emulator: EmulatorServer, login: str, moments: list[Any], planted: Any
) -> None:
    """Each moment's video is a valid MP4 around it, louder where the planted moment
    cheers; its VOD link points at the moment in the live stream's archive."""
    live = next(r for r in emulator.state.source.table().records if r["user_login"] == login)
    began = datetime.fromisoformat(live["started_at"])
    for moment in moments:
        found = read_moment_clip(store.db, moment["clip_id"])
        assert found is not None
        document, data = found
        meta = document["metadata"]
        assert meta["login"] == login and meta["moment"] == moment["time"]
        decoded = decode_clip(data)
        assert decoded.problems == {} and decoded.audio is not None
        assert decoded.seconds == pytest.approx(meta["seconds"], abs=0.3)
        start = meta["start"].timestamp()
        assert start <= moment["time"].timestamp() < start + meta["seconds"]
        assert meta["moment_offset"] == pytest.approx(moment["time"].timestamp() - start)
        assert start <= planted.start and planted.end <= start + meta["seconds"]
        loud = np.zeros(decoded.audio.size, bool)
        rate = decoded.audio.size / decoded.seconds
        loud[int((planted.start - start) * rate) : int((planted.end - start) * rate)] = True
        energy = decoded.audio.astype(np.float64) ** 2
        assert energy[loud].mean() > 2 * energy[~loud].mean()
        if archives_kept(login):  # one channel in ten keeps no archives, as on Twitch
            url = moment["vod_url"]
            assert url.startswith(
                f"https://www.twitch.tv/videos/{2_000_000_000 + int(live['id']) % 1_000_000_000}?t="
            )
            h, m, s = (int(part) for part in re.findall(r"\d+", url.split("?t=")[1]))
            assert h * 3600 + m * 60 + s == int((moment["time"] - began).total_seconds())
        else:
            assert "vod_url" not in moment


def test_a_clip_that_cannot_be_had_is_recorded_with_its_reason(
    make_emulator: EmulatorFactory, store: Store, highlight_model: Path
) -> None:
    emulator = make_emulator(moments="demo")
    detector = Detector(
        HighlightModel.load(highlight_model),
        HighlightStore(store.db),
        "hls://" + emulator.url + "/hls/{login}/index.m3u8?seconds={seconds}",
        30,
        ["0of1"],
    )
    result = detector.detect("nobody_live_here")
    assert result.status == "offline"
    (failure,) = store.db[HIGHLIGHT_FAILURES].find()
    assert failure["login"] == "nobody_live_here" and failure["reason"] == result.status
    # A live channel whose chat nobody reads is still scored, and says chat was missing.
    login = _top_login(emulator)
    scored = detector.detect(login)
    assert scored.status == "stored" and scored.problems == {"chat": "no chat counts"}


def _silent_clip(seconds: int) -> bytes:
    """An MPEG-TS clip whose picture moves and whose sound track is silent."""
    import io

    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mpegts") as container:
        video = container.add_stream("libx264", rate=4)
        video.width, video.height, video.pix_fmt = 64, 36, "yuv420p"
        sound = container.add_stream("aac", rate=16_000, layout="mono")
        for i in range(seconds * 4):
            frame = av.VideoFrame.from_ndarray(
                np.full((36, 64, 3), (i * 9) % 255, np.uint8), format="rgb24"
            )
            frame.pts = i
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        for i in range(0, seconds * 16_000, 1024):
            silence = np.zeros((1, 1024), np.float32)
            piece = av.AudioFrame.from_ndarray(silence, format="flt", layout="mono")
            piece.sample_rate, piece.pts = 16_000, i
            for packet in sound.encode(piece):
                container.mux(packet)
        for packet in sound.encode():
            container.mux(packet)
    return buffer.getvalue()


def test_silent_sound_and_a_stream_that_ends_mid_clip_are_scored_and_say_so(
    store: Store, highlight_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bad input loses nothing: what the clip has is scored and stored, what it lacked is
    named in the clip's problems."""
    import highlights.detect

    clips = {"silent": _silent_clip(30), "cut": _silent_clip(30)[: 188 * 600]}
    monkeypatch.setattr(highlights.detect, "read_clip", lambda url, seconds: clips[url])
    detector = Detector(
        HighlightModel.load(highlight_model), HighlightStore(store.db), "{login}", 30, ["0of1"]
    )
    silent = detector.detect("silent")
    assert silent.status == "stored" and silent.windows == 3
    assert silent.problems == {"audio": "silent audio", "chat": "no chat counts"}
    cut = detector.detect("cut")
    assert cut.status == "stored" and 1 <= cut.windows < 3
    assert cut.problems is not None and cut.problems["clip"].startswith("ended early")
    (stored,) = read_channel_clips(store.db, "cut", [datetime.now(UTC)])
    assert len(stored["probabilities"]) == cut.windows
    assert stored["problems"] == dict(cut.problems)
    clips["tiny"] = _silent_clip(30)[: 188 * 40]
    assert detector.detect("tiny").status.startswith(("too short", "undecodable", "no video"))
    assert store.db[HIGHLIGHT_FAILURES].count_documents({"login": "tiny"}) == 1


def _snapshot_and_top(
    make_emulator: EmulatorFactory, store: Store, tmp_path: Path
) -> tuple[EmulatorServer, Settings, dict[str, Any]]:
    """An emulator with planted moments, one snapshot of it stored, and its top stream."""
    from scheduler.app import build_collector
    from tests.conftest import FROZEN_AT

    emulator = make_emulator(moments="demo")
    host, port = store.db.client.address or ("127.0.0.1", 27017)
    settings = collector_settings(
        emulator.url, f"mongodb://{host}:{port}/", store.db.name, tmp_path / "spool",
        frames_top=0, frames_random=0, frames_non_game=0,
    )  # fmt: skip
    collector = build_collector(settings, clock=lambda: FROZEN_AT)
    collector.collect(FROZEN_AT)
    collector.close()
    top = store.db["streams"].find_one({"rank": 1})
    assert top is not None
    return emulator, settings, top


def test_the_detect_command_scores_the_followed_channels_with_their_games(
    make_emulator: EmulatorFactory,
    store: Store,
    tmp_path: Path,
    highlight_model: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from highlights.__main__ import main

    emulator, settings, top = _snapshot_and_top(make_emulator, store, tmp_path)
    for name, value in {
        "EMULATOR_URL": emulator.url,
        "MONGODB_URI": settings.mongodb_uri,
        "MONGODB_DB": store.db.name,
        "HIGHLIGHT_CHANNELS": f"{top['user_login'].upper()},nobody_live_here",
        "HIGHLIGHT_CLIP_SECONDS": "20",
        "TWITCH_CLIENT_ID": "",
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["detect", "--model", str(highlight_model)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["channel"] for line in lines] == [top["user_login"], "nobody_live_here"]
    assert lines[0]["status"] == "stored" and lines[0]["windows"] == 2
    assert lines[1]["status"] == "offline"
    (clip,) = read_channel_clips(store.db, top["user_login"], [datetime.now(UTC)])
    assert clip["game_id"] == top["game_id"] and clip["game_name"] == top["game_name"]
    assert (
        main(["evaluate", "--data", str(tmp_path / "nothing"), "--model", str(highlight_model)])
        == 2
    )
    assert "not a folder" in capsys.readouterr().err


def test_follow_and_unfollow_reach_a_running_detector(
    make_emulator: EmulatorFactory,
    store: Store,
    tmp_path: Path,
    highlight_model: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import subprocess
    import sys

    from highlights.__main__ import main
    from tests.conftest import ROOT

    emulator, settings, top = _snapshot_and_top(make_emulator, store, tmp_path)
    login = top["user_login"]
    env = {
        "EMULATOR_URL": emulator.url,
        "MONGODB_URI": settings.mongodb_uri,
        "MONGODB_DB": store.db.name,
        "HIGHLIGHT_CHANNELS": "",
        "HIGHLIGHT_TOP": "0",
        "HIGHLIGHT_CLIP_SECONDS": "10",
        "HIGHLIGHT_EVERY_MINUTES": "0.05",  # a round every 3 s
        "TWITCH_CLIENT_ID": "",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def clips() -> int:
        found = store.db[HIGHLIGHT_WINDOWS].find_one(
            {"_id": highlight_day_id(datetime.now(UTC), login)}
        )
        return len(found["clips"]) if found else 0

    detector = subprocess.Popen(
        [sys.executable, "-m", "highlights", "run", "--model", str(highlight_model)],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(4)  # a round or more with nothing followed
        assert clips() == 0
        # Bad logins are refused before anything is written.
        with pytest.raises(SystemExit):
            main(["follow", "<b>not a login</b>"])
        assert main(["follow", f"#{login.upper()}"]) == 0
        assert main(["follow", login]) == 0
        assert capsys.readouterr().out.splitlines() == [
            f"following {login}",
            f"{login} was followed already",
        ]
        assert main(["list", "--json"]) == 0
        (listed,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert listed["login"] == login
        deadline = time.monotonic() + 90
        while clips() == 0:
            assert detector.poll() is None, "the detector stopped"
            assert time.monotonic() < deadline, "the followed channel was never analysed"
            time.sleep(0.5)
        assert main(["unfollow", login]) == 0 and main(["unfollow", login]) == 0
        assert capsys.readouterr().out.splitlines() == [
            f"stopped following {login}",
            f"{login} was not followed",
        ]
        time.sleep(8)  # a round under way when it was unfollowed may still store its clip
        after = clips()
        time.sleep(8)  # two rounds or more: nothing new for the unfollowed channel
        assert clips() == after
        assert main(["list"]) == 0 and capsys.readouterr().out == ""
    finally:
        detector.terminate()
        detector.wait(30)


def test_moment_videos_are_kept_by_age_and_count_and_read_whole(store: Store) -> None:
    from datetime import timedelta

    import gridfs

    from store import prune_moment_clips, write_moment_clip
    from store.schema import MOMENT_CLIPS_BUCKET

    now = datetime(2026, 12, 6, 12, tzinfo=UTC)
    ages = {"a": 1, "b": 2, "c": 3, "d": 20}  # days
    ids = {}
    for login, days in ages.items():
        data = bytes([days]) * 300_000  # more than one GridFS chunk
        moment = now - timedelta(days=days)
        metadata = {
            "login": login,
            "moment": moment,
            "start": moment - timedelta(seconds=8),
            "seconds": 20.0,
            "moment_offset": 8.0,
            "content_type": "video/mp4",
        }
        ids[login] = write_moment_clip(store.db, data, metadata)  # type: ignore[arg-type]
        assert write_moment_clip(store.db, b"other", metadata) == ids[login]  # the first kept
    document, data = read_moment_clip(store.db, ids["b"]) or ({}, b"")
    assert data == bytes([2]) * 300_000 and document["metadata"]["login"] == "b"
    stored = store.db[f"{MOMENT_CLIPS_BUCKET}.chunks"].find({"files_id": ids["b"]})
    assert {c["_id"] for c in stored} == {
        f"{ids['b']}/0",
        f"{ids['b']}/1",
    }
    bucket = gridfs.GridFSBucket(store.db, bucket_name=MOMENT_CLIPS_BUCKET)
    assert bucket.open_download_stream(ids["b"]).read() == data  # a GridFS reader reads it
    bucket.upload_from_stream_with_id("e-1", "e-1.mp4", b"\x05" * 300_000, metadata=metadata)
    found = read_moment_clip(store.db, "e-1")  # stored by GridFS itself (ObjectId chunks)
    assert found is not None and found[1] == b"\x05" * 300_000
    bucket.delete("e-1")
    # 14 days and 2 clips at most: d is too old, c the oldest beyond two.
    assert prune_moment_clips(store.db, now, timedelta(days=14), 2) == 2
    left = {f["_id"] for f in store.db[f"{MOMENT_CLIPS_BUCKET}.files"].find()}
    assert left == {ids["a"], ids["b"]}
    chunks = {c["files_id"] for c in store.db[f"{MOMENT_CLIPS_BUCKET}.chunks"].find()}
    assert chunks == left
    assert read_moment_clip(store.db, ids["c"]) is None
    assert read_moment_clip(store.db, "../../etc") is None
