"""A live clip's bytes (MPEG-TS or fragmented MP4) as grey frames and mono audio.

Samples and frames are placed by their timestamps, not by their order: each HLS segment
carries its own encoder delay, and a dropped segment must leave a gap, not shift what
follows. A timestamp that jumps back or far ahead (a new timeline) continues from the last one.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from highlights.errors import ClipUndecodable
from highlights.features import AUDIO_RATE
from highlights.timeline import Timeline

MOTION_SIZE = (64, 36)


@dataclass
class DecodedClip:
    frames: np.ndarray  # N × H × W grey, uint8
    fps: float
    audio: np.ndarray | None  # mono float32 at AUDIO_RATE, from the first frame's time
    seconds: float
    problems: dict[str, str] = field(default_factory=dict)  # family → reason


def decode_clip(data: bytes) -> DecodedClip:
    """Grey 64×36 frames and 16 kHz mono audio of a clip; audio problems are recorded
    in `problems`, a clip without any picture raises :class:`ClipUndecodable`."""
    import av

    pictures: list[tuple[float, np.ndarray]] = []
    problems: dict[str, str] = {}
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise ClipUndecodable("no video")
            stream = container.streams.video[0]
            rate = float(stream.average_rate or 4)
            timeline = Timeline()
            for frame in container.decode(stream):
                grey = frame.to_ndarray(format="gray", width=MOTION_SIZE[0], height=MOTION_SIZE[1])
                pictures.append((timeline.place(frame.time, 1 / rate), grey))
    except av.error.FFmpegError as error:
        if not pictures:
            raise ClipUndecodable("undecodable", str(error)) from error
        problems["motion"] = f"video cut short ({error})"
    if not pictures:
        raise ClipUndecodable("no video frames")
    pictures.sort(key=lambda p: p[0])
    seconds = pictures[-1][0] + 1 / rate
    audio = _decode_audio(data, seconds, problems)
    return DecodedClip(np.stack([p for _, p in pictures]), rate, audio, seconds, problems)


def _decode_audio(data: bytes, seconds: float, problems: dict[str, str]) -> np.ndarray | None:
    """Mono 16 kHz samples placed by time; a packet that cannot be decoded leaves silence
    in its place and is counted, the rest is kept."""
    import av

    buffer = np.zeros(int(seconds * AUDIO_RATE), np.float32)
    written = packets = bad = 0
    with av.open(io.BytesIO(data), mode="r") as container:
        if not container.streams.audio:
            problems["audio"] = "no audio track"
            return None
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
        timeline = Timeline(_first_video_time(data))
        try:
            for packet in container.demux(stream):
                packets += 1
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:
                    bad += 1
                    continue
                for frame in frames:
                    at = frame.time
                    for piece in resampler.resample(frame):
                        samples = piece.to_ndarray().reshape(-1)
                        place = timeline.place(at, samples.size / AUDIO_RATE)
                        begin, at = round(place * AUDIO_RATE), None
                        if begin < 0:
                            samples, begin = samples[-begin:], 0
                        end = min(begin + samples.size, buffer.size)
                        if end > begin:
                            buffer[begin:end] = samples[: end - begin]
                            written += end - begin
        except av.error.FFmpegError as error:  # the container itself ends badly
            problems["audio"] = f"audio cut short ({error})"
    if bad:
        problems["audio"] = f"corrupt audio: {bad} of {packets} packets undecodable"
    if not written:
        problems.setdefault("audio", "no audio decoded")
        return None
    return buffer


def _first_video_time(data: bytes) -> float | None:
    import av

    with av.open(io.BytesIO(data), mode="r") as container:
        for frame in container.decode(video=0):
            return frame.time
    return None
