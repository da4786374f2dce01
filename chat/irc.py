"""Twitch IRC lines (IRCv3 with Twitch's tags) parsed into messages.

A line is ``[@tags ][:prefix ]COMMAND[ params][ :trailing]``. Tag values are escaped
(``\\s`` space, ``\\:`` semicolon, ``\\\\`` backslash, ``\\r``, ``\\n``); Twitch's
``emotes`` tag lists ``<id>:<start>-<end>[,<start>-<end>…]`` groups joined by ``/``,
positions being code points of the message text, end inclusive. The parser is a pure
function of the line, kept on ``str.split``/``partition`` because the reader parses tens
of thousands of lines a second on one core.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chat.errors import IrcParseError

_ESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


@dataclass(frozen=True, slots=True)
class IrcLine:
    command: str
    params: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    prefix: str = ""

    @property
    def trailing(self) -> str:
        return self.params[-1] if self.params else ""


@dataclass(slots=True)  # not frozen: a frozen dataclass is slower to build, per message
class ChatMessage:
    """One PRIVMSG: who said what in which channel, with its emotes."""

    channel: str  # login, without '#'
    room_id: str
    user_id: str
    text: str
    sent_ms: int  # tmi-sent-ts: the server's clock, milliseconds since the epoch
    subscriber: bool
    emote_only: bool
    emotes: tuple[tuple[str, int], ...]  # (emote id, uses in this message)
    emote_names: tuple[tuple[str, str], ...]  # (emote id, the text of its first use)


def unescape(value: str) -> str:
    """An IRCv3 tag value with its escapes undone (a trailing lone backslash is dropped)."""
    if "\\" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        following = next(chars, "")
        out.append(_ESCAPES.get(following, following))
    return "".join(out)


def parse_tags(text: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in text.split(";"):
        key, _, value = item.partition("=")
        if key:
            tags[key] = unescape(value)
    return tags


def parse_line(line: str) -> IrcLine:
    """Any IRC line; `IrcParseError` when it has no command."""
    rest = line.rstrip("\r\n")
    tags: dict[str, str] = {}
    prefix = ""
    if rest.startswith("@"):
        raw_tags, _, rest = rest[1:].partition(" ")
        tags = parse_tags(raw_tags)
    rest = rest.lstrip(" ")
    if rest.startswith(":"):
        prefix, _, rest = rest[1:].partition(" ")
    head, separator, trailing = rest.partition(" :")
    words = head.split()
    if not words:
        raise IrcParseError(f"no command in IRC line {line[:80]!r}")
    params = words[1:]
    if separator:
        params.append(trailing)
    return IrcLine(words[0].upper(), tuple(params), tags, prefix)


def parse_emotes(tag: str) -> list[tuple[str, list[tuple[int, int]]]]:
    """`25:0-4,12-16/1902:6-10` → [("25", [(0, 4), (12, 16)]), ("1902", [(6, 10)])].
    Malformed ranges are skipped (the rest of the tag still counts)."""
    found: list[tuple[str, list[tuple[int, int]]]] = []
    if not tag:
        return found
    for group in tag.split("/"):
        emote_id, _, ranges = group.partition(":")
        spans: list[tuple[int, int]] = []
        for span in ranges.split(","):
            start, _, end = span.partition("-")
            if start.isdigit() and end.isdigit() and int(start) <= int(end):
                spans.append((int(start), int(end)))
        if emote_id and spans:
            found.append((emote_id, spans))
    return found


def is_subscriber(tags: dict[str, str]) -> bool:
    """Subscribed to this channel: the `subscriber` tag, or a subscriber/founder badge
    (founders carry `subscriber=0` on some messages)."""
    if tags.get("subscriber") == "1":
        return True
    badges = tags.get("badges", "")
    return "subscriber/" in badges or "founder/" in badges


def chat_message(line: IrcLine) -> ChatMessage | None:
    """The PRIVMSG in `line`, or None for any other command."""
    if line.command != "PRIVMSG" or len(line.params) < 2:
        return None
    tags = line.tags
    text = line.params[-1]
    # ACTION (/me) messages are wrapped in \x01ACTION …\x01; the emote ranges count
    # positions inside the wrapper.
    if text.startswith("\x01ACTION ") and text.endswith("\x01"):
        text = text[8:-1]
    emotes = parse_emotes(tags.get("emotes", ""))
    sent = tags.get("tmi-sent-ts", "")
    return ChatMessage(
        channel=line.params[0].lstrip("#").lower(),
        room_id=tags.get("room-id", ""),
        user_id=tags.get("user-id", "") or line.prefix.partition("!")[0],
        text=text,
        sent_ms=int(sent) if sent.isdigit() else 0,
        subscriber=is_subscriber(tags),
        emote_only=tags.get("emote-only") == "1",
        emotes=tuple((emote_id, len(spans)) for emote_id, spans in emotes),
        emote_names=tuple(
            (emote_id, text[spans[0][0] : spans[0][1] + 1]) for emote_id, spans in emotes
        ),
    )


def _tag(tags: str, key: str) -> str:
    """The value of `key=` in a raw tag string (escapes left as they are)."""
    start = tags.find(key)
    while start > 0 and tags[start - 1] != ";":
        start = tags.find(key, start + 1)
    if start < 0:
        return ""
    start += len(key)
    end = tags.find(";", start)
    return tags[start:end] if end >= 0 else tags[start:]


def parse_privmsg(line: str) -> ChatMessage | None:
    """The chat message of a tagged PRIVMSG line, None for any other line: the reader's
    fast path, equal to `chat_message(parse_line(line))` for PRIVMSGs. It reads only the
    tags it needs, with `str.find`, instead of building every tag."""
    if not line.startswith("@"):
        return None
    space = line.find(" ")
    if space < 0 or line[space + 1 : space + 2] != ":":
        return None
    prefix_end = line.find(" ", space + 2)
    if prefix_end < 0 or not line.startswith("PRIVMSG #", prefix_end + 1):
        return None
    channel, _, text = line[prefix_end + 10 :].partition(" :")
    tags = line[1:space]
    if "\\" in tags:  # rare: escaped values; the general parser undoes them
        return chat_message(parse_line(line))
    if text.startswith("\x01ACTION ") and text.endswith("\x01"):
        text = text[8:-1]
    emotes_tag = _tag(tags, "emotes=")
    emotes = parse_emotes(emotes_tag) if emotes_tag else []
    sent = _tag(tags, "tmi-sent-ts=")
    user_id = _tag(tags, "user-id=") or line[space + 2 : line.find("!", space)]
    subscriber = _tag(tags, "subscriber=") == "1"
    if not subscriber:
        badges = _tag(tags, "badges=")
        subscriber = "subscriber/" in badges or "founder/" in badges
    return ChatMessage(
        channel=channel.rstrip().lower(),
        room_id=_tag(tags, "room-id="),
        user_id=user_id,
        text=text,
        sent_ms=int(sent) if sent.isdigit() else 0,
        subscriber=subscriber,
        emote_only=_tag(tags, "emote-only=") == "1",
        emotes=tuple((emote_id, len(spans)) for emote_id, spans in emotes),
        emote_names=tuple(
            (emote_id, text[spans[0][0] : spans[0][1] + 1]) for emote_id, spans in emotes
        ),
    )
