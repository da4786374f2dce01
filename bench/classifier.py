"""Classifier benchmark: accuracy on the rendered real-game set, and throughput on this CPU.

    scripts/render-frames                      # data/frames (about 9 minutes)
    .venv/bin/python bench/classifier.py --train

`--train` trains the models first (genre split by game; game recognition split by
episode; genre with one source left out, for each of `LEFT_OUT`; a SimCLR backbone and each
genre model again from it; the category model on stored emulator channels); without it the
models in bench/out/classifier are reused. Then: evaluation of each, the emulator's planted
miscategorisations by genre (`bench/classifier_cases.py`) and by category
(`bench/classifier_categories.py`), inference throughput (Keras and TFLite, decoding
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

from store import frame_id

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench import classifier_cases as cases  # noqa: E402
from bench.classifier_categories import FRAMES_A_STREAM, category_benchmark  # noqa: E402
from bench.common import machine, write_section  # noqa: E402

OUT = ROOT / "bench" / "out" / "classifier"
FRAMES = ROOT / "data" / "frames"
SEED_FIGURES = (
    "Seed projects: 75% test accuracy on 8 categories with SqueezeNet (split not stated), "
    "macro-F1 0.52 on 9 Steam genres."
)


def run_cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "classifier", *args], cwd=ROOT, check=True)


# The genre model (split by game), the game-recognition model (split by episode), and one
# genre model per left-out source, trained on every other source and scored on all of that
# source's games. Frames are capped per game, so the big sources do not dominate. Each genre
# model is trained twice: from scratch, and from the self-supervised backbone (`pretrain`
# on the unlabelled frames of every game none of them is scored on).
LEFT_OUT = ("procgen", "pettingzoo")
COMMON = ["--epochs", "30", "--patience", "6", "--image-size", "96", "--max-per-game", "40"]
PRETRAINED = "-pretrained"
SCRATCH = {
    "genre": ["--target", "genre", "--augment", "strong"],
    "game": ["--target", "game", "--augment", "basic"],
    **{f"genre-without-{s}": ["--target", "genre", "--augment", "strong"] for s in LEFT_OUT},
}
GENRE_MODELS = ["genre", *(f"genre-without-{s}" for s in LEFT_OUT)]
MODELS = {**SCRATCH, **{f"{name}{PRETRAINED}": SCRATCH[name] for name in GENRE_MODELS}}
PRETRAIN = ["--epochs", "8", "--batch-size", "128", "--image-size", "96", "--max-per-game", "40"]
CATEGORY = ["--epochs", "20", "--patience", "5", "--image-size", "96", "--augment", "basic"]


def data_of(name: str, scratch: Path) -> Path:
    base = name.removesuffix(PRETRAINED)
    if not base.startswith("genre-without-"):
        return FRAMES
    source = base.removeprefix("genre-without-")
    folder = scratch / f"data-{base}"
    if folder.exists():  # made for the model from scratch
        return folder
    return cases.linked_folder(FRAMES, folder, lambda game: cases.source_of(game) != source)


def train_models(scratch: Path) -> None:
    for name, args in SCRATCH.items():
        run_cli(
            "train", "--data", str(data_of(name, scratch)), "--out", str(OUT / name), *args, *COMMON
        )
    # Pretraining sees no frame of a game any genre model is scored on: not the genre
    # model's test games, not the left-out sources.
    held_out = set(json.loads((OUT / "genre" / "model.json").read_text())["test_keys"])
    unlabelled = cases.linked_folder(
        FRAMES,
        scratch / "unlabelled",
        lambda game: game.name not in held_out and cases.source_of(game) not in LEFT_OUT,
    )
    run_cli("pretrain", "--data", str(unlabelled), "--out", str(OUT / "pretrain"), *PRETRAIN)
    weights = str(OUT / "pretrain" / "backbone.weights.h5")
    for name in GENRE_MODELS:
        run_cli(
            "train",
            "--data",
            str(data_of(name, scratch)),
            "--out",
            str(OUT / f"{name}{PRETRAINED}"),
            *SCRATCH[name],
            *COMMON,
            "--weights",
            weights,
        )


def evaluate_models(scratch: Path) -> dict[str, dict[str, Any]]:
    results = {}
    for name in MODELS:
        base = name.removesuffix(PRETRAINED)
        if base.startswith("genre-without-"):
            source = base.removeprefix("genre-without-")
            folder = scratch / f"only-{source}"
            if not folder.exists():
                cases.linked_folder(FRAMES, folder, lambda g, s=source: cases.source_of(g) == s)
            run_cli("evaluate", "--data", str(folder), "--model", str(OUT / name), "--split", "all")
        else:
            run_cli("evaluate", "--data", str(FRAMES), "--model", str(OUT / name))
        results[name] = {
            "card": json.loads((OUT / name / "model.json").read_text()),
            "evaluation": json.loads((OUT / name / "evaluation.json").read_text()),
        }
    return results


def epoch_timing(epochs: int = 3) -> list[float]:
    """Seconds per epoch of the genre model on a quiet machine (the training runs above may
    have shared the CPU with other work)."""
    with tempfile.TemporaryDirectory() as folder:
        run_cli(
            "train",
            "--data",
            str(FRAMES),
            "--out",
            folder,
            *MODELS["genre"],
            *COMMON[2:],
            "--epochs",
            str(epochs),
            "--patience",
            "99",
        )
        return list(json.loads((Path(folder) / "model.json").read_text())["epoch_seconds"])


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


def label_job_throughput(
    model: Path, frames: int = 1000, runtimes: tuple[str, ...] = ("keras", "tflite")
) -> dict[str, float]:
    """The whole `label` job over FerretDB: frames/s for each of `runtimes`."""
    from classifier.label import label_stored_frames
    from classifier.predict import KerasPredictor, TFLitePredictor
    from store import FrameStore, LocalFerretDB, schema

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
                    frame_id(slot, f"s{i}", "thumbnail"),
                    buffer.getvalue(),
                    {"slot": slot, "stream_id": f"s{i}", "user_login": f"u{i}", "game_id": "g"},
                )
            predictors = {"keras": KerasPredictor, "tflite": TFLitePredictor}
            for name in runtimes:
                run = predictors[name](model)
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


def f3(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def per_class_table(evaluation: dict[str, Any], label: str) -> str:
    return table(
        [
            [k, f"{v['precision']:.2f}", f"{v['recall']:.2f}", f"{v['f1']:.2f}", v["frames"]]
            for k, v in evaluation["per_class"].items()
        ],
        [label, "precision", "recall", "F1", "frames"],
    )


def per_source_table(evaluation: dict[str, Any]) -> str:
    return table(
        [
            [
                k,
                v["frames"],
                f"{v['accuracy']:.2f}",
                f"{v['balanced_accuracy']:.2f}",
                f"{v['macro_f1']:.2f}",
            ]
            for k, v in evaluation["per_package"].items()
        ],
        ["source", "frames", "accuracy", "balanced accuracy", "macro-F1"],
    )


def figures_line(evaluation: dict[str, Any]) -> str:
    o, g, c = evaluation["overall"], evaluation["per_game"], evaluation["calibration"]
    games = (
        f"; each game's frames aggregated as `label` aggregates a stream's (mean probability): "
        f"accuracy {g['accuracy']:.3f}, balanced accuracy {g['balanced_accuracy']:.3f} over "
        f"{g['games']:.0f} games"
        if g
        else ""
    )
    return (
        f"accuracy **{o['accuracy']:.3f}**, balanced accuracy **{o['balanced_accuracy']:.3f}**, "
        f"macro-F1 **{o['macro_f1']:.3f}** over {o['frames']} frames{games}. Calibration error "
        f"(ECE) {c['ece_before']:.3f} before, {c['ece_after']:.3f} after temperature scaling "
        f"(T = {c['temperature']:.2f}, fitted on the validation games)"
    )


def validation_line(card: dict[str, Any]) -> str:
    v = card["validation"]
    return (
        f"validation ({v['games']:.0f} games): balanced accuracy {v['balanced_accuracy']:.3f}, "
        f"macro-F1 {v['macro_f1']:.3f}, ECE {v['ece_before']:.3f} → {v['ece_after']:.3f}; "
        f"{card['epochs']} epochs"
    )


def report(
    results: dict[str, dict[str, Any]],
    timing: list[float],
    speed: dict[str, float],
    job: dict[str, float],
    planted: dict[str, Any],
) -> str:
    genre, game = results["genre"], results["game"]
    g_eval, g_card = genre["evaluation"], genre["card"]
    r_eval, r_card = game["evaluation"], game["card"]
    sources = cases.source_table(FRAMES)
    genres = sorted({g for per in sources.values() for g in per})
    source_rows = [
        [name, sum(per.values()), *[per.get(g, 0) or "" for g in genres]]
        for name, per in sorted(sources.items())
    ]
    source_rows.append(
        [
            "**all**",
            sum(sum(p.values()) for p in sources.values()),
            *[sum(p.get(g, 0) for p in sources.values()) for g in genres],
        ]
    )
    left_out = []
    for source in LEFT_OUT:
        result = results[f"genre-without-{source}"]
        e = result["evaluation"]
        left_out.append(
            f"**Left out: {source}** (trained on the other sources, scored on all "
            f"{e['per_game'].get('games', 0):.0f} {source} games; "
            f"{validation_line(result['card'])}): {figures_line(e)}."
            + (
                f" Genres it has no class for: {', '.join(e['unknown_classes'])}."
                if e["unknown_classes"]
                else ""
            )
            + "\n\n"
            + per_class_table(e, f"genre ({source} games)")
        )
    planted_rows = []
    for k in (1, 5):
        for kind in ("game", "non-game"):
            row = planted[f"k{k}"][kind]
            planted_rows.append(
                [k, kind, row["planted"], row["flagged"], f3(row["precision"]), f3(row["recall"])]
            )

    def epoch_line(card: dict[str, Any]) -> str:
        seconds = card["epoch_seconds"]
        steady = statistics.median(seconds[1:]) if len(seconds) > 1 else seconds[0]
        return (
            f"{card['epochs']} epochs until early stopping, median {steady:.0f} s/epoch "
            f"for {card['counts']['train']} frames"
        )

    left_out_best = max(
        results[f"genre-without-{s}"]["evaluation"]["overall"]["macro_f1"] for s in LEFT_OUT
    )
    r = r_eval["overall"]
    newline = "\n\n"
    return f"""## Classifier (`bench/classifier.py`)
