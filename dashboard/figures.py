"""Figure builders: data in, Plotly figure out (plain functions tests can call).

Built with `graph_objects` (plotly.express is ~40× slower per figure). Every axis is
labelled with its unit, numbers use thousands separators, and each genre keeps one colour
on every page. Plotly renders titles, labels, legends and hover text as a subset of HTML
(links included), so every string that can come from data passes through `plain` here.
"""

from __future__ import annotations

import html
import math
import textwrap
import zlib
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.metrics import OTHER
from store.schema import CLASSIFIER_SUFFIX

PALETTE = [
    "#4C78A8",
    "#F58518",
    "#54A24B",
    "#E45756",
    "#72B7B2",
    "#EECA3B",
    "#B279A2",
    "#FF9DA6",
    "#9D755D",
    "#BAB0AC",
    "#1F77B4",
    "#D62728",
    "#2CA02C",
    "#9467BD",
    "#8C564B",
    "#17BECF",
]
# Every genre its own colour: neighbours in meaning (Shooter and Fighting, Non-game and
# Card & Board) must not look alike, and Unknown (dark grey) is not the "Other" bucket
# (light grey).
GENRE_COLOURS = {
    "Shooter": "#BE0032",
    "Fighting": "#F38400",
    "Role-playing (RPG)": "#008856",
    "MOBA": "#875692",
    "Adventure": "#0067A5",
    "Sport": "#8DB600",
    "Strategy": "#F3C300",
    "Simulator": "#A1CAF1",
    "Racing": "#E68FAC",
    "Card & Board Game": "#1B1B6B",
    "Platform": "#F99379",
    "Non-game": "#C2B280",
    "Puzzle": "#2B3D26",
    "Arcade": "#882D17",
    "Indie": "#00E5FF",
    "Music": "#B3446C",
    "Hack and slash/Beat 'em up": "#E25822",
    "Real Time Strategy (RTS)": "#4C78A8",
    "Turn-based strategy (TBS)": "#72B7B2",
    "Tactical": "#54A24B",
    "Point-and-click": "#B279A2",
    "Pinball": "#7FFFD4",
    "Quiz/Trivia": "#9D755D",
    "Visual Novel": "#17BECF",
    "Unknown": "#555555",
}
# The biggest languages (by name, as charts show them), so that they never share a colour.
LANGUAGE_COLOURS = {
    "English": "#0067A5",
    "Spanish": "#F38400",
    "Portuguese": "#008856",
    "Russian": "#BE0032",
    "German": "#72B7B2",
    "French": "#F3C300",
    "Japanese": "#875692",
    "Korean": "#E68FAC",
    "Italian": "#882D17",
    "Chinese": "#17BECF",
    "Polish": "#604E97",
    "Turkish": "#8DB600",
}
FIXED = {
    **GENRE_COLOURS,
    **LANGUAGE_COLOURS,
    "Viewers": "#0067A5",
    "Channels": "#F38400",
    OTHER: "#D0D0D0",
}
# AG Grid value formatters (d3-format in the browser): thousands separators, percentages.
INTEGER = {"function": "params.value == null ? '' : d3.format(',.0f')(params.value)"}
DECIMAL = {"function": "params.value == null ? '' : d3.format(',.1f')(params.value)"}
PERCENT = {"function": "params.value == null ? '' : d3.format('.1%')(params.value)"}
GROWTH = {"function": "params.value == null ? 'new' : d3.format('+.0%')(params.value)"}
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
LAYOUT = dict(
    margin=dict(l=60, r=30, t=60, b=40),
    template="plotly_white",
    # Below everything, axis titles included: a legend placed in the plot's own frame
    # collides with a time axis whose labels take two lines on a phone.
    legend=dict(orientation="h", yref="container", yanchor="bottom", y=0, x=0),
    xaxis=dict(automargin=True),
    yaxis=dict(automargin=True),
    separators=".,",
    font=dict(family="system-ui, sans-serif", size=13),
)
# Every chart's options: no Plotly logo; the mode bar shows on hover (and the style
# sheet hides it on phones, where it would cover the title).
GRAPH_CONFIG = {"displaylogo": False, "displayModeBar": "hover"}
TITLE_WIDTH = 56  # characters a title line holds on a phone (at its smaller font there)


def legend_height(entries: int, plot: int) -> int:
    """A figure's height: `plot` px for the chart, and room for its legend below it as a
    phone stacks it (one entry a line); a wide screen lays the entries side by side and
    gives the chart the rest."""
    return plot + 22 * entries


def titled(text: object) -> dict[str, object]:
    """A chart title as plain text, wrapped onto lines a phone's width holds."""
    lines = textwrap.wrap(str(text), TITLE_WIDTH, break_long_words=False) or [""]
    return dict(
        text="<br>".join(plain(line) for line in lines),
        automargin=True,  # a second line pushes the chart down rather than off the top
        yref="container",
        y=1,
        yanchor="top",
        pad=dict(t=12),
        x=0.02,
    )


def plain(text: object) -> str:
    """Text that Plotly shows as written: `<`, `>` and `&` as entities, so a stream or game
    name can never become markup (a link, say) in a chart."""
    return html.escape(str(text), quote=False)


