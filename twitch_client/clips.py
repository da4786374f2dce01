"""A few seconds of a live stream's bytes, read by streamlink (Twitch or any HLS URL).

Only the lowest rendition is read by default: the frame sampler and the highlight detector
downscale anyway. The caller decodes (PyAV); Twitch serves MPEG-TS or fragmented MP4.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from requests import HTTPError
from streamlink.exceptions import NoPluginError, PluginError, StreamError
from streamlink.session.session import Streamlink

from twitch_client.errors import ClipUnavailable

__all__ = ["ClipUnavailable", "read_clip"]

CHUNK = 64 * 1024


def read_clip(
    url: str,
    seconds: float,
    *,
    quality: str = "worst",
    max_bytes: int = 8 * 1024 * 1024,
    session: Streamlink | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> bytes:
    """About `seconds` of the stream's bytes (less if it ends first)."""
    streamlink = session or Streamlink(options={"stream-timeout": 20})
    try:
        streams = streamlink.streams(url)
    except NoPluginError as error:
        raise ClipUnavailable("no plugin", url) from error
    except PluginError as error:
        # Twitch (and the emulator) answer an offline channel's playlist with 404.
        reason = "offline" if _status_of(error) == 404 else "plugin error"
        raise ClipUnavailable(reason, str(error)) from error
    if not streams:
        raise ClipUnavailable("offline")
    stream = streams.get(quality) or streams.get("worst") or next(iter(streams.values()))
    try:
        reader = stream.open()
    except StreamError as error:
        raise ClipUnavailable("stream error", str(error)) from error
    data = bytearray()
    deadline = clock() + seconds
    try:
        while clock() < deadline and len(data) < max_bytes:
            chunk = reader.read(CHUNK)
            if not chunk:
                break
            data += chunk
    except OSError as error:  # streamlink's read timeout
        if not data:
            raise ClipUnavailable("read timeout", str(error)) from error
    finally:
        reader.close()
    if not data:
        raise ClipUnavailable("empty")
    return bytes(data)


def _status_of(error: BaseException) -> int | None:
    """The HTTP status behind a streamlink error (it wraps requests' HTTPError), if any."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, HTTPError) and cause.response is not None:
            return cause.response.status_code
        cause = cause.__cause__ or cause.__context__
    return None
