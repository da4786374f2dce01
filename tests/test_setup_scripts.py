"""The install scripts' own behaviour, with a stand-in apt-get on PATH."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import ROOT

FAKE_APT = """#!/usr/bin/env bash
echo "$@" >> "{calls}"
count=$(wc -l < "{calls}")
if [ "$count" -le {locked} ]; then
  echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 7 (apt-get)" >&2
  exit 100
fi
[ -z "{fail}" ] || {{ echo "E: {fail}" >&2; exit 100; }}
exit 0
"""


def run_waiting(tmp_path: Path, *, locked: int, fail: str = "") -> tuple[int, str, list[str]]:
    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "apt-get"
    fake.parent.mkdir()
    fake.write_text(FAKE_APT.format(calls=calls, locked=locked, fail=fail), encoding="utf-8")
    fake.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{fake.parent}:{os.environ['PATH']}",
        "APT_LOCK_RETRY_SECONDS": "0",
    }
    result = subprocess.run(
        [str(ROOT / "scripts" / "apt-get-waiting"), "update", "-qq"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode, result.stderr, calls.read_text(encoding="utf-8").splitlines()


def test_apt_waits_while_another_package_manager_holds_the_lock(tmp_path: Path) -> None:
    status, errors, calls = run_waiting(tmp_path, locked=2)
    assert status == 0 and len(calls) == 3
    assert errors.count("holds the lock; retrying") == 2
    assert all(c == "-o DPkg::Lock::Timeout=600 update -qq" for c in calls)


def test_apt_fails_at_once_for_any_other_error(tmp_path: Path) -> None:
    status, errors, calls = run_waiting(tmp_path, locked=0, fail="Unable to locate package x")
    assert status == 100 and len(calls) == 1 and "Unable to locate package x" in errors