def colour(name: str) -> str:
    """The same colour for the same genre (or language, game) everywhere; a genre the
    classifier gave has its genre's colour."""
    name = name.removesuffix(CLASSIFIER_SUFFIX)
    return FIXED.get(name) or PALETTE[zlib.crc32(name.encode()) % len(PALETTE)]


def share_pie(labels: Sequence[str], hours: Sequence[float], title: str) -> go.Figure:
    figure = go.Figure(
        go.Pie(
            labels=[plain(label) for label in labels],
            values=list(hours),
            sort=False,
            hole=0.45,
            marker=dict(colors=[colour(label) for label in labels]),
            textinfo="percent",
            textposition="inside",
            hovertemplate="%{label}<br>%{value:,.0f} hours watched<br>%{percent} of viewers"
            "<extra></extra>",
        )
    )
    figure.update_layout(
        **LAYOUT,
        title=titled(title),
        uniformtext=dict(minsize=11, mode="hide"),
        height=legend_height(len(labels), 320),
    )
    return figure


def stacked_area(series: pd.DataFrame, title: str, timezone: str = "UTC") -> go.Figure:
    """Stacked viewers over time; stretches without a snapshot are shaded ("no data")."""
    series = series.set_axis(local_times(series.index, timezone))
    figure = go.Figure()
    for column in series.columns:
        label = str(column)
        figure.add_trace(
            go.Scatter(
                x=series.index,
                y=series[column],
                name=plain(label),
                stackgroup="viewers",
                mode="lines",
                line=dict(width=0.5, color=colour(label)),
                connectgaps=False,
                # The name by reference: put into the template, it would be parsed as one.
                hovertemplate="%{fullData.name}: %{y:,.0f} viewers<extra></extra>",
            )
        )
    shading = no_data_trace(gaps(series), float(series.sum(axis=1).max()) if len(series) else 0)
    if shading is not None:
        figure.add_trace(shading)
    figure.update_layout(
        **LAYOUT,
        title=titled(title),
        hovermode="x unified",
        height=legend_height(len(figure.data), 380),
    )
    figure.update_xaxes(title_text=f"Time ({timezone})", title_standoff=4)
    figure.update_yaxes(title_text="Concurrent viewers", tickformat=",")
    return figure


