"""The emulator obeys the API contract over real HTTP (what the client relies on)."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
import requests

from conftest import EmulatorFactory
from emulator.cdn import SEGMENT_SECONDS
from settings import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET

pytestmark = pytest.mark.integration


def token(url: str) -> str:
    answer = requests.post(
        f"{url}/oauth2/token",
        data={
            "client_id": EMULATOR_CLIENT_ID,
            "client_secret": EMULATOR_CLIENT_SECRET,
            "grant_type": "client_credentials",
        },
        timeout=5,
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    return str(body["access_token"])


def helix(url: str, path: str, access: str, params: Any = None) -> requests.Response:
    return requests.get(
        f"{url}/helix{path}",
        params=params,
        timeout=5,
        headers={"Authorization": f"Bearer {access}", "Client-Id": EMULATOR_CLIENT_ID},
    )


def test_oauth_errors_and_validate(make_emulator: EmulatorFactory) -> None:
    url = make_emulator().url
    wrong_id = requests.post(
        f"{url}/oauth2/token",
        params={"client_id": "nobody", "client_secret": "x", "grant_type": "client_credentials"},
        timeout=5,
    )
    assert (wrong_id.status_code, wrong_id.json()) == (
        400,
        {"status": 400, "message": "invalid client"},
    )
    wrong_secret = requests.post(
        f"{url}/oauth2/token",
        data={
            "client_id": EMULATOR_CLIENT_ID,
            "client_secret": "x",
            "grant_type": "client_credentials",
        },
        timeout=5,
    )
    assert wrong_secret.status_code == 403
    access = token(url)
    valid = requests.get(
        f"{url}/oauth2/validate", headers={"Authorization": f"OAuth {access}"}, timeout=5
    )
    assert valid.json()["client_id"] == EMULATOR_CLIENT_ID and valid.json()["scopes"] == []
    assert (
        requests.get(
            f"{url}/oauth2/validate", headers={"Authorization": "OAuth nope"}, timeout=5
        ).status_code
        == 401
    )


def test_helix_auth_failures_use_the_error_envelope(make_emulator: EmulatorFactory) -> None:
    url = make_emulator().url
    missing = requests.get(f"{url}/helix/streams", timeout=5)
    assert missing.status_code == 401 and missing.json()["message"] == "OAuth token is missing"
    assert helix(url, "/streams", "bogus").json() == {
        "error": "Unauthorized",
        "status": 401,
        "message": "Invalid OAuth token",
    }
    mismatch = requests.get(
        f"{url}/helix/streams",
        timeout=5,
        headers={"Authorization": f"Bearer {token(url)}", "Client-Id": "other"},
    )
    assert mismatch.json()["message"] == "Client ID and OAuth token do not match"


def test_streams_filters_paging_and_headers(make_emulator: EmulatorFactory) -> None:
    url = make_emulator().url
    access = token(url)
    first = helix(url, "/streams", access, {"first": 100})
    assert first.status_code == 200
    assert {"Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset"} <= set(first.headers)
    page = first.json()
    viewers = [s["viewer_count"] for s in page["data"]]
    assert len(viewers) == 100 and viewers == sorted(viewers, reverse=True)
    second = helix(
        url, "/streams", access, {"first": 100, "after": page["pagination"]["cursor"]}
    ).json()
    assert not {s["id"] for s in second["data"]} & {s["id"] for s in page["data"]}
    assert second["data"][0]["viewer_count"] <= viewers[-1]
    german = helix(
        url, "/streams", access, [("language", "de"), ("language", "fr"), ("first", 50)]
    ).json()["data"]
    assert german and {s["language"] for s in german} <= {"de", "fr"}
    game = helix(url, "/streams", access, {"game_id": "509658", "first": 20}).json()["data"]
    assert game and {s["game_name"] for s in game} == {"Just Chatting"}
    login = page["data"][3]["user_login"]
    assert [
        s["user_login"]
        for s in helix(url, "/streams", access, {"user_login": login}).json()["data"]
    ] == [login]
    assert helix(url, "/streams", access, {"first": 101}).status_code == 400
    assert helix(url, "/streams", access, {"type": "vod"}).status_code == 400
    assert (
        helix(url, "/streams", access, [("user_id", str(i)) for i in range(101)]).status_code == 400
    )
    bad = helix(url, "/streams", access, {"after": "garbage!"})
    assert (bad.status_code, bad.json()["message"]) == (400, "invalid cursor")


def test_rate_limit_bucket_answers_429_with_a_reset(make_emulator: EmulatorFactory) -> None:
    url = make_emulator(helix_points_per_minute=5).url
    access = token(url)
    statuses = [helix(url, "/streams", access, {"first": 1}).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    limited = helix(url, "/streams", access, {"first": 1})
    assert limited.headers["Ratelimit-Remaining"] == "0"
    assert int(limited.headers["Ratelimit-Reset"]) > time.time()


def test_injected_503_is_an_html_page(make_emulator: EmulatorFactory) -> None:
    url = make_emulator(error_rate=1.0, seed=3).url
    access = token(url)
    kinds = {
        helix(url, "/streams", access).headers["Content-Type"].split(";")[0] for _ in range(20)
    }
    assert kinds == {"application/json", "text/html"}


def test_games_and_top_games(make_emulator: EmulatorFactory) -> None:
    url = make_emulator().url
    access = token(url)
    games = helix(url, "/games", access, [("id", "509658"), ("id", "33214"), ("id", "0")]).json()[
        "data"
    ]
    assert {g["name"]: g["igdb_id"] for g in games} == {"Just Chatting": "", "Fortnite": "1905"}
    assert "{width}x{height}" in games[0]["box_art_url"]
    assert helix(url, "/games", access).status_code == 400
    top = helix(url, "/games/top", access, {"first": 5}).json()
    second = helix(
        url, "/games/top", access, {"first": 5, "after": top["pagination"]["cursor"]}
    ).json()
    assert len(top["data"]) == 5 and not {g["id"] for g in top["data"]} & {
        g["id"] for g in second["data"]
    }


def test_igdb_games_genres_and_rate_limit(make_emulator: EmulatorFactory) -> None:
    url = make_emulator().url
    access = token(url)
    headers = {"Authorization": f"Bearer {access}", "Client-ID": EMULATOR_CLIENT_ID}
    answer = requests.post(
        f"{url}/v4/games",
        data="fields name,genres.name; where id = (1905,121);",
        headers=headers,
        timeout=5,
    ).json()
    by_id = {g["id"]: g for g in answer}
    assert (
        by_id[1905]["name"] == "Fortnite" and {"id": 5, "name": "Shooter"} in by_id[1905]["genres"]
    )
    syntax = requests.post(f"{url}/v4/games", data="where name ~ *x*;", headers=headers, timeout=5)
    assert syntax.status_code == 400 and syntax.json()[0]["title"] == "Syntax Error"
    unauthorised = requests.post(f"{url}/v4/games", data="fields name;", timeout=5)
    assert (
        unauthorised.status_code == 401
        and "Authorization Failure" in unauthorised.json()["message"]
    )
    burst = [
        requests.post(
            f"{url}/v4/genres", data="fields name;", headers=headers, timeout=5
        ).status_code
        for _ in range(6)
    ]
    assert 429 in burst


def test_thumbnails_for_live_and_offline_channels(make_emulator: EmulatorFactory) -> None:
    url = make_emulator().url
    stream = helix(url, "/streams", token(url), {"first": 1}).json()["data"][0]
    live = requests.get(stream["thumbnail_url"].format(width=320, height=180), timeout=5)
    assert live.status_code == 200 and live.headers["Content-Type"] == "image/jpeg"
    assert live.content[:2] == b"\xff\xd8" and live.url.endswith("320x180.jpg")
    offline = requests.get(f"{url}/cdn/previews-ttv/live_user_nobody_here-320x180.jpg", timeout=5)
    assert offline.status_code == 200 and "404_preview-320x180" in offline.url
    assert offline.history and offline.history[0].status_code == 302


def test_frame_truth_matches_the_thumbnails_each_channel_serves(
    make_emulator: EmulatorFactory,
) -> None:
    """`/_emulator/shown/<login>` says what a channel's thumbnails show: its category's own
    game, another genre's game (planted), or a webcam shot for a non-game category."""
    import io

    from PIL import Image

    from conftest import SAMPLE_FRAMES
    from emulator.cdn import camera_frame, frame_from_dir

    url = make_emulator(frames_dir=SAMPLE_FRAMES, always_live=True).url
    access = token(url)
    streams = helix(url, "/streams", access, {"first": 100}).json()["data"]
    seen_camera = seen_game = 0
    game_of_category: dict[str, set[str]] = {}
    for stream in streams:
        truth = requests.get(f"{url}/_emulator/shown/{stream['user_login']}", timeout=5).json()
        assert truth["game_id"] == stream["game_id"]
        picture = requests.get(stream["thumbnail_url"].format(width=160, height=90), timeout=5)
        if truth["game"] is None:  # a camera shot: only non-game categories, never planted
            assert truth["genre"] is None and truth["planted"] is False
            assert picture.content == camera_frame(stream["user_login"], 160, 90)
            seen_camera += 1
            continue
        folder = SAMPLE_FRAMES / truth["genre"] / truth["game"]
        shown = [
            p for p in sorted(folder.iterdir()) if frame_from_dir(p, 160, 90) == picture.content
        ]
        assert len(shown) >= 1, "the thumbnail is a frame of the game the truth names"
        if not truth["planted"]:
            game_of_category.setdefault(stream["game_id"], set()).add(truth["game"])
            seen_game += 1
    assert seen_camera > 0 and seen_game > 0
    assert all(len(shown) == 1 for shown in game_of_category.values())  # one game a category
    assert requests.get(f"{url}/_emulator/shown/nobody_here", timeout=5).status_code == 404
    assert Image.open(io.BytesIO(camera_frame("x", 160, 90))).size == (160, 90)


