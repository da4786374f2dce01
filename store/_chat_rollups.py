"""Per-snapshot chat rollups: a slot's per-minute chat counts joined with its snapshot.

A slot's chat covers the minutes from the slot to the next one. Each channel read in
those minutes is joined with the slot's snapshot (its game, language and viewers); the
sums give, per channel, game, genre and language and for everything read (`all`):

- messages, and viewer-minutes (viewers at the snapshot × minutes the channel's chat was
  read), so engagement is messages per 1,000 viewer-minutes;
- chatter-minutes (each minute's unique chatters, summed), so active chatters per 100
  viewers is 100 × chatter-minutes / viewer-minutes;
- free and paid emote uses, and the most used emotes (trimmed);
- per topic keyword, the messages containing it and the emotes in them.

Channels read but absent from the snapshot (gone offline, fallen out of the top) count
in the `channel` and `all` groups only, without viewers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from store._records import rollup_id
from store.schema import SCHEMA_VERSION, UNKNOWN_GENRE

CHAT_DIMENSIONS = ("all", "channel", "game", "genre", "language")
EMOTES_KEPT = {"all": 300, "channel": 10, "game": 20, "genre": 20, "language": 20}
TOPIC_EMOTES_KEPT = 10
CHAT_ALL_KEY = "all"
_SUMS = (
    "minutes",
    "messages",
    "chatter_minutes",
    "viewer_minutes",
    "subscriber_messages",
    "emote_only_messages",
    "free_emote_uses",
    "paid_emote_uses",
)


def merge_channel_minutes(entries: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per channel, the sums of its minute entries (of any number of minutes and shards),
    `minutes` being how many minutes its chat was read."""
    channels: dict[str, dict[str, Any]] = {}
    for entry in entries:
        login = str(entry["channel"])
        total = channels.get(login)
        if total is None:
            total = channels[login] = _empty(login)
        total["minutes"] += 1
        for name in _SUMS[1:]:
            if name in entry:
                total[name] += int(entry[name])
        total["chatter_minutes"] += int(entry.get("chatters", 0))
        total["emotes"].update(entry.get("free_emotes", {}))
        total["emotes"].update(entry.get("paid_emotes", {}))
        for topic, counts in entry.get("topics", {}).items():
            mine = total["topics"].setdefault(topic, {"messages": 0, "emotes": Counter()})
            mine["messages"] += int(counts["messages"])
            mine["emotes"].update(counts.get("emotes", {}))
    return channels


def _empty(key: str) -> dict[str, Any]:
    return {"key": key, **dict.fromkeys(_SUMS, 0), "emotes": Counter(), "topics": {}}


def _add(groups: dict[str, dict[str, Any]], key: str, part: Mapping[str, Any]) -> None:
    group = groups.get(key)
    if group is None:
        group = groups[key] = _empty(key)
        group["channels"] = 0
    group["channels"] += 1
    for name in _SUMS:
        group[name] += part[name]
    group["emotes"].update(part["emotes"])
    for topic, counts in part["topics"].items():
        mine = group["topics"].setdefault(topic, {"messages": 0, "emotes": Counter()})
        mine["messages"] += counts["messages"]
        mine["emotes"].update(counts["emotes"])


def _finished(group: dict[str, Any], kept: int) -> dict[str, Any]:
    emotes: Counter[str] = group["emotes"]
    return {
        **group,
        "emotes": dict(emotes.most_common(kept)),
        "emote_count": len(emotes),
        "topics": {
            topic: {
                "messages": counts["messages"],
                "emotes": dict(counts["emotes"].most_common(TOPIC_EMOTES_KEPT)),
            }
            for topic, counts in sorted(group["topics"].items())
        },
    }


def compute_chat_rollups(
    slot: datetime,
    channel_minutes: Mapping[str, Mapping[str, Any]],
    snapshot_channels: Mapping[str, Mapping[str, Any]],
    game_names: Mapping[str, str],
    genre_of_game: Callable[[str], str],
    emote_names: Mapping[str, str],
    paid_emotes: set[str],
    written_at: datetime,
) -> list[dict[str, Any]]:
    """One document per dimension. `channel_minutes`: `merge_channel_minutes` of the slot;
    `snapshot_channels`: login → the slot's channel rollup group (game_id, language,
    viewers, name)."""
    groups: dict[str, dict[str, dict[str, Any]]] = {d: {} for d in CHAT_DIMENSIONS}
    for login, counted in sorted(channel_minutes.items()):
        seen = snapshot_channels.get(login)
        part = dict(counted)
        part["viewer_minutes"] = int(seen["viewers"]) * int(counted["minutes"]) if seen else 0
        _add(groups["all"], CHAT_ALL_KEY, part)
        _add(groups["channel"], login, part)
        channel = groups["channel"][login]
        channel.update(
            name=str(seen.get("name", "")) if seen else "",
            game_id=str(seen.get("game_id", "")) if seen else "",
            language=str(seen.get("language", "")) if seen else "",
            viewers=int(seen["viewers"]) if seen else 0,
            in_snapshot=seen is not None,
        )
        if seen is None:
            continue
        game = str(seen.get("game_id", ""))
        _add(groups["game"], game, part)
        groups["game"][game]["name"] = game_names.get(game, game)
        _add(groups["genre"], genre_of_game(game) or UNKNOWN_GENRE, part)
        _add(groups["language"], str(seen.get("language", "")), part)
    documents = []
    for dimension in CHAT_DIMENSIONS:
        finished = [_finished(g, EMOTES_KEPT[dimension]) for g in groups[dimension].values()]
        finished.sort(key=lambda g: (-g["messages"], g["key"]))
        mentioned = sorted(
            {e for g in finished for e in g["emotes"]}
            | {e for g in finished for t in g["topics"].values() for e in t["emotes"]}
        )
        documents.append(
            {
                "_id": rollup_id(slot, dimension),
                "slot": slot,
                "dimension": dimension,
                "groups": finished,
                "emote_names": {e: emote_names.get(e, e) for e in mentioned},
                "paid_emotes": [e for e in mentioned if e in paid_emotes],
                "written_at": written_at,
                "schema_version": SCHEMA_VERSION,
            }
        )
    return documents
