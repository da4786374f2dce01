"""The "Rising now" card of the Games and What-to-stream pages."""

from __future__ import annotations

from urllib.parse import urlencode

from dash import dcc, html

from dashboard.components import PageContext, notice
from dashboard.names import language_name
from dashboard.rising import DAY, WINDOW, rising_now


def rising_card(ctx: PageContext) -> html.Div:
    """The games rising now, whatever the window: what changed lately matters most."""
    window, rises = rising_now(ctx.data, ctx.filters.language)
    language = f" in {language_name(ctx.filters.language)}" if ctx.filters.language else ""
    heading = html.H3(f"Rising now{language}")
    feed_query = f"?{urlencode({'language': ctx.filters.language})}" if ctx.filters.language else ""
    if window is None or not ctx.data.window_slots(window).size:
        return html.Div([heading, notice("Nothing stored yet.", "empty")], className="card")
    oldest = ctx.data.oldest_slot()
    if not rises and oldest is not None and oldest > window.end - (WINDOW + DAY):
        text = (
            "Rising games are found by comparing the last 6 hours with the same hours of "
            "the days before; the stored history does not reach a day back yet."
        )
        return html.Div([heading, html.P(text)], className="card rising")
    if not rises:
        text = "No game is drawing a clearly growing share of live channels right now."
        return html.Div([heading, html.P(text)], className="card rising")
    items = []
    for rise in rises[:10]:
        since = rise.since.tz_convert(ctx.filters.tz)
        change = (
            f"new: {rise.channel_share:.2%} of live channels"
            if rise.ratio == float("inf")
            else f"{rise.ratio:.1f}× its usual share of live channels "
            f"({rise.usual_share:.2%} → {rise.channel_share:.2%})"
        )
        items.append(
            html.Li(
                [
                    dcc.Link(ctx.data.game_name(rise.game), href=f"/games?game={rise.game}"),
                    f" — {change}, since {since:%a %d %b %H:%M}",
                ]
            )
        )
    return html.Div(
        [
            heading,
            html.Ul(items),
            html.P(
                [
                    "Share of live channels over the last 6 hours against the same hours of "
                    f"the week before, with viewers rising too ({ctx.data.coverage(window)}). ",
                    html.A("Follow as an Atom feed", href=f"/feeds/rising.atom{feed_query}"),
                    ".",
                ],
                className="footnote",
            ),
        ],
        className="card rising",
    )
