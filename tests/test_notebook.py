"""The analysts' notebook runs against the database and agrees with the dashboard."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conftest import ROOT, FerretDB
from dashboard.filters import Filters
from dashboard.loader import MarketData
from dashboard.metrics import group_metrics, snapshot_weights
from seed import slots_between, write_history
from store import Store, StoreReader

pytestmark = pytest.mark.integration


def run_notebook(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    notebook = json.loads((ROOT / "notebooks" / "overview.ipynb").read_text(encoding="utf-8"))
    namespace: dict[str, Any] = {}
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            exec("".join(cell["source"]), namespace)  # our own notebook, cell by cell
    namespace["client"].close()
    return namespace


def test_notebook_reproduces_the_overview(
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    end = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    write_history(
        store, list(slots_between(end - timedelta(days=1), end, skip={5, 6, 7, 30})), top_n=120
    )
    result = run_notebook(
        {"MONGODB_URI_READONLY": ferretdb.uri, "MONGODB_DB": database_name, "WINDOW_DAYS": "7"},
        monkeypatch,
    )

    reader = StoreReader(ferretdb.uri, database_name)
    request.addfinalizer(reader.close)
    holder = MarketData(reader, refresh_seconds=0)
    holder.refresh()
    data = holder.view()
    window = Filters().window_for(data.newest_slot())
    frame = data.group_frame("genre", window)
    metrics = group_metrics(frame, snapshot_weights(data.window_slots(window)))
    latest = frame[frame["slot"] == data.newest_slot()]
    kpis = result["kpis"]
    assert kpis["viewers_now"] == latest["viewers"].sum()
    assert kpis["channels_now"] == latest["channels"].sum()
    assert kpis["hours_watched"] == pytest.approx(metrics["hours_watched"].sum())
    for genre, share in result["share"].items():
        assert metrics.loc[genre, "share"] == pytest.approx(share)
    over_time = result["over_time"]
    inside = over_time.loc[result["slots"][0] : result["slots"][-1]]
    assert inside.isna().all(axis=1).sum() == 4  # the skipped slots stay gaps, not zeros
