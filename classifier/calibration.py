"""Calibration: temperature scaling fitted on validation frames, and the calibration error.

A network trained with cross-entropy on a few games is over-confident on games it never
saw. Temperature scaling divides the log-probabilities by one scalar `T` (fitted to the
validation games' negative log-likelihood), which keeps each frame's ranking of classes and
only makes the probabilities say how often they are right. It needs nothing from the
network, so it applies alike to the Keras and the TFLite output.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

_FLOOR = 1e-7  # log(0) guard: a softmax output of exactly zero


def calibrate(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """`softmax(log p / T)` row by row; `T = 1` returns the probabilities unchanged."""
    if temperature == 1.0 or len(probabilities) == 0:
        return probabilities
    logits = np.log(np.maximum(probabilities.astype(np.float64), _FLOOR)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    calibrated: np.ndarray = (scaled / scaled.sum(axis=1, keepdims=True)).astype(np.float32)
    return calibrated


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    chosen = probabilities[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.maximum(chosen, _FLOOR))))


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The `T` in [0.05, 20] that minimises the validation NLL (searched over log T)."""
    if len(labels) == 0:
        return 1.0
    result = minimize_scalar(
        lambda log_t: negative_log_likelihood(
            calibrate(probabilities, float(np.exp(log_t))), labels
        ),
        bounds=(np.log(0.05), np.log(20.0)),
        method="bounded",
    )
    return round(float(np.exp(result.x)), 4)


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = 15
) -> float:
    """ECE: the frame-weighted mean gap between confidence and accuracy over equal-width
    confidence bins (Guo et al. 2017)."""
    if len(labels) == 0:
        return 0.0
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    # Bin i holds confidences in (edges[i], edges[i + 1]]; a confidence of 0 joins bin 0.
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    error = 0.0
    for i in range(bins):
        inside = which == i
        if inside.any():
            error += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return round(float(error), 4)
