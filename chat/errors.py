"""The chat reader's errors."""

from __future__ import annotations


class ChatError(Exception):
    """The chat reader met something it cannot use."""


class IrcParseError(ChatError):
    """A line that is not IRC at all (no command)."""
