"""The SQLite backend's history: compact series of integers, rollups summed as readings arrive.

Tables (``schema/v6.sql``): ``series`` gives each sensor and zone series a
small integer key; ``readings`` holds ``(series, millisecond, hundredths)``
``WITHOUT ROWID``, under 20 bytes a reading on disk; ``reading_failures``
the device's reason for a reading without value; ``quarters`` and ``days``
the rollups; ``zone_setpoints`` a zone's setpoints and mode when they
changed.  A reading's rollups are added by a trigger in the statement that
stores it, and only when it was new, so a re-delivered reading is never
counted twice; the whole batch costs three statements, whatever its size.

:class:`SQLiteHistory` is a part of :class:`~.sqlite.SQLiteStorage`, kept
apart so each module stays one subject; it uses that class's ``_read``,
``_read_many``, ``_write`` and ``_timezone``.
"""

from rpymostat.storage.interface import HistoryEntry, Reading, RunInterval, SetpointChange
from rpymostat.storage.timeseries import (
    aggregate_rows,
    aggregate_values,
    from_hundredths,
    millis,
    seconds,
    to_hundredths,
    zone_series,
)

_SERIES = "INSERT OR IGNORE INTO series (name) VALUES (?)"

_APPEND = "INSERT OR IGNORE INTO readings (series, t, value) SELECT series, ?, ? FROM series WHERE name = ?"

# A reason is kept only beside a stored reading without value: never beside a value.
_FAILURE = """
INSERT OR IGNORE INTO reading_failures (series, t, reason)
SELECT reading.series, reading.t, ? FROM series JOIN readings AS reading ON reading.series = series.series
WHERE series.name = ? AND reading.t = ? AND reading.value IS NULL
"""

#: What each resolution reads of one series: the raw readings in time order (summed per slot as they
#: pass, :func:`~.timeseries.aggregate_values`: a SQL GROUP BY would sort them again), or one
#: ``(slot, count, low, high, total)`` row per slot of the rollups.
_AGGREGATE_SOURCES = {
    "raw": "SELECT t, value FROM readings WHERE series = ? AND t >= ? AND t < ? AND value IS NOT NULL ORDER BY t",
    "quarter": "SELECT (start - ?) / ? AS slot, sum(count), min(low), max(high), sum(total) FROM quarters"
    " WHERE series = ? AND start >= ? AND start < ? GROUP BY slot",
    "day": "SELECT (day - ?) / ? AS slot, sum(count), min(low), max(high), sum(total) FROM days"
    " WHERE series = ? AND day >= ? AND day < ? GROUP BY slot",
}

_LAST_SETPOINTS = "SELECT heat, cool, mode FROM zone_setpoints WHERE zone = ? ORDER BY t DESC LIMIT 1"

_SETPOINTS_IN_EFFECT = """
SELECT t, heat, cool, mode FROM (
    SELECT * FROM (SELECT t, heat, cool, mode FROM zone_setpoints WHERE zone = ? AND t < ? ORDER BY t DESC LIMIT 1)
    UNION ALL
    SELECT t, heat, cool, mode FROM zone_setpoints WHERE zone = ? AND t >= ? AND t < ?
) ORDER BY t
"""

#: The millisecond of a series' ``most``-th oldest reading before a time: what one prune step deletes up to.
_PRUNE_UP_TO = "SELECT t FROM readings WHERE series = ? AND t < ? ORDER BY t LIMIT 1 OFFSET ?"


def store_readings(connection, readings):
    """Append each :class:`~.interface.Reading` that is new to its series (made on first use);
    the ``readings_roll_up`` trigger adds it to its rollups."""
    connection.executemany(_SERIES, sorted({(reading.sensor_id,) for reading in readings}))
    connection.executemany(_APPEND, [(millis(r.timestamp), to_hundredths(r.value), r.sensor_id) for r in readings])
    failures = [(r.extra, r.sensor_id, millis(r.timestamp)) for r in readings if r.value is None and r.extra]
    if failures:
        connection.executemany(_FAILURE, failures)


