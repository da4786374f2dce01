"""End to end: emulator snapshot → frames in GridFS → train → label → predicted genres in the
rollups. Real parts only: the emulator over HTTP (serving the checked-in real game frames),
FerretDB over the wire, Keras on CPU."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from classifier.dataset import examples_from_dir
from classifier.label import aggregate, label_stored_frames
from classifier.model import ModelCard, ModelError
from classifier.predict import KerasPredictor, TFLitePredictor, predictor
from classifier.stored import examples_from_store
from classifier.train import TrainConfig, train
from conftest import ROOT as REPO
from conftest import SAMPLE_FRAMES as SAMPLE
from conftest import EmulatorFactory, FerretDB, collect_with_frames
from store import schema
from store.frames import FrameStore

pytestmark = pytest.mark.integration
SLOT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A genre model trained on the checked-in sample in seconds (accuracy is not the point)."""
    out = tmp_path_factory.mktemp("model")
    config = TrainConfig(image_size=64, epochs=3, batch_size=32, patience=3, verbose=0)
    train(examples_from_dir(SAMPLE), out, config, data_description="checked-in sample")
    return out


def test_label_puts_predicted_genres_into_the_rollups(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    database_name: str,
    frames: FrameStore,
    tmp_path: Path,
    tiny_model: Path,
) -> None:
    job = collect_with_frames(
        make_emulator,
        ferretdb,
        database_name,
        tmp_path,
        frames_top=20,
        frames_random=40,
        frames_non_game=10,
    )
    assert job.collect(SLOT).frames == 70
    job.close()
    # One stored frame is corrupt: it must be reported, kept, and never crash the run. It
    # copies the metadata of the first frame by id (not by server order), so it always
    # joins the same channel's group and so the same split.
    first = min(frames.frame_documents(), key=lambda d: d["_id"])
    frames.put_frame(
        "corrupt",
        b"\xff\xd8 not really a jpeg",
        {**first["metadata"], "stream_id": "corrupt-stream"},
    )

    run = KerasPredictor(tiny_model)
    summary = label_stored_frames(frames, run, batch_size=16)
    assert summary.frames == 71 and summary.unreadable == 1
    assert frames.read_frame("corrupt").startswith(b"\xff\xd8")  # nothing lost
    assert label_stored_frames(frames, run).frames == 0  # labelled once per model version

    labels = list(frames.db[schema.FRAME_LABELS].find({"status": "ok"}))
    assert len(labels) == 70 and {lb["genre"] for lb in labels} <= set(run.card.classes)
    for label in labels:
        assert abs(sum(label["probabilities"].values()) - 1) < 1e-3
        assert label["genre"] == max(label["probabilities"], key=label["probabilities"].get)

    predicted = {p["stream_id"]: p for p in frames.db[schema.STREAM_GENRES].find({"slot": SLOT})}
    assert summary.streams == len(predicted) == 70
    by_stream = {lb["stream_id"]: lb for lb in labels}
    for stream_id, prediction in predicted.items():  # one frame each: its label is the genre
        assert prediction["genre"] == by_stream[stream_id]["genre"]
        assert prediction["model_version"] == run.card.version

    # A game without a catalogue genre takes the genre its labelled streams were given
    # (by summed confidence); then the genre rollup, computed here from the raw streams.
    streams = list(frames.db[schema.STREAMS].find({"slot": SLOT}))
    games = frames.games({s["game_id"] for s in streams})
    votes: dict[str, Counter[str]] = {}
    for prediction in predicted.values():
        if schema.genre_of(games.get(prediction["game_id"])) == schema.UNKNOWN_GENRE:
            tally = votes.setdefault(prediction["game_id"], Counter())
            tally[prediction["genre"]] += prediction["confidence"]
    for game_id, tally in votes.items():
        best = max(tally.values())
        assert games[game_id]["classifier_genre"] == min(g for g, v in tally.items() if v == best)
        assert games[game_id]["classifier_model"] == run.card.version
    want: Counter[str] = Counter()
    for stream in streams:
        genre = schema.genre_of(games.get(stream["game_id"]))
        if stream["game_id"] in votes:
            genre = f"{games[stream['game_id']]['classifier_genre']} (classifier)"
        want[genre] += stream["viewer_count"]
    rollup = frames.db[schema.ROLLUPS].find_one({"_id": f"{schema.slot_key(SLOT)}/genre"})
    assert rollup is not None
    got = {g["key"]: g["viewers"] for g in rollup["groups"]}
    assert got == dict(want)
    assert any(k.endswith("(classifier)") for k in got), "some sampled games lack IGDB genres"
    # This model has no Non-game class, so it cannot contradict Just Chatting, nor a game
    # the catalogue cannot place (the rule's cases are in test_frames_units).
    for prediction in predicted.values():
        if prediction["category_genre"] not in run.card.classes:
            assert prediction["disagrees"] is False
    assert summary.disagreements == sum(p["disagrees"] for p in predicted.values())

    # The production training set: stored frames labelled by their catalogue genre, grouped
    # by channel; frames of games without a genre are left out.
    examples = examples_from_store(frames)
    by_id = {d["_id"]: d["metadata"] for d in frames.frame_documents()}
    assert len(examples) == sum(
        1
        for m in by_id.values()
        if schema.genre_of(games.get(m["game_id"])) != schema.UNKNOWN_GENRE
    )
    for example in examples:
        meta = by_id[example.ref]
        assert example.genre == schema.genre_of(games[meta["game_id"]])
        assert (example.group, example.package) == (meta["user_login"], "twitch")
    config = TrainConfig(image_size=32, epochs=1, split_by="group", verbose=0)
    card = train(
        examples, tmp_path / "from-store", config, data_description="stored", read=frames.read_frame
    )
    # Non-game categories are a class of their own; the corrupt frame is skipped and counted.
    assert schema.NON_GAME_GENRE in card.classes and card.counts["unreadable"] == 1


