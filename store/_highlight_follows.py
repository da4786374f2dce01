"""The channels followed for highlights: one small document per login, written by
`python -m highlights follow|unfollow` and read by the detector and the chat reader at
each round, so a change reaches them without a restart (the site never writes it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypedDict

from pymongo.database import Database

from store import schema
from store._mongo import translate_errors

# Twitch logins: letters, digits and underscores, at most 25.
LOGIN = re.compile(r"^[a-z0-9_]{1,25}$")


class HighlightFollow(TypedDict):
    _id: str  # the login, lower-cased
    followed_at: datetime


def followed_login(text: str) -> str:
    """`text` as a login to follow (lower-cased, `#` and spaces dropped), or ValueError."""
    login = text.strip().lstrip("#").lower()
    if not LOGIN.match(login):
        raise ValueError(f"{text!r} is not a Twitch login (letters, digits, _; up to 25)")
    return login


def follow_channel(db: Database[dict[str, Any]], login: str, at: datetime) -> bool:
    """Follow `login`; False if it was followed already (its date is kept)."""
    login = followed_login(login)
    with translate_errors(f"following {login}"):
        result = db[schema.HIGHLIGHT_FOLLOWS].update_one(
            {"_id": login}, {"$setOnInsert": {"followed_at": at}}, upsert=True
        )
    return result.upserted_id is not None


def unfollow_channel(db: Database[dict[str, Any]], login: str) -> bool:
    """Stop following `login`; False if it was not followed."""
    login = followed_login(login)
    with translate_errors(f"unfollowing {login}"):
        return db[schema.HIGHLIGHT_FOLLOWS].delete_one({"_id": login}).deleted_count == 1


def followed_channels(db: Database[dict[str, Any]]) -> list[HighlightFollow]:
    """Every followed channel, in the order they were followed. The collection holds a
    few documents, so reading it whole is cheap on FerretDB too."""
    with translate_errors("reading the followed channels"):
        documents = list(db[schema.HIGHLIGHT_FOLLOWS].find({}))
    follows = [HighlightFollow(_id=d["_id"], followed_at=d["followed_at"]) for d in documents]
    return sorted(follows, key=lambda f: (f["followed_at"], f["_id"]))


def highlight_channels(db: Database[dict[str, Any]], configured: Iterable[str]) -> list[str]:
    """The channels followed for highlights: `configured` (HIGHLIGHT_CHANNELS) first, then
    those followed with `python -m highlights follow`; each once, lower-cased."""
    stored = [f["_id"] for f in followed_channels(db)]
    return list(dict.fromkeys([*(c.lower() for c in configured), *stored]))
