"""What the simulated market is made of: categories with IGDB genres, and languages.

The named categories carry their real Twitch ids; IGDB ids and genres follow IGDB's genre
names. Non-game categories (Just Chatting, Music, IRL …) have no IGDB id, as on Twitch.
Unnamed long-tail games are generated from a seed by :mod:`emulator.market`.
"""

from __future__ import annotations

from dataclasses import dataclass

# IGDB's genre ids and names (GET /v4/genres).
IGDB_GENRES: dict[int, str] = {
    2: "Point-and-click",
    4: "Fighting",
    5: "Shooter",
    7: "Music",
    8: "Platform",
    9: "Puzzle",
    10: "Racing",
    11: "Real Time Strategy (RTS)",
    12: "Role-playing (RPG)",
    13: "Simulator",
    14: "Sport",
    15: "Strategy",
    16: "Turn-based strategy (TBS)",
    24: "Tactical",
    25: "Hack and slash/Beat 'em up",
    26: "Quiz/Trivia",
    30: "Pinball",
    31: "Adventure",
    32: "Indie",
    33: "Arcade",
    34: "Visual Novel",
    35: "Card & Board Game",
    36: "MOBA",
}


@dataclass(frozen=True)
class Category:
    twitch_id: str
    name: str
    igdb_id: str  # "" for non-game categories
    genre_ids: tuple[int, ...]
    weight: float  # relative share of channels
    # IGDB lists a fresh game before anyone files its genres: then `genre_ids` is only the
    # truth its frames show (the classifier's job), and IGDB answers without genres.
    igdb_knows_genres: bool = True
    # Percent of all viewers the category draws (named categories: Twitch's, from the
    # 2023 recording and Streams Charts' 2023 figures); None for the generated long tail,
    # which shares what the named ones leave by share of channels.
    viewer_percent: float | None = None

    @property
    def is_game(self) -> bool:
        return bool(self.igdb_id)

    @property
    def igdb_genre_ids(self) -> tuple[int, ...]:
        """The genres IGDB answers with."""
        return self.genre_ids if self.igdb_knows_genres else ()


# twitch id | name | igdb id | genre ids | share of channels (relative) | % of viewers
_NAMED = """
509658|Just Chatting||-|14|17
32982|Grand Theft Auto V|1020|5,31|6|10.5
21779|League of Legends|115|36,15|5|7
516575|VALORANT|126459|5,24|4.5|4.2
33214|Fortnite|1905|5,31|4|2.4
32399|Counter-Strike|242408|5,24|4|4.6
27471|Minecraft|121|31,13,32|3.5|2.1
29595|Dota 2|2963|36,15|2.5|4.9
511224|Apex Legends|114795|5|2.5|1.5
512710|Call of Duty: Warzone|131800|5|2.2|1.4
18122|World of Warcraft|123|12,31|2|1.1
515025|Overwatch 2|125174|5,24|2|0.7
26936|Music||-|2|1
509660|Art||-|1.5|0.3
509672|IRL||-|1.5|0.4
518203|Sports||-|1.2|2.1
417752|Talk Shows & Podcasts||-|0.8|0.3
509659|ASMR||-|0.6|0.22
498566|Slots||-|1.5|0.76
743|Chess|1494|35,15|1|0.09
491487|Dead by Daylight|18866|31|1.8|1.2
30921|Rocket League|11198|14,10|1.5|0.13
512953|Elden Ring|119133|12,31|1.5|0.1
263490|Rust|3277|5,31,13,32|1.5|0.2
491931|Escape from Tarkov|17548|5,12,13|1.4|0.64
513143|Teamfight Tactics|121303|15,35|1.3|2.3
138585|Hearthstone|1279|35,15|1|0.4
29307|Path of Exile|1911|12,25,31,32|1|0.7
513181|Genshin Impact|119277|12,31|1.2|0.09
1678052513|EA Sports FC 25|305152|14,13|1.3|0.8
55453844|Street Fighter 6|191692|4|0.8|0.49
538054672|TEKKEN 8|227451|4|0.7|0.06
490744|Stardew Valley|17000|13,12,32|0.8|0.15
31376|Terraria|1879|8,31,32,12|0.7|0.1
518184|Phasmophobia|135400|31,32|0.8|0.15
510218|Among Us|111469|32,15|0.6|0.08
1469308723|Baldur's Gate 3|119171|12,16,31|0.9|0.3
511399|Forza Horizon 5|126233|10,14|0.5|0.1
1494088406|F1 24|287138|10,14,13|0.4|0.1
493057|PUBG: BATTLEGROUNDS|27789|5,24|1|0.4
29452|Virtual Casino||-|0.5|0.07
369418|Pokémon Trading Card Game|1523|35|0.4|0.05
7193|Tetris|2996|9,33|0.2|0.03
66082|Games + Demos||-|0.4|0.1
509663|Special Events||-|0.3|0.31
27546|World of Tanks|4017|5,13,24|0.6|0.34
21548|Hollow Knight|14593|8,31,32|0.3|0.05
490377|Sea of Thieves|11137|31,13|0.5|0.15
513319|Lethal Company|212089|5,31,32|0.5|0.1
1264310518|Marvel Rivals|294041|5|1.4|1
"""


def named_categories() -> list[Category]:
    rows = []
    for line in _NAMED.strip().splitlines():
        twitch_id, name, igdb_id, genres, weight, viewers = line.split("|")
        genre_ids = () if genres == "-" else tuple(int(g) for g in genres.split(","))
        rows.append(
            Category(twitch_id, name, igdb_id, genre_ids, float(weight), True, float(viewers))
        )
    return rows


@dataclass(frozen=True)
class Language:
    code: str
    channel_percent: float  # of live channels
    viewer_percent: float  # of viewers (hours watched)
    utc_offset_hours: int  # where most of its streamers live: drives the daily cycle


# Shares of channels and of viewers, in line with published tracker figures (sources in
# docs/emulator.md): English far ahead on both, Spanish second by viewers with about a
# fifth of English's channels, Russian and Portuguese next.
LANGUAGES: tuple[Language, ...] = tuple(
    Language(code, channels, viewers, offset)
    for code, channels, viewers, offset in [
        ("en", 45, 44, -5),
        ("es", 8.5, 10.5, -4),
        ("pt", 7, 7, -3),
        ("ru", 6, 8, 3),
        ("de", 6, 5.5, 1),
        ("fr", 4.5, 5, 1),
        ("ja", 5, 4.5, 9),
        ("ko", 3, 2.5, 9),
        ("it", 2.5, 2.5, 1),
        ("zh", 2, 1.5, 8),
        ("pl", 1.5, 1.5, 1),
        ("tr", 1.5, 1.5, 3),
        ("th", 1, 1, 7),
        ("ar", 1, 0.8, 3),
        ("uk", 0.6, 0.5, 2),
        ("nl", 0.7, 0.5, 1),
        ("cs", 0.5, 0.5, 1),
        ("sv", 0.5, 0.3, 1),
        ("zh-hk", 0.4, 0.3, 8),
        ("vi", 0.5, 0.3, 7),
        ("id", 0.4, 0.2, 7),
        ("hu", 0.3, 0.2, 1),
        ("fi", 0.3, 0.2, 2),
        ("other", 1.3, 0.9, 0),
    ]
)
