"""Classifier benchmark: accuracy on the rendered real-game set, and throughput on this CPU.

    scripts/render-frames                      # data/frames (about 3 minutes)
    .venv/bin/python bench/classifier.py --train

`--train` trains both models first (genre split by game; game recognition split by
episode; 20-40 minutes on 2 cores); without it the models in bench/out/classifier are
reused. Then: evaluation of both, inference throughput (Keras and TFLite, decoding
excluded), and the whole `label` job over FerretDB (GridFS read + decode + inference +
writes). Results go to docs/benchmarks.md (section `classifier`) and the genre confusion
matrix to docs/classifier-confusion.png.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.common import machine, write_section  # noqa: E402

OUT = ROOT / "bench" / "out" / "classifier"
FRAMES = ROOT / "data" / "frames"
SEED_FIGURES = (
    "Seed projects: 75% test accuracy on 8 categories with SqueezeNet (split not stated), "
    "macro-F1 0.52 on 9 Steam genres."
)


def run_cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "classifier", *args], cwd=ROOT, check=True)


# The game model, and the genre model with each augmentation; the genre figures reported
# are the variant with the best validation balanced accuracy (the test split decides nothing).
MODELS = {
    "game": ("game", "basic"),
    "genre-basic": ("genre", "basic"),
    "genre-strong": ("genre", "strong"),
}


def train_models() -> None:
    for name, (target, augment) in MODELS.items():
        run_cli(
            "train",
            "--data",
            str(FRAMES),
            "--out",
            str(OUT / name),
            "--target",
            target,
            "--augment",
            augment,
            "--epochs",
            "40",
            "--patience",
            "8",
            "--image-size",
            "96",
        )


def evaluate_models() -> dict[str, dict[str, Any]]:
    results = {}
    for name in MODELS:
        run_cli("evaluate", "--data", str(FRAMES), "--model", str(OUT / name))
        results[name] = {
            "card": json.loads((OUT / name / "model.json").read_text()),
            "evaluation": json.loads((OUT / name / "evaluation.json").read_text()),
        }
    return results


def epoch_timing(augmentation: str, epochs: int = 3) -> list[float]:
    """Seconds per epoch of the genre model on a quiet machine (the training runs above may
    have shared the CPU with other work)."""
    with tempfile.TemporaryDirectory() as folder:
        run_cli(
            "train",
            "--data",
            str(FRAMES),
            "--out",
            folder,
            "--augment",
            augmentation,
            "--epochs",
            str(epochs),
            "--patience",
            "99",
            "--image-size",
            "96",
        )
        return list(json.loads((Path(folder) / "model.json").read_text())["epoch_seconds"])


def best_validation(card: dict[str, Any]) -> float:
    return max(card["history"]["val_accuracy"])  # class-weighted: balanced accuracy


def chosen_genre_model(results: dict[str, dict[str, Any]]) -> str:
    genre = [n for n in results if results[n]["card"]["target"] == "genre"]
    return max(genre, key=lambda n: best_validation(results[n]["card"]))


def inference_throughput(model: Path, frames: int = 1024) -> dict[str, float]:
    """Frames per second of inference alone (batch 256), Keras and TFLite, after warm-up."""
    from classifier.dataset import decode_examples, examples_from_dir
    from classifier.predict import KerasPredictor, TFLitePredictor

    keras_run = KerasPredictor(model)
    examples = examples_from_dir(FRAMES)[:: max(1, len(examples_from_dir(FRAMES)) // frames)]
    started = time.perf_counter()
    images = decode_examples(examples[:frames], keras_run.card.image_size).images
    decode_rate = len(images) / (time.perf_counter() - started)
    result = {"decode": decode_rate}
    for name, run in (("keras", keras_run), ("tflite", TFLitePredictor(model))):
        run(images[:256])  # warm-up: graph tracing, tensor allocation
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            for i in range(0, len(images), 256):
                run(images[i : i + 256])
            timings.append(time.perf_counter() - started)
        result[name] = len(images) / statistics.median(timings)
    return result


def label_job_throughput(model: Path, frames: int = 1000) -> dict[str, float]:
    """The whole `label` job over FerretDB: frames/s for Keras and TFLite."""
    from classifier.label import label_stored_frames
    from classifier.predict import KerasPredictor, TFLitePredictor
    from store import schema
    from store.frames import FrameStore
    from store.localdb import LocalFerretDB

    paths = sorted(FRAMES.glob("*/*/*.png"))[::7][:frames]
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        db = LocalFerretDB(Path(folder))
        db.start()
        try:
            store = FrameStore(db.uri, "bench_label", timeout_ms=10_000)
            slot = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
            for i, path in enumerate(paths):
                from io import BytesIO

                from PIL import Image

                buffer = BytesIO()
                with Image.open(path) as image:
                    image.convert("RGB").resize((320, 180)).save(buffer, format="JPEG", quality=80)
                store.put_frame(
                    schema.frame_id(slot, f"s{i}", "thumbnail"),
                    buffer.getvalue(),
                    {"slot": slot, "stream_id": f"s{i}", "user_login": f"u{i}", "game_id": "g"},
                )
            for name, run in (("keras", KerasPredictor(model)), ("tflite", TFLitePredictor(model))):
                store.db[schema.FRAME_LABELS].delete_many({})
                run(np.zeros((1, run.card.image_size, run.card.image_size, 3), np.uint8))
                if name == "tflite":  # a distinct version, so both label every frame
                    run.card.version += "-tflite"
                summary = label_stored_frames(store, run, batch_size=256)
                rates[name] = summary.frames_per_second
            store.close()
        finally:
            db.stop()
    return rates


def table(rows: list[list[Any]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def report(
    results: dict[str, dict[str, Any]],
    chosen: str,
    timing: list[float],
    speed: dict[str, float],
    job: dict[str, float],
) -> str:
    genre, game = results[chosen], results["game"]
    variants = table(
        [
            [
                name,
                results[name]["card"]["augmentation"],
                results[name]["card"]["epochs"],
                f"{best_validation(results[name]['card']):.3f}",
                f"{results[name]['evaluation']['overall']['balanced_accuracy']:.3f}",
                f"{results[name]['evaluation']['overall']['macro_f1']:.3f}",
                "**chosen**" if name == chosen else "",
            ]
            for name in results
            if results[name]["card"]["target"] == "genre"
        ],
        [
            "genre model",
            "augmentation",
            "epochs",
            "best validation balanced accuracy",
            "test balanced accuracy",
            "test macro-F1",
            "",
        ],
    )
    g_eval, g_card = genre["evaluation"], genre["card"]
    r_eval, r_card = game["evaluation"], game["card"]

    def epoch_line(card: dict[str, Any]) -> str:
        seconds = card["epoch_seconds"]
        steady = statistics.median(seconds[1:]) if len(seconds) > 1 else seconds[0]
        return (
            f"{card['epochs']} epochs until early stopping, median {steady:.0f} s/epoch "
            f"for {card['counts']['train']} frames"
        )

    per_genre = table(
        [
            [k, f"{v['precision']:.2f}", f"{v['recall']:.2f}", f"{v['f1']:.2f}", v["frames"]]
            for k, v in g_eval["per_class"].items()
        ],
        ["genre (unseen games)", "precision", "recall", "F1", "frames"],
    )
    per_package = table(
        [
            [
                k,
                v["frames"],
                f"{v['accuracy']:.2f}",
                f"{v['balanced_accuracy']:.2f}",
                f"{v['macro_f1']:.2f}",
            ]
            for k, v in g_eval["per_package"].items()
        ],
        ["source package", "frames", "accuracy", "balanced accuracy", "macro-F1"],
    )
    recognition_genre = table(
        [[k, f"{v:.2f}"] for k, v in r_eval["per_genre_accuracy"].items()],
        ["genre", "game-recognition accuracy (unseen episodes)"],
    )
    recognition_package = table(
        [
            [k, v["frames"], f"{v['accuracy']:.2f}", f"{v['macro_f1']:.2f}"]
            for k, v in r_eval["per_package"].items()
        ],
        ["source package", "frames", "accuracy", "macro-F1"],
    )
    o, r = g_eval["overall"], r_eval["overall"]
    return f"""## Classifier (`bench/classifier.py`)
