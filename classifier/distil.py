"""Distillation: a small, fast student learns a trained teacher's probabilities.

The teacher (say EfficientNet-Lite0 fine-tuned at 160 px) is too slow for the label job;
MobileNetV3-Small at 96 px trained on the teacher's calibrated probabilities of the same
training frames (soft labels) keeps more of its quality than one trained on the hard labels
alone: the soft labels say which genres a frame resembles, not only which one it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from classifier.dataset import Example, decode_examples
from classifier.errors import DatasetError
from classifier.predict import KerasPredictor


class Teacher:
    """A trained model folder whose calibrated probabilities become training targets."""

    def __init__(self, folder: Path) -> None:
        self.run = KerasPredictor(folder)
        self.card = self.run.card

    def check(self, classes: list[str], test_keys: list[str]) -> None:
        """The student must have the teacher's classes and test games: a teacher trained on
        the student's test games would hand their answers over in its soft labels."""
        if self.card.classes != classes:
            raise DatasetError(
                f"the teacher {self.card.version} has classes {self.card.classes}, "
                f"the student's data {classes}: distil on the data the teacher was trained on"
            )
        if sorted(self.card.test_keys) != sorted(test_keys):
            raise DatasetError(
                f"the teacher {self.card.version} held out other test games than this split: "
                "use the teacher's data, --seed and --split-by"
            )

    def soft_labels(
        self, examples: Sequence[Example], read: Callable[[str], bytes] | None = None
    ) -> np.ndarray:
        """The teacher's probabilities for `examples`, decoded at the teacher's size."""
        decoded = decode_examples(examples, self.card.image_size, read)
        if len(decoded.examples) != len(examples):
            raise DatasetError(f"{len(decoded.failures)} frames became unreadable while distilling")
        return np.asarray(self.run(decoded.images), dtype=np.float32)

    def describe(self) -> str:
        return f"MobileNetV3-Small distilled from {self.card.version} ({self.card.network()})"
