"""Genre from frames: MobileNetV3-Small from scratch against EfficientNet-Lite0's ImageNet
features (a linear probe, and fine-tuned), each trained with several seeds.

    scripts/render-frames                                   # data/frames
    .venv/bin/python bench/classifier_transfer.py           # every backbone, 3 seeds
    .venv/bin/python bench/classifier_transfer.py --backbones probe finetuned --seeds 1 2 3
    .venv/bin/python bench/classifier_transfer.py --reuse --categories

The last reports the runs made so far and adds the category model on ImageNet features
(trained unless bench/out/classifier-transfer/category-probe holds it). `--no-report` trains
and leaves docs/benchmarks.md alone: for runs another benchmark reads
(`bench/classifier_speed.py`), which would otherwise replace the section with theirs alone.

"student" distils the same task and seed's fine-tuned model, so it runs after "finetuned".

Tasks, as in `bench/classifier.py`: genre on unseen games (split by game; each seed holds
out other games) and genre on each left-out source (trained on every other source, scored
on all of its games). Every model sees at most 40 frames a game. Each run is `python -m
classifier train` then `evaluate`, so the figures are those of the models `label` would
load. Results: docs/benchmarks.md, section `classifier-transfer`; the runs stay in
bench/out/classifier-transfer (`--reuse` reports those of the runs asked for that exist,
training nothing).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import classifier_cases as cases  # noqa: E402
from bench.classifier import FRAMES, LEFT_OUT, category_section, run_cli, table  # noqa: E402
from bench.classifier_categories import category_benchmark  # noqa: E402
from bench.common import machine, write_section  # noqa: E402

OUT = ROOT / "bench" / "out" / "classifier-transfer"
COMMON = ["--target", "genre", "--augment", "strong", "--max-per-game", "40"]
BACKBONES: dict[str, list[str]] = {
    "scratch": ["--image-size", "96", "--epochs", "30", "--patience", "6"],
    "probe": ["--backbone", "imagenet-lite0", "--image-size", "160"],
    # The probe at the other input sizes `bench/classifier_speed.py` weighs against speed.
    "probe-96": ["--backbone", "imagenet-lite0", "--image-size", "96"],
    "probe-224": ["--backbone", "imagenet-lite0", "--image-size", "224"],
    "finetuned": [
        *("--backbone", "imagenet-lite0", "--image-size", "160"),
        *("--fine-tune-epochs", "4", "--patience", "2", "--learning-rate", "1e-3"),
    ],
    # MobileNetV3-Small learning the fine-tuned model's probabilities (run after it).
    "student": ["--image-size", "96", "--epochs", "30", "--patience", "6"],
}
NAMES = {
    "scratch": "MobileNetV3-Small, scratch (96 px)",
    "probe": "EfficientNet-Lite0 ImageNet, linear probe (160 px)",
    "probe-96": "EfficientNet-Lite0 ImageNet, linear probe (96 px)",
    "probe-224": "EfficientNet-Lite0 ImageNet, linear probe (224 px)",
    "finetuned": "EfficientNet-Lite0 ImageNet, fine-tuned (160 px)",
    "student": "MobileNetV3-Small distilled from the fine-tuned (96 px)",
}
TASKS = ["unseen-games", *(f"without-{source}" for source in LEFT_OUT)]
# The category model (`train --store --target game`) on ImageNet features: a linear probe.
CATEGORY = ["--backbone", "imagenet-lite0", "--image-size", "160", "--augment", "basic"]


def folders(scratch: Path) -> dict[str, tuple[Path, Path, list[str]]]:
    """Per task: the training data, the data scored, and `evaluate`'s extra arguments."""
    result: dict[str, tuple[Path, Path, list[str]]] = {"unseen-games": (FRAMES, FRAMES, [])}
    for source in LEFT_OUT:
        train = cases.linked_folder(
            FRAMES, scratch / f"train-{source}", lambda g, s=source: cases.source_of(g) != s
        )
        only = cases.linked_folder(
            FRAMES, scratch / f"only-{source}", lambda g, s=source: cases.source_of(g) == s
        )
        result[f"without-{source}"] = (train, only, ["--split", "all"])
    return result


def run(task: str, backbone: str, seed: int, data: tuple[Path, Path, list[str]]) -> dict[str, Any]:
    out = OUT / f"{task}-{backbone}-seed{seed}"
    train_data, scored, evaluate_args = data
    started = time.perf_counter()
    teacher = (
        ["--teacher", str(OUT / f"{task}-finetuned-seed{seed}")] if backbone == "student" else []
    )
    run_cli(
        "train",
        *("--data", str(train_data), "--out", str(out), "--seed", str(seed)),
        *COMMON,
        *BACKBONES[backbone],
        *teacher,
    )
    trained = time.perf_counter() - started
    run_cli("evaluate", "--data", str(scored), "--model", str(out), *evaluate_args)
    result = {
        "card": json.loads((out / "model.json").read_text()),
        "evaluation": json.loads((out / "evaluation.json").read_text()),
        "train_seconds": round(trained, 1),
    }
    (out / "run.json").write_text(json.dumps({"train_seconds": result["train_seconds"]}))
    return result


def load(task: str, backbone: str, seed: int) -> dict[str, Any] | None:
    out = OUT / f"{task}-{backbone}-seed{seed}"
    if not (out / "evaluation.json").is_file():
        return None
    return {
        "card": json.loads((out / "model.json").read_text()),
        "evaluation": json.loads((out / "evaluation.json").read_text()),
        "train_seconds": json.loads((out / "run.json").read_text())["train_seconds"],
    }


