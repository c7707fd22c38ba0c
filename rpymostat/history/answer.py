"""A history answer, ready to chart: columns of min/mean/max per step, setpoints as steps, runs as bands.

The answer is columnar, as chart libraries (uPlot) take it: one ``at`` list
of the steps' start times, and for each series a ``count``, ``min``,
``mean`` and ``max`` list aligned with it (``null`` where a step had no
reading, so a gap shows as a gap).  A time is written once however many
series share it, which keeps a day at one-minute steps for a zone of five
sensors a quarter of the size of a point-per-object answer, and fast to make.

Everything in it is bounded by the plan's points: a series has one value a
step; setpoints are each change, but when there are more changes than
steps, the setpoints in force at each step's start (a chart could not show
more); runs are at most one band a step, the shortest gaps closed first, so
a year of a short-cycling boiler is still a small answer.  The CSV form holds the same
rows, one table, for a spreadsheet.
"""

import bisect
import csv
import io

from rpymostat.protocol.times import iso_utc


def slot_times(plan) -> list:
    """The ISO 8601 start of every step of ``plan``: the answer's ``at``."""
    return [iso_utc(plan.slot_start(slot)) for slot in range(plan.points)]


def series_document(key, name, aggregates, plan) -> dict:
    """One series: ``key`` is ``"sensor"`` or ``"zone"``, ``name`` its id, its columns aligned with ``at``."""
    count = [0] * plan.points
    low, mean, high = [None] * plan.points, [None] * plan.points, [None] * plan.points
    for point in aggregates:
        count[point.slot], low[point.slot], mean[point.slot], high[point.slot] = (
            point.count,
            point.low,
            point.mean,
            point.high,
        )
    return {key: name, "count": count, "min": low, "mean": mean, "max": high}


def setpoints_document(changes, plan) -> list:
    """The setpoints as steps: each change from when it applies in the range (the first from its start),
    or, when there are more changes than steps, those in force at each step's start."""
    if len(changes) > plan.points:
        times = [change.at for change in changes]
        chosen = []
        for slot in range(plan.points):
            at = plan.slot_start(slot)
            index = bisect.bisect_right(times, at) - 1
            change = changes[max(index, 0)]
            if not chosen or chosen[-1][1] is not change:
                chosen.append((at, change))
    else:
        chosen = [(max(change.at, plan.start), change) for change in changes]
    return [{"at": iso_utc(at), "heat": change.heat, "cool": change.cool, "mode": change.mode} for at, change in chosen]


def runs_document(intervals, plan) -> list:
    """Heating, cooling and fan runs as ``{output, start, end}`` bands, clipped to the range.

    A band still running ends None.  When there are more bands than steps,
    the shortest gaps are closed first until there are not: a year at daily
    steps keeps the nights between a day's runs and loses the minutes
    between two runs of one morning, which no chart that size could show.
    """
    bands = {}
    for interval in intervals:
        start = max(interval.started_at, plan.start)
        end = None if interval.ended_at is None else min(interval.ended_at, plan.end)
        kept = bands.setdefault(interval.output, [])
        if kept and kept[-1][1] is None:
            continue  # an older run still open covers it
        if kept and start <= kept[-1][1]:
            kept[-1][1] = end if end is None else max(end, kept[-1][1])
        else:
            kept.append([start, end])
    gaps = sorted(later[0] - earlier[1] for kept in bands.values() for earlier, later in zip(kept, kept[1:]))
    excess = sum(len(kept) for kept in bands.values()) - plan.points
    if excess > 0:
        closed = gaps[excess - 1]  # every gap this short or shorter is closed
        for output, kept in bands.items():
            merged = [kept[0]]
            for band in kept[1:]:
                if band[0] - merged[-1][1] <= closed:
                    merged[-1][1] = band[1]
                else:
                    merged.append(band)
            bands[output] = merged
    return [
        {"output": output, "start": iso_utc(start), "end": None if end is None else iso_utc(end)}
        for output in sorted(bands)
        for start, end in bands[output]
    ]


#: The columns of the CSV form, one table for every kind of row.
CSV_COLUMNS = ("record", "name", "at", "end", "count", "min", "mean", "max", "heat", "cool", "mode")

#: A text cell starting with one of these is a formula to a spreadsheet: it gets a leading ``'``.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(document) -> str:
    """The answer ``document`` as CSV: ``reading`` rows per series and step with readings,
    then ``setpoints`` and ``run`` rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for series in document["series"]:
        name = series.get("sensor") or f"zone {series['zone']}"
        for slot, at in enumerate(document["at"]):
            if series["count"][slot]:
                values = {column: series[column][slot] for column in ("count", "min", "mean", "max")}
                writer.writerow(_row(record="reading", name=name, at=at, **values))
    for change in document.get("setpoints", []):
        writer.writerow(_row(record="setpoints", **change))
    for band in document.get("runs", []):
        writer.writerow(_row(record="run", name=band["output"], at=band["start"], end=band["end"]))
    return out.getvalue()


def _row(**cells):
    """A CSV row of :data:`CSV_COLUMNS`, empty where a cell is not given or None."""
    row = ["" if cells.get(column) is None else cells[column] for column in CSV_COLUMNS]
    name = row[1]
    if isinstance(name, str) and name.startswith(FORMULA_STARTS):
        row[1] = "'" + name
    return row
