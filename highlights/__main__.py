"""`python -m highlights train | evaluate | detect | run | follow | unfollow | list`:
highlight moments of live streams.

`train` and `evaluate` read labelled clips (`python -m emulator.labelled_clips` writes
them; docs/highlights.md has the format). `detect` scores one clip of each followed
channel now; `run` does so every HIGHLIGHT_EVERY_MINUTES. `follow` / `unfollow` change
the followed channels stored in the database (beside HIGHLIGHT_CHANNELS); a running
detector and chat reader pick the change up at their next round. Settings: HIGHLIGHT_*
in `.env.example`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from highlights.dataset import load_folder
from highlights.errors import HighlightDataError, HighlightModelError
from highlights.model import HighlightModel, evaluate, train
from settings import Settings
from settings.cli import start
from store import (
    Store,
    StoreError,
    follow_channel,
    followed_channels,
    followed_login,
    highlight_channels,
    unfollow_channel,
)
from twitch_client import TwitchClient

log = logging.getLogger("highlights")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m highlights", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    fit = commands.add_parser("train", help="fit the cheer classifier and the meta-models")
    fit.add_argument("--data", type=Path, required=True, help="a folder of labelled clips (.npz)")
    fit.add_argument("--out", type=Path, help="model folder (default HIGHLIGHT_MODEL_DIR)")
    fit.add_argument("--seed", type=int, default=7)
    score = commands.add_parser(
        "evaluate", help="score a model on labelled clips: ROC-AUC, PR-AUC, F1, per family"
    )
    score.add_argument("--data", type=Path, required=True, help="a folder of labelled clips")
    score.add_argument("--model", type=Path, help="model folder (default HIGHLIGHT_MODEL_DIR)")
    detect = commands.add_parser("detect", help="score a clip of each channel now and store it")
    detect.add_argument(
        "--channel",
        action="append",
        default=[],
        help="a login (repeatable); default HIGHLIGHT_CHANNELS and the top HIGHLIGHT_TOP",
    )
    detect.add_argument("--model", type=Path, help="model folder (default HIGHLIGHT_MODEL_DIR)")
    run = commands.add_parser("run", help="detect every HIGHLIGHT_EVERY_MINUTES until stopped")
    run.add_argument("--model", type=Path, help="model folder (default HIGHLIGHT_MODEL_DIR)")
    for name, verb in (("follow", "follow"), ("unfollow", "stop following")):
        change = commands.add_parser(name, help=f"{verb} channels for highlights")
        change.add_argument("logins", nargs="+", type=_login, help="Twitch logins")
    listing = commands.add_parser("list", help="the channels followed for highlights")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    return parser


def _login(text: str) -> str:
    try:
        return followed_login(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = start("highlights")
    try:
        if args.command in ("follow", "unfollow", "list"):
            return _follows(args, settings)
        if args.command == "train":
            return _train(args, settings)
        model = HighlightModel.load(args.model or settings.highlight_model_dir)
        if args.command == "evaluate":
            dataset = load_folder(args.data)
            result = {
                "data": str(args.data),
                "clips": len(dataset.clips),
                "skipped": dataset.skipped,
                "scores": evaluate(model, dataset.clips),
                "seed_figures": model.card.get("seed_figures", {}),
            }
            print(json.dumps(result, indent=2))
            return 0
        if args.command == "detect":
            for line in detect_once(settings, model, args.channel):
                print(json.dumps(line))
            return 0
        return _run(settings, model)
    except (HighlightDataError, HighlightModelError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except StoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _follows(args: argparse.Namespace, settings: Settings) -> int:
    """Change or list the followed channels stored in the database."""
    store = Store(settings.mongodb_uri, settings.mongodb_db, timeout_ms=settings.mongodb_timeout_ms)
    try:
        now = datetime.now(UTC)
        for login in getattr(args, "logins", []):
            if args.command == "follow":
                done = follow_channel(store.db, login, now)
                print(f"following {login}" if done else f"{login} was followed already")
            else:
                done = unfollow_channel(store.db, login)
                print(f"stopped following {login}" if done else f"{login} was not followed")
        if args.command == "list":
            follows = followed_channels(store.db)
            for follow in follows:
                at = follow["followed_at"].astimezone(UTC).isoformat(timespec="seconds")
                if args.json:
                    print(json.dumps({"login": follow["_id"], "followed_at": at}))
                else:
                    print(f"{follow['_id']}\tfollowed {at}")
            configured = settings.followed_channels
            if configured and not args.json:
                print(f"(and from HIGHLIGHT_CHANNELS: {', '.join(configured)})")
    finally:
        store.close()
    return 0


def _train(args: argparse.Namespace, settings: Settings) -> int:
    dataset = load_folder(args.data)
    model = train(dataset.clips, seed=args.seed)
    model.card["trained_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    model.card["data"] = {"folder": str(args.data), "skipped": dataset.skipped}
    out = args.out or settings.highlight_model_dir
    model.save(out)
    validation = model.card["validation"]["all"]
    print(json.dumps({"model": str(out), "validation": validation}))
    return 0


def detect_once(
    settings: Settings,
    model: HighlightModel,
    channels: list[str],
    client: TwitchClient | None = None,
) -> list[dict[str, object]]:
    """Score one clip of each channel (given, else followed and top); one line each."""
    from highlights.detect import ChannelGame, Detector
    from store import HighlightStore, newest_channel_games, shard_label
    from twitch_client import Archive

    store = Store(settings.mongodb_uri, settings.mongodb_db, timeout_ms=settings.mongodb_timeout_ms)
    try:
        known = newest_channel_games(store.db, max(settings.chat_channels, settings.highlight_top))
        followed = highlight_channels(store.db, settings.followed_channels)
        logins = channels or [*followed, *list(known)[: settings.highlight_top]]
        twitch = client or TwitchClient(settings)

        def archive_of(login: str) -> Archive | None:
            stream = twitch.live_stream(login)
            return None if stream is None else twitch.current_archive(stream.user_id, stream.id)

        highlights = HighlightStore(store.db)
        detector = Detector(
            model,
            highlights,
            settings.highlight_clip_url,
            settings.highlight_clip_seconds,
            [shard_label(i, settings.chat_shards) for i in range(settings.chat_shards)],
            latency_seconds=settings.highlight_latency_seconds,
            archive_of=archive_of,
            keep_moment_clips=settings.highlight_moment_clips > 0,
        )
        unique = list(dict.fromkeys(login.lower() for login in logins))
        with ThreadPoolExecutor(max_workers=8) as pool:  # reading a clip waits on the network
            results = list(
                pool.map(
                    lambda c: detector.detect(c, ChannelGame(**known[c]) if c in known else None),
                    unique,
                )
            )
        highlights.prune_moment_clips(
            datetime.now(UTC),
            timedelta(days=settings.highlight_moment_clip_days),
            settings.highlight_moment_clips,
        )
    finally:
        store.close()
    return [
        {
            "channel": r.login,
            "status": r.status,
            "windows": r.windows,
            "moments": r.moments,
            "problems": dict(r.problems or {}),
        }
        for r in results
    ]


def _run(settings: Settings, model: HighlightModel) -> int:
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone=UTC)

    client = TwitchClient(settings)  # one app token for every round

    def job() -> None:
        try:
            lines = detect_once(settings, model, [], client)
        except StoreError as error:  # MongoDB down: try again next round, without a traceback
            log.warning("highlights: %s", error)
            return
        stored = sum(1 for line in lines if line["status"] == "stored")
        moments = sum(int(str(line["moments"])) for line in lines)
        log.info("highlights: %d of %d clips stored, %d moments", stored, len(lines), moments)

    scheduler.add_job(
        job,
        "interval",
        minutes=settings.highlight_every_minutes,
        next_run_time=datetime.now(UTC),
        max_instances=1,
        coalesce=True,
    )
    log.info(
        "highlights every %g minutes: %s, the channels followed with `follow`, and the top %d",
        settings.highlight_every_minutes,
        ", ".join(settings.followed_channels) or "no channels in HIGHLIGHT_CHANNELS",
        settings.highlight_top,
    )
    interval = settings.highlight_every_minutes * 60
    if settings.highlight_clip_seconds < interval:  # a moment between two clips is unseen
        log.info(
            "highlights: clips of %d s every %g minutes watch %.0f%% of each stream (all of "
            "it takes clips as long as the interval: HIGHLIGHT_CLIP_SECONDS, at most 120)",
            settings.highlight_clip_seconds,
            settings.highlight_every_minutes,
            100 * settings.highlight_clip_seconds / interval,
        )
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
