"""Start-up shared by every process: `python -m scheduler|chat|highlights|classifier` and
the dashboard's app factory read their settings and set up logging here, so a bad
setting reads the same everywhere (one line per problem, exit status 2) and every log
line has one format."""

from __future__ import annotations

import logging
import sys

from settings import Settings, SettingsError, load_settings

EXIT_BAD_SETTINGS = 2
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Libraries whose INFO lines would drown ours (one per HTTP connection).
_QUIET = ("urllib3", "werkzeug")


def configure_logging(level: str | int) -> None:
    """Log to stderr at `level` (a name such as "INFO" or a number) in the house format."""
    logging.basicConfig(level=level.upper() if isinstance(level, str) else level, format=LOG_FORMAT)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def settings_or_exit(program: str) -> Settings:
    """The settings from the environment; on a bad one, print `<program>: <VARIABLE>:
    <why>` per problem on stderr and exit with status 2 (no traceback, no secret)."""
    try:
        return load_settings()
    except SettingsError as error:
        for problem in error.problems:
            print(f"{program}: {problem}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_SETTINGS) from None


def start(program: str, *, debug: bool = False) -> Settings:
    """What every command line does first: its settings (see `settings_or_exit`), then
    logging at `LOG_LEVEL` (DEBUG when `debug`)."""
    settings = settings_or_exit(program)
    configure_logging("DEBUG" if debug else settings.log_level)
    return settings
