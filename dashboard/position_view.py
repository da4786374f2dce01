"""Your position: where a channel of V viewers would stand in a game's directory, by
weekday and hour, from the directory counts (the game page and the When page show it)."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard import figures
from dashboard.components import notice
from dashboard.filters import Filters
from dashboard.metrics import AUDIENCES, position_by_hour
from dashboard.names import language_name
from dashboard.view import MarketView
from dashboard.window import Window
from store import ALL_LANGUAGES

DEFAULT_AUDIENCE = 3


def audience_of(value: object) -> int:
    """An offered audience from a dropdown value (anything else: the default)."""
    try:
        audience = int(str(value))
    except ValueError:
        return DEFAULT_AUDIENCE
    return audience if audience in AUDIENCES else DEFAULT_AUDIENCE


def position_body(
    data: MarketView, window: Window, filters: Filters, game_id: str, audience: int
) -> Any:
    """The heat map, or a notice saying why there is none."""

    def build() -> Any:
        language = filters.language or ALL_LANGUAGES
        slots, counts = data.reader.game_directory(window.start, window.end, language, game_id)
        if not slots:
            return notice(
                "No directory counts in this window: they come from snapshots of the whole "
                "market, kept since this version.",
                "empty",
            )
        among = f"among {language_name(filters.language)} channels" if filters.language else ""
        title = (
            f"Your position with {audience} viewer{'s' if audience != 1 else ''} in "
            f"{data.game_name(game_id)}'s directory {among}"
        ).replace("  ", " ")
        cells = position_by_hour(slots, counts, audience, filters.tz)
        return dcc.Graph(
            figure=figures.position_heatmap(cells, title, filters.tz),
            config=figures.GRAPH_CONFIG,
        )

    return data.memo(("position", window, filters, game_id, audience), build)


def position_section(
    prefix: str,
    data: MarketView,
    window: Window,
    filters: Filters,
    game_id: str,
    audience: int = DEFAULT_AUDIENCE,
) -> html.Div:
    return html.Div(
        [
            html.Label(
                [
                    "Your usual viewers",
                    dcc.Dropdown(
                        id=f"{prefix}-audience",
                        value=str(audience),
                        clearable=False,
                        options=[{"label": str(a), "value": str(a)} for a in AUDIENCES],
                    ),
                ],
                className="subject",
            ),
            html.Div(
                position_body(data, window, filters, game_id, audience)
                if game_id
                else notice("Choose a game to see where you would stand in it.", "info"),
                id=f"{prefix}-position",
            ),
            html.P(
                "Position = 1 + the live channels with more viewers than yours, at each "
                "snapshot; each cell is the median over the window (hover: the middle half "
                "of the snapshots, and how many channels were live). Brighter is nearer the "
                "top of the directory.",
                className="footnote",
            ),
        ],
        className="card",
    )