def test_stream_genre_is_the_sum_of_frame_log_probabilities() -> None:
    frames = [{"A": 0.6, "B": 0.4}, {"A": 0.3, "B": 0.7}, {"A": 0.45, "B": 0.55}]
    product = {g: np.prod([f[g] for f in frames]) for g in ("A", "B")}
    genre, confidence = aggregate(frames)
    assert genre == "B" and confidence == pytest.approx(product["B"] / sum(product.values()))


def test_tflite_agrees_with_keras(tiny_model: Path) -> None:
    images = np.stack(
        [
            np.asarray(Image.open(e.ref).convert("RGB").resize((64, 64)))
            for e in examples_from_dir(SAMPLE)[::10]
        ]
    )
    keras_probabilities = KerasPredictor(tiny_model)(images)
    lite_probabilities = TFLitePredictor(tiny_model)(images)
    assert lite_probabilities.shape == keras_probabilities.shape
    np.testing.assert_allclose(lite_probabilities, keras_probabilities, atol=2e-3)


def test_bad_models_give_clear_errors_and_change_nothing(
    tiny_model: Path, frames: FrameStore, tmp_path: Path
) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        predictor(tmp_path / "nowhere", "keras")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match=r"model\.json is missing"):
        predictor(tmp_path / "empty", "keras")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.json").write_text((tiny_model / "model.json").read_text())
    (broken / "model.keras").write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="cannot be loaded"):
        predictor(broken, "keras")
    # A model whose classes the catalogue does not know.
    alien = tmp_path / "alien"
    alien.mkdir()
    card = json.loads((tiny_model / "model.json").read_text())
    card["classes"] = ["Dance", *card["classes"][1:]]
    (alien / "model.json").write_text(json.dumps(card))
    (alien / "model.keras").write_bytes((tiny_model / "model.keras").read_bytes())
    frames.put_frame("f", b"x", {"slot": SLOT, "stream_id": "s"})
    with pytest.raises(ModelError, match="Dance"):
        label_stored_frames(frames, KerasPredictor(alien))
    assert frames.db[schema.FRAME_LABELS].count_documents({}) == 0
    assert ModelCard.load(tiny_model).target == "genre"


def test_command_line_train_evaluate_and_help(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "classifier", *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=240,
        )

    for command in ([], ["train"], ["evaluate"], ["label"]):
        helped = run(*command, "--help")
        assert helped.returncode == 0 and "usage:" in helped.stdout
    model = tmp_path / "m"
    trained = run(
        "train", "--data", str(SAMPLE), "--out", str(model), "--epochs", "1", "--image-size", "48"
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert json.loads(trained.stdout.strip().splitlines()[-1])["epochs"] == 1
    evaluated = run("evaluate", "--data", str(SAMPLE), "--model", str(model))
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    figures = json.loads((model / "evaluation.json").read_text())
    assert (
        json.loads(evaluated.stdout.strip().splitlines()[-1])["macro_f1"]
        == figures["overall"]["macro_f1"]
    )
    assert (model / "confusion.png").stat().st_size > 1000
    assert "Model card" in (model / "MODEL_CARD.md").read_text()
    missing = run("label", "--model", str(tmp_path / "missing"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
