"""OAuth (`/oauth2/...`) and Helix (`/helix/...`) endpoints of the emulator."""

from __future__ import annotations

import time
import zlib
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from emulator import cursors, emotes
from emulator.errors import cdn_503, helix_error, oauth_error
from emulator.market import Market
from emulator.state import Bucket, EmulatorState
from emulator.table import StreamTable

MAX_VALUES = 100
_CORRUPTIONS = ["viewer_count", "started_at", "user_login", "id", "not_an_object"]
_BROKEN_VALUES: dict[str, Any] = {
    "viewer_count": "lots",
    "started_at": "yesterday",
    "user_login": None,
}


def _form_or_query(name: str) -> str | None:
    # Docs send the token request form-encoded; many clients use the query string. Form wins.
    return request.form.get(name) or request.args.get(name)


def register(app: Flask, state: EmulatorState) -> None:
    settings = state.settings

    @app.post("/oauth2/token")
    def token() -> Response:
        client_id = _form_or_query("client_id")
        if client_id != state.client_id:
            return oauth_error(400, "invalid client")
        if _form_or_query("client_secret") != state.client_secret:
            return oauth_error(403, "invalid client secret")
        if _form_or_query("grant_type") != "client_credentials":
            return oauth_error(400, "unsupported grant type")
        access_token, expires_in = state.mint(client_id)
        return jsonify(
            {
                "access_token": access_token,
                "expires_in": expires_in,
                "token_type": "bearer",
                "refresh_token": "",
                "scope": [],
            }
        )

    @app.get("/oauth2/validate")
    def validate() -> Response:
        header = request.headers.get("Authorization", "")
        value = header.split(" ", 1)[1] if " " in header else ""
        found = state.tokens.get(value)
        if found is None or found.expires_at < time.time():
            return oauth_error(401, "invalid access token")
        return jsonify(
            {
                "client_id": found.client_id,
                "scopes": [],
                "expires_in": int(found.expires_at - time.time()),
            }
        )

    @app.post("/oauth2/revoke")
    def revoke() -> Response:
        with state.lock:
            state.tokens.pop(_form_or_query("token") or "", None)
        return Response(status=200)

    def guard() -> tuple[Response | None, dict[str, str]]:
        """Auth, the rate-limit bucket and injected faults, in Helix's order."""
        if settings.latency_ms:
            time.sleep(settings.latency_ms / 1000.0)
        state.count("helix_requests")
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:]:
            return helix_error(401, "OAuth token is missing"), {}
        now = time.time()
        with state.lock:
            found = state.tokens.get(header[7:])
            if found is not None:
                found.uses += 1
                ttl = settings.token_ttl_requests
                if found.expires_at < now or (ttl and found.uses > ttl):
                    del state.tokens[header[7:]]
                    state.counters["tokens_died"] += 1
                    found = None
        if found is None:
            return helix_error(401, "Invalid OAuth token"), {}
        if request.headers.get("Client-Id") != found.client_id:
            return helix_error(401, "Client ID and OAuth token do not match"), {}
        with state.lock:
            bucket = state.buckets.setdefault(
                found.client_id,
                Bucket(settings.helix_points_per_minute, settings.helix_points_per_minute),
            )
            allowed = bucket.take(now)
            headers = bucket.headers(now)
        if not allowed:
            state.count("rate_limited")
            return helix_error(429, "Too Many Requests"), headers
        if state.roll(settings.error_rate):
            kind = state.choose(["429", "500", "503"])
            state.count(f"injected_{kind}")
            if kind == "429":
                headers = {
                    **headers,
                    "Ratelimit-Remaining": "0",
                    "Ratelimit-Reset": str(int(now + settings.fault_429_wait_seconds + 0.999)),
                }
                return helix_error(429, "Too Many Requests"), headers
            if kind == "500":
                return helix_error(500, "Internal Server Error"), headers
            return cdn_503(), headers
        return None, headers

    def respond(body: Any, headers: dict[str, str]) -> Response:
        response = jsonify(body)
        response.headers.update(headers)
        return response

    def fail(response: Response, headers: dict[str, str]) -> Response:
        response.headers.update(headers)
        return response

    def corrupt(record: dict[str, Any]) -> Any:
        """A broken copy of `record` (which field breaks depends on the stream id)."""
        kind = _CORRUPTIONS[int(record["id"]) % len(_CORRUPTIONS)]
        with state.lock:
            state.malformed_served[record["id"]] = kind
        if kind == "not_an_object":
            return [record["id"], record["user_login"]]
        bad = dict(record)
        # A broken id is the id as a number: Helix ids are strings, and being opaque, any
        # other string would be a valid one.
        bad[kind] = int(record["id"]) if kind == "id" else _BROKEN_VALUES[kind]
        return bad

    @app.get("/helix/streams")
    def streams() -> Response:
        error, headers = guard()
        if error is not None:
            return fail(error, headers)
        args = request.args
        lists = {
            name: args.getlist(name) for name in ("user_id", "user_login", "game_id", "language")
        }
        for name, values in lists.items():
            if len(values) > MAX_VALUES:
                return fail(
                    helix_error(400, f'The parameter "{name}" was malformed: too many values'),
                    headers,
                )
        if args.get("type", "all") not in ("all", "live"):
            return fail(helix_error(400, 'The parameter "type" was malformed'), headers)
        try:
            first = int(args.get("first", "20"))
        except ValueError:
            first = 0
        if not 1 <= first <= 100:
            return fail(
                helix_error(400, 'The parameter "first" was malformed: must be 1..100'), headers
            )
        table = state.source.table().filter(
            user_ids=set(lists["user_id"]),
            logins=set(lists["user_login"]),
            game_ids=set(lists["game_id"]),
            languages=set(lists["language"]),
        )
        try:
            page, cursor = _page(state, table, first, args.get("after"), args.get("before"))
        except ValueError:
            state.count("invalid_cursor")
            return fail(helix_error(400, "invalid cursor"), headers)
        data = [corrupt(r) if state.is_malformed(r["id"]) else r for r in page]
        state.count("stream_pages")
        return respond({"data": data, "pagination": {"cursor": cursor} if cursor else {}}, headers)

    @app.get("/helix/games")
    def games() -> Response:
        error, headers = guard()
        if error is not None:
            return fail(error, headers)
        ids, names, igdb_ids = (request.args.getlist(k) for k in ("id", "name", "igdb_id"))
        if not (ids or names or igdb_ids):
            return fail(
                helix_error(400, 'Missing required parameter "id", "name" or "igdb_id"'), headers
            )
        if len(ids) + len(names) + len(igdb_ids) > MAX_VALUES:
            return fail(
                helix_error(400, "Too many values: at most 100 ids, names and igdb_ids"), headers
            )
        found = [
            game_record(settings.base_url, g)
            for g in state.source.games()
            if g["id"] in ids or g["name"] in names or (g["igdb_id"] and g["igdb_id"] in igdb_ids)
        ]
        return respond({"data": found}, headers)

    template = (
        "https://static-cdn.jtvnw.net/emoticons/v2/{{id}}/{{format}}/{{theme_mode}}/{{scale}}"
    )

    @app.get("/helix/chat/emotes/global")
    def global_emotes() -> Response:
        error, headers = guard()
        if error is not None:
            return fail(error, headers)
        return respond({"data": emotes.global_helix(), "template": template}, headers)

    @app.get("/helix/chat/emotes")
    def channel_emotes() -> Response:
        error, headers = guard()
        if error is not None:
            return fail(error, headers)
        broadcaster = request.args.get("broadcaster_id", "")
        if not broadcaster:
            return fail(helix_error(400, 'Missing required parameter "broadcaster_id"'), headers)
        source = state.source
        index = source.channel_of_user_id(broadcaster) if isinstance(source, Market) else None
        found = (
            []
            if index is None or not isinstance(source, Market)
            else [
                e.helix(broadcaster)
                for e in emotes.channel_emotes(source.login_of(index), source.popularity_of(index))
            ]
        )
        return respond({"data": found, "template": template}, headers)

    @app.get("/helix/channels/followers")
    def channel_followers() -> Response:
        error, headers = guard()
        if error is not None:
            return fail(error, headers)
        if settings.followers_status in (401, 403):
            return fail(
                helix_error(settings.followers_status, "Missing scope: moderator:read:followers"),
                headers,
            )
        broadcaster = request.args.get("broadcaster_id", "")
        if not broadcaster:
            return fail(helix_error(400, 'Missing required parameter "broadcaster_id"'), headers)
        source = state.source
        index = source.channel_of_user_id(broadcaster) if isinstance(source, Market) else None
        total = (
            0
            if index is None or not isinstance(source, Market)
            else source.followers(index, source.now())
        )
        # An app token gets the total only, never the list (Helix's rule without the scope).
        return respond({"total": total, "data": [], "pagination": {}}, headers)

    @app.get("/helix/videos")
    def videos() -> Response:
        """A live channel's current archive (past broadcasts are not kept here); one in ten
        channels has archives switched off and gets none, as on Twitch."""
        error, headers = guard()
        if error is not None:
            return fail(error, headers)
        user_id = request.args.get("user_id", "")
        if not user_id:
            return fail(helix_error(400, 'Missing required parameter "user_id"'), headers)
        kind = request.args.get("type", "all")
        if kind not in ("all", "archive", "highlight", "upload"):
            return fail(helix_error(400, 'The parameter "type" was malformed'), headers)
        live = next((r for r in state.source.table().records if r["user_id"] == user_id), None)
        found = []
        if live is not None and kind in ("all", "archive") and archives_kept(live["user_login"]):
            found.append(archive_record(live, time.time() + settings.clock_offset_seconds))
        return respond({"data": found, "pagination": {}}, headers)

    @app.get("/helix/games/top")
    def top_games() -> Response:
        error, headers = guard()
        if error is not None:
            return fail(error, headers)
        try:
            first = int(request.args.get("first", "20"))
            offset = cursors.decode(request.args["after"]).offset if "after" in request.args else 0
        except ValueError:
            return fail(helix_error(400, "invalid cursor or first"), headers)
        if not 1 <= first <= 100:
            return fail(helix_error(400, 'The parameter "first" was malformed'), headers)
        viewers: dict[str, int] = {}
        for record in state.source.table().records:
            viewers[record["game_id"]] = viewers.get(record["game_id"], 0) + record["viewer_count"]
        ranked = sorted(
            (g for g in state.source.games() if g["id"] in viewers), key=lambda g: -viewers[g["id"]]
        )
        page = ranked[offset : offset + first]
        more = offset + first < len(ranked)
        body = {
            "data": [game_record(settings.base_url, g) for g in page],
            "pagination": {"cursor": cursors.encode_offset(offset + first)} if more else {},
        }
        return respond(body, headers)


