"""The thumbnail CDN: stream previews (JPEG), box art, and the offline placeholder.

Live logins get a JPEG frame; anything else is redirected (302) to the grey
`404_preview` placeholder, as on Twitch, so clients must look at the final URL.
Frames come from `EMULATOR_FRAMES_DIR/<genre>/<game>/*` when set (see `FrameLibrary`),
else they are drawn. With frames, a non-game channel shows a synthetic webcam shot
(`camera_frame`), and `/_emulator/shown/<login>` tells what a channel's frames show.
"""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from flask import Flask, Response, jsonify, redirect, request
from PIL import Image, ImageDraw, ImageOps
from werkzeug.wrappers import Response as BaseResponse

from emulator.catalogue import IGDB_GENRES, Category
from emulator.moments import AUDIO_RATE, CONFIGS, MomentSchedule
from emulator.state import EmulatorState

_PREVIEW = re.compile(r"^live_user_(?P<login>[a-z0-9_]+)-(?P<w>\d{1,4})x(?P<h>\d{1,4})\.jpg$")
_SIZE = re.compile(r"^(?P<name>[\w]+)-(?P<w>\d{1,4})x(?P<h>\d{1,4})\.jpg$")
MAX_SIDE = 1920


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


@lru_cache(maxsize=512)
def drawn_frame(seed_text: str, width: int, height: int) -> bytes:
    """A deterministic synthetic 'game frame': coloured shapes on a per-game palette."""
    seed = zlib.crc32(seed_text.encode())
    palette = [
        ((seed >> s) & 0xFF, (seed >> (s + 5)) & 0xFF, (seed >> (s + 11)) & 0xFF) for s in (0, 3, 7)
    ]
    image = Image.new("RGB", (width, height), palette[0])
    draw = ImageDraw.Draw(image)
    for i in range(12):
        x = (seed * (i + 3)) % max(width, 1)
        y = (seed * (i + 7)) % max(height, 1)
        size = max(4, width // (4 + i))
        draw.rectangle((x, y, x + size, y + size // 2), fill=palette[1 + i % 2])
    return _jpeg(image)


SEGMENT_SECONDS = 2
CLIP_FPS = 4
CLIP_SIZE = (320, 180)
STILL_SIZE = (356, 200)  # the picture drifts over a still a little larger than the clip
PTS_WRAP_SEGMENTS = 1 << 12  # MPEG-TS timestamps are 33-bit: number segments modulo this


@lru_cache(maxsize=256)
def clip_segment(still_jpeg: bytes, login: str, number: int, schedule: MomentSchedule) -> bytes:
    """Two seconds (`number` × 2 s since the epoch) of H.264 + AAC in MPEG-TS: the still,
    drifting, with the channel's planted moments in its picture and sound."""
    import av  # optional: only the clip endpoints need PyAV
    import numpy as np

    with Image.open(io.BytesIO(still_jpeg)) as image:
        still = np.asarray(image.convert("RGB").resize(STILL_SIZE))
    start = number * SEGMENT_SECONDS
    frames = schedule.frames(login, still, start, SEGMENT_SECONDS * CLIP_FPS, CLIP_FPS)
    sound = schedule.audio(login, start, SEGMENT_SECONDS)
    offset = number % PTS_WRAP_SEGMENTS
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mpegts") as container:
        video = container.add_stream("libx264", rate=CLIP_FPS)
        video.width, video.height, video.pix_fmt = *CLIP_SIZE, "yuv420p"
        video.options = {"preset": "ultrafast", "g": str(CLIP_FPS)}
        audio = container.add_stream("aac", rate=AUDIO_RATE, layout="mono")
        for i, picture in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(picture[: CLIP_SIZE[1], : CLIP_SIZE[0]]), format="rgb24"
            )
            frame.pts = offset * SEGMENT_SECONDS * CLIP_FPS + i
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        chunk = 1024
        for i in range(0, sound.size, chunk):
            samples = sound[i : i + chunk].reshape(1, -1)
            piece = av.AudioFrame.from_ndarray(samples, format="flt", layout="mono")
            piece.sample_rate = AUDIO_RATE
            piece.pts = offset * SEGMENT_SECONDS * AUDIO_RATE + i
            for packet in audio.encode(piece):
                container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)
    return buffer.getvalue()


@lru_cache(maxsize=64)
def placeholder(width: int, height: int) -> bytes:
    return _jpeg(Image.new("RGB", (width, height), (100, 100, 100)))


@lru_cache(maxsize=256)
def frame_from_dir(path: Path, width: int, height: int) -> bytes:
    """A rendered game frame as a stream shows it: fitted whole into the stream's picture,
    black bars beside (a 4:3 game on a 16:9 stream), never stretched."""
    with Image.open(path) as image:
        return _jpeg(ImageOps.pad(image.convert("RGB"), (width, height), color=(0, 0, 0)))


@lru_cache(maxsize=512)
def camera_frame(seed_text: str, width: int, height: int) -> bytes:
    """A deterministic synthetic webcam shot of a streamer at a desk (a non-game stream):
    a wall with shelves, a lamp, a desk, a person and a microphone, in per-channel colours."""
    seed = zlib.crc32(seed_text.encode())

    def tone(shift: int, low: int, high: int) -> tuple[int, int, int]:
        red, green, blue = (low + ((seed >> (shift + 4 * i)) % (high - low)) for i in range(3))
        return red, green, blue

    w, h = width, height
    image = Image.new("RGB", (w, h), tone(0, 90, 200))  # the wall
    draw = ImageDraw.Draw(image)
    shelf = tone(5, 40, 120)
    for i in range(3 + seed % 3):  # shelves or posters behind the streamer
        x = (seed >> i) % max(w - w // 5, 1)
        draw.rectangle((x, h // 8 + i * h // 12, x + w // 5, h // 8 + i * h // 12 + h // 16), shelf)
    draw.ellipse((w // 20, h // 6, w // 20 + w // 10, h // 6 + w // 10), fill=(250, 240, 200))
    draw.rectangle((0, int(h * 0.72), w, h), fill=tone(9, 60, 160))  # the desk
    draw.rectangle(  # the person: shoulders, neck, head, hair
        (int(w * 0.3), int(h * 0.55), int(w * 0.7), int(h * 0.95)), fill=tone(13, 20, 230)
    )
    skin = tone(17, 140, 235)
    draw.rectangle((int(w * 0.46), int(h * 0.45), int(w * 0.54), int(h * 0.58)), fill=skin)
    draw.ellipse((int(w * 0.4), int(h * 0.2), int(w * 0.6), int(h * 0.5)), fill=skin)
    draw.chord((int(w * 0.39), int(h * 0.17), int(w * 0.61), int(h * 0.4)), 180, 360, fill=shelf)
    draw.rectangle(  # a microphone arm
        (int(w * 0.72), int(h * 0.35), int(w * 0.75), int(h * 0.72)), fill=(30, 30, 30)
    )
    draw.ellipse((int(w * 0.69), int(h * 0.3), int(w * 0.78), int(h * 0.42)), fill=(20, 20, 20))
    return _jpeg(image)


@dataclass(frozen=True)
class Shown:
    """What a channel's thumbnails show: a rendered game's frame (`path`) or, when `path` is
    None, a camera shot; `genre` is the genre of what is shown (None for a camera), and
    `planted` marks a channel that shows something other than its category."""

    path: Path | None
    genre: str | None
    planted: bool


class FrameLibrary:
    """Real frames for thumbnails, from `<frames_dir>/<genre>/<game>/*.jpg|png`.

    Each category plays one rendered game of its first true genre, the same for all its
    channels (a category is a game). Channels of a non-game category show a camera shot,
    except one in `NON_GAME_PLAYS` (by a hash of the login), who plays a game under it;
    and one channel in `OFF_CATEGORY` of a game category plays a game of another genre.
    Those two are the planted disagreements (`Shown.planted`) the classifier should find.
    """

    NON_GAME_PLAYS = 5
    OFF_CATEGORY = 10

    def __init__(self, frames_dir: Path | None, genre_of_game: dict[str, str | None]) -> None:
        self.genre_of_game = genre_of_game
        self.games: dict[str, list[list[Path]]] = {}  # genre -> games -> frames
        if frames_dir is not None and frames_dir.is_dir():
            for game_dir in sorted(p for p in frames_dir.glob("*/*") if p.is_dir()):
                frames = sorted(
                    p for p in game_dir.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")
                )
                if frames:
                    self.games.setdefault(game_dir.parent.name, []).append(frames)

    def shown(self, game_id: str, login: str) -> Shown:
        """What `login`'s thumbnails show while it streams category `game_id`."""
        if not self.games:
            return Shown(None, None, False)
        genre = self.genre_of_game.get(game_id)
        channel = zlib.crc32(login.encode())
        category = zlib.crc32(game_id.encode())
        if genre is None:  # a non-game category: most channels on camera
            if channel % self.NON_GAME_PLAYS:
                return Shown(None, None, False)
            return self._game(sorted(self.games), category ^ channel, channel, planted=True)
        if genre not in self.games:  # no rendered game of its genre: a stand-in game
            return self._game(sorted(self.games), category, channel, planted=False)
        if channel % self.OFF_CATEGORY != 3:
            return self._game([genre], category, channel, planted=False)
        others = sorted(g for g in self.games if g != genre) or [genre]
        return self._game(others, category ^ channel, channel, planted=others != [genre])

    def _game(self, genres: list[str], pick: int, channel: int, *, planted: bool) -> Shown:
        genre = genres[pick % len(genres)]
        games = self.games[genre]
        frames = games[(pick // 7) % len(games)]
        return Shown(frames[(channel // 11) % len(frames)], genre, planted)

    def frame(self, game_id: str, login: str) -> Path | None:
        return self.shown(game_id, login).path


def frame_library(frames_dir: Path | None, categories: list[Category]) -> FrameLibrary:
    """The frames a market's categories show: each by its first true genre."""
    return FrameLibrary(
        frames_dir,
        {c.twitch_id: (IGDB_GENRES[c.genre_ids[0]] if c.genre_ids else None) for c in categories},
    )


def register(app: Flask, state: EmulatorState) -> None:
    library = frame_library(state.settings.frames_dir, getattr(state.source, "categories", []))

    @app.get("/cdn/previews-ttv/<name>")
    def preview(name: str) -> BaseResponse:
        match = _PREVIEW.match(name)
        if not match:
            return Response("not found", status=404)
        width, height = min(int(match["w"]), MAX_SIDE), min(int(match["h"]), MAX_SIDE)
        login = match["login"]
        live = next((r for r in state.source.table().records if r["user_login"] == login), None)
        if live is None or width < 1 or height < 1:
            return redirect(
                f"/cdn/ttv-static/404_preview-{max(width, 1)}x{max(height, 1)}.jpg", code=302
            )
        state.count("thumbnails")
        path = library.frame(live["game_id"], login)
        if path is not None:
            body = frame_from_dir(path, width, height)
        elif library.games:
            body = camera_frame(login, width, height)
        else:
            body = drawn_frame(f"{live['game_id']}:{login}", width, height)
        return Response(body, mimetype="image/jpeg", headers={"Cache-Control": "max-age=300"})

    schedule = MomentSchedule(CONFIGS[state.settings.moments], state.settings.seed)

    @app.get("/hls/<login>/index.m3u8")
    def hls_playlist(login: str) -> Response:
        """The last `seconds` (default 6, at most 120) of a live channel as an HLS clip,
        for streamlink + PyAV: `hls://<emulator>/hls/<login>/index.m3u8?seconds=30`. Its
        segments are numbered from the epoch, so a segment is the same on every request."""
        if not any(r["user_login"] == login for r in state.source.table().records):
            return Response("offline", status=404)
        seconds = min(max(request.args.get("seconds", 6, type=int) or 6, 2), 120)
        last = int(state.live_clock.now() // SEGMENT_SECONDS)
        first = last - max(1, seconds // SEGMENT_SECONDS)
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{SEGMENT_SECONDS}"]
        lines += [f"#EXT-X-MEDIA-SEQUENCE:{first}", "#EXT-X-PLAYLIST-TYPE:VOD"]
        for number in range(first, last):
            when = datetime.fromtimestamp(number * SEGMENT_SECONDS, UTC)
            lines += [f"#EXT-X-PROGRAM-DATE-TIME:{when.isoformat(timespec='milliseconds')}"]
            lines += [f"#EXTINF:{SEGMENT_SECONDS:.1f},", f"seg{number}.ts"]
        lines.append("#EXT-X-ENDLIST")
        return Response("\n".join(lines) + "\n", mimetype="application/vnd.apple.mpegurl")

    @app.get("/hls/<login>/seg<int:number>.ts")
    def hls_segment(login: str, number: int) -> Response:
        live = next((r for r in state.source.table().records if r["user_login"] == login), None)
        if live is None or number * SEGMENT_SECONDS > state.live_clock.now():
            return Response("not found", status=404)
        path = library.frame(live["game_id"], login)
        if path is not None:
            still = frame_from_dir(path, *STILL_SIZE)
        elif library.games:
            still = camera_frame(login, *STILL_SIZE)
        else:
            still = drawn_frame(f"{live['game_id']}:{login}", *STILL_SIZE)
        return Response(clip_segment(still, login, number, schedule), mimetype="video/mp2t")

    @app.get("/_emulator/shown/<login>")
    def shown(login: str) -> Response:
        """The truth behind a live channel's frames: which rendered game (or camera) they
        show, its genre, and whether that differs from the channel's category."""
        live = next((r for r in state.source.table().records if r["user_login"] == login), None)
        if live is None:
            return Response("offline", status=404)
        what = library.shown(live["game_id"], login)
        return jsonify(
            game_id=live["game_id"],
            game=what.path.parent.name if what.path else None,
            genre=what.genre,
            planted=what.planted,
        )

    @app.get("/cdn/ttv-static/<name>")
    def static_placeholder(name: str) -> Response:
        match = _SIZE.match(name)
        if not match or match["name"] != "404_preview":
            return Response("not found", status=404)
        width, height = min(int(match["w"]), MAX_SIDE), min(int(match["h"]), MAX_SIDE)
        return Response(placeholder(max(width, 1), max(height, 1)), mimetype="image/jpeg")

    @app.get("/cdn/ttv-boxart/<name>")
    def box_art(name: str) -> Response:
        match = _SIZE.match(name)
        if not match:
            return Response("not found", status=404)
        width, height = min(int(match["w"]), MAX_SIDE), min(int(match["h"]), MAX_SIDE)
        return Response(
            drawn_frame(f"boxart:{match['name']}", max(width, 1), max(height, 1)),
            mimetype="image/jpeg",
        )
