"""The genre vocabulary (IGDB's genre names), non-game categories, and tag → genre maps.

Every genre the product shows is an IGDB genre name, whatever the evidence came from:
IGDB itself, the curated file built from Twitch and Steam tags, or a manual override.
"""

from __future__ import annotations

from collections import Counter

# IGDB's genre list (https://api-docs.igdb.com/#genre), by name.
IGDB_GENRES: tuple[str, ...] = (
    "Adventure",
    "Arcade",
    "Card & Board Game",
    "Fighting",
    "Hack and slash/Beat 'em up",
    "Indie",
    "MOBA",
    "Music",
    "Pinball",
    "Platform",
    "Point-and-click",
    "Puzzle",
    "Quiz/Trivia",
    "Racing",
    "Real Time Strategy (RTS)",
    "Role-playing (RPG)",
    "Shooter",
    "Simulator",
    "Sport",
    "Strategy",
    "Tactical",
    "Turn-based strategy (TBS)",
    "Visual Novel",
)

# When evidence ties, the more telling genre is primary: "Sport" says more about a stream
# than "Adventure", and "Indie" says who made a game, not what it plays like.
SPECIFICITY: tuple[str, ...] = (
    "MOBA",
    "Fighting",
    "Racing",
    "Sport",
    "Shooter",
    "Card & Board Game",
    "Puzzle",
    "Platform",
    "Real Time Strategy (RTS)",
    "Turn-based strategy (TBS)",
    "Tactical",
    "Hack and slash/Beat 'em up",
    "Music",
    "Pinball",
    "Quiz/Trivia",
    "Visual Novel",
    "Point-and-click",
    "Role-playing (RPG)",
    "Strategy",
    "Simulator",
    "Arcade",
    "Adventure",
    "Indie",
)

# Twitch categories that are not games (no IGDB entry): they count as "Non-game".
NON_GAME_CATEGORIES = frozenset(
    {
        "Always On",
        "Animals, Aquariums, and Zoos",
        "Art",
        "ASMR",
        "Beauty & Body Art",
        "Co-working & Studying",
        "Crypto",
        "Fitness & Health",
        "Food & Drink",
        "Games + Demos",
        "IRL",
        "Just Chatting",
        "Makers & Crafting",
        "Music",
        "Politics",
        "Pools, Hot Tubs, and Beaches",
        "Science & Technology",
        "Slots",
        "Software and Game Development",
        "Special Events",
        "Sports",
        "Talk Shows & Podcasts",
        "Travel & Outdoors",
        "Virtual Casino",
        "Writing & Reading",
    }
)

# Twitch's own genre tags (as in ../shared/data/game_genre_tags.csv) → IGDB genre. Tags
# that name a theme or a mode rather than a genre (Action, Horror, MMO, Survival, Open
# World …) map to nothing.
TWITCH_TAGS: dict[str, str] = {
    "Adventure Game": "Adventure",
    "Arcade": "Arcade",
    "Card & Board Game": "Card & Board Game",
    "Driving/Racing Game": "Racing",
    "FPS": "Shooter",
    "Fighting": "Fighting",
    "Gambling Game": "Card & Board Game",
    "Indie Game": "Indie",
    "MOBA": "MOBA",
    "Platformer": "Platform",
    "Point and Click": "Point-and-click",
    "Puzzle": "Puzzle",
    "RPG": "Role-playing (RPG)",
    "RTS": "Real Time Strategy (RTS)",
    "Shooter": "Shooter",
    "Simulation": "Simulator",
    "Sports Game": "Sport",
    "Strategy": "Strategy",
}

# SteamDB user tags (as in ../shared/data/games_steam_tags.csv) → IGDB genre.
STEAM_TAGS: dict[str, str] = {
    "2D Fighter": "Fighting",
    "2D Platformer": "Platform",
    "3D Fighter": "Fighting",
    "3D Platformer": "Platform",
    "Action RPG": "Role-playing (RPG)",
    "Action-Adventure": "Adventure",
    "Adventure": "Adventure",
    "Arcade": "Arcade",
    "Automobile Sim": "Simulator",
    "Battle Royale": "Shooter",
    "Beat 'em up": "Hack and slash/Beat 'em up",
    "Board Game": "Card & Board Game",
    "CRPG": "Role-playing (RPG)",
    "Card Battler": "Card & Board Game",
    "Card Game": "Card & Board Game",
    "Chess": "Card & Board Game",
    "City Builder": "Simulator",
    "Colony Sim": "Simulator",
    "Deckbuilding": "Card & Board Game",
    "Driving": "Racing",
    "FPS": "Shooter",
    "Farming Sim": "Simulator",
    "Fighting": "Fighting",
    "Football (Soccer)": "Sport",
    "Grand Strategy": "Strategy",
    "Hack and Slash": "Hack and slash/Beat 'em up",
    "Hero Shooter": "Shooter",
    "Indie": "Indie",
    "JRPG": "Role-playing (RPG)",
    "Life Sim": "Simulator",
    "Looter Shooter": "Shooter",
    "MMORPG": "Role-playing (RPG)",
    "MOBA": "MOBA",
    "Management": "Simulator",
    "Metroidvania": "Platform",
    "Music": "Music",
    "Party-Based RPG": "Role-playing (RPG)",
    "Pinball": "Pinball",
    "Platformer": "Platform",
    "Point & Click": "Point-and-click",
    "Precision Platformer": "Platform",
    "Puzzle": "Puzzle",
    "Puzzle-Platformer": "Puzzle",
    "RPG": "Role-playing (RPG)",
    "RTS": "Real Time Strategy (RTS)",
    "Racing": "Racing",
    "Real Time Tactics": "Tactical",
    "Rhythm": "Music",
    "Shooter": "Shooter",
    "Simulation": "Simulator",
    "Soccer": "Sport",
    "Souls-like": "Role-playing (RPG)",
    "Sports": "Sport",
    "Strategy": "Strategy",
    "Tactical": "Tactical",
    "Third-Person Shooter": "Shooter",
    "Tower Defense": "Strategy",
    "Trivia": "Quiz/Trivia",
    "Turn-Based Strategy": "Turn-based strategy (TBS)",
    "Turn-Based Tactics": "Turn-based strategy (TBS)",
    "Visual Novel": "Visual Novel",
    "Wrestling": "Sport",
}


def ranked(genres: list[str]) -> list[str]:
    """Distinct genres, most evidence first (how often a source named it), ties broken by
    `SPECIFICITY`; names outside it (Non-game) keep their place after those in it."""
    counts = Counter(genres)
    order = {g: i for i, g in enumerate(SPECIFICITY)}
    return sorted(counts, key=lambda g: (-counts[g], order.get(g, len(order))))
