"""Evaluation: per-class and per-package figures, calibration error, a confusion matrix
image and a model card in Markdown.

By default the frames scored are the model card's test split (`test_keys`), so `evaluate`
measures exactly the games (or episodes, or channels) that training never saw; with
`split="all"` every frame of the data is scored (a folder of games from another source).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    accuracy_score,
    f1_score,
    precision_recall_fscore_support,
    recall_score,
)

from classifier.calibration import calibrate, expected_calibration_error
from classifier.dataset import Decoded, Example, decode_examples
from classifier.errors import DatasetError
from classifier.label import aggregate
from classifier.model import ModelCard

EVALUATION_FILE = "evaluation.json"
CONFUSION_FILE = "confusion.png"
MODEL_CARD_FILE = "MODEL_CARD.md"

Predict = Callable[[np.ndarray], np.ndarray]  # uint8 frames -> class probabilities


@dataclass
class Evaluation:
    overall: dict[str, float]
    per_class: dict[str, dict[str, float]]
    per_package: dict[str, dict[str, float]]
    per_genre_accuracy: dict[str, float]  # for game recognition: accuracy within each genre
    per_game: dict[str, float]  # genre: each held-out game's frames aggregated, as for a stream
    unreadable: int
    split: str = "test"  # which frames: the card's test split, or all of the data
    # Expected calibration error of the frames, before and after the card's temperature.
    calibration: dict[str, float] | None = None
    unknown_classes: list[str] | None = None  # true labels the model has no class for

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def test_examples(examples: Sequence[Example], card: ModelCard) -> list[Example]:
    held_out = set(card.test_keys)
    key: Callable[[Example], str] = (
        (lambda e: e.game) if card.split_by == "game" else (lambda e: e.group)
    )
    chosen = [e for e in examples if key(e) in held_out]
    if not chosen:
        raise DatasetError(
            "none of the model card's test games/groups are in this data "
            "(to score every frame of other games, use --split all)"
        )
    return chosen


def readable(
    examples: Sequence[Example], size: int, read: Callable[[str], bytes] | None
) -> Decoded:
    """The frames decoded; `DatasetError` naming the reason when none of them can be."""
    decoded = decode_examples(examples, size, read)
    if not decoded.examples:
        first = decoded.failures[0] if decoded.failures else ("", "no frames")
        raise DatasetError(
            f"none of the {len(decoded.failures)} frames could be read "
            f"(e.g. {first[0]}: {first[1]})"
        )
    return decoded


def scores(truth: Sequence[str], predicted: Sequence[str], labels: list[str]) -> dict[str, float]:
    return {
        "frames": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        # Balanced accuracy is the mean recall over the classes present in the truth.
        "balanced_accuracy": round(
            float(recall_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
            4,
        ),
        "macro_f1": round(
            float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)), 4
        ),
    }


def evaluate(
    examples: Sequence[Example],
    card: ModelCard,
    predict: Predict,
    out: Path,
    *,
    read: Callable[[str], bytes] | None = None,
    batch_size: int = 256,
    split: str = "test",
) -> Evaluation:
    """Score the model on its test split (or, `split="all"`, on every frame) and write the
    figures, the image and the card. `DatasetError` when no frame can be scored."""
    chosen = test_examples(examples, card) if split == "test" else list(examples)
    decoded = readable(chosen, card.image_size, read)
    probabilities = np.concatenate(
        [
            predict(decoded.images[i : i + batch_size])
            for i in range(0, len(decoded.images), batch_size)
        ]
        or [np.zeros((0, len(card.classes)))]
    )
    predicted = [card.classes[i] for i in probabilities.argmax(axis=1)]
    truth = [e.label(card.target) for e in decoded.examples]  # type: ignore[arg-type]
    # Only classes the test split holds: a genre with a single game has none to test.
    labels = sorted(set(truth))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    per_class = {
        label: {
            "precision": round(float(p), 4),
            "recall": round(float(r), 4),
            "f1": round(float(f), 4),
            "frames": int(n),
        }
        for label, p, r, f, n in zip(labels, precision, recall, f1, support, strict=True)
    }
    per_package = {}
    for package in sorted({e.package for e in decoded.examples}):
        rows = [i for i, e in enumerate(decoded.examples) if e.package == package]
        package_truth = [truth[i] for i in rows]
        per_package[package] = scores(
            package_truth, [predicted[i] for i in rows], sorted(set(package_truth))
        )
    per_genre_accuracy = {}
    for genre in sorted({e.genre for e in decoded.examples}):
        rows = [i for i, e in enumerate(decoded.examples) if e.genre == genre]
        per_genre_accuracy[genre] = round(
            float(np.mean([truth[i] == predicted[i] for i in rows])), 4
        )
    per_game: dict[str, float] = {}
    if card.target == "genre":
        games = sorted({e.game for e in decoded.examples})
        game_truth, game_predicted = [], []
        for game in games:
            rows = [i for i, e in enumerate(decoded.examples) if e.game == game]
            frames = [
                dict(zip(card.classes, map(float, probabilities[i]), strict=True)) for i in rows
            ]
            game_truth.append(truth[rows[0]])
            game_predicted.append(aggregate(frames)[0])
        per_game = scores(game_truth, game_predicted, sorted(set(game_truth)))
        per_game["games"] = per_game.pop("frames")
    # The predictor's probabilities are calibrated; undoing the temperature (T · log p is
    # the network's log-softmax up to a constant) gives the uncalibrated ones.
    known = np.array([t in card.classes for t in truth])
    index = np.array([card.classes.index(t) if t in card.classes else -1 for t in truth])
    calibration = {
        "ece_before": expected_calibration_error(
            calibrate(probabilities[known], 1.0 / card.temperature), index[known]
        ),
        "ece_after": expected_calibration_error(probabilities[known], index[known]),
        "temperature": card.temperature,
    }
    result = Evaluation(
        overall=scores(truth, predicted, labels),
        per_class=per_class,
        per_package=per_package,
        per_genre_accuracy=per_genre_accuracy,
        per_game=per_game,
        unreadable=len(decoded.failures),
        split=split,
        calibration=calibration,
        unknown_classes=sorted(set(truth) - set(card.classes)),
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / EVALUATION_FILE).write_text(json.dumps(result.to_json(), indent=2) + "\n")
    if card.target == "genre":
        confusion_image(truth, predicted, card.classes, out / CONFUSION_FILE)
    (out / MODEL_CARD_FILE).write_text(model_card_markdown(card, result))
    return result


def confusion_image(
    truth: Sequence[str], predicted: Sequence[str], classes: list[str], path: Path
) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display; file output only
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(1.0 + 0.75 * len(classes), 0.75 * len(classes) + 1))
    ConfusionMatrixDisplay.from_predictions(
        truth,
        predicted,
        labels=classes,
        normalize="true",
        values_format=".2f",
        cmap="Blues",
        colorbar=False,
        ax=axes,
        xticks_rotation=45,
    )
    axes.set_title("Genre on unseen games (rows: true, normalised)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def game_level(result: Evaluation) -> str:
    if not result.per_game:
        return ""
    figures = result.per_game
    return (
        f" Aggregating each game's frames (mean probability, as `label` does for a "
        f"stream): accuracy {figures['accuracy']:.3f}, balanced accuracy "
        f"{figures['balanced_accuracy']:.3f} over {figures['games']:.0f} games."
    )


def validation_line(card: ModelCard) -> str:
    figures = card.validation
    if not figures:
        return "none (too few games to hold any out); never trusted for the rollups."
    return (
        f"balanced accuracy {figures['balanced_accuracy']:.3f}, macro-F1 "
        f"{figures['macro_f1']:.3f} over {figures['games']:.0f} games "
        f"({figures['frames']:.0f} frames); temperature {card.temperature:.2f} takes the "
        f"calibration error (ECE) from {figures['ece_before']:.3f} to "
        f"{figures['ece_after']:.3f}."
    )


def calibration_line(result: Evaluation) -> str:
    figures = result.calibration
    if not figures:
        return ""
    unknown = (
        f" Classes this model does not have (always wrong): {', '.join(result.unknown_classes)}."
        if result.unknown_classes
        else ""
    )
    return (
        f" Calibration error (ECE) {figures['ece_before']:.3f} before and "
        f"{figures['ece_after']:.3f} after temperature scaling.{unknown}"
    )


def model_card_markdown(card: ModelCard, result: Evaluation) -> str:
    rows = "\n".join(
        f"| {label} | {m['precision']:.2f} | {m['recall']:.2f} | {m['f1']:.2f} | {m['frames']} |"
        for label, m in result.per_class.items()
    )
    packages = "\n".join(
        f"| {name} | {m['frames']} | {m['accuracy']:.2f} | {m['balanced_accuracy']:.2f} "
        f"| {m['macro_f1']:.2f} |"
        for name, m in result.per_package.items()
    )
    overall = result.overall
    held_out = {"game": "games", "group": "episodes/channels"}.get(card.split_by, card.split_by)
    return f"""# Model card: {card.version}

