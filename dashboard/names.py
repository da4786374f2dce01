"""Display names of what the store keeps as codes: Twitch's broadcaster languages."""

from __future__ import annotations

import functools

import pycountry

# Twitch codes that are not ISO 639-1, or whose ISO name is not what Twitch shows.
TWITCH_LANGUAGES = {
    "zh-hk": "Chinese (Hong Kong)",
    "el": "Greek",  # ISO: "Modern Greek (1453-)"
    "ms": "Malay",  # ISO: "Malay (macrolanguage)"
    "asl": "American Sign Language",
    "other": "Other language",  # Twitch's own choice; not the charts' bucket of the rest
    "": "No language set",
}


@functools.cache
def language_name(code: str) -> str:
    """ "es" → "Spanish"; a code nobody knows is shown as it is."""
    code = code.strip().lower()
    if code in TWITCH_LANGUAGES:
        return TWITCH_LANGUAGES[code]
    found = pycountry.languages.get(alpha_2=code) if len(code) == 2 else None
    return str(found.name) if found is not None else code


def language_options(codes: list[str]) -> list[dict[str, str]]:
    """Dropdown options, by name: the value stays the code (links keep working)."""
    return sorted(
        ({"label": language_name(c), "value": c} for c in codes), key=lambda o: o["label"]
    )
