"""In-memory fakes of the engine's interfaces, for tests of the code above them.

Each fake passes the same contract suite as the real implementations
(``tests/test_storage_contract.py``), so a test that uses it tests real
behaviour, not a guess.
"""

import dataclasses
import functools
import json

from twisted.internet.defer import fail, succeed
from zope.interface import implementer

from rpymostat.storage.interface import HistoryEntry, IStorage, SensorRecord, StorageError


def _while_available(method):
    """Run ``method`` and fire its result, or fail with StorageError when unavailable."""

    @functools.wraps(method)
    def answer(self, *args, **kwargs):
        if not self.available:
            return fail(StorageError("fake database is unavailable"))
        return succeed(method(self, *args, **kwargs))

    return answer


@implementer(IStorage)
class FakeStorage:
    """:class:`IStorage` in dictionaries.

    Set ``available = False`` to make it behave like a database that stopped
    answering: ``ping`` fires False and every other call fails with
    StorageError, changing nothing.
    """

    description = "memory"

    def __init__(self):
        self.available = True
        self._sensors = {}
        self._readings = {}
        self._rules = {}

    def open(self):
        return succeed(None)

    def close(self):
        self.available = False
        return succeed(None)

    def ping(self):
        return succeed(self.available)

    @_while_available
    def record_readings(self, host_id, readings, received_at=None):
        readings = list(readings)
        for reading in readings:
            history = self._readings.setdefault(reading.sensor_id, {})
            history.setdefault(
                reading.timestamp,
                HistoryEntry(reading.sensor_id, reading.timestamp, reading.value, reading.extra),
            )
            current = self._sensors.get(reading.sensor_id)
            if current is not None and current.last_seen > reading.timestamp:
                continue
            self._sensors[reading.sensor_id] = SensorRecord(
                sensor_id=reading.sensor_id,
                host_id=host_id,
                sensor_type=reading.sensor_type,
                alias=reading.alias,
                extra=reading.extra,
                value=reading.value,
                last_seen=reading.timestamp,
                name=current.name if current else None,
                received_at=reading.timestamp if received_at is None else received_at,
            )
        return [reading.sensor_id for reading in readings]

    @_while_available
    def sensors(self):
        return [self._sensors[key] for key in sorted(self._sensors)]

    @_while_available
    def sensor(self, sensor_id):
        return self._sensors.get(sensor_id)

    @_while_available
    def set_sensor_name(self, sensor_id, name):
        current = self._sensors.get(sensor_id)
        if current is None:
            return None
        self._sensors[sensor_id] = dataclasses.replace(current, name=name)
        return self._sensors[sensor_id]

    @_while_available
    def delete_sensor(self, sensor_id):
        return self._sensors.pop(sensor_id, None) is not None

    @_while_available
    def history(self, sensor_id, start=None, end=None):
        entries = self._readings.get(sensor_id, {})
        return [
            entries[timestamp]
            for timestamp in sorted(entries)
            if (start is None or timestamp >= start) and (end is None or timestamp < end)
        ]

    @_while_available
    def put_rule(self, record):
        # A deep copy through JSON, as a real database stores text, not the caller's dict.
        self._rules[(record.kind, record.rule_id)] = dataclasses.replace(
            record, document=json.loads(json.dumps(record.document))
        )

    @_while_available
    def rule(self, kind, rule_id):
        return self._rules.get((kind, rule_id))

    @_while_available
    def rules(self, kind, zone=None, newest=None):
        found = [
            record
            for (record_kind, rule_id), record in sorted(self._rules.items())
            if record_kind == kind and (zone is None or record.zone == zone)
        ]
        if newest is None:
            return found
        return sorted(found, key=lambda record: record.changed_at, reverse=True)[:newest]

    @_while_available
    def delete_rule(self, kind, rule_id):
        return self._rules.pop((kind, rule_id), None) is not None
