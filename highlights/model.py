"""The highlight model: a small cheer classifier over each second's band energies, and a
calibrated logistic-regression meta-model over the window features.

`train` fits on a split of clips (whole clips: windows of one clip are never on both
sides): the meta-model on 60 %, its sigmoid (Platt) calibration on 20 %, the decision threshold
(best F1) on the last 20 %. Beside the model of every family it fits one per family and
one without each family, for the ablation. `contributions` says which features pushed a
window up: coefficient × standardised value, the model's own reasoning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score, precision_recall_curve, roc_auc_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from highlights.dataset import Clip, feature_rows, second_rows
from highlights.errors import HighlightModelError
from highlights.features import FAMILIES, FEATURES

MODEL_FILE = "highlights.joblib"
CARD_FILE = "model-card.json"
SEED_FIGURES = {"f1": 0.44, "roc_auc": 0.82}  # the seed project's reported figures


def feature_sets() -> dict[str, tuple[str, ...]]:
    """Every family, each family alone, and every family but one."""
    sets: dict[str, tuple[str, ...]] = {"all": FEATURES}
    for family, names in FAMILIES.items():
        sets[f"{family} only"] = names
    for family in FAMILIES:
        sets[f"without {family}"] = tuple(f for f in FEATURES if f not in FAMILIES[family])
    return sets


@dataclass
class WindowModel:
    """P(highlight) of a window from some of the features."""

    features: tuple[str, ...]
    pipeline: Pipeline
    calibration: LogisticRegression  # Platt scaling of the pipeline's log-odds
    threshold: float

    def columns(self) -> list[int]:
        return [FEATURES.index(f) for f in self.features]

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        odds = self.pipeline.decision_function(rows[:, self.columns()])
        return np.asarray(self.calibration.predict_proba(odds.reshape(-1, 1))[:, 1])

    def contributions(self, rows: np.ndarray) -> np.ndarray:
        """windows × features: each feature's push on the log-odds (before calibration)."""
        scaler: StandardScaler = self.pipeline.named_steps["standardscaler"]
        regression: LogisticRegression = self.pipeline.named_steps["logisticregression"]
        scaled = scaler.transform(rows[:, self.columns()])
        return np.asarray(scaled * regression.coef_[0])


