"""The TFLite (LiteRT) file `label --runtime tflite` runs, in one of four number formats.

- float32: the network as trained;
- float16: float16 weights, float32 arithmetic (half the file, the same speed on a CPU);
- int8-weights: int8 weights, float activations ("dynamic range"; no calibration frames);
- int8: int8 weights and activations, their ranges calibrated on training frames. XNNPACK
  runs it in integer arithmetic: about twice float32's speed for EfficientNet-Lite0 on a
  CPU, at a small cost in agreement with the float network; MobileNetV3-Small runs slower
  in int8 than in float32 (`bench/classifier_speed.py` measures each).

Inputs and outputs stay float32 in every format, so a predictor feeds them alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import keras
import numpy as np

log = logging.getLogger(__name__)

Quantisation = Literal["float32", "float16", "int8-weights", "int8"]
QUANTISATIONS: tuple[Quantisation, ...] = ("float32", "float16", "int8-weights", "int8")
CALIBRATION_FRAMES = 200  # enough for stable activation ranges; conversion time grows with it


def converter_options(
    quantisation: Quantisation, calibration: np.ndarray | None = None
) -> dict[str, Any]:
    """The TFLite converter's settings for `quantisation` (int8 needs `calibration`: frames
    as the network takes them)."""
    import tensorflow as tf

    if quantisation == "float32":
        return {}
    if quantisation == "float16":
        return {
            "optimizations": [tf.lite.Optimize.DEFAULT],
            "target_spec": {"supported_types": [tf.float16]},
        }
    if quantisation == "int8-weights":
        return {"optimizations": [tf.lite.Optimize.DEFAULT]}
    if calibration is None or len(calibration) == 0:
        raise ValueError("int8 quantisation needs calibration frames")
    # Spread over the whole set: frames come grouped by game, and the first few games'
    # colours would give ranges the others overflow.
    step = max(1, len(calibration) // CALIBRATION_FRAMES)
    frames = calibration[::step][:CALIBRATION_FRAMES].astype(np.float32)

    def representative() -> Iterator[list[np.ndarray]]:
        for i in range(len(frames)):
            yield [frames[i : i + 1]]

    return {"optimizations": [tf.lite.Optimize.DEFAULT], "representative_dataset": representative}


def export_tflite(
    network: keras.Model,
    path: Path,
    quantisation: Quantisation = "float32",
    calibration: np.ndarray | None = None,
) -> bool:
    """Export to TFLite; only some backends can, so a converter failure is logged, not
    raised (the Keras runtime still works)."""
    options = converter_options(quantisation, calibration)
    try:
        network.export(str(path), format="litert", verbose=False, **options)
    except Exception as error:  # converter errors vary by backend and version
        log.warning("TFLite export skipped (%s: %s)", type(error).__name__, error)
        return False
    return True