Measured {machine()}; CPU only (`tensorflow-cpu`, Keras {g_card["backend"]} backend). No GPU
machine is lent to this task (the device tool's `status`: `can_start_another: false`), so
there is no GPU figure.

Reproduce: `scripts/render-frames` (the set below, 60 frames a game), then
`.venv/bin/python bench/classifier.py --train`. Every model: MobileNetV3-Small from
scratch, {g_card["image_size"]} px letterboxed frames, at most 40 frames a game, early
stopping and the saved epoch on the validation games' balanced accuracy, temperature
fitted on them.

**The rendered set**: {sum(sum(p.values()) for p in sources.values())} games from
{len(sources)} sources (games per source and genre):

{table(source_rows, ["source", "games", *genres])}

**Genre on games never seen in training** (split by game, {len(g_card["test_keys"])} held-out
games; {validation_line(g_card)}): {figures_line(g_eval)}. Chance: balanced accuracy
{1 / max(1, len(g_eval["per_class"])):.3f}. {SEED_FIGURES} Those are not comparable one to
one: a split by frame lets a model recognise the game rather than the genre.

{per_class_table(g_eval, "genre (unseen games)")}

{per_source_table(g_eval)}

![Genre confusion matrix on unseen games](classifier-confusion.png)

**Genre on a source never seen in training** (leave one source out). Target: macro-F1 ≥ 0.5
on the unseen games of a left-out source; best here {left_out_best:.3f}: the target is
**{"met" if left_out_best >= 0.5 else "not met"}**.

{newline.join(left_out)}

**Category (game) recognition on unseen episodes** (split by episode, {len(r_card["classes"])}
games; {validation_line(r_card)}): accuracy **{r["accuracy"]:.3f}**, balanced accuracy
**{r["balanced_accuracy"]:.3f}**, macro-F1 **{r["macro_f1"]:.3f}** over {r["frames"]} frames.

{per_source_table(r_eval)}

**Miscategorisation on the emulator's planted cases** (`emulator.cdn.FrameLibrary` over the
genre model's held-out games only; the emulator's named categories, {planted["channels"]}
channels by category weight; planted: {planted["planted_share"]["game"]} channels of a game
category shows a game of another genre, {planted["planted_share"]["non-game"]} of a non-game
category plays a game; a stream is flagged by `label`'s rule: frames' mean genre differs
from the category's at confidence ≥ 0.6, and the model has the category's genre). K frames
a stream: 1 (the thumbnail) or 5 (spread over its game's frames, as clip frames are):

{table(planted_rows, ["K", "category", "planted", "flagged", "precision", "recall"])}

A genre model trained on rendered games has no Non-game class, so it cannot contradict a
non-game category (recall 0 there); the production model trained on stored frames has one.

**Training time** (batch 32, {g_card["image_size"]} px, 2 cores, nothing else running): the
genre model's first epoch takes {timing[0]:.0f} s (graph tracing included), later ones
**{statistics.median(timing[1:]):.0f} s/epoch** for {g_card["counts"]["train"]} training frames
({g_card["counts"]["train"] / statistics.median(timing[1:]):.0f} frames/s). The runs above:
genre {epoch_line(g_card)}; game {epoch_line(r_card)}.

**Labelling throughput** ({g_card["image_size"]} px):

| what | frames/s |
| --- | --- |
| decoding stored PNG frames to arrays (Pillow, letterboxed) | {speed["decode"]:.0f} |
| inference, Keras (batch 256) | {speed["keras"]:.0f} |
| inference, TFLite via ai-edge-litert (batch 256) | {speed["tflite"]:.0f} |
| `label` over 1,000 frames in FerretDB, Keras (GridFS read, decode, inference, label writes; the stream genres and rollup rebuild after it are not included) | {job["keras"]:.0f} |
| `label` over the same frames, TFLite | {job["tflite"]:.0f} |
"""


def pretrained_section(results: dict[str, dict[str, Any]], pretraining: dict[str, Any]) -> str:
    """From scratch against from the self-supervised backbone, model by model."""
    rows = []
    for name in GENRE_MODELS:
        what = (
            "unseen games (split by game)"
            if name == "genre"
            else f"left-out source: {name.removeprefix('genre-without-')}"
        )
        for start, key in (("scratch", name), ("SimCLR-pretrained", f"{name}{PRETRAINED}")):
            e, card = results[key]["evaluation"], results[key]["card"]
            o, c = e["overall"], e["calibration"]
            rows.append(
                [
                    what,
                    start,
                    f3(o["macro_f1"]),
                    f3(o["balanced_accuracy"]),
                    f3(card["validation"]["balanced_accuracy"]),
                    f"{c['ece_before']:.3f} → {c['ece_after']:.3f}",
                    card["epochs"],
                ]
            )
    seconds = pretraining["epoch_seconds"]
    steady = statistics.median(seconds[1:]) if len(seconds) > 1 else seconds[0]
    loss = pretraining["loss"]
    header = ["scored on", "backbone", "macro-F1", "balanced accuracy", "validation bal. acc."]
    return f"""
**From scratch against self-supervised pretraining** (same run, same data, splits and
settings; the pretrained models start from a SimCLR backbone, `python -m classifier
pretrain`: {pretraining["frames"]} unlabelled frames of {pretraining["games"]} games, none
of them a game any model here is scored on, two random views a frame (crop, mirror, hue,
saturation, contrast, brightness, grey), NT-Xent loss at temperature
{pretraining["config"]["temperature"]}, batch {pretraining["config"]["batch_size"]},
{len(loss)} epochs, loss {loss[0]:.3f} → {loss[-1]:.3f} (chance
{np.log(2 * pretraining["config"]["batch_size"] - 1):.3f}), {steady:.0f} s/epoch):

{table(rows, [*header, "ECE before → after", "epochs"])}
"""


def category_section(result: dict[str, Any], card: dict[str, Any]) -> str:
    rows = []
    for k in (1, FRAMES_A_STREAM):
        for kind in ("game", "non-game", "all"):
            row = result[f"k{k}"][kind]
            rows.append(
                [
                    k,
                    kind,
                    row["streams"],
                    row["planted"],
                    row["flagged"],
                    f3(row["precision"]),
                    f3(row["recall"]),
                ]
            )
    return f"""
**Category recognition in `label`** (`bench/classifier_categories.py`): the emulator's
{len(card["classes"])} categories, {result["channels"]} channels ({CHANNELS_NOTE}), stored
in FerretDB with {FRAMES_A_STREAM} frames a stream (a thumbnail and three clip frames, as the
emulator's thumbnails show them). A category model trained with `train --store --target
game` on the channels not held out ({validation_line(card)}), then
`recognise_stored_categories` (what `label --category-model` runs, TFLite,
{result["frames_per_second"]:.0f} frames/s with FerretDB reads and writes) over the
{result["held_out"]} held-out channels, whose frames come from an episode no training
channel shows:
- category named right on unseen streams of game categories: **{result["accuracy_game_categories"]:.3f}**
  ({result["game_streams"]} streams; two categories whose emulated game is the same cannot be told apart);
- camera streams of non-game categories called a non-game category:
  **{result["camera_called_non_game"]:.3f}** ({result["camera_streams"]} streams; which
  non-game category a camera is cannot be seen);
- "frames show another game" (`shows_other`: the model names another category and gives the
  stream's own under 0.1) against the emulator's planted channels, with the thumbnail alone
  (K = 1) and all {FRAMES_A_STREAM} frames:

{table(rows, ["K", "category", "streams", "planted", "flagged", "precision", "recall"])}
"""


CHANNELS_NOTE = "16 per unit of category weight, at least 10; one in 4 held out"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="train the models first")
    args = parser.parse_args()
    if not FRAMES.is_dir():
        sys.exit("data/frames is missing: run scripts/render-frames first")
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        if args.train:
            train_models(scratch)
        results = evaluate_models(scratch)
        planted = cases.planted_cases(
            OUT / "genre", FRAMES, results["genre"]["card"]["test_keys"], scratch / "library"
        )
    categories = category_benchmark(FRAMES, OUT / "category", CATEGORY if args.train else [])
    pretraining = json.loads((OUT / "pretrain" / "pretrain.json").read_text())
    timing = epoch_timing()
    speed = inference_throughput(OUT / "genre")
    job = label_job_throughput(OUT / "genre")
    shutil.copy(OUT / "genre" / "confusion.png", ROOT / "docs" / "classifier-confusion.png")
    write_section(
        "classifier",
        report(results, timing, speed, job, planted)
        + pretrained_section(results, pretraining)
        + category_section(categories, json.loads((OUT / "category" / "model.json").read_text())),
    )
    print(
        json.dumps({"speed": speed, "label_job": job, "planted": planted, "categories": categories})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
