"""Settings: .env.example documents every setting, and credentials switch emulator ↔ Twitch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ROOT
from emulator.config import EmulatorSettings
from settings import EMULATOR_CLIENT_ID, REAL_URLS, Settings


def example_keys() -> set[str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.M))


def test_env_example_lists_every_setting_with_a_comment() -> None:
    wanted = {name.upper() for name in Settings.model_fields}
    wanted |= {f"EMULATOR_{name.upper()}" for name in EmulatorSettings.model_fields}
    wanted |= {"FERRETDB_PORT", "FERRETDB_DIR"}
    assert example_keys() == wanted
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^[A-Z]", line):
            above = lines[number - 1]
            assert above.startswith("#") or re.match(r"^[A-Z]", above), f"{line} has no comment"


def test_the_example_copied_as_env_loads_with_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        (ROOT / ".env.example").read_text(encoding="utf-8"), encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    settings, emulator = Settings(), EmulatorSettings()
    assert settings.uses_emulator and settings.client_id == EMULATOR_CLIENT_ID
    assert settings.helix_url == "http://127.0.0.1:8780/helix"
    assert emulator.replay_file is None and emulator.frames_dir is None


def test_credentials_switch_to_the_real_api_and_urls_can_be_overridden() -> None:
    real = Settings(_env_file=None, twitch_client_id="abc", twitch_client_secret="s3cret")  # type: ignore[call-arg]
    assert not real.uses_emulator
    assert (real.oauth_url, real.helix_url, real.igdb_base_url) == (
        REAL_URLS["oauth"],
        REAL_URLS["helix"],
        REAL_URLS["igdb"],
    )
    assert "s3cret" not in repr(real)
    proxied = Settings(
        _env_file=None,
        twitch_client_id="abc",
        twitch_client_secret="s3cret",
        twitch_helix_url="http://mock/helix/",
    )  # type: ignore[call-arg]
    assert proxied.helix_url == "http://mock/helix"


@pytest.mark.parametrize(
    ("program", "argv"),
    [
        ("scheduler", ["once"]),
        ("chat", ["run"]),
        ("highlights", ["detect"]),
        ("classifier", ["label"]),
    ],
)
def test_every_command_line_rejects_a_bad_setting_in_one_line_with_status_2(
    program: str,
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import importlib

    monkeypatch.setenv("MONGODB_DB", "bad name/$")
    main = importlib.import_module(f"{program}.__main__").main
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{program}: MONGODB_DB: ")


def test_the_dashboard_factory_rejects_a_bad_setting_the_same_way(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dashboard.app import create_app

    monkeypatch.setenv("LOG_LEVEL", "chatty")
    with pytest.raises(SystemExit) as exited:
        create_app()
    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith("dashboard: LOG_LEVEL: ")


def test_logging_is_configured_at_log_level_in_one_format(monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    from settings.cli import LOG_FORMAT, start

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", logging.WARNING)
    monkeypatch.setenv("LOG_LEVEL", "debug")
    start("test")
    assert root.level == logging.DEBUG
    assert [h.formatter._fmt for h in root.handlers if h.formatter] == [LOG_FORMAT]
    assert logging.getLogger("urllib3").level == logging.WARNING
