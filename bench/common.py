"""Helpers shared by the benchmarks: a private FerretDB and emulator, and the results file."""

from __future__ import annotations

import os
import platform
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "benchmarks.md"


@contextmanager
def emulator_process(port: int, **settings: object) -> Iterator[str]:
    """Run `python -m emulator` in its own process (so it does not share our GIL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMULATOR_")}
    env.update({f"EMULATOR_{k.upper()}": str(v) for k, v in settings.items()})
    env["EMULATOR_PORT"] = str(port)
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("emulator did not start") from None
            time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d}"


def write_section(name: str, markdown: str, results: Path = RESULTS) -> None:
    """Replace (or append) the `<!-- bench:name -->` section of `results`
    (docs/benchmarks.md unless another document is named)."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    text = results.read_text(encoding="utf-8") if results.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block + "\n"
    )
    results.write_text(text, encoding="utf-8")


def bench_settings(
    emulator_url: str, mongodb_uri: str, database: str, spool: Path, **extra: Any
) -> Settings:
    """Settings of a benchmark's own emulator and FerretDB: nothing read from `.env`."""
    return Settings(
        _env_file=None,
        emulator_url=emulator_url,
        mongodb_uri=mongodb_uri,  # type: ignore[call-arg]
        mongodb_db=database,
        spool_dir=spool,
        **extra,
    )
