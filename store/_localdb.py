"""Start and stop a local FerretDB process (the binary `scripts/setup` builds).

Used by the test suite and the benchmarks, which each run a private server on a free
loopback port with data in a temporary folder. Production uses a real MongoDB.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_BINARY = Path(__file__).resolve().parent.parent / ".local" / "bin" / "ferretdb"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalFerretDB:
    """One FerretDB process on loopback; can be stopped and restarted on the same port."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    binary: Path = DEFAULT_BINARY
    process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 15.0) -> None:
        if not self.binary.exists():
            raise FileNotFoundError(f"{self.binary} is missing: run scripts/setup first")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with (self.data_dir / "ferretdb.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(self.binary),
                    "--handler=sqlite",
                    f"--sqlite-url=file:{self.data_dir}/",
                    f"--listen-addr=127.0.0.1:{self.port}",
                    f"--state-dir={self.data_dir}",
                    "--telemetry=disable",
                    "--debug-addr=-",
                    "--log-level=error",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"FerretDB did not listen on 127.0.0.1:{self.port} within {timeout} s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
