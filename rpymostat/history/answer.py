"""A history answer, ready to chart: series of min/mean/max per step, setpoints as steps, runs as bands.

Everything in it is bounded by the plan's points: a series has at most one
point a step, setpoints change at most a few times a day and are kept only
as changes, and runs closer together than a step are drawn as one band
(a chart could not show the gap), so a year of a short-cycling boiler is
still a small answer.  The CSV form holds the same rows, one table, for a
spreadsheet.
"""

import csv
import io

from rpymostat.protocol.times import iso_utc

#: Runs are merged into one band across a gap shorter than this share of a step.
MERGE_GAP_STEPS = 1.0


def series_document(key, name, aggregates, plan) -> dict:
    """One series: ``key`` is ``"sensor"`` or ``"zone"``, ``name`` its id, with its points."""
    return {
        key: name,
        "points": [
            {
                "at": iso_utc(plan.slot_start(point.slot)),
                "count": point.count,
                "min": point.low,
                "mean": point.mean,
                "max": point.high,
            }
            for point in aggregates
        ],
    }


def setpoints_document(changes, plan) -> list:
    """The setpoints as steps: each change from when it applies in the range (the first from its start)."""
    return [
        {"at": iso_utc(max(change.at, plan.start)), "heat": change.heat, "cool": change.cool, "mode": change.mode}
        for change in changes
    ]


def runs_document(intervals, plan) -> list:
    """Heating, cooling and fan runs as ``{output, start, end}`` bands, merged across gaps under a step.

    A band still running ends None; bands are clipped to the range.
    """
    gap = MERGE_GAP_STEPS * (plan.end - plan.start) / plan.points
    bands = {}
    for interval in intervals:
        start = max(interval.started_at, plan.start)
        end = None if interval.ended_at is None else min(interval.ended_at, plan.end)
        merged = bands.setdefault(interval.output, [])
        if merged and merged[-1][1] is not None and start - merged[-1][1] < gap:
            merged[-1][1] = end if end is None else max(end, merged[-1][1])
        elif merged and merged[-1][1] is None:
            continue  # an older run still open covers it
        else:
            merged.append([start, end])
    return [
        {"output": output, "start": iso_utc(start), "end": None if end is None else iso_utc(end)}
        for output in sorted(bands)
        for start, end in bands[output]
    ]


#: The columns of the CSV form, one table for every kind of row.
CSV_COLUMNS = ("record", "name", "at", "end", "count", "min", "mean", "max", "heat", "cool", "mode")


def csv_text(document) -> str:
    """The answer ``document`` as CSV: ``reading`` rows per series and step, then ``setpoints`` and ``run`` rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for series in document["series"]:
        name = series.get("sensor") or f"zone {series['zone']}"
        for point in series["points"]:
            writer.writerow(_row(record="reading", name=name, **point))
    for change in document.get("setpoints", []):
        writer.writerow(_row(record="setpoints", **change))
    for band in document.get("runs", []):
        writer.writerow(_row(record="run", name=band["output"], at=band["start"], end=band["end"]))
    return out.getvalue()


def _row(**cells):
    """A CSV row of :data:`CSV_COLUMNS`, empty where a cell is not given or None."""
    return ["" if cells.get(column) is None else cells[column] for column in CSV_COLUMNS]
