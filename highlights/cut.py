"""A moment's few seconds cut out of a live clip as an MP4 a browser plays, without
re-encoding: the clip's packets are copied from the video keyframe at or before the cut
to its end, their timestamps moved to start at zero.

The clip's timestamps are placed as `highlights.decode` places them: from its first
video frame, continuing across a timestamp that jumps back (a new HLS timeline).
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from highlights.errors import ClipUndecodable
from highlights.timeline import Timeline

if TYPE_CHECKING:  # PyAV is imported where a clip is cut, not when this module is
    from av.container import InputContainer
    from av.packet import Packet
    from av.stream import Stream


@dataclass(frozen=True)
class MomentCut:
    data: bytes  # MP4 (moov first, so a browser can start before the whole file)
    start: float  # seconds into the clip where the cut begins (a video keyframe)
    seconds: float  # its duration


@dataclass
class _Packet:
    stream: int  # 0 video, 1 audio
    at: float  # seconds from the clip's first video frame
    packet: Packet[Any]
    keyframe: bool
    step: float  # its duration in seconds


def cut_moment(data: bytes, start: float, seconds: float) -> MomentCut:
    """The part of `data` (MPEG-TS or MP4 with H.264 and AAC) from `start` seconds for
    `seconds`, beginning at the video keyframe at or before `start`."""
    import av

    try:
        source = av.open(io.BytesIO(data), mode="r")
    except av.error.FFmpegError as error:
        raise ClipUndecodable("undecodable", str(error)) from error
    with source:
        if not source.streams.video:
            raise ClipUndecodable("no video")
        streams = [source.streams.video[0], *source.streams.audio[:1]]
        packets = _placed(source, streams)
        keyframes = [p.at for p in packets if p.stream == 0 and p.keyframe and p.at <= start]
        if not keyframes:
            keyframes = [p.at for p in packets if p.stream == 0 and p.keyframe][:1]
        if not keyframes:
            raise ClipUndecodable("no video keyframe")
        begin, end = keyframes[-1], start + seconds
        chosen = [p for p in packets if begin <= p.at < end]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "moment.mp4"
            with av.open(
                str(path), mode="w", format="mp4", options={"movflags": "+faststart"}
            ) as out:
                targets = [out.add_stream_from_template(s) for s in streams]
                last_dts: list[int | None] = [None, None]
                for placed in chosen:
                    packet = placed.packet
                    base = streams[placed.stream].time_base or Fraction(1, 90_000)
                    pts = packet.pts or 0
                    shift = round((placed.at - begin) / base) - pts
                    dts = (packet.dts if packet.dts is not None else pts) + shift
                    previous = last_dts[placed.stream]
                    if previous is not None and dts <= previous:
                        # Independently encoded segments overlap by their audio priming:
                        # the muxer takes each instant once.
                        continue
                    last_dts[placed.stream] = dts
                    packet.pts, packet.dts = pts + shift, dts
                    packet.stream = targets[placed.stream]
                    out.mux(packet)
            cut = path.read_bytes()
    last = max((p.at for p in chosen if p.stream == 0), default=begin)
    return MomentCut(cut, begin, last - begin + _frame_seconds(streams[0]))


def _frame_seconds(stream: Stream) -> float:
    rate = getattr(stream, "average_rate", None) or getattr(stream, "guessed_rate", None)
    return float(1 / rate) if rate else 0.0


def _placed(source: InputContainer, streams: list[Stream]) -> list[_Packet]:
    """Every packet of the streams with a time, placed on the clip's one timeline."""
    import av

    first_video: float | None = None
    placed: list[_Packet] = []
    try:
        for packet in source.demux(streams):
            if packet.pts is None or packet.size == 0:
                continue
            index = streams.index(packet.stream)
            time = float(packet.pts * packet.time_base)
            if index == 0 and first_video is None:
                first_video = time
            step = float((packet.duration or 0) * packet.time_base)
            placed.append(_Packet(index, time, packet, bool(packet.is_keyframe), step))
    except av.error.FFmpegError:
        pass  # a clip cut short: what was read is kept
    if first_video is None:
        raise ClipUndecodable("no video frames")
    # Both streams measured from the first video frame, each continuing across a jump.
    clocks = [Timeline(first_video), Timeline(first_video)]
    for item in placed:
        item.at = clocks[item.stream].place(item.at, item.step)
    return placed
