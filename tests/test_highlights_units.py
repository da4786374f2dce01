"""Highlight features on synthetic signals with known answers, the clip decoder on good and
bad clips, and the per-second chat counts."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from chat.counts import MinuteCounts, shouted
from chat.irc import ChatMessage
from dashboard.highlights_view import game_highlight_rows
from highlights.dataset import load_folder
from highlights.decode import ClipUndecodable, decode_clip
from highlights.errors import HighlightDataError
from highlights.features import (
    AUDIO_RATE,
    CHAT_LAG_SECONDS,
    FAMILIES,
    FEATURES,
    audio_features,
    chat_features,
    clip_features,
    motion_features,
)

RNG = np.random.default_rng(3)


def _column(name: str) -> int:
    return FEATURES.index(name)


def test_a_loud_burst_rises_in_its_window_only() -> None:
    audio = (0.02 * RNG.standard_normal(60 * AUDIO_RATE)).astype(np.float32)
    audio[32 * AUDIO_RATE : 35 * AUDIO_RATE] *= 10  # 20 dB louder, inside window 3
    features = audio_features(audio, 6, None)
    loudness, peak = features[:, 0], features[:, 1]
    assert int(np.argmax(loudness)) == 3 and loudness[3] > 8
    assert np.all(np.abs(np.delete(loudness, 3)) < 1)
    assert peak[3] > 18  # the loudest quarter second: ~20 dB over the clip's median
    assert features[3, 2] > 1  # onsets: more spectral flux


def test_a_cut_counts_once_and_shaking_is_motion_without_cuts() -> None:
    fps = 4.0
    still = RNG.integers(0, 255, (36, 64)).astype(np.uint8)
    other = RNG.integers(0, 255, (36, 64)).astype(np.uint8)
    frames = np.stack([still] * 240)
    frames[125:] = other  # a cut at 31.25 s: window 3
    cut = motion_features(frames, fps, 6)
    assert cut[:, 2].tolist() == [0, 0, 0, 1, 0, 0]
    shaking = np.stack([still] * 240)
    for i in range(200, 220):  # 50–55 s: window 5, every frame moves
        shaking[i] = np.roll(still, 3 * (i % 5), axis=1)
    shaken = motion_features(shaking, fps, 6)
    assert int(np.argmax(shaken[:, 0])) == 5 and shaken[5, 0] > 2
    assert shaken[:, 2].sum() == 0


def test_a_chat_spike_rises_with_the_lag_and_counts_hype_and_shouting() -> None:
    chat = np.zeros((62, 3), np.int64)
    chat[:, 0] = 2
    chat[10 + CHAT_LAG_SECONDS : 20 + CHAT_LAG_SECONDS] = [12, 9, 6]  # window 1, seen 2 s later
    features = chat_features(chat, 6)
    assert int(np.argmax(features[:, 0])) == 1
    assert features[1, 0] == pytest.approx(np.log((12 + 0.1) / (2 + 0.1)), abs=1e-5)
    assert features[1, 2] == pytest.approx(6 / 12)
    # Hype emotes per message, over the clip's: 90 of 120 in the window, 90 of 220 in all
    assert features[1, 1] == pytest.approx(90 / 120 - 90 / 220, abs=1e-5)
    assert features[0, 1] == pytest.approx(-90 / 220, abs=1e-5)


def test_missing_signals_are_neutral_and_named() -> None:
    silent = np.zeros(60 * AUDIO_RATE, np.float32)
    frames = np.zeros((240, 36, 64), np.uint8)
    result = clip_features(silent, frames, 4.0, None, 6, None)
    assert result.missing == {"audio": "silent audio", "chat": "no chat counts"}
    audio_columns = [_column(n) for n in FAMILIES["audio"] + FAMILIES["chat"]]
    assert not result.values[:, audio_columns].any()
    assert result.values.shape == (6, len(FEATURES))


def _clip(seconds: int, *, audio: bool = True) -> bytes:
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mpegts") as container:
        video = container.add_stream("libx264", rate=4)
        video.width, video.height, video.pix_fmt = 64, 36, "yuv420p"
        sound = container.add_stream("aac", rate=AUDIO_RATE, layout="mono") if audio else None
        for i in range(seconds * 4):
            picture = np.full((36, 64, 3), (i * 7) % 255, np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            tone = (0.3 * np.sin(np.arange(seconds * AUDIO_RATE) / 5)).astype(np.float32)
            for i in range(0, tone.size, 1024):
                piece = av.AudioFrame.from_ndarray(
                    tone[i : i + 1024].reshape(1, -1), format="flt", layout="mono"
                )
                piece.sample_rate, piece.pts = AUDIO_RATE, i
                for packet in sound.encode(piece):
                    container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)
    return buffer.getvalue()


def test_the_decoder_places_frames_and_samples_and_says_what_is_missing() -> None:
    clip = decode_clip(_clip(12))
    assert clip.frames.shape == (48, 36, 64) and clip.seconds == pytest.approx(12, abs=0.3)
    assert clip.audio is not None and abs(clip.audio.size - 12 * AUDIO_RATE) < AUDIO_RATE / 4
    assert clip.problems == {}
    mute = decode_clip(_clip(12, audio=False))
    assert mute.audio is None and mute.problems == {"audio": "no audio track"}
    # A stream that went offline mid-clip: the bytes stop; what came is decoded.
    data = _clip(12)
    cut = decode_clip(data[: len(data) // 2 // 188 * 188])
    assert 3 < cut.seconds < 10
    with pytest.raises(ClipUndecodable) as bad:
        decode_clip(b"\x47" + bytes(5000))
    assert bad.value.reason in {"undecodable", "no video", "no video frames"}


def test_a_folder_without_usable_clips_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "broken.npz").write_bytes(b"not a zip")
    np.savez(tmp_path / "partial.npz", audio=np.zeros(10))
    with pytest.raises(
        HighlightDataError,
        match=r"no labelled clip \(\.npz\) in .* \(2 unreadable, e\.g\. broken\.npz: not an \.npz",
    ):
        load_folder(tmp_path)
    with pytest.raises(HighlightDataError, match="not a folder"):
        load_folder(tmp_path / "nowhere")


def _message(second: int, text: str, emotes: tuple[tuple[str, str, int], ...] = ()) -> ChatMessage:
    return ChatMessage(
        channel="followed",
        room_id="1",
        user_id="9",
        text=text,
        sent_ms=1_800_000_000_000 - 1_800_000_000_000 % 60_000 + second * 1000,
        subscriber=False,
        emote_only=False,
        emotes=tuple((i, uses) for i, _, uses in emotes),
        emote_names=tuple((i, name) for i, name, _ in emotes),
    )


def test_followed_channels_are_counted_per_second() -> None:
    assert shouted("LETS GOOO", set()) and not shouted("LUL gg", {"LUL"})
    assert shouted("NO WAY LUL", {"LUL"}) and not shouted("hi chat", set())
    counts = MinuteCounts(lambda *_: "free")
    counts.by_second = {"followed"}
    minute = counts.add(_message(5, "LUL LUL", (("425618", "LUL", 2),)))
    counts.add(_message(5, "WHAT A PLAY"))
    counts.add(_message(59, "gg"))
    counts.add(ChatMessage("other", "2", "8", "x", _message(5, "").sent_ms, False, False, (), ()))
    counts.listening(minute, ["followed", "other", "quiet"])
    entries = {e["channel"]: e for e in counts.entries(minute)}
    seconds = entries["followed"]["seconds"]
    assert seconds["messages"][5] == 2 and seconds["messages"][59] == 1
    assert sum(seconds["messages"]) == entries["followed"]["messages"] == 3
    assert seconds["hype"][5] == 2 and sum(seconds["hype"]) == 2
    assert seconds["shouted"][5] == 1 and sum(seconds["shouted"]) == 1
    assert "seconds" not in entries["other"] and "seconds" not in entries["quiet"]


def test_moments_per_stream_hour_by_game() -> None:
    shooter = {"game_id": "1", "game_name": "G", "genre": "Shooter"}
    entries = [
        {"login": "a", **shooter, "seconds": 60, "moments": 2},
        {"login": "b", **shooter, "seconds": 120, "moments": 1},
        {
            "login": "a",
            "game_id": "2",
            "game_name": "H",
            "genre": "RPG",
            "seconds": 1800,
            "moments": 3,
        },
    ]
    rows = {r["game_id"]: r for r in game_highlight_rows(entries)}
    assert rows["1"]["per_hour"] == pytest.approx(3 / (180 / 3600)) and rows["1"]["channels"] == 2
    assert rows["2"]["per_hour"] == pytest.approx(6.0) and rows["2"]["hours"] == 0.5
    assert [r["game_id"] for r in game_highlight_rows(entries)] == ["1", "2"]


def test_corrupt_audio_packets_are_counted_and_the_rest_is_kept() -> None:
    import av

    data = bytearray(_clip(20))
    noise = np.random.default_rng(5)
    with av.open(io.BytesIO(bytes(data))) as container:
        audio_pid = container.streams.audio[0].id
    seen = 0
    for offset in range(0, len(data), 188):  # MPEG-TS: 188-byte packets, PID in bytes 1–2
        if (data[offset + 1] & 0x1F) << 8 | data[offset + 2] == audio_pid:
            seen += 1
            if seen % 10 == 0:  # every tenth audio packet's payload becomes noise
                data[offset + 4 : offset + 188] = noise.integers(0, 256, 184, np.uint8).tobytes()
    clip = decode_clip(bytes(data))
    assert clip.problems["audio"].startswith("corrupt audio: ")
    assert clip.frames.shape[0] == 80  # the picture is untouched
    assert clip.audio is not None
    loud = np.abs(clip.audio[: 20 * AUDIO_RATE].reshape(-1, AUDIO_RATE // 10)).max(axis=1) > 0.01
    assert 0.8 < loud.mean() < 1.0  # most of the tone kept, silence where packets were lost
