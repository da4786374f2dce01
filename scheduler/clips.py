"""Frames from a few seconds of a live stream: streamlink reads it, PyAV decodes it.

Optional (`CLIP_FRAMES` > 0): a thumbnail is one frame every few minutes; a short clip gives
K frames spread over it, as the seed projects sampled segments. Let PyAV probe the
container: Twitch serves both MPEG-TS and fragmented MP4.
"""

from __future__ import annotations

import io

from scheduler.errors import FramesUndecodable
from twitch_client.clips import ClipUnavailable, read_clip

__all__ = ["ClipUnavailable", "FramesUndecodable", "frames_from_clip", "read_clip"]


def frames_from_clip(data: bytes, count: int, width: int, height: int) -> list[bytes]:
    """`count` JPEG frames spread evenly over the clip (decoding starts at a keyframe)."""
    import av

    images = []
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            images = [frame.to_image() for frame in container.decode(video=0)]  # type: ignore[no-untyped-call]
    except (av.error.FFmpegError, ValueError) as error:
        if not images:
            raise FramesUndecodable("undecodable", str(error)) from error
    if not images:
        raise FramesUndecodable("no video frames")
    step = len(images) / count
    chosen = [images[min(len(images) - 1, int(i * step + step / 2))] for i in range(count)]
    out = []
    for image in chosen:
        buffer = io.BytesIO()
        image.convert("RGB").resize((width, height)).save(buffer, format="JPEG", quality=85)
        out.append(buffer.getvalue())
    return out