Measured {machine()}; CPU only (`tensorflow-cpu`, Keras {g_card["backend"]} backend). No GPU
machine is lent to this task (the device tool's `status`: `can_start_another: false`), so
there is no GPU figure.

Reproduce: `scripts/render-frames` (121 games × 60 frames from ale-py, procgen2 and vizdoom,
143 s here), then `.venv/bin/python bench/classifier.py --train`.

**Genre on games never seen in training** (split by game, {len(g_card["test_keys"])} held-out
games, {o["frames"]} test frames; MobileNetV3-Small from scratch, {g_card["image_size"]} px):
accuracy **{o["accuracy"]:.3f}**, balanced accuracy **{o["balanced_accuracy"]:.3f}**,
macro-F1 **{o["macro_f1"]:.3f}** over {len(g_eval["per_class"])} genres with a held-out game
(chance: balanced accuracy {1 / max(1, len(g_eval["per_class"])):.3f}). Aggregating each
held-out game's frames as `label` aggregates a stream's (sum of log-probabilities):
accuracy **{g_eval["per_game"]["accuracy"]:.3f}**, balanced accuracy
**{g_eval["per_game"]["balanced_accuracy"]:.3f}** over {g_eval["per_game"]["games"]:.0f} games.
{SEED_FIGURES} Those figures are not comparable one to one: a split by frame lets a model
recognise the game rather than the genre; here every test game is unseen.

Both augmentation settings were trained; the one with the better validation balanced
accuracy (the validation games, never the test games) is reported in detail:

{variants}

Per genre, {chosen}:

{per_genre}

{per_package}

![Genre confusion matrix on unseen games](classifier-confusion.png)

**Game recognition on unseen episodes** (split by episode, {len(r_card["classes"])} games):
accuracy **{r["accuracy"]:.3f}**, balanced accuracy **{r["balanced_accuracy"]:.3f}**,
macro-F1 **{r["macro_f1"]:.3f}** over {r["frames"]} test frames.

{recognition_genre}

{recognition_package}

**Training time** (batch 32, 96 px, 2 cores, nothing else running): the genre model's
first epoch takes {timing[0]:.0f} s (graph tracing included), later ones
**{statistics.median(timing[1:]):.0f} s/epoch** for {g_card["counts"]["train"]} training frames
({g_card["counts"]["train"] / statistics.median(timing[1:]):.0f} frames/s). The runs above:
genre {epoch_line(g_card)}; game {epoch_line(r_card)} (those shared the CPU with other
work, so their epoch times are upper bounds).

**Labelling throughput** ({g_card["image_size"]} px):

| what | frames/s |
| --- | --- |
| decoding stored PNG frames to arrays (Pillow) | {speed["decode"]:.0f} |
| inference, Keras (batch 256) | {speed["keras"]:.0f} |
| inference, TFLite via ai-edge-litert (batch 256) | {speed["tflite"]:.0f} |
| `label` over 1,000 frames in FerretDB, Keras (GridFS read, decode, inference, label writes; the stream genres and rollup rebuild after it are not included) | {job["keras"]:.0f} |
| `label` over the same frames, TFLite | {job["tflite"]:.0f} |
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="train both models first")
    args = parser.parse_args()
    if not FRAMES.is_dir():
        sys.exit("data/frames is missing: run scripts/render-frames first")
    if args.train:
        train_models()
    results = evaluate_models()
    chosen = chosen_genre_model(results)
    timing = epoch_timing(results[chosen]["card"]["augmentation"])
    speed = inference_throughput(OUT / chosen)
    job = label_job_throughput(OUT / chosen)
    shutil.copy(OUT / chosen / "confusion.png", ROOT / "docs" / "classifier-confusion.png")
    write_section("classifier", report(results, chosen, timing, speed, job))
    print(json.dumps({"speed": speed, "label_job": job}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
