"""`python -m emulator`: serve the Twitch emulator (settings from `EMULATOR_*`; see --help)."""

from __future__ import annotations

import argparse
import logging

from emulator.config import EmulatorSettings
from emulator.server import EmulatorServer
from settings.cli import configure_logging


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="A local, faithful emulator of the Twitch APIs Genre Radar uses (OAuth, "
        "Helix streams/games/emotes, IGDB, thumbnails, and chat over IRC) over a simulated "
        "market, or replaying a recording. Every EMULATOR_* variable of .env.example tunes "
        "it (faults, quirks, size).",
    )
    parser.add_argument("--port", type=int, help="port to listen on (default EMULATOR_PORT, 8780)")
    parser.add_argument(
        "--replay", help="serve this JSON-lines recording instead of the simulation"
    )
    args = parser.parse_args(argv)
    overrides: dict[str, object] = {}
    if args.port is not None:
        overrides["port"] = args.port
    if args.replay:
        overrides["replay_file"] = args.replay
    settings = EmulatorSettings(**overrides)  # type: ignore[arg-type]
    configure_logging(logging.INFO)
    server = EmulatorServer(settings)
    logging.getLogger("emulator").info("Twitch emulator listening on %s", server.url)
    server.serve_forever()


if __name__ == "__main__":
    main()
