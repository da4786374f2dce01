"""Running a trained model: Keras (GPU with mixed precision when present) or TFLite on CPU.

Both return calibrated probabilities: the network's output scaled by the model card's
temperature (`calibration.calibrate`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Literal

import numpy as np

from classifier.calibration import calibrate
from classifier.errors import ModelError
from classifier.model import TFLITE_FILE, ModelCard

log = logging.getLogger(__name__)

Runtime = Literal["keras", "tflite"]


def gpu_available() -> bool:
    """Whether the active Keras backend sees a GPU (each backend asks its own way)."""
    import keras

    backend = keras.backend.backend()  # what Keras chose (KERAS_BACKEND, its config file)
    try:
        if backend == "jax":
            import jax

            return any(d.platform == "gpu" for d in jax.devices())
        if backend == "torch":
            import torch

            return bool(torch.cuda.is_available())
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    except Exception:  # a backend that fails to probe has no usable GPU
        return False


class KerasPredictor:
    """Class probabilities from the `.keras` model; mixed precision on a GPU."""

    def __init__(self, folder: Path, *, batch_size: int = 128) -> None:
        import keras

        from classifier import model as model_lib

        self.on_gpu = gpu_available()
        if self.on_gpu:
            # float16 compute, float32 weights and softmax: ~2x throughput on tensor cores.
            keras.mixed_precision.set_global_policy("mixed_float16")
        self.network, self.card = model_lib.load(folder)
        self.batch_size = batch_size

    def __call__(self, images: np.ndarray) -> np.ndarray:
        if len(images) == 0:
            return np.zeros((0, len(self.card.classes)), np.float32)
        probabilities = self.network.predict(images, batch_size=self.batch_size, verbose=0)
        return calibrate(np.asarray(probabilities, dtype=np.float32), self.card.temperature)


class TFLitePredictor:
    """Class probabilities from `model.tflite` via LiteRT (no TensorFlow import needed)."""

    def __init__(self, folder: Path) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.card = ModelCard.load(folder)
        path = folder / TFLITE_FILE
        if not path.is_file():
            raise ModelError(f"{path} is missing (train exports it with the TensorFlow backend)")
        self.interpreter = Interpreter(model_path=str(path), num_threads=os.cpu_count() or 1)
        self._input = self.interpreter.get_input_details()[0]["index"]
        self._output = self.interpreter.get_output_details()[0]["index"]
        self._batch = 0
        self.on_gpu = False

    def __call__(self, images: np.ndarray) -> np.ndarray:
        if len(images) == 0:
            return np.zeros((0, len(self.card.classes)), np.float32)
        if len(images) != self._batch:  # the converted input is batch 1 until resized
            self.interpreter.resize_tensor_input(self._input, list(images.shape))
            self.interpreter.allocate_tensors()
            self._batch = len(images)
        self.interpreter.set_tensor(self._input, images.astype(np.float32))
        self.interpreter.invoke()
        raw = np.array(self.interpreter.get_tensor(self._output), dtype=np.float32)
        return calibrate(raw, self.card.temperature)


def predictor(folder: Path, runtime: Runtime) -> KerasPredictor | TFLitePredictor:
    if not folder.is_dir():
        raise ModelError(f"model folder {folder} does not exist: run `python -m classifier train`")
    return KerasPredictor(folder) if runtime == "keras" else TFLitePredictor(folder)
