"""Frames without TensorFlow: sampling choices, thumbnail failures, dataset splits and
decoding, and predicted genres in the rollups."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from classifier.dataset import Example, decode, decode_examples, examples_from_dir, split
from classifier.errors import DatasetError
from classifier.label import disagrees_with_category, game_genres
from conftest import ROOT, SAMPLE_FRAMES
from dashboard.model_quality import FEW_VALIDATION_FRAMES, model_quality
from scheduler.app import frame_policy
from scheduler.frames import choose_streams
from settings import Settings
from store import schema
from twitch_client.thumbnails import ThumbnailUnavailable, fetch_thumbnail

SAMPLE = SAMPLE_FRAMES
SLOT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def jpeg(size: tuple[int, int] = (32, 18), kind: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=kind)
    return buffer.getvalue()


def stream(i: int, game: str) -> dict[str, Any]:
    return {
        "stream_id": f"s{i}",
        "rank": i,
        "game_id": game,
        "user_login": f"u{i}",
        "viewer_count": 1000 - i,
        "language": "en",
        "game_name": game,
    }


def test_sample_takes_top_then_non_game_budget_then_random_without_repeats() -> None:
    streams = [stream(i, "chat" if i % 3 == 0 else "game") for i in range(1, 61)]
    games = {"chat": {"primary_genre": schema.NON_GAME_GENRE}, "game": {"primary_genre": "Shooter"}}
    policy = frame_policy(
        Settings(_env_file=None, frames_top=5, frames_random=7, frames_non_game=4)  # type: ignore[call-arg]
    )
    chosen = choose_streams(streams, games, policy, random.Random(1))
    ids = [s["stream_id"] for s, _ in chosen]
    assert len(ids) == len(set(ids)) == 16
    assert [s["rank"] for s, why in chosen if why == "top"] == [1, 2, 3, 4, 5]
    non_game = [s for s, why in chosen if why == "non-game"]
    assert len(non_game) == 4 and all(s["game_id"] == "chat" for s in non_game)
    assert [s["rank"] for s in non_game] == [6, 9, 12, 15]  # by rank, after the top
    # The same seed (slot) samples the same streams; a tiny snapshot gives what it has.
    assert chosen == choose_streams(streams, games, policy, random.Random(1))
    assert len(choose_streams(streams[:3], games, policy, random.Random(1))) == 3


class FakeResponse:
    def __init__(self, url: str, status: int, content: bytes) -> None:
        self.url, self.status_code, self.content = url, status, content


class FakeSession:
    def __init__(self, response: FakeResponse | Exception) -> None:
        self.response = response

    def get(self, url: str, **_: Any) -> FakeResponse:
        if isinstance(self.response, Exception):
            raise self.response
        return self.response


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (FakeResponse("https://cdn/ttv-static/404_preview-320x180.jpg", 200, jpeg()), "offline"),
        (
            FakeResponse("https://cdn/previews-ttv/live_user_a-320x180.jpg", 404, b"nope"),
            "http 404",
        ),
        (FakeResponse("https://cdn/previews-ttv/live_user_a-320x180.jpg", 200, b""), "empty"),
        (
            FakeResponse("https://cdn/previews-ttv/live_user_a-320x180.jpg", 200, b"<html>"),
            "not a jpeg",
        ),
        (
            FakeResponse("https://cdn/previews-ttv/live_user_a-320x180.jpg", 200, jpeg(kind="PNG")),
            "not a jpeg",
        ),
        (
            FakeResponse("https://cdn/previews-ttv/live_user_a-320x180.jpg", 200, jpeg()[:40]),
            "not a jpeg",
        ),
        (requests.ConnectionError("refused"), "network"),
    ],
)
def test_thumbnail_failures_have_a_reason(response: Any, reason: str) -> None:
    session: Any = FakeSession(response)
    template = "https://cdn/previews-ttv/live_user_a-{width}x{height}.jpg"
    with pytest.raises(ThumbnailUnavailable) as caught:
        fetch_thumbnail(session, template, 320, 180, timeout=1)
    assert caught.value.reason == reason


def test_a_live_thumbnail_is_returned_as_is() -> None:
    body = jpeg((320, 180))
    session: Any = FakeSession(
        FakeResponse("https://cdn/previews-ttv/live_user_a-320x180.jpg", 200, body)
    )
    assert (
        fetch_thumbnail(session, "https://cdn/x-{width}x{height}.jpg", 320, 180, timeout=1) == body
    )


def test_examples_from_a_folder_know_genre_game_package_and_episode() -> None:
    examples = examples_from_dir(SAMPLE)
    assert len(examples) == len(list(SAMPLE.glob("*/*/*.jpg")))
    doom = [e for e in examples if e.game == "vizdoom-freedoom1"]
    assert doom and all(e.genre == "Shooter" and e.package == "vizdoom" for e in doom)
    assert all(e.group.startswith(f"{e.game}/ep") for e in examples)
    with pytest.raises(DatasetError, match=r"no \.jpg/\.png"):
        examples_from_dir(ROOT / "docs")


def test_splits_never_share_a_game_or_group_and_cover_each_genre_with_enough_games() -> None:
    examples = examples_from_dir(SAMPLE)
    for by, key in (("game", lambda e: e.game), ("group", lambda e: e.group)):
        parts = split(examples, by, seed=7)  # type: ignore[arg-type]
        keys = [{key(e) for e in part} for part in (parts.train, parts.validation, parts.test)]
        assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])
        assert sum(map(len, (parts.train, parts.validation, parts.test))) == len(examples)
    parts = split(examples, "game", seed=7)
    games_per_genre: dict[str, set[str]] = {}
    for e in examples:
        games_per_genre.setdefault(e.genre, set()).add(e.game)
    tested = {e.genre for e in parts.test}
    assert tested == {g for g, games in games_per_genre.items() if len(games) >= 2}
    assert split(examples, "game", seed=7) == parts  # reproducible


def test_decoding_reports_unreadable_images_and_keeps_going(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    good.write_bytes(jpeg((40, 30), "PNG"))
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "truncated.jpg").write_bytes(jpeg((64, 64))[:100])
    (tmp_path / "text.jpg").write_text("hello")
    examples = [
        Example(str(tmp_path / n), "Shooter", "g", "g/1", "local")
        for n in ("good.png", "empty.jpg", "truncated.jpg", "text.jpg", "missing.jpg")
    ]
    decoded = decode_examples(examples, 16)
    assert decoded.images.shape == (1, 16, 16, 3) and decoded.examples == examples[:1]
    assert [Path(ref).name for ref, _ in decoded.failures] == [
        "empty.jpg",
        "truncated.jpg",
        "text.jpg",
        "missing.jpg",
    ]
    with pytest.raises(ValueError, match="empty image"):
        decode(b"", 16)


def test_a_stream_counts_under_the_catalogue_genre_else_the_classifier_genre() -> None:
    assert schema.genre_of_stream(None) == "Unknown"
    assert schema.genre_of_stream({"primary_genre": "Shooter"}) == "Shooter"
    assert schema.genre_of_stream({"primary_genre": "Shooter", "classifier_genre": "Puzzle"}) == (
        "Shooter"
    )
    assert schema.genre_of_stream({"classifier_genre": "Racing"}) == "Racing (classifier)"
    assert schema.genre_of({"classifier_genre": "Racing"}) == "Unknown"  # catalogue only


def test_a_game_gets_the_genre_most_of_its_labelled_streams_were_given() -> None:
    def labelled(game: str, category: str, genre: str, confidence: float) -> dict[str, Any]:
        return {
            "game_id": game,
            "category_genre": category,
            "genre": genre,
            "confidence": confidence,
        }

    streams = [
        labelled("new", "Unknown", "Racing", 0.5),
        labelled("new", "Unknown", "Racing", 0.4),
        labelled("new", "Unknown", "Puzzle", 0.8),  # one sure stream loses to two (0.9)
        labelled("tie", "Unknown", "Sport", 0.5),
        labelled("tie", "Unknown", "Puzzle", 0.5),  # a tie: the first name
        labelled("known", "Shooter", "Racing", 0.99),  # the catalogue has a genre
    ]
    assert game_genres(streams) == {"new": "Racing", "tie": "Puzzle"}


@pytest.mark.parametrize(
    ("category", "genre", "confidence", "disagrees"),
    [
        ("Shooter", "Racing", 0.9, True),  # sure, another genre the model knows
        ("Shooter", "Racing", 0.59, False),  # not sure enough
        ("Shooter", "Shooter", 0.99, False),  # the same genre
        ("Non-game", "Racing", 0.99, False),  # a class this model does not have
        ("Unknown", "Racing", 0.99, False),  # nothing to contradict
    ],
)
def test_a_streamdisagrees_with_category_only_when_sure_and_the_model_knows_its_genre(
    category: str, genre: str, confidence: float, disagrees: bool
) -> None:
    classes = ["Racing", "Shooter", "Sport"]
    assert disagrees_with_category(category, genre, confidence, classes) is disagrees


def test_scheduler_and_dashboard_imports_stay_free_of_tensorflow() -> None:
    """Import TensorFlow costs 3-4 s and 550 MB: only `classifier` training and labelling
    may pay it (checked in a fresh interpreter, as the daemons start)."""
    import subprocess
    import sys

    code = (
        "import sys, scheduler.__main__, scheduler.app, dashboard.app, classifier.stored; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'sklearn', 'av') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def text_of(component: Any) -> str:
    """The text a Dash component tree shows."""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list):
        return "".join(text_of(c) for c in component)
    children = getattr(component, "children", None)
    return "" if children is None else text_of(children)


def test_a_models_quality_on_few_validation_frames_is_called_rough() -> None:
    def genre_model(frames: int) -> dict[str, Any]:
        validation = {"balanced_accuracy": 0.4, "macro_f1": 0.3, "games": 3, "frames": frames}
        validation |= {"ece_before": 0.31, "ece_after": 0.39}
        return {"_id": f"genre-{frames}", "target": "genre", "classes": ["A", "B"]} | {
            "validation": validation,
            "min_balanced_accuracy": 0.5,
            "trusted": False,
        }

    few, many = (text_of(model_quality([genre_model(n)])) for n in (5, FEW_VALIDATION_FRAMES))
    assert "calibration error 0.31 → 0.39 after temperature scaling, over only 5 frames" in few
    assert "rough figures" in few and "below the 50% needed" in few
    assert "rough" not in many and "over only" not in many
    category = {"_id": "game-9", "target": "game", "classes": ["Chess", "Tetris"], "trusted": True}
    category["validation"] = {"balanced_accuracy": 0.5, "macro_f1": 0.4, "games": 2, "frames": 9}
    said = text_of(model_quality([category]))
    assert "balanced accuracy 50% (chance 50%), macro-F1 0.40, over only 9 frames: rough" in said