class SQLiteHistory:
    """The history methods of :class:`~rpymostat.storage.interface.IStorage` on SQLite."""

    def history(self, sensor_id, start=None, end=None):
        low = -(2**62) if start is None else millis(start)
        high = 2**62 if end is None else millis(end)
        query = (
            "SELECT reading.t, reading.value, failure.reason FROM series"
            " JOIN readings AS reading ON reading.series = series.series"
            " LEFT JOIN reading_failures AS failure ON failure.series = reading.series AND failure.t = reading.t"
            " WHERE series.name = ? AND reading.t >= ? AND reading.t < ? ORDER BY reading.t"
        )

        def entry(row):
            ms, value, reason = row
            return HistoryEntry(sensor_id, seconds(ms), from_hundredths(value), reason)

        return self._read(query, sensor_id, low, high, parse=entry)

    def aggregates(self, names, resolution, start, end, step):
        names = list(names)
        source = _AGGREGATE_SOURCES[resolution]
        scale = 1000 if resolution == "raw" else 1  # raw readings are kept in milliseconds
        start, end, step = int(start) * scale, int(end) * scale, int(step) * scale
        keys_of = "SELECT name, series FROM series WHERE name IN ({})".format(",".join("?" * len(names)))

        def select(connection):
            keys = dict(connection.execute(keys_of, names).fetchall())
            answer = {}
            for name in names:
                if name not in keys:
                    answer[name] = []
                elif resolution == "raw":
                    answer[name] = aggregate_values(connection.execute(source, (keys[name], start, end)), start, step)
                else:
                    rows = connection.execute(source, (start, step, keys[name], start, end)).fetchall()
                    answer[name] = aggregate_rows(rows, 0, 1)  # rows are keyed by slot already
            return answer

        return self._read_with(select)

    def prune_readings(self, before, most):
        before, most = millis(before), int(most)

        def prune(connection):
            left, deleted = most, 0
            for (series,) in connection.execute("SELECT series FROM series ORDER BY series").fetchall():
                if left <= 0:
                    break
                row = connection.execute(_PRUNE_UP_TO, (series, before, left)).fetchone()
                cut = before if row is None else row[0]
                count = connection.execute("DELETE FROM readings WHERE series = ? AND t < ?", (series, cut)).rowcount
                connection.execute("DELETE FROM reading_failures WHERE series = ? AND t < ?", (series, cut))
                deleted += count
                left -= count
            return deleted

        return self._write(prune)

    def record_zone_state(self, zone, at, temperature, heat, cool, mode):
        ms, value = millis(at), to_hundredths(temperature)
        setpoints = (to_hundredths(heat), to_hundredths(cool), mode)

        def store(connection):
            if value is not None:
                store_readings(connection, [Reading(zone_series(zone), "zone", temperature, at)])
            last = connection.execute(_LAST_SETPOINTS, (zone,)).fetchone()
            if last is None or tuple(last) != setpoints:
                connection.execute(
                    "INSERT OR REPLACE INTO zone_setpoints (zone, t, heat, cool, mode) VALUES (?, ?, ?, ?, ?)",
                    (zone, ms, *setpoints),
                )

        return self._write(store)

    def setpoint_changes(self, zone, start, end):
        low, high = millis(start), millis(end)

        def change(row):
            ms, heat, cool, mode = row
            return SetpointChange(seconds(ms), from_hundredths(heat), from_hundredths(cool), mode)

        return self._read(_SETPOINTS_IN_EFFECT, zone, low, zone, low, high, parse=change)

    def run_intervals(self, zone, start, end):
        # Two halves, each through an index: ended after the start (runs_by_end), still running (open_runs).
        query = (
            "SELECT output, started_at, ended_at, run_id FROM runs INDEXED BY runs_by_end"
            " WHERE zone = ? AND ended_at > ? AND started_at < ?"
            " UNION ALL SELECT output, started_at, ended_at, run_id FROM runs INDEXED BY open_runs"
            " WHERE ended_at IS NULL AND zone = ? AND started_at < ? ORDER BY 2, 4"
        )
        return self._read(
            query, zone, float(start), float(end), zone, float(end), parse=lambda row: RunInterval(*row[:3])
        )