@dataclass
class HighlightModel:
    cheer: MLPClassifier
    models: dict[str, WindowModel]
    card: dict[str, Any] = field(default_factory=dict)

    def cheer_probabilities(self, energies: np.ndarray) -> np.ndarray:
        return np.asarray(self.cheer.predict_proba(energies)[:, 1])

    @property
    def main(self) -> WindowModel:
        return self.models["all"]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        joblib.dump({"cheer": self.cheer, "models": self.models}, folder / MODEL_FILE)
        (folder / CARD_FILE).write_text(json.dumps(self.card, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> HighlightModel:
        if not (folder / MODEL_FILE).is_file():
            raise HighlightModelError(
                f"no highlight model in {folder} (run `python -m highlights train`)"
            )
        parts = joblib.load(folder / MODEL_FILE)
        card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
        return cls(parts["cheer"], parts["models"], card)


def scores(labels: np.ndarray, probabilities: np.ndarray, threshold: float) -> dict[str, float]:
    """ROC-AUC, PR-AUC (average precision) and F1 at `threshold`."""
    if len(set(labels.tolist())) < 2:
        raise HighlightModelError("scoring needs windows of both kinds (highlights and others)")
    predicted = probabilities >= threshold
    return {
        "roc_auc": round(float(roc_auc_score(labels, probabilities)), 4),
        "pr_auc": round(float(average_precision_score(labels, probabilities)), 4),
        "f1": round(float(f1_score(labels, predicted, zero_division=0)), 4),
        "precision": round(float(np.mean(labels[predicted])) if predicted.any() else 0.0, 4),
        "recall": round(float(np.mean(predicted[labels == 1])), 4),
        "positives": int(labels.sum()),
        "windows": len(labels),
    }


def augment_bands(
    energies: np.ndarray, labels: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The seconds again with their spectrum shifted by one or two bands either way and
    tilted at random: a cheer is a cheer in another crowd, room or microphone, so the cheer
    classifier must not learn one band."""
    copies = [energies] + [np.roll(energies, shift, axis=1) for shift in (-2, -1, 1, 2)]
    slope = np.linspace(-1.0, 1.0, energies.shape[1])[None, :]
    copies += [energies + 4.5 * rng.uniform(-1, 1, (len(energies), 1)) * slope for _ in range(2)]
    return np.concatenate(copies), np.tile(labels, len(copies))


def _best_threshold(labels: np.ndarray, probabilities: np.ndarray) -> float:
    precision, recall, thresholds = precision_recall_curve(labels, probabilities)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-9)
    return float(thresholds[int(np.argmax(f1[:-1]))]) if len(thresholds) else 0.5


def _fit_window_model(
    features: tuple[str, ...], parts: dict[str, tuple[np.ndarray, np.ndarray]], seed: int
) -> WindowModel:
    columns = [FEATURES.index(f) for f in features]
    fit_x, fit_y = parts["fit"]
    pipeline = make_pipeline(
        StandardScaler(),
        LogisticRegression(class_weight="balanced", max_iter=1000, random_state=seed),
    )
    pipeline.fit(fit_x[:, columns], fit_y)
    odds = pipeline.decision_function(parts["calibrate"][0][:, columns]).reshape(-1, 1)
    calibration = LogisticRegression().fit(odds, parts["calibrate"][1])
    model = WindowModel(features, pipeline, calibration, 0.5)
    model.threshold = _best_threshold(
        parts["threshold"][1], model.probabilities(parts["threshold"][0])
    )
    return model


def train(clips: list[Clip], seed: int = 7) -> HighlightModel:
    """Fit the cheer classifier and every window model on `clips` (see the module)."""
    if len(clips) < 5:
        raise HighlightModelError(f"{len(clips)} clips: training needs at least 5")
    order = np.random.default_rng(seed).permutation(len(clips))
    cut = [int(len(clips) * 0.6), int(len(clips) * 0.8)]
    names = ("fit", "calibrate", "threshold")
    groups = dict(zip(names, np.split(order, cut), strict=True))
    chosen = {name: [clips[i] for i in index] for name, index in groups.items()}
    energies, heard = second_rows(chosen["fit"])
    if len(set(heard.tolist())) < 2:
        raise HighlightModelError("the training clips' seconds are all one kind: no cheer to learn")
    cheer = MLPClassifier(hidden_layer_sizes=(32,), max_iter=400, random_state=seed)
    cheer.fit(*augment_bands(energies, heard, np.random.default_rng(seed)))

    def cheer_of(rows: np.ndarray) -> np.ndarray:
        return np.asarray(cheer.predict_proba(rows)[:, 1])

    parts = {}
    for name in names:
        x, y, _ = feature_rows(chosen[name], cheer_of)
        if len(set(y.tolist())) < 2:
            raise HighlightModelError(
                f"the {name} split has windows of one kind only: more clips needed"
            )
        parts[name] = (x, y)
    models = {name: _fit_window_model(f, parts, seed) for name, f in feature_sets().items()}
    heldout = parts["threshold"]
    card = {
        "features": list(FEATURES),
        "families": {k: list(v) for k, v in FAMILIES.items()},
        "threshold": models["all"].threshold,
        "clips": {name: len(v) for name, v in chosen.items()},
        "windows": {name: len(v[1]) for name, v in parts.items()},
        "positive_share": round(float(np.mean(parts["fit"][1])), 4),
        "validation": {
            name: scores(heldout[1], m.probabilities(heldout[0]), m.threshold)
            for name, m in models.items()
        },
        "cheer_validation_accuracy": round(
            float(
                np.mean(
                    (cheer_of(second_rows(chosen["threshold"])[0]) >= 0.5)
                    == second_rows(chosen["threshold"])[1]
                )
            ),
            4,
        ),
        "seed_figures": SEED_FIGURES,
    }
    return HighlightModel(cheer, models, card)


def evaluate(model: HighlightModel, clips: list[Clip]) -> dict[str, dict[str, float]]:
    """Scores of every window model on `clips`, each at its own threshold."""
    x, y, _ = feature_rows(clips, model.cheer_probabilities)
    return {name: scores(y, m.probabilities(x), m.threshold) for name, m in model.models.items()}
