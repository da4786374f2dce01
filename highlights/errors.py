"""The highlight detector's errors.

HighlightsError
├── HighlightDataError    a folder that gives no usable labelled clip
├── HighlightModelError   no usable model (missing files, or data that cannot train one)
└── ClipUndecodable       no picture could be decoded from a clip
"""

from __future__ import annotations


class HighlightsError(Exception):
    """The detector cannot do what was asked; the message says why."""


class HighlightDataError(HighlightsError):
    """A folder that gives no usable labelled clip; the message says why."""


class HighlightModelError(HighlightsError):
    """No usable model (missing files, or data that cannot train one)."""


class ClipUndecodable(HighlightsError):
    """No picture could be decoded from the clip; `reason` says why."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
