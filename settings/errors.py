"""The settings' errors."""

from __future__ import annotations


class SettingsError(Exception):
    """The environment holds settings that cannot work; `problems` has one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
