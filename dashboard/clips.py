"""Moment videos, read-only at `/clips/<id>.mp4`, with HTTP range requests: a browser's
`<video>` asks for the part it needs (and to seek), not always the whole file."""

from __future__ import annotations

import io
import threading

from cachetools import LRUCache
from flask import Flask, Response, send_file

from store import MOMENT_CLIP_ID, StoreError, StoreReader

CACHE_BYTES = 16 * 2**20  # a clip is a few hundred kB; its ranges are asked for in turns


def register(server: Flask, reader: StoreReader) -> None:
    """Add the clip route to the dashboard's Flask server."""
    cache: LRUCache[str, bytes] = LRUCache(CACHE_BYTES, getsizeof=len)
    lock = threading.Lock()

    @server.get("/clips/<clip_id>.mp4")
    def moment_clip(clip_id: str) -> Response:
        if not MOMENT_CLIP_ID.match(clip_id):
            return Response("no such clip", status=404, mimetype="text/plain")
        with lock:
            data = cache.get(clip_id)
        if data is None:
            try:
                found = reader.moment_clip(clip_id)
            except StoreError:
                return Response("the database cannot be reached", status=503, mimetype="text/plain")
            if found is None:
                return Response("no such clip", status=404, mimetype="text/plain")
            data = found[1]
            with lock:
                cache[clip_id] = data
        return send_file(
            io.BytesIO(data),
            mimetype="video/mp4",
            conditional=True,  # answers Range with 206 and the part asked for
            etag=f"{clip_id}-{len(data)}",
            max_age=86_400,
            download_name=f"{clip_id}.mp4",
        )
