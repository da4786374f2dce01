"""Highlight model benchmark: quality per feature family, and cost; writes its section of
docs/benchmarks.md.

    .venv/bin/python bench/highlights.py            # full run (about 10 minutes)
    .venv/bin/python bench/highlights.py --quick    # fewer clips, for a smoke test

Labelled clips come from `python -m emulator.labelled_clips`: a training set of the
"train" generator, a test set of the same generator with another seed (unseen clips),
and a test set of the "heldout" generator (other rates, durations, strengths and cheer
sound: labels the model's generator did not produce). The model is trained once
(`highlights.model.train`); every feature set is scored on both test sets. Cost: windows
scored per CPU-second from decoded clips (features + model), and per followed channel the
CPU time of reading a 60-s clip from the emulator (in its own process) with streamlink,
decoding it and scoring it, the bytes read and the bytes stored.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import bson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import emulator_process, machine, write_section
from emulator.labelled_clips import main as export
from highlights.cut import cut_moment
from highlights.dataset import load_folder
from highlights.decode import decode_clip
from highlights.detect import MOMENT_LEAD_SECONDS, MOMENT_SECONDS, ChannelGame, clip_document
from highlights.features import clip_features
from highlights.model import SEED_FIGURES, evaluate, train
from twitch_client.clips import read_clip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    train_clips, test_clips = (60, 40) if args.quick else (400, 200)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        sets = {
            "train": ["--config", "train", "--clips", str(train_clips), "--seed", "7"],
            "same generator": ["--config", "train", "--clips", str(test_clips), "--seed", "8"],
            "held-out generator": [
                "--config",
                "heldout",
                "--clips",
                str(test_clips),
                "--seed",
                "9",
            ],
        }
        for name, options in sets.items():
            export([*options, "--seconds", "60", "--out", str(root / name)])
        dataset = load_folder(root / "train")
        started = time.process_time()
        model = train(dataset.clips)
        train_cpu = time.process_time() - started
        results = {
            name: evaluate(model, load_folder(root / name).clips)
            for name in ("same generator", "held-out generator")
        }
        clips = load_folder(root / "held-out generator").clips
        started = time.process_time()
        windows = 0
        for clip in clips:
            features = clip_features(
                clip.audio,
                clip.frames,
                clip.fps,
                clip.chat,
                len(clip.labels),
                model.cheer_probabilities,
                clip.rate,
            )
            model.main.probabilities(features.values)
            windows += features.windows
        scoring_cpu = time.process_time() - started

    port = _free_port()
    with emulator_process(
        port, moments="demo", channels=20_000, frozen_at="2026-11-22T20:00:00Z"
    ) as url:
        import numpy as np
        import requests

        from emulator.config import EmulatorSettings
        from emulator.market import Market

        market = Market(
            EmulatorSettings(_env_file=None, channels=20_000, frozen_at="2026-11-22T20:00:00Z")
        )  # type: ignore[call-arg]
        live = market.live_arrays(market.now())
        logins = [market.login_of(int(c)) for c in live.channel[np.argsort(-live.viewers)[:5]]]
        requests.get(url + "/_emulator/stats", timeout=10)
        costs, sizes, stored = [], [], []
        cut_costs: list[float] = []
        cut_sizes: list[int] = []
        for login in logins:
            started = time.process_time()
            data = read_clip(f"hls://{url}/hls/{login}/index.m3u8?seconds=60", 70)
            decoded = decode_clip(data)
            features = clip_features(
                decoded.audio,
                decoded.frames,
                decoded.fps,
                None,
                int(decoded.seconds // 10),
                model.cheer_probabilities,
            )
            document = clip_document(
                model, datetime.now(UTC), features.values, ChannelGame("1", "A game", "Shooter"), {}
            )
            costs.append(time.process_time() - started)
            sizes.append(len(data))
            stored.append(len(bson.encode(document)))
            started = time.process_time()
            cut = cut_moment(data, 30.0 - MOMENT_LEAD_SECONDS, MOMENT_SECONDS)
            cut_costs.append(time.process_time() - started)
            cut_sizes.append(len(cut.data))
    per_clip = sorted(costs)[len(costs) // 2]
    clip_mb = sorted(sizes)[len(sizes) // 2] / 1e6
    clip_kb = sorted(stored)[len(stored) // 2] / 1e3
    cut_ms = sorted(cut_costs)[len(cut_costs) // 2] * 1e3
    cut_kb = sorted(cut_sizes)[len(cut_sizes) // 2] / 1e3

    def row(name: str, scores: dict[str, float]) -> str:
        return f"| {name} | {scores['roc_auc']:.3f} | {scores['pr_auc']:.3f} | {scores['f1']:.3f} | {scores['precision']:.2f} / {scores['recall']:.2f} |"

    tables = []
    for test_name, scores in results.items():
        first = scores["all"]
        lines = [
            f"**{test_name}** ({first['windows']:,} windows, {first['positives']} highlights):",
            "",
            "| features | ROC-AUC | PR-AUC | F1 | precision / recall |",
            "|---|---|---|---|---|",
            *[row(name, s) for name, s in scores.items()],
            f"| seed project (its own data) | {SEED_FIGURES['roc_auc']:.2f} | – | {SEED_FIGURES['f1']:.2f} | – |",
        ]
        tables.append("\n".join(lines))
    card = model.card
    markdown = f"""
## Highlights (`bench/highlights.py`)

{machine()}. Command:

  .venv/bin/python bench/highlights.py{" --quick" if args.quick else ""}

Trained on {train_clips} labelled clips of 60 s of the emulator's "train" generator
({card["windows"]["fit"]:,} windows to fit, {card["windows"]["calibrate"]} to calibrate,
{card["windows"]["threshold"]} to choose the threshold {card["threshold"]:.3f};
{card["positive_share"]:.1%} of windows are highlights) in {train_cpu:.1f} CPU-s; the cheer
classifier is right on {card["cheer_validation_accuracy"]:.1%} of its validation seconds.
Each feature set is scored at its own validation threshold on {test_clips} unseen clips of
the same generator and {test_clips} of the held-out generator (rarer, shorter, weaker
moments, more distractors, another cheer sound). The seed project's figures are on its own
real data and are not comparable one to one.

{tables[0]}

{tables[1]}

Cost:

| figure | value |
|---|---|
| windows scored per CPU-second (features + model, decoded clips) | {windows / scoring_cpu:,.0f} |
| per followed channel and 60-s clip: read (streamlink) + decode + score | {per_clip:.2f} CPU-s, {clip_mb:.2f} MB read |
| stored per clip (`highlights.detect.clip_document`: probabilities, packed features, moments) | {clip_kb:.1f} kB |
| per followed channel and day at HIGHLIGHT_EVERY_MINUTES=10 (144 clips) | {144 * per_clip / 60:.1f} CPU-min, {144 * clip_mb:.0f} MB read, {144 * clip_kb / 1e3:.2f} MB stored |
| per-second chat counts of a followed channel | 3 × 60 integers per minute entry |
| per moment: its video cut out of the clip ({MOMENT_SECONDS:.0f} s copied into MP4, `highlights.cut`) and kept in GridFS | {cut_ms:.0f} CPU-ms, {cut_kb:.0f} kB stored (`HIGHLIGHT_MOMENT_CLIPS`=500 at most: {500 * cut_kb / 1e3:.0f} MB) |
"""
    write_section("highlights", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
