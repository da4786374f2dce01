"""Tables: an AG Grid with paging, sorting, number formats and a "Download CSV" button.

The button is wired in `assets/csv.js`: it asks the grid to export the rows as it shows
them (filtered and sorted) but with raw values, not the formatted text, so a notebook
reads numbers ("1234.5", not "1,234.5").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dash_ag_grid as dag
from dash import html

from dashboard.figures import DECIMAL, INTEGER, PERCENT

Column = tuple[str, str, Mapping[str, str] | None]  # field, header, value formatter
PAGE_SIZE = 20
# The market metrics of a group (a game, a language), as the Games and Languages tables
# show them; PER_CHANNEL_FIELDS mean nothing over category totals.
MARKET_COLUMNS: list[Column] = [
    ("hours_watched", "Hours watched", INTEGER),
    ("avg_viewers", "Avg viewers", INTEGER),
    ("peak_viewers", "Peak viewers", INTEGER),
    ("avg_channels", "Avg channels", DECIMAL),
    ("viewers_per_channel", "Viewers / channel", DECIMAL),
    ("median_viewers", "Median channel", INTEGER),
    ("under_5_share", "Under 5 viewers", PERCENT),
    ("share", "Share", PERCENT),
]
PER_CHANNEL_FIELDS = {"avg_channels", "viewers_per_channel", "median_viewers", "under_5_share"}


WIDE_TABLE = 5  # columns; a table with more scrolls sideways on a phone
# Wrapped text: lines as tall as the text's, not as the grid's one-line row height.
WRAPPED = {"lineHeight": "1.35", "paddingTop": "10px", "paddingBottom": "10px"}


def column(field: str, header: str, formatter: Mapping[str, str] | None) -> dict[str, Any]:
    definition: dict[str, Any] = {"field": field, "headerName": header}
    if formatter:
        definition.update(
            valueFormatter=dict(formatter), type="rightAligned", filter="agNumberColumnFilter"
        )
    else:  # text (a name, a genre) wraps onto another line rather than being cut off
        definition.update(wrapText=True, autoHeight=True, cellStyle=WRAPPED)
    return definition


def table(
    grid_id: str,
    records: Sequence[Mapping[str, Any]],
    columns: Sequence[Column] | Sequence[dict[str, Any]],
    *,
    file_name: str,
    page_size: int = PAGE_SIZE,
    **grid: Any,
) -> html.Div:
    """A paged grid (never one endless page) and its CSV button; `grid` goes to AgGrid
    (getRowId, dashGridOptions additions, style)."""
    definitions = [c if isinstance(c, dict) else column(*c) for c in columns]
    # In a wide table (more columns than a phone shows), the column that names the row
    # (a game, a channel; after a rank, if any) stays in view while the others scroll
    # sideways, and columns keep room for a wrapped header. Narrow tables fit as they are.
    wide = len(definitions) > WIDE_TABLE
    named = 1 if definitions[0].get("field") == "rank" and len(definitions) > 1 else 0
    for i in range(named + 1 if wide else 0):
        # Long names wrap onto a second line rather than being cut off.
        name = {"minWidth": 150, "wrapText": True, "autoHeight": True, "cellStyle": WRAPPED}
        name = name if i == named else {}
        definitions[i] = {"pinned": "left", **name, **definitions[i]}
    options = {
        "pagination": True,
        "paginationPageSize": page_size,
        "paginationPageSizeSelector": False,
        "animateRows": False,
        **({} if "style" in grid else {"domLayout": "autoHeight"}),
        **grid.pop("dashGridOptions", {}),
    }
    return html.Div(
        [
            html.Div(
                html.Button(
                    "Download CSV",
                    className="csv-button",
                    id=f"{grid_id}-csv",
                    **{"data-csv-grid": grid_id, "data-csv-file": f"{file_name}.csv"},
                ),
                className="table-tools",
            ),
            dag.AgGrid(
                id=grid_id,
                rowData=list(records),
                columnDefs=definitions,
                className="ag-theme-alpine",
                defaultColDef={
                    "sortable": True,
                    "filter": True,
                    "resizable": True,
                    "minWidth": 120 if wide else 100,
                    "useValueFormatterForExport": False,
                    # Headers wrap instead of being cut off; a table whose columns
                    # cannot shrink to the screen's width scrolls sideways.
                    "wrapHeaderText": True,
                    "autoHeaderHeight": True,
                },
                columnSize="responsiveSizeToFit",
                dashGridOptions=options,
                **grid,
            ),
        ],
        className="table",
    )