def spread(values: list[float]) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def summary_rows(results: dict[tuple[str, str, int], dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for task in TASKS:
        for backbone in BACKBONES:
            runs = [r for (t, b, _), r in sorted(results.items()) if (t, b) == (task, backbone)]
            if not runs:
                continue

            def values(get: Any, runs: list[dict[str, Any]] = runs) -> list[float]:
                return [float(get(r)) for r in runs]

            kept_probe = sum(r["card"]["backbone"].endswith("scored lower)") for r in runs)
            note = f" — the probe kept in {kept_probe} of {len(runs)}" if kept_probe else ""
            rows.append(
                [
                    task,
                    NAMES[backbone] + note,
                    len(runs),
                    spread(values(lambda r: r["evaluation"]["overall"]["macro_f1"])),
                    spread(values(lambda r: r["evaluation"]["overall"]["balanced_accuracy"])),
                    spread(values(lambda r: r["card"]["validation"]["balanced_accuracy"])),
                    spread(values(lambda r: r["evaluation"]["calibration"]["ece_before"])),
                    spread(values(lambda r: r["evaluation"]["calibration"]["ece_after"])),
                    f"{statistics.median(values(lambda r: r['train_seconds'])):.0f}",
                ]
            )
    return rows


def per_genre_rows(
    results: dict[tuple[str, str, int], dict[str, Any]], task: str
) -> tuple[list[list[Any]], list[str]]:
    """Mean F1 per genre over the seeds, one column per backbone."""
    genres: set[str] = set()
    f1: dict[tuple[str, str], list[float]] = {}
    for (t, backbone, _), result in results.items():
        if t != task:
            continue
        for genre, figures in result["evaluation"]["per_class"].items():
            if figures["frames"]:
                genres.add(genre)
                f1.setdefault((backbone, genre), []).append(float(figures["f1"]))
    present = [b for b in BACKBONES if any(k[0] == b for k in f1)]
    return [
        [genre, *[spread(f1.get((b, genre), [])) for b in present]] for genre in sorted(genres)
    ], present


def report(results: dict[tuple[str, str, int], dict[str, Any]], seeds: list[int]) -> str:
    header = [
        "scored on",
        "backbone",
        "seeds",
        "macro-F1",
        "balanced accuracy",
        "validation bal. acc.",
        "ECE before",
        "ECE after scaling",
        "train s (median)",
    ]
    per_genre = []
    for task in TASKS:
        rows, present = per_genre_rows(results, task)
        if rows:
            per_genre.append(
                f"F1 per genre, {task} (mean ± sd over seeds):\n\n"
                + table(rows, ["genre", *[NAMES[b] for b in present]])
            )
    genre_tables = "\n\n".join(per_genre)
    return f"""## Classifier: ImageNet features against training from scratch (`bench/classifier_transfer.py`)
Measured {machine()}; CPU only. Reproduce: `scripts/render-frames`, then for each
row `.venv/bin/python bench/classifier_transfer.py --backbones <backbone> --seeds <its seeds,
1 to n>` (the student after the fine-tuned model of its task), then `--reuse --categories
--seeds {" ".join(map(str, seeds))}` to write this section. Each cell: mean ± standard
deviation over the row's seeds (the seed also picks the held-out games of "unseen-games"); every model at most 40 frames a game,
strong augmentation, the epoch chosen on the validation games' balanced accuracy, the
temperature fitted on them. The linear probe is a multinomial logistic regression on the
frozen network's pooled features, its L2 strength chosen on the validation games;
fine-tuning then trains blocks 12–15 and the head conv (BatchNorm frozen) for up to 4
epochs at 1e-4, and keeps the probe when it scores lower on validation. The student is
MobileNetV3-Small trained on the fine-tuned model's calibrated probabilities of the same
training frames (`train --teacher`). Targets: macro-F1 ≥ 0.5 on the unseen games of a
left-out source; ECE ≤ 0.05 after scaling.

{table(summary_rows(results), header)}

{genre_tables}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbones", nargs="+", choices=list(BACKBONES), default=list(BACKBONES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=TASKS)
    parser.add_argument(
        "--reuse", action="store_true", help="train nothing: report the runs already made"
    )
    parser.add_argument(
        "--no-report",
        action="store_true",
        help="train only, leaving docs/benchmarks.md as it is (the runs stay in bench/out)",
    )
    parser.add_argument(
        "--categories",
        action="store_true",
        help="also the category model on ImageNet features (bench/classifier_categories.py)",
    )
    args = parser.parse_args()
    if not FRAMES.is_dir():
        print("no data/frames: run scripts/render-frames first", file=sys.stderr)
        return 1
    results: dict[tuple[str, str, int], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        data = folders(Path(folder))
        for seed in args.seeds:
            for task in args.tasks:
                for backbone in args.backbones:
                    if args.reuse:  # report what was run, train nothing
                        found = load(task, backbone, seed)
                        if found:
                            results[(task, backbone, seed)] = found
                        continue
                    results[(task, backbone, seed)] = run(task, backbone, seed, data[task])
    if args.no_report:
        print(
            json.dumps(
                {"/".join(map(str, k)): r["evaluation"]["overall"] for k, r in results.items()}
            )
        )
        return 0
    section = report(results, args.seeds)
    if args.categories:
        model = OUT / "category-probe"
        reuse = args.reuse and (model / "model.json").is_file()
        categories = category_benchmark(FRAMES, model, [] if reuse else CATEGORY)
        card = json.loads((model / "model.json").read_text())
        section += (
            "\n**Category recognition on ImageNet features** (linear probe, 160 px; the same "
            "benchmark as the classifier section's, whose model is MobileNetV3-Small from "
            "scratch):\n" + category_section(categories, card)
        )
    write_section("classifier-transfer", section)
    print(
        json.dumps({f"{t}/{b}/{s}": r["evaluation"]["overall"] for (t, b, s), r in results.items()})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
