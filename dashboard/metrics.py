"""The market metrics of `../shared/docs/metrics.md`, as plain pandas functions.

Inputs are per-snapshot group totals: a frame with columns `slot`, `key`, `viewers`,
`channels` (one row per snapshot and group), plus the snapshot slots of the window.
Every snapshot stands for the time until the next one, capped at the cadence's
`max_gap`; the last stands for the cadence's interval (`settings.cadence`). All averages
are time-weighted; nothing sums snapshots.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from slots import DEFAULT_CADENCE, Cadence
from store import channels_above, histogram

HOUR = pd.Timedelta(hours=1)
OTHER = "Other"

METRIC_COLUMNS = [
    "hours_watched",
    "hours_streamed",
    "avg_viewers",
    "peak_viewers",
    "peak_at",
    "avg_channels",
    "peak_channels",
    "viewers_per_channel",
    "share",
]


def snapshot_weights(
    slots: Sequence[datetime] | pd.DatetimeIndex,
    cadence: Cadence = DEFAULT_CADENCE,
) -> pd.Series:
    """Hours each snapshot stands for, indexed by slot (sorted, duplicates dropped)."""
    # as_unit: pandas 3 keeps datetimes in µs; the arithmetic below is in ns.
    index = pd.DatetimeIndex(sorted(set(slots))).as_unit("ns")
    if len(index) == 0:  # an empty window: still a UTC index, so callers can convert zones
        return pd.Series(dtype=float, index=pd.DatetimeIndex([], tz="UTC"), name="weight")
    last = pd.Timedelta(cadence.interval).value
    following = np.append(np.diff(index.asi8), last)  # ns until the next snapshot
    weights = np.minimum(following, pd.Timedelta(cadence.max_gap).value) / HOUR.value
    return pd.Series(weights, index=index, name="weight")


def group_metrics(frame: pd.DataFrame, weights: pd.Series) -> pd.DataFrame:
    """One row per group key with every metric of the definitions table, biggest first."""
    if frame.empty or weights.empty:
        return pd.DataFrame(columns=METRIC_COLUMNS, index=pd.Index([], name="key"))
    total_hours = float(weights.sum())
    w = frame["slot"].map(weights).to_numpy(dtype=float)
    data = frame.assign(
        viewer_hours=frame["viewers"].to_numpy() * w, channel_hours=frame["channels"].to_numpy() * w
    )
    grouped = data.groupby("key", sort=False, observed=True)
    result = pd.DataFrame(
        {
            "hours_watched": grouped["viewer_hours"].sum(),
            "hours_streamed": grouped["channel_hours"].sum(),
        }
    )
    result["avg_viewers"] = result["hours_watched"] / total_hours
    result["avg_channels"] = result["hours_streamed"] / total_hours
    peaks = data.loc[grouped["viewers"].idxmax()].set_index("key")
    result["peak_viewers"] = peaks["viewers"]
    result["peak_at"] = peaks["slot"]
    result["peak_channels"] = grouped["channels"].max()
    result["viewers_per_channel"] = result["avg_viewers"] / result["avg_channels"].replace(
        0, np.nan
    )
    all_hours = float(result["hours_watched"].sum())
    result["share"] = result["hours_watched"] / all_hours if all_hours else 0.0
    result.index.name = "key"
    return result[METRIC_COLUMNS].sort_values("hours_watched", ascending=False)


def growth(current: pd.Series, previous: pd.Series) -> pd.Series:
    """(average viewers now − in the previous window) / previous; NaN where there was none."""
    before = previous.reindex(current.index)
    return (current - before) / before.where(before > 0)


def totals(frame: pd.DataFrame) -> pd.DataFrame:
    """Viewers and channels of all groups together, per snapshot (key 'all')."""
    summed = frame.groupby("slot", observed=True)[["viewers", "channels"]].sum().reset_index()
    return summed.assign(key="all")


def gap_points(
    slots: pd.DatetimeIndex, start: datetime, end: datetime, cadence: Cadence = DEFAULT_CADENCE
) -> pd.DatetimeIndex:
    """One instant inside each stretch of the window with no snapshot for longer than
    the cadence's `max_gap` (between two snapshots, before the first, after the last): charts put an
    empty row there, so lines break and the stretch is shaded, never interpolated.

    Taken from the snapshot times themselves, so snapshots at any cadence (every 16
    minutes, off the half hours) show no false gap, and there is one point per gap."""
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    if not len(slots):
        return (
            pd.DatetimeIndex([first], tz="UTC") if last > first else pd.DatetimeIndex([], tz="UTC")
        )
    # as_unit: the arithmetic below is in ns (pandas 3 may hold µs).
    edges = pd.DatetimeIndex([first]).append(slots).append(pd.DatetimeIndex([last])).as_unit("ns")
    before, after = edges[:-1], edges[1:]
    # The last snapshot stands for one cadence after it, like its weight.
    allowed = np.full(len(before), pd.Timedelta(cadence.max_gap).value)
    allowed[-1] = pd.Timedelta(cadence.interval).value
    wide = np.asarray((after - before).asi8) > allowed
    points = before[wide] + (after[wide] - before[wide]) / 2
    # Gaps at the window's edges are marked at the edge, so the shading reaches it.
    if len(points) and wide[0]:
        points = points.delete(0).insert(0, edges[0])
    if len(points) and wide[-1] and len(wide) > 1:
        points = points.delete(-1).append(pd.DatetimeIndex([edges[-1] - pd.Timedelta(1, "ns")]))
    return pd.DatetimeIndex(points).tz_convert("UTC")


def viewer_series(
    frame: pd.DataFrame, slots: pd.DatetimeIndex, grid: pd.DatetimeIndex, keys: Sequence[str]
) -> pd.DataFrame:
    """Viewers per slot (rows: `grid`) for `keys`, the rest summed into 'Other'.

    A slot with a snapshot but no stream of a group is 0; a slot without a snapshot is NaN
    (a gap), never interpolated.
    """
    if frame.empty:
        return pd.DataFrame(index=grid)
    keyed = frame.assign(group=frame["key"].where(frame["key"].isin(keys), OTHER).astype(str))
    table = keyed.pivot_table(
        index="slot", columns="group", values="viewers", aggfunc="sum", fill_value=0
    )
    columns = [k for k in keys if k in table.columns] + ([OTHER] if OTHER in table.columns else [])
    table = table.reindex(index=slots, columns=columns, fill_value=0)
    return table.reindex(grid.union(slots))


def top_keys(metrics: pd.DataFrame, count: int) -> list[str]:
    return [str(k) for k in metrics.index[:count]]


def weekday_hour(frame: pd.DataFrame, weights: pd.Series, timezone: str) -> pd.DataFrame:
    """Time-weighted viewers per channel by weekday (rows 0=Mon) × hour (columns) in `timezone`.

    `frame` holds one group's viewers and channels per snapshot; snapshots where the group
    had no stream count as 0 viewers and 0 channels.
    """
    per_slot = (
        frame.groupby("slot")[["viewers", "channels"]].sum().reindex(weights.index, fill_value=0)
    )
    local = weights.index.tz_convert(timezone)
    data = per_slot.assign(w=weights.to_numpy(), weekday=local.day_of_week, hour=local.hour)
    data["vw"] = data["viewers"] * data["w"]
    data["cw"] = data["channels"] * data["w"]
    sums = data.groupby(["weekday", "hour"])[["vw", "cw"]].sum()
    ratio = (sums["vw"] / sums["cw"].replace(0, np.nan)).unstack("hour")
    return ratio.reindex(index=range(7), columns=range(24))


AUDIENCES = (1, 3, 5, 10, 25, 50)  # the audiences offered; positions exact at each


def position_by_hour(
    slots: Sequence[datetime], counts: np.ndarray, viewers: int, timezone: str
) -> dict[str, pd.DataFrame]:
    """Where a channel of `viewers` viewers would stand in a game's directory, by weekday
    (rows 0=Mon) × hour (columns) in `timezone`, over the slots given: the median
    `position` (1 + live channels with more viewers) and its spread (`low`, `high`: 25th
    and 75th percentiles), and the median `live` channels. `counts`: one game's directory
    counts per slot (slots × bins). Cells without a slot are NaN."""
    if not len(slots):
        empty = pd.DataFrame(np.nan, index=range(7), columns=range(24))
        return {name: empty for name in ("position", "low", "high", "live")}
    local = pd.DatetimeIndex(slots).tz_convert(timezone)
    per_slot = pd.DataFrame(
        {
            "weekday": local.day_of_week,
            "hour": local.hour,
            "position": 1.0 + channels_above(counts, viewers),
            "live": counts.sum(axis=1).astype(float),
        }
    )
    cells = per_slot.groupby(["weekday", "hour"])
    found = {
        "position": cells["position"].median(),
        "low": cells["position"].quantile(0.25),
        "high": cells["position"].quantile(0.75),
        "live": cells["live"].median(),
    }
    return {
        name: values.unstack("hour").reindex(index=range(7), columns=range(24))
        for name, values in found.items()
    }


def channel_concentration(
    streams: pd.DataFrame, weights: pd.Series, tops: Sequence[int] = (1, 3, 5, 10)
) -> dict[str, float]:
    """Share of a group's hours watched taken by its N biggest channels in the window, and
    how many channels it had. What a newcomer can expect comes from the whole market's
    histograms (`tail_metrics`), not from these stored top streams.

    `streams`: one row per observation with `slot`, `user_login`, `viewer_count`.
    """
    if streams.empty:
        return {}
    w = streams["slot"].map(weights).fillna(0.0).to_numpy()
    per_channel = (
        streams.assign(vh=streams["viewer_count"].to_numpy() * w, ch=w)
        .groupby("user_login")[["vh", "ch"]]
        .sum()
        .sort_values("vh", ascending=False)
    )
    total = float(per_channel["vh"].sum())
    result = {
        f"top_{n}_share": float(per_channel["vh"].iloc[:n].sum()) / total if total else 0.0
        for n in tops
    }
    result["channels"] = float(len(per_channel))
    return result


# A group averaging fewer live channels than this is too small to rank by viewers per
# channel: one channel with a big audience would top the ranking.
MIN_CHANNELS = 3.0
TAIL_COLUMNS = ["median_viewers", "p90_viewers", "under_5_share"]


def rankable_viewers_per_channel(metrics: pd.DataFrame) -> pd.Series:
    """Viewers per channel where the group averaged at least MIN_CHANNELS live channels,
    NaN (left out of rankings) elsewhere."""
    return metrics["viewers_per_channel"].where(metrics["avg_channels"] >= MIN_CHANNELS)


def tail_metrics(histograms: pd.DataFrame) -> pd.DataFrame:
    """Per group (rows of `histograms`: viewer-count or directory counts, columns the
    bins' lower edges): the median channel's viewers, the 90th percentile, and the share
    of channels with fewer than 5 viewers. Each channel observation (a channel in one
    snapshot) counts once, so with snapshots at a fixed cadence these are time-weighted."""
    if histograms.empty:
        return pd.DataFrame(columns=TAIL_COLUMNS)
    counts = histograms.to_numpy()
    edges = [int(c) for c in histograms.columns]
    return pd.DataFrame(
        {
            "median_viewers": [histogram.quantile(row, 0.5, edges) for row in counts],
            "p90_viewers": [histogram.quantile(row, 0.9, edges) for row in counts],
            "under_5_share": [histogram.share_below(row, 5, edges) for row in counts],
        },
        index=histograms.index,
    )
