"""Stream thumbnails: the JPEG frame Twitch's CDN keeps of each live stream.

An offline (or unknown) channel's preview URL redirects (302) to a grey
`ttv-static/404_preview` placeholder served with status 200, so the final URL, not the
status, tells a real frame from the placeholder. Thumbnails need no token and count
against no Helix bucket.
"""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import requests
from PIL import Image, UnidentifiedImageError

from twitch_client.errors import ThumbnailUnavailable

__all__ = ["ThumbnailUnavailable", "fetch_thumbnail", "on_cdn"]

PLACEHOLDER_MARK = "/ttv-static/404_preview"
PREVIEW_PATH = "/previews-ttv/"


def thumbnail_url(template: str, width: int, height: int) -> str:
    return template.replace("{width}", str(width)).replace("{height}", str(height))


def on_cdn(template: str, cdn_url: str) -> str:
    """The thumbnail template served from another CDN base (a mirror, proxy or mock).

    Helix templates look like `https://static-cdn.jtvnw.net/previews-ttv/live_user_x-…`;
    the part from `/previews-ttv/` on is kept under `cdn_url`. Any other shape keeps its
    path and query, and only its scheme and host change."""
    parts = urlsplit(template)
    base = cdn_url.rstrip("/")
    marker = parts.path.find(PREVIEW_PATH)
    path = parts.path[marker:] if marker >= 0 else parts.path
    return base + path + (f"?{parts.query}" if parts.query else "")


def fetch_thumbnail(
    session: requests.Session, template: str, width: int, height: int, *, timeout: float
) -> bytes:
    """The JPEG bytes of one stream's preview, or `ThumbnailUnavailable` with the reason:
    `offline` (placeholder), `http <status>`, `network`, `not a jpeg`, `empty`."""
    url = thumbnail_url(template, width, height)
    try:
        response = session.get(url, timeout=timeout, allow_redirects=True)
    except requests.RequestException as error:
        raise ThumbnailUnavailable("network", type(error).__name__) from error
    if PLACEHOLDER_MARK in response.url:
        raise ThumbnailUnavailable("offline", "redirected to the 404_preview placeholder")
    if response.status_code != 200:
        raise ThumbnailUnavailable(f"http {response.status_code}")
    body = response.content
    if not body:
        raise ThumbnailUnavailable("empty")
    try:
        with Image.open(io.BytesIO(body)) as image:
            image_format = image.format
            image.verify()  # catches truncated and corrupt files without decoding them all
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ThumbnailUnavailable("not a jpeg", str(error)) from error
    if image_format != "JPEG":
        raise ThumbnailUnavailable("not a jpeg", f"got {image_format}")
    return body
