"""The classifier's errors: the command line prints their message, never a traceback.

ClassifierError
├── DatasetError   the data cannot be used as asked (empty folder, too few games …)
└── ModelError     a model that cannot be used: missing file, unreadable, wrong classes
"""

from __future__ import annotations


class ClassifierError(Exception):
    """The classifier cannot do what was asked; the message says why."""


class DatasetError(ClassifierError):
    """The data cannot be used as asked (empty folder, too few games …)."""


class ModelError(ClassifierError):
    """A model that cannot be used: missing file, unreadable, or the wrong classes."""


class ChannelOffline(ClassifierError):
    """The channel has no live stream to look at."""


class ClipUnusable(ClassifierError):
    """No frames could be had from a stream's clip."""