def _first_chat_line_sent_ms(chat_url: str, login: str) -> int:
    """Join `login` over IRC and return the `tmi-sent-ts` of the first message read."""
    host, port = chat_url.removeprefix("irc://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as irc:
        irc.sendall(f"CAP REQ :twitch.tv/tags\r\nNICK justinfan1\r\nJOIN #{login}\r\n".encode())
        received = b""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            received += irc.recv(65536)
            for line in received.split(b"\r\n"):
                if b" PRIVMSG " in line:
                    return int(line.split(b"tmi-sent-ts=")[1].split(b";")[0])
    raise AssertionError(f"no chat from #{login} in 20 s")


def test_moving_the_listing_clock_leaves_chat_and_video_on_the_live_clock(
    make_emulator: EmulatorFactory,
) -> None:
    # A backfill moves the clock to past slots; chat stamps and HLS segments stay live
    # (a reader buckets `tmi-sent-ts` into minutes of its own clock).
    emulator = make_emulator(frozen_at=None, always_live=True, chat_rate_scale=50.0)
    login = emulator.state.source.login_of(0)
    past = "2026-01-01T00:00:00+00:00"
    moved = requests.post(f"{emulator.url}/_emulator/clock", json={"at": past}, timeout=5)
    assert moved.json()["now"].startswith("2026-01-01T00:00")
    access = token(emulator.url)
    listed = helix(emulator.url, "/streams", access, {"user_login": login}).json()["data"]
    assert listed and listed[0]["started_at"] < "2026-01-01T00:00:01Z"

    sent_ms = _first_chat_line_sent_ms(emulator.chat_url, login)
    assert abs(sent_ms / 1000 - time.time()) < 15

    playlist = requests.get(f"{emulator.url}/hls/{login}/index.m3u8", timeout=5).text
    sequence = int(playlist.split("#EXT-X-MEDIA-SEQUENCE:")[1].split()[0])
    assert abs(sequence * SEGMENT_SECONDS - time.time()) < 30