- **Task**: {card.target} of a frame, {len(card.classes)} classes: {", ".join(card.classes)}.
- **Network**: {card.network()}, {card.image_size}×{card.image_size} RGB input, \
Keras {card.backend} backend, trained {card.trained_at}, {card.epochs} epochs.
- **Data**: {card.data}.
- **Splits**: by {card.split_by}, never by frame; {card.counts.get("train", 0)} training, \
{card.counts.get("validation", 0)} validation, {card.counts.get("test", 0)} test frames; \
{len(card.test_keys)} held-out {held_out}: {", ".join(card.test_keys[:30])}\
{" …" if len(card.test_keys) > 30 else ""}.

- **Validation** (the games the model was chosen on): {validation_line(card)}

## Figures on {"the test split" if result.split == "test" else "every frame of the data"}
Accuracy **{overall["accuracy"]:.3f}**, balanced accuracy **{overall["balanced_accuracy"]:.3f}**, \
macro-F1 **{overall["macro_f1"]:.3f}** over {overall["frames"]} frames \
({result.unreadable} unreadable).{game_level(result)}{calibration_line(result)}

| class | precision | recall | F1 | frames |
| --- | --- | --- | --- | --- |
{rows}

| source package | frames | accuracy | balanced accuracy | macro-F1 |
| --- | --- | --- | --- | --- |
{packages}

## Limits
- Classes with a single game cannot be tested on an unseen game and are absent above.
- Frames of one game are correlated; figures are per frame, over few held-out games, so
  they move by several points between seeds.
- A model can learn a source's look (Atari vs procgen) rather than a genre: compare the
  per-package rows before trusting the overall figure.
- Rendered retro games are not Twitch streams (modern 3D, overlays, webcams): this card
  measures the pipeline, not the production model's accuracy on stream frames.
"""
