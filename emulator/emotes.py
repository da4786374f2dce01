"""The emulator's emote vocabulary: Twitch's global emotes and each channel's own set.

Global emotes are free for everyone. A channel's set is mostly subscriber emotes (paid:
only its subscribers can use them, anywhere), a few bits emotes (paid) and, for larger
channels, a follower emote (free, in that channel only). Bigger channels have more.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

# Real global emote ids and names (a subset).
GLOBAL_EMOTES = (
    ("25", "Kappa"),
    ("305954156", "PogChamp"),
    ("425618", "LUL"),
    ("88", "PogChamp2"),
    ("41", "Kreygasm"),
    ("86", "BibleThump"),
    ("354", "4Head"),
    ("1902", "Keepo"),
    ("245", "ResidentSleeper"),
    ("58765", "NotLikeThis"),
    ("33", "DansGame"),
    ("64138", "SeemsGood"),
    ("123171", "CoolStoryBob"),
    ("81274", "VoHiYo"),
    ("30259", "HeyGuys"),
    ("22639", "BabyRage"),
    ("28087", "WutFace"),
    ("360", "FailFish"),
    ("34", "SwiftRage"),
    ("36", "PJSalt"),
    ("81248", "OSFrog"),
    ("68856", "MingLee"),
    ("55338", "KappaPride"),
    ("58127", "CoolCat"),
    ("4339", "EleGiggle"),
    ("114836", "Jebaited"),
    ("145315", "TheIlluminati"),
    ("69", "BloodTrail"),
    ("52", "SMOrc"),
    ("1", ":)"),
    ("2", ":("),
    ("3", ":D"),
)
GLOBAL_IDS = frozenset(emote_id for emote_id, _ in GLOBAL_EMOTES)
HYPE_EMOTES = ("305954156", "425618", "41", "34")  # what a hype moment spams

_SUFFIXES = (
    "Hype", "Love", "Lul", "GG", "Pog", "Wave", "Rage", "Cry", "Clap", "Heart",
    "Sip", "Wow", "Hi", "Bye", "Ez", "Rip", "Cozy", "Dance", "Think", "Salute",
    "Fire", "Cool", "Scared", "Laugh", "Sad", "Win", "Fail", "Shy", "Hug", "Yes",
)  # fmt: skip


@dataclass(frozen=True)
class ChannelEmote:
    id: str
    name: str
    emote_type: str  # subscriptions | bitstier | follower
    tier: str  # "1000", "2000", "3000" for subscriptions, "" otherwise

    @property
    def paid(self) -> bool:
        return self.emote_type != "follower"

    def helix(self, broadcaster_id: str) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "images": {
                "url_1x": f"https://static-cdn.jtvnw.net/emoticons/v2/{self.id}/static/light/1.0"
            },
            "tier": self.tier,
            "emote_type": self.emote_type,
            "emote_set_id": f"{broadcaster_id}{self.tier or self.emote_type}",
            "format": ["static"],
            "scale": ["1.0", "2.0", "3.0"],
            "theme_mode": ["light", "dark"],
        }


def channel_emotes(login: str, popularity: float) -> tuple[ChannelEmote, ...]:
    """The channel's own emotes; the same login and popularity always give the same set."""
    count = min(len(_SUFFIXES), 2 + int(3 * math.log10(1.0 + popularity)))
    prefix = (login[:4] or "chan").lower()
    emotes = []
    for i in range(count):
        digest = hashlib.blake2b(f"{login}/{i}".encode(), digest_size=16).hexdigest()
        if i == count - 1 and popularity >= 50:
            kind, tier = "follower", ""
        elif i % 7 == 6:
            kind, tier = "bitstier", ""
        else:
            kind, tier = "subscriptions", ("1000", "1000", "2000", "3000")[i % 4]
        emotes.append(ChannelEmote(f"emotesv2_{digest}", f"{prefix}{_SUFFIXES[i]}", kind, tier))
    return tuple(emotes)


def global_helix() -> list[dict[str, object]]:
    return [
        {
            "id": emote_id,
            "name": name,
            "images": {
                "url_1x": f"https://static-cdn.jtvnw.net/emoticons/v2/{emote_id}/static/light/1.0"
            },
            "format": ["static"],
            "scale": ["1.0", "2.0", "3.0"],
            "theme_mode": ["light", "dark"],
        }
        for emote_id, name in GLOBAL_EMOTES
    ]
