"""The history part of :class:`rpymostat.testing.FakeStorage`: series, rollups, setpoints, in dictionaries.

It keeps what the real backends keep, as they keep it (milliseconds,
hundredths, rollups summed as readings arrive and kept when raw readings are
pruned), so the history contract suite holds for it too and tests above it
see real behaviour.
"""

from rpymostat.storage.interface import HistoryEntry, Reading, RunInterval, SetpointChange
from rpymostat.storage.timeseries import (
    Rollup,
    aggregate_rows,
    from_hundredths,
    local_day,
    millis,
    quarter,
    seconds,
    to_hundredths,
    zone_series,
)


class FakeHistory:
    """History in dictionaries; the including class provides ``_runs``, ``_timezone``
    and the ``_while_available`` guard on its public methods."""

    def _init_history(self):
        self._raw = {}  # name -> {ms: (hundredths or None, reason)}
        self._rollups = {"quarter": {}, "day": {}}  # resolution -> name -> {key: Rollup}
        self._setpoints = {}  # zone -> {ms: (heat, cool, mode)}

    def _store_reading(self, reading):
        """Keep ``reading`` in its series and rollups, unless that millisecond is kept already."""
        ms, value = millis(reading.timestamp), to_hundredths(reading.value)
        series = self._raw.setdefault(reading.sensor_id, {})
        if ms in series:
            return
        series[ms] = (value, reading.extra if value is None else None)
        if value is not None:
            for resolution, key in (("quarter", quarter(ms)), ("day", local_day(ms, self._timezone))):
                rollups = self._rollups[resolution].setdefault(reading.sensor_id, {})
                rollups.setdefault(key, Rollup()).add(value)

    def _history(self, sensor_id, start=None, end=None):
        series = self._raw.get(sensor_id, {})
        return [
            HistoryEntry(sensor_id, seconds(ms), from_hundredths(series[ms][0]), series[ms][1])
            for ms in sorted(series)
            if (start is None or ms >= millis(start)) and (end is None or ms < millis(end))
        ]

    def _aggregates(self, names, resolution, start, end, step):
        answer = {}
        for name in names:
            if resolution == "raw":
                rows = [
                    (ms, 1, value, value, value)
                    for ms, (value, _) in self._raw.get(name, {}).items()
                    if start * 1000 <= ms < end * 1000 and value is not None
                ]
                answer[name] = aggregate_rows(sorted(rows), start * 1000, step * 1000)
            else:
                rollups = self._rollups[resolution].get(name, {})
                rows = [(key, r.count, r.low, r.high, r.total) for key, r in rollups.items() if start <= key < end]
                answer[name] = aggregate_rows(sorted(rows), start, step)
        return answer

    def _prune_readings(self, before, most):
        deleted = 0
        for name in sorted(self._raw):
            series = self._raw[name]
            for ms in sorted(ms for ms in series if ms < millis(before))[: most - deleted]:
                del series[ms]
                deleted += 1
        return deleted

    def _record_zone_state(self, zone, at, temperature, heat, cool, mode):
        if temperature is not None:
            self._store_reading(Reading(zone_series(zone), "zone", temperature, at))
        changes = self._setpoints.setdefault(zone, {})
        setpoints = (to_hundredths(heat), to_hundredths(cool), mode)
        if not changes or changes[max(changes)] != setpoints:
            changes[millis(at)] = setpoints

    def _setpoint_changes(self, zone, start, end):
        changes = self._setpoints.get(zone, {})
        low, high = millis(start), millis(end)
        before = [ms for ms in changes if ms < low]
        chosen = ([max(before)] if before else []) + sorted(ms for ms in changes if low <= ms < high)
        return [
            SetpointChange(
                seconds(ms), from_hundredths(changes[ms][0]), from_hundredths(changes[ms][1]), changes[ms][2]
            )
            for ms in chosen
        ]

    def _run_intervals(self, zone, start, end):
        found = [
            run
            for run in self._runs.values()
            if run.zone == zone and run.started_at < end and (run.ended_at is None or run.ended_at > start)
        ]
        return [
            RunInterval(run.output, run.started_at, run.ended_at)
            for run in sorted(found, key=lambda run: (run.started_at, run.run_id))
        ]
