"""Quality against speed on this CPU: a trained model as Keras, as TFLite in each number
format `train --tflite` offers (`classifier.export`), and the whole `label` job over FerretDB.

    .venv/bin/python bench/classifier_transfer.py --seeds 1 --tasks unseen-games \\
        --backbones probe-224 finetuned probe-96 student --no-report
    out=bench/out/classifier-transfer/unseen-games
    .venv/bin/python bench/classifier_speed.py $out-probe-224-seed1 $out-finetuned-seed1 \\
        $out-probe-96-seed1 $out-student-seed1

For each model folder: inference throughput (batch 256, decoding excluded) and macro-F1 on
the model's own test games for each runtime; then the `label` job over 1,000 stored frames
with the TFLite variant that is fastest within 0.05 macro-F1 of the best. Results:
docs/benchmarks.md, section `classifier-speed`.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.classifier import (  # noqa: E402
    FRAMES,
    inference_throughput,
    label_job_throughput,
    run_cli,
    table,
)
from bench.common import machine, write_section  # noqa: E402
from classifier.export import (  # noqa: E402
    CALIBRATION_FRAMES,
    QUANTISATIONS,
    Quantisation,
    export_tflite,
)

TOLERANCE = 0.05  # macro-F1 a faster variant may give up


def calibration_frames(card: dict[str, Any], count: int = 2 * CALIBRATION_FRAMES) -> np.ndarray:
    """Frames of the model's training games (neither its validation nor its test games),
    spread over them, decoded as the model takes them; `export_tflite` calibrates on
    CALIBRATION_FRAMES of them, spread again, as `train --tflite int8` does on its own."""
    from classifier.dataset import decode_examples, examples_from_dir

    held_out = set(card["test_keys"]) | set(card["validation_keys"])
    training = [e for e in examples_from_dir(FRAMES) if e.game not in held_out]
    return decode_examples(training[:: max(1, len(training) // count)], card["image_size"]).images


def export_variant(model: Path, out: Path, variant: Quantisation) -> Path:
    """A copy of the model folder whose model.tflite is the `variant` conversion."""
    import keras

    out.mkdir(parents=True, exist_ok=True)
    for name in ("model.json", "model.keras"):
        shutil.copy(model / name, out / name)
    network = keras.saving.load_model(model / "model.keras")
    card = json.loads((model / "model.json").read_text())
    calibration = calibration_frames(card) if variant == "int8" else None
    if not export_tflite(network, out / "model.tflite", variant, calibration):
        raise RuntimeError(f"{model}: the {variant} TFLite export failed")
    return out


def macro_f1(model: Path, runtime: str) -> float:
    run_cli("evaluate", "--data", str(FRAMES), "--model", str(model), "--runtime", runtime)
    evaluation = json.loads((model / "evaluation.json").read_text())
    return float(evaluation["overall"]["macro_f1"])


def measure(model: Path, scratch: Path) -> dict[str, Any]:
    card = json.loads((model / "model.json").read_text())
    rows: dict[str, dict[str, float]] = {}
    variants = {v: export_variant(model, scratch / f"{model.name}-{v}", v) for v in QUANTISATIONS}
    keras_speed = inference_throughput(variants["float32"])
    rows["Keras"] = {
        "frames_per_s": keras_speed["keras"],
        "macro_f1": macro_f1(variants["float32"], "keras"),
    }
    for variant, folder in variants.items():
        speed = (
            keras_speed["tflite"]
            if variant == "float32"
            else inference_throughput(folder)["tflite"]
        )
        rows[f"TFLite {variant}"] = {
            "frames_per_s": speed,
            "macro_f1": macro_f1(folder, "tflite"),
            "mb": (folder / "model.tflite").stat().st_size / 1e6,
        }
    best = max(r["macro_f1"] for r in rows.values())
    chosen = max(
        (
            name
            for name in rows
            if name.startswith("TFLite") and rows[name]["macro_f1"] >= best - TOLERANCE
        ),
        key=lambda name: rows[name]["frames_per_s"],
    )
    job = label_job_throughput(variants[chosen.removeprefix("TFLite ")], runtimes=("tflite",))
    return {
        "model": model.name,
        "network": card.get("backbone") or "MobileNetV3-Small",
        "image_size": card["image_size"],
        "decode_per_s": keras_speed["decode"],
        "rows": rows,
        "chosen": chosen,
        "label_job": job["tflite"],
    }


NETWORKS = (("EfficientNet-Lite0", 224), ("EfficientNet-Lite0", 160), ("EfficientNet-Lite0", 96))
NETWORKS += (("MobileNetV3-Small", 96),)


def network_throughput(scratch: Path, frames: int = 512) -> list[list[Any]]:
    """Frames/s of each network at each size as TFLite float32 (batch 256): what a size
    costs, whatever the weights (a 9-genre head on top)."""
    import time

    import keras
    from ai_edge_litert.interpreter import Interpreter

    from classifier import lite0
    from classifier.model import build

    rows = []
    for name, size in NETWORKS:
        if name == "EfficientNet-Lite0":
            frame = keras.Input((size, size, 3))
            network = keras.Model(frame, keras.layers.Dense(9)(lite0.build(size)(frame)))
        else:
            network = build(9, size)
        path = scratch / f"{name}-{size}.tflite"
        network.export(str(path), format="litert", verbose=False)
        interpreter = Interpreter(model_path=str(path), num_threads=2)
        index = interpreter.get_input_details()[0]["index"]
        images = np.random.default_rng(0).integers(0, 256, (256, size, size, 3)).astype(np.float32)
        interpreter.resize_tensor_input(index, list(images.shape))
        interpreter.allocate_tensors()
        interpreter.set_tensor(index, images)
        interpreter.invoke()  # warm-up
        started = time.perf_counter()
        for _ in range(frames // 256):
            interpreter.set_tensor(index, images)
            interpreter.invoke()
        rate = frames / (time.perf_counter() - started)
        rows.append([name, size, f"{rate:.0f}", f"{network.count_params() / 1e6:.2f}"])
    return rows


def report(results: list[dict[str, Any]], networks: list[list[Any]]) -> str:
    parts = []
    for r in results:
        rows = [
            [
                name,
                f"{row['frames_per_s']:.0f}",
                f"{row['macro_f1']:.3f}",
                f"{row['mb']:.1f}" if "mb" in row else "–",
            ]
            for name, row in r["rows"].items()
        ]
        parts.append(
            f"**{r['model']}** ({r['network']}, {r['image_size']} px; decoding stored PNG "
            f"frames {r['decode_per_s']:.0f} frames/s):\n\n"
            + table(rows, ["runtime", "inference frames/s", "macro-F1 (its test games)", "MB"])
            + f"\n\nThe `label` job over 1,000 frames in FerretDB (GridFS read, decode, "
            f"inference, writes) with {r['chosen']} (the fastest within {TOLERANCE} macro-F1 "
            f"of the best): **{r['label_job']:.0f} frames/s** (target ≥ 1,000)."
        )
    body = "\n\n".join(parts)
    return f"""## Classifier: quality against speed (`bench/classifier_speed.py`)
Measured {machine()}; CPU only, 2 threads.
Reproduce: the command in the script's docstring, after `bench/classifier_transfer.py`.
int8-weights is dynamic-range quantisation (int8 weights, float activations); int8 quantises
weights and activations, their ranges calibrated on {CALIBRATION_FRAMES} frames spread over the model's
training games (as `train --tflite int8` calibrates on its training frames).

Each network at each input size, TFLite float32, batch 256 (inference alone):

{table(networks, ["network", "px", "frames/s", "parameters (M)"])}

{body}
"""


def main() -> int:
    models = [Path(a) for a in sys.argv[1:]]
    with tempfile.TemporaryDirectory() as folder:
        networks = network_throughput(Path(folder))
        results = [measure(model, Path(folder)) for model in models]
    write_section("classifier-speed", report(results, networks))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
