"""The IRCv3 parser on lines as Twitch sends them (Twitch's documentation examples)."""

from __future__ import annotations

import pytest

from chat.irc import (
    IrcParseError,
    chat_message,
    parse_emotes,
    parse_line,
    parse_privmsg,
    unescape,
)

DOCS_PRIVMSG = (
    "@badge-info=;badges=global_mod/1,turbo/1;color=#0D4200;display-name=ronni;"
    "emotes=25:0-4,12-16/1902:6-10;id=b34ccfc7-4977-403a-8a94-33c6bac34fb8;mod=0;"
    "room-id=1337;subscriber=0;tmi-sent-ts=1507246572675;turbo=1;user-id=1337;"
    "user-type=global_mod :ronni!ronni@ronni.tmi.twitch.tv PRIVMSG #ronni :Kappa Keepo Kappa"
)
DOCS_USERNOTICE = (
    "@badge-info=;badges=staff/1,broadcaster/1,turbo/1;color=#008000;display-name=ronni;"
    "emotes=;id=db25007f-7a18-43eb-9379-80131e44d633;login=ronni;mod=0;msg-id=resub;"
    "msg-param-cumulative-months=6;msg-param-streak-months=2;msg-param-should-share-streak=1;"
    "msg-param-sub-plan=Prime;msg-param-sub-plan-name=Prime;room-id=12345678;subscriber=1;"
    r"system-msg=ronni\shas\ssubscribed\sfor\s6\smonths!;tmi-sent-ts=1507246572675;turbo=1;"
    "user-id=87654321;user-type=staff "
    ":tmi.twitch.tv USERNOTICE #dallas :Great stream -- keep it up!"
)


def test_docs_privmsg_counts_each_emote_range() -> None:
    message = chat_message(parse_line(DOCS_PRIVMSG + "\r\n"))
    assert message is not None
    assert message.channel == "ronni"
    assert message.room_id == "1337" and message.user_id == "1337"
    assert message.sent_ms == 1507246572675
    assert message.text == "Kappa Keepo Kappa"
    assert dict(message.emotes) == {"25": 2, "1902": 1}
    assert dict(message.emote_names) == {"25": "Kappa", "1902": "Keepo"}
    assert not message.subscriber and not message.emote_only


def test_escaped_tag_values_are_unescaped() -> None:
    line = parse_line(DOCS_USERNOTICE)
    assert line.command == "USERNOTICE"
    assert line.tags["system-msg"] == "ronni has subscribed for 6 months!"
    assert line.params == ("#dallas", "Great stream -- keep it up!")
    assert chat_message(line) is None  # only PRIVMSGs are chat messages
    assert unescape(r"a\:b\\c\sd\re\nf") == "a;b\\c d\re\nf"
    assert unescape("trailing\\") == "trailing"


def test_emote_only_subscriber_message_with_v2_ids_and_wide_characters() -> None:
    # "😀" is one code point: Twitch's positions count code points, as Python's str does.
    text = "😀 catHype catHype Kappa"
    line = (
        "@badge-info=subscriber/8;badges=subscriber/6,premium/1;emote-only=1;"
        "emotes=emotesv2_4c3b4ed516de493bbcd2df2f5d450f49:2-8,10-16/25:18-22;room-id=99;"
        "subscriber=0;tmi-sent-ts=1674656103223;user-id=456 "
        f":foo!foo@foo.tmi.twitch.tv PRIVMSG #Chan :{text}"
    )
    message = chat_message(parse_line(line))
    assert message is not None
    assert message.channel == "chan"
    assert message.emote_only
    assert message.subscriber  # the badge says so even where the tag says 0
    assert dict(message.emotes) == {"emotesv2_4c3b4ed516de493bbcd2df2f5d450f49": 2, "25": 1}
    assert dict(message.emote_names)["emotesv2_4c3b4ed516de493bbcd2df2f5d450f49"] == "catHype"


def test_action_messages_drop_the_ctcp_wrapper() -> None:
    line = "@emotes=25:0-4;tmi-sent-ts=1;user-id=5 :a!a@a PRIVMSG #b :\x01ACTION Kappa waves\x01"
    message = chat_message(parse_line(line))
    assert message is not None and message.text == "Kappa waves"
    assert dict(message.emote_names) == {"25": "Kappa"}


def test_server_commands() -> None:
    reconnect = parse_line(":tmi.twitch.tv RECONNECT\r\n")
    assert reconnect.command == "RECONNECT" and reconnect.prefix == "tmi.twitch.tv"
    ping = parse_line("PING :tmi.twitch.tv")
    assert ping.command == "PING" and ping.trailing == "tmi.twitch.tv"
    join = parse_line(":justinfan123!justinfan123@justinfan123.tmi.twitch.tv JOIN #ronni")
    assert join.params == ("#ronni",)
    cap = parse_line(":tmi.twitch.tv CAP * ACK :twitch.tv/tags twitch.tv/commands")
    assert cap.params == ("*", "ACK", "twitch.tv/tags twitch.tv/commands")
    with pytest.raises(IrcParseError):
        parse_line("@a=b ")


def test_malformed_emote_ranges_are_skipped_not_fatal() -> None:
    assert parse_emotes("25:0-4,x-9,7-3/:1-2/1902:6-10/33:") == [
        ("25", [(0, 4)]),
        ("1902", [(6, 10)]),
    ]
    assert parse_emotes("") == []


def test_the_fast_path_equals_the_general_parser() -> None:
    lines = [
        DOCS_PRIVMSG,
        "@badges=founder/0;emotes=;room-id=7;subscriber=0;tmi-sent-ts=5;user-id=8 "
        ":x!x@x.tmi.twitch.tv PRIVMSG #y :hi there :)",
        r"@display-name=a\sb;emotes=25:0-4;room-id=7;tmi-sent-ts=5;user-id=8 "
        ":x!x@x PRIVMSG #y :Kappa",
        "@emotes=25:0-4;tmi-sent-ts=1;user-id=5 :a!a@a PRIVMSG #b :\x01ACTION Kappa waves\x01",
        "@room-id=1;target-user-id=99;user-id=5;tmi-sent-ts=1 :a!a@a PRIVMSG #b :no emotes",
    ]
    for line in lines:
        fast, general = parse_privmsg(line), chat_message(parse_line(line))
        assert fast == general, line
    assert parse_privmsg(DOCS_USERNOTICE) is None
    assert parse_privmsg(":tmi.twitch.tv RECONNECT") is None
    assert parse_privmsg("@badge-info= :tmi.twitch.tv ROOMSTATE #x") is None
    # A `target-user-id` tag before `user-id` is not taken for the chatter.
    fifth = parse_privmsg(lines[4])
    assert fifth is not None and fifth.user_id == "5"


def test_a_reconnect_keeps_the_stats_of_the_lines_read_before_it() -> None:
    from chat.counts import MinuteCounts
    from chat.reader import ChatReader, _Session

    reader = ChatReader("irc://127.0.0.1:1", MinuteCounts(lambda *_: "free"))
    session = _Session(writer=None)  # type: ignore[arg-type]  # nothing is sent back
    batch = [DOCS_PRIVMSG, DOCS_PRIVMSG, ":tmi.twitch.tv RECONNECT"]
    assert reader._handle(batch, session) is True
    assert reader.stats.messages == 2
    assert reader._handle([DOCS_PRIVMSG], session) is False
    assert reader.stats.messages == 3