def gaps(series: pd.DataFrame) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Stretches without a snapshot: each run of empty rows (every column NaN), from the
    row before it to the row after it (or the run's own ends at the edges)."""
    if series.empty:
        return []
    missing = series.isna().all(axis=1).to_numpy()
    index = series.index
    runs = []
    i = 0
    while i < len(missing):
        if not missing[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(missing) and missing[j + 1]:
            j += 1
        runs.append(
            (index[i - 1] if i > 0 else index[i], index[j + 1] if j + 1 < len(index) else index[j])
        )
        i = j + 1
    return runs


def no_data_trace(
    stretches: list[tuple[pd.Timestamp, pd.Timestamp]], top: float
) -> go.Scatter | None:
    """Every gap as one shaded trace (one legend entry, "no data"): its cost does not grow
    with the number of gaps the way one layout shape per gap does."""
    if not stretches:
        return None
    height = (top if top > 0 else 1.0) * 1.05
    xs: list[object] = []
    ys: list[float | None] = []
    for start, end in stretches:
        xs += [start, start, end, end, start, None]
        ys += [0.0, height, height, 0.0, 0.0, None]
    return go.Scatter(
        x=xs,
        y=ys,
        name="no data",
        mode="lines",
        fill="toself",
        fillcolor="rgba(136, 136, 136, 0.15)",
        line=dict(width=0),
        hoverinfo="skip",
        connectgaps=False,
    )


def local_times(index: pd.Index, timezone: str) -> pd.Index:
    """Times in the chosen zone as wall-clock times (what Plotly draws)."""
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        return index.tz_convert(timezone).tz_localize(None)
    return index


def line(
    x: pd.Index, ys: dict[str, Sequence[float]], title: str, y_title: str, timezone: str = "UTC"
) -> go.Figure:
    x = local_times(x, timezone)
    figure = go.Figure()
    for name, values in ys.items():
        figure.add_trace(
            go.Scatter(
                x=list(x),
                y=list(values),
                name=plain(name),
                mode="lines+markers",
                line=dict(color=colour(name)),
                marker=dict(size=4),
                connectgaps=False,
                hovertemplate="%{fullData.name}: %{y:,.0f}<extra></extra>",
            )
        )
    figure.update_layout(**LAYOUT, title=titled(title), hovermode="x unified")
    figure.update_xaxes(title_text=f"Time ({timezone})")
    figure.update_yaxes(title_text=y_title, tickformat=",")
    return figure


def two_axes(
    x: pd.Index,
    left: tuple[str, Sequence[float]],
    right: tuple[str, Sequence[float]],
    title: str,
    timezone: str = "UTC",
) -> go.Figure:
    """Two series of different scales over time (viewers and channels), each on its own
    y axis: on one axis the smaller would be drawn flat at zero."""
    figure = line(x, {left[0]: left[1]}, title, left[0], timezone)
    figure.add_trace(
        go.Scatter(
            x=list(local_times(x, timezone)),
            y=list(right[1]),
            name=plain(right[0]),
            yaxis="y2",
            mode="lines+markers",
            line=dict(color=colour(right[0]), dash="dot"),
            marker=dict(size=4),
            connectgaps=False,
            hovertemplate="%{fullData.name}: %{y:,.0f}<extra></extra>",
        )
    )
    figure.update_layout(
        yaxis=dict(title=dict(text=plain(left[0]), font=dict(color=colour(left[0])))),
        yaxis2=dict(
            title=dict(text=plain(right[0]), font=dict(color=colour(right[0]))),
            overlaying="y",
            side="right",
            tickmode="auto",  # its own round ticks, not ones aligned to the left axis
            tickformat=",.0f",
            rangemode="tozero",
            showgrid=False,
        ),
        margin=dict(l=60, r=60, t=50, b=40),
    )
    return figure


def whole_number_axis(figure: go.Figure, values: Sequence[float], axis: str = "y") -> go.Figure:
    """Ticks on whole numbers only (ranks, counts): never 1.2 or 1.4."""
    finite = [v for v in values if v == v]
    span = (max(finite) - min(finite)) if finite else 0
    step = max(1, math.ceil(span / 6))
    return figure.update_layout({f"{axis}axis": dict(tickformat=",d", dtick=step, tick0=1)})


def bar(labels: Sequence[str], values: Sequence[float], title: str, x_title: str) -> go.Figure:
    figure = go.Figure(
        go.Bar(
            x=list(values),
            y=[plain(label) for label in labels],
            orientation="h",
            marker=dict(color=[colour(label) for label in labels]),
            hovertemplate="%{y}: %{x:,.1f}<extra></extra>",
        )
    )
    figure.update_layout(**LAYOUT, title=titled(title), height=max(300, 28 * len(labels) + 120))
    figure.update_xaxes(title_text=x_title, tickformat=",")
    figure.update_yaxes(autorange="reversed", title_text=None)
    return figure


# The least spread of a heat map's colour scale, as a share of its mean either side: hours
# within a few per cent of each other look alike instead of spanning the whole palette.
MIN_COLOUR_SPREAD = 0.25


def colour_range(values: np.ndarray) -> tuple[float, float] | None:
    """The colour scale's ends: the values' own range, widened to at least
    ±MIN_COLOUR_SPREAD of their mean; None without any value."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return None
    mean = float(finite.mean())
    low, high = float(finite.min()), float(finite.max())
    return min(low, mean * (1 - MIN_COLOUR_SPREAD)), max(high, mean * (1 + MIN_COLOUR_SPREAD))


def heatmap(matrix: pd.DataFrame, title: str, timezone: str) -> go.Figure:
    values = matrix.to_numpy(dtype=float)
    ends = colour_range(values)
    figure = go.Figure(
        go.Heatmap(
            z=values,
            zmin=ends[0] if ends else None,
            zmax=ends[1] if ends else None,
            x=[f"{h:02d}:00" for h in matrix.columns],
            y=[WEEKDAYS[d] for d in matrix.index],
            colorscale="Viridis",
            colorbar=dict(title="viewers<br>per channel"),
            hoverongaps=False,
            hovertemplate="%{y} %{x}: %{z:,.1f} viewers per channel<extra></extra>",
        )
    )
    figure.update_layout(**LAYOUT, title=titled(title))
    figure.update_xaxes(title_text=f"Hour of day ({timezone})")
    figure.update_yaxes(title_text="Weekday", autorange="reversed")
    return figure


def position_heatmap(cells: dict[str, pd.DataFrame], title: str, timezone: str) -> go.Figure:
    """A game's directory position for an audience by weekday × hour (`position_by_hour`):
    brighter is nearer the top."""
    position = cells["position"]
    values = position.to_numpy(dtype=float)
    ends = colour_range(values)
    spread = np.dstack(
        [cells["low"].to_numpy(dtype=float), cells["high"].to_numpy(dtype=float),
         cells["live"].to_numpy(dtype=float)]
    )  # fmt: skip
    figure = go.Figure(
        go.Heatmap(
            z=values,
            zmin=ends[0] if ends else None,
            zmax=ends[1] if ends else None,
            x=[f"{h:02d}:00" for h in position.columns],
            y=[WEEKDAYS[d] for d in position.index],
            customdata=spread,
            colorscale="Viridis",
            reversescale=True,
            colorbar=dict(title="position<br>(median)"),
            hoverongaps=False,
            hovertemplate=(
                "%{y} %{x}: position %{z:,.0f} (%{customdata[0]:,.0f}–%{customdata[1]:,.0f}"
                " over the window) of %{customdata[2]:,.0f} live channels<extra></extra>"
            ),
        )
    )
    figure.update_layout(**LAYOUT, title=titled(title))
    figure.update_xaxes(title_text=f"Hour of day ({timezone})")
    figure.update_yaxes(title_text="Weekday", autorange="reversed")
    return figure