def archives_kept(login: str) -> bool:
    return zlib.crc32(f"archives:{login}".encode()) % 10 != 0


def twitch_duration(seconds: int) -> str:
    """Seconds as Helix writes a video's duration and a VOD link its offset: `1h2m3s`."""
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, rest = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{rest}s"
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"


def archive_record(live: dict[str, Any], now: float) -> dict[str, Any]:
    """The archive a live stream is recorded into: it began with the stream and grows."""
    started = datetime.strptime(live["started_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    video_id = str(2_000_000_000 + int(live["id"]) % 1_000_000_000)
    return {
        "id": video_id,
        "stream_id": live["id"],
        "user_id": live["user_id"],
        "user_login": live["user_login"],
        "user_name": live["user_name"],
        "title": live["title"],
        "description": "",
        "created_at": live["started_at"],
        "published_at": live["started_at"],
        "url": f"https://www.twitch.tv/videos/{video_id}",
        "thumbnail_url": "",
        "viewable": "public",
        "view_count": 0,
        "language": live["language"],
        "type": "archive",
        "duration": twitch_duration(int(now - started.timestamp())),
        "muted_segments": None,
    }


def game_record(base_url: str, game: dict[str, str]) -> dict[str, str]:
    return {
        "id": game["id"],
        "name": game["name"],
        "igdb_id": game["igdb_id"],
        "box_art_url": f"{base_url}/cdn/ttv-boxart/{game['id']}-{{width}}x{{height}}.jpg",
    }


def _page(
    state: EmulatorState, table: StreamTable, first: int, after: str | None, before: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of `table` and the cursor to hand out, with the real API's quirks."""
    settings = state.settings
    start, stop = 0, first
    if after:
        if state.roll(settings.quirk_invalid_cursor):
            raise ValueError("intermittent invalid cursor")
        position = cursors.decode(after)
        if position.kind in ("degenerate", "end"):
            return [], cursors.DEGENERATE if position.kind == "degenerate" else None
        if position.kind == "key":
            start = table.after(position.viewers, position.stream_id)
        stop = start + first
    elif before:
        position = cursors.decode(before)
        if position.kind != "key":
            return [], None
        stop = table.before(position.viewers, position.stream_id)
        start = max(0, stop - first)
    if state.roll(settings.quirk_short_page):
        state.count("short_pages")
        stop = start + max(1, int(first * (0.4 + 0.2 * state.dice.random())))
    page = table.records[start:stop]
    if stop < len(table.records) and page:
        last = page[-1]
        return page, cursors.encode_key(last["viewer_count"], last["id"])
    if state.roll(settings.quirk_last_page_cursor):
        kind = state.choose(["loop", "loop", "end", "degenerate"])
        state.count(f"last_page_cursor_{kind}")
        return page, cursors.encode_special(kind)
    return page, None
