"""`python -m classifier pretrain | train | evaluate | label`: the frame classifier's batch
jobs."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from classifier.dataset import SplitBy
from classifier.errors import ChannelOffline, ClipUnusable, DatasetError, ModelError
from classifier.export import QUANTISATIONS
from classifier.model import AUGMENTATIONS, BACKBONES
from settings import Settings
from settings.cli import start
from twitch_client.errors import TwitchError


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="a folder of <genre>/<game>/*.jpg|png frames")
    source.add_argument(
        "--store",
        action="store_true",
        help="stored stream frames, labelled by their game's catalogue genre (MONGODB_URI); "
        "pretrain uses every stored frame",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m classifier", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser(
        "train", help="train a model and export it (.keras, .tflite, model card)"
    )
    _data_arguments(train)
    train.add_argument(
        "--out", type=Path, help="model folder to write (default: CLASSIFIER_MODEL_DIR)"
    )
    train.add_argument("--target", choices=["genre", "game"], default="genre")
    train.add_argument(
        "--split-by",
        choices=["game", "group"],
        default=None,
        help="hold out whole games, or whole groups (episodes / channels); "
        "default: game for --target genre, group for --target game",
    )
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--image-size", type=int, default=128)
    train.add_argument("--learning-rate", type=float, default=2e-3)
    train.add_argument("--patience", type=int, default=5, help="early-stopping patience")
    train.add_argument("--seed", type=int, default=2026)
    train.add_argument("--max-per-game", type=int, default=0, help="cap frames per game")
    train.add_argument(
        "--backbone",
        choices=list(BACKBONES),
        default="scratch",
        help="scratch: MobileNetV3-Small (from --weights when given); imagenet-lite0: a "
        "linear probe (logistic regression, its L2 strength chosen on the validation games) "
        "on EfficientNet-Lite0's ImageNet features, then --fine-tune-epochs of its top "
        "blocks at a tenth of --learning-rate",
    )
    train.add_argument("--fine-tune-epochs", type=int, default=0)
    train.add_argument(
        "--teacher",
        type=Path,
        help="a trained model folder: MobileNetV3-Small learns its probabilities (distillation)",
    )
    train.add_argument("--weights", type=Path, help="start from this backbone weights file")
    train.add_argument(
        "--tflite",
        choices=list(QUANTISATIONS),
        default="float32",
        help="model.tflite's number format: int8 (weights and activations, calibrated on "
        "training frames) is the fastest for the imagenet-lite0 backbone on a CPU, slower "
        "than float32 for scratch; float16 halves the file",
    )
    train.add_argument(
        "--augment",
        choices=list(AUGMENTATIONS),
        default="basic",
        help="strong adds hue, saturation, grayscale and mirroring",
    )

    pretrain = commands.add_parser(
        "pretrain",
        help="self-supervised (SimCLR) backbone weights from unlabelled frames, for "
        "`train --weights`",
    )
    _data_arguments(pretrain)
    pretrain.add_argument("--out", type=Path, required=True, help="folder to write")
    pretrain.add_argument("--epochs", type=int, default=8)
    pretrain.add_argument("--batch-size", type=int, default=128)
    pretrain.add_argument("--image-size", type=int, default=96)
    pretrain.add_argument("--learning-rate", type=float, default=2e-3)
    pretrain.add_argument("--max-per-game", type=int, default=40, help="cap frames per game")
    pretrain.add_argument("--seed", type=int, default=2026)

    evaluate = commands.add_parser(
        "evaluate", help="score a model on its held-out split or a folder; write figures and card"
    )
    _data_arguments(evaluate)
    evaluate.add_argument("--model", type=Path, help="model folder (default: CLASSIFIER_MODEL_DIR)")
    evaluate.add_argument("--out", type=Path, help="where to write (default: the model folder)")
    evaluate.add_argument("--runtime", choices=["keras", "tflite"], default="keras")
    evaluate.add_argument(
        "--split",
        choices=["test", "all"],
        default="test",
        help="score the model card's held-out test games (default), or every frame of the "
        "data (a folder of games the model never saw)",
    )

    label = commands.add_parser(
        "label", help="label the stored frames no model version has labelled yet"
    )
    label.add_argument("--model", type=Path, help="model folder (default: CLASSIFIER_MODEL_DIR)")
    label.add_argument(
        "--category-model",
        type=Path,
        help="also recognise each stream's category with this game-target model "
        "(`train --store --target game`) and flag streams whose frames show another game",
    )
    label.add_argument("--runtime", choices=["keras", "tflite"], default="keras")
    label.add_argument("--batch-size", type=int, default=256)
    label.add_argument("--limit", type=int, default=0, help="at most this many frames (0: all)")
    label.add_argument(
        "--every",
        type=float,
        default=0,
        help="keep running: label new frames every this many seconds (0: once)",
    )
    live = commands.add_parser(
        "recognise", help="which category a live stream looks like now (a category model)"
    )
    live.add_argument("login", help="the channel's Twitch login")
    live.add_argument(
        "--model",
        type=Path,
        help="a category model (`train --store --target game`; default: "
        "CLASSIFIER_CATEGORY_MODEL_DIR)",
    )
    live.add_argument("--frames", type=int, default=8, help="frames across the clip (K)")
    live.add_argument("--seconds", type=float, default=6.0, help="seconds of the stream read")
    live.add_argument("--runtime", choices=["keras", "tflite"], default="keras")
    live.add_argument("--json", action="store_true", help="one JSON object")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = start("classifier", debug=args.verbose)
    if args.command == "train":
        args.out = args.out or settings.classifier_model_dir
    elif args.command == "recognise":
        args.model = args.model or settings.classifier_category_model_dir
    elif args.command != "pretrain":
        args.model = args.model or settings.classifier_model_dir
    try:
        if args.command == "pretrain":
            return _pretrain(args, settings)
        if args.command == "train":
            return _train(args, settings)
        if args.command == "evaluate":
            return _evaluate(args, settings)
        if args.command == "recognise":
            return _recognise(args, settings)
        return _label(args, settings)
    except (DatasetError, ModelError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (ChannelOffline, ClipUnusable, TwitchError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _recognise(args: argparse.Namespace, settings: Settings) -> int:
    from classifier.live import recognise_live
    from classifier.predict import predictor
    from twitch_client import TwitchClient

    if args.frames < 1:
        raise DatasetError("--frames must be at least 1")
    run = predictor(args.model, args.runtime)
    client = TwitchClient(settings)
    try:
        seen = recognise_live(
            client,
            run,
            args.login,
            settings.clip_url,
            frames=args.frames,
            seconds=args.seconds,
            size=(settings.frame_width, settings.frame_height),
        )
    finally:
        client.close()
    if args.json:
        print(json.dumps(seen.as_dict()))
        return 0
    print(f'{seen.login} is live in "{seen.category}"; {seen.frames} frames look like:')
    for rank, (category, probability) in enumerate(seen.top, 1):
        print(f"  {rank}. {category} {probability:.0%}")
    if seen.matches is None:
        print(f'The model ({seen.model_version}) has no class for "{seen.category}".')
    elif seen.shows_other:
        print("The frames look unlike the category: it shows another game.")
    else:
        print(
            "The frames match the category."
            if seen.matches
            else "They look most like another category, yet the stream's own is not ruled out."
        )
    return 0


def _examples(args: argparse.Namespace, settings: Settings):  # type: ignore[no-untyped-def]
    from classifier.dataset import examples_from_dir

    if args.data is not None:
        return examples_from_dir(args.data), f"frames from {args.data}", None
    from classifier.stored import examples_from_store
    from store import FrameStore

    frames = FrameStore(settings.mongodb_uri, settings.mongodb_db)
    pretraining = args.command == "pretrain"  # reads no label: frames of unplaced games too
    examples = examples_from_store(frames, unplaced=pretraining)
    # One query for every frame's bytes: per-frame GridFS reads each scan `frames.chunks`
    # on FerretDB v1.
    stored = frames.read_frames([e.ref for e in examples])
    frames.close()

    def read(ref: str) -> bytes:
        return stored.get(ref, b"")  # a frame deleted meanwhile decodes as "empty image"

    labelled = "" if pretraining else " labelled by catalogue genre"
    return examples, f"stored stream frames{labelled}", read


def _pretrain(args: argparse.Namespace, settings: Settings) -> int:
    from classifier.pretrain import PretrainConfig, pretrain

    examples, _, read = _examples(args, settings)
    config = PretrainConfig(
        image_size=args.image_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        max_per_key=args.max_per_game,
        seed=args.seed,
        verbose=1 if sys.stdout.isatty() else 2,
    )
    report = pretrain(examples, args.out, config, read=read)
    print(json.dumps({k: report[k] for k in ("weights", "frames", "games", "loss")}))
    return 0


def _train(args: argparse.Namespace, settings: Settings) -> int:
    from classifier.train import TrainConfig, train

    examples, description, read = _examples(args, settings)
    split_by: SplitBy = args.split_by or ("game" if args.target == "genre" else "group")
    config = TrainConfig(
        target=args.target,
        split_by=split_by,
        image_size=args.image_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        patience=args.patience,
        seed=args.seed,
        weights=args.weights,
        backbone=args.backbone,
        fine_tune_epochs=args.fine_tune_epochs,
        teacher=args.teacher,
        tflite=args.tflite,
        max_per_key=args.max_per_game,
        augmentation=args.augment,
        verbose=1 if sys.stdout.isatty() else 2,
    )
    card = train(examples, args.out, config, data_description=description, read=read)
    print(
        json.dumps(
            {
                "model": str(args.out),
                "version": card.version,
                "epochs": card.epochs,
                "epoch_seconds": card.epoch_seconds,
                "counts": card.counts,
            }
        )
    )
    return 0


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from classifier.evaluate import evaluate
    from classifier.predict import predictor

    examples, _, read = _examples(args, settings)
    run = predictor(args.model, args.runtime)
    result = evaluate(examples, run.card, run, args.out or args.model, read=read, split=args.split)
    print(json.dumps({"model": run.card.version, **result.overall}))
    return 0


def _label(args: argparse.Namespace, settings: Settings) -> int:
    from classifier.category import check_categories, recognise_stored_categories
    from classifier.label import check_classes, label_stored_frames
    from classifier.predict import predictor
    from store import FrameStore, StoreError

    run = predictor(args.model, args.runtime)
    check_classes(run.card)
    recognise = predictor(args.category_model, args.runtime) if args.category_model else None
    if recognise is not None:
        check_categories(recognise.card)
    frames = FrameStore(settings.mongodb_uri, settings.mongodb_db)
    try:
        while True:
            try:
                summary = label_stored_frames(
                    frames,
                    run,
                    batch_size=args.batch_size,
                    limit=args.limit,
                    progress=True,
                    min_balanced_accuracy=settings.classifier_min_balanced_accuracy,
                )
                print(json.dumps(summary.as_dict()), flush=True)
                if recognise is not None:
                    categories = recognise_stored_categories(
                        frames,
                        recognise,
                        batch_size=args.batch_size,
                        limit=args.limit,
                        min_balanced_accuracy=settings.classifier_min_balanced_accuracy,
                    )
                    print(json.dumps(categories.as_dict()), flush=True)
            except StoreError as error:
                if not args.every:
                    raise
                logging.getLogger("classifier").warning("labelling skipped: %s", error)
            if not args.every:
                return 0
            time.sleep(args.every)
    finally:
        frames.close()


if __name__ == "__main__":
    sys.exit(main())
