"""The embedded storage backend: one SQLite file, used from one worker thread.

SQLite calls block, so every call runs on a private one-thread pool
(``deferToThreadPool``), which also serialises writes without locks.  Writes
are committed in groups (:mod:`~rpymostat.storage.group_commit`), each write
still all or nothing; WAL with ``synchronous=FULL`` makes an acknowledged write
durable, even across a power cut, before its Deferred fires.
"""

import json
import sqlite3
from pathlib import Path

from twisted.internet.defer import ensureDeferred, fail, succeed
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool
from zope.interface import implementer

from rpymostat.storage import sqlite_schema
from rpymostat.storage.group_commit import GroupCommitter
from rpymostat.storage.interface import (
    HistoryEntry,
    IStorage,
    RuleRecord,
    SensorRecord,
    StorageError,
)

_SENSOR_COLUMNS = "sensor_id, host_id, sensor_type, alias, extra, value, last_seen, name, received_at"

_UPSERT_SENSOR = """
INSERT INTO sensors (sensor_id, host_id, sensor_type, alias, extra, value, last_seen, received_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (sensor_id) DO UPDATE SET
    host_id = excluded.host_id,
    sensor_type = excluded.sensor_type,
    alias = excluded.alias,
    extra = excluded.extra,
    value = excluded.value,
    last_seen = excluded.last_seen,
    received_at = excluded.received_at
WHERE excluded.last_seen >= sensors.last_seen
"""

_APPEND_READING = """
INSERT OR IGNORE INTO readings (sensor_id, timestamp, value, extra) VALUES (?, ?, ?, ?)
"""

_RULE_COLUMNS = "kind, rule_id, zone, document, changed_at"

_PUT_RULE = f"INSERT OR REPLACE INTO rules ({_RULE_COLUMNS}) VALUES (?, ?, ?, ?, ?)"


@implementer(IStorage)
class SQLiteStorage:
    """:class:`IStorage` on a SQLite file at ``path``."""

    def __init__(self, path: Path, reactor, schema_files=sqlite_schema.SCHEMA_FILES):
        self.path = Path(path)
        self.description = f"sqlite:{self.path}"
        self._reactor = reactor
        self._schema_files = schema_files
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name="rpymostat-sqlite")
        self._connection = None
        self._writes = GroupCommitter(self._run, lambda: self._connection)

    def _run(self, function, *args):
        if not self._pool.started:
            return fail(StorageError(f"{self.description} is closed"))
        return deferToThreadPool(self._reactor, self._pool, function, *args)

    def open(self):
        self._pool.start()

        def connect():
            self._connection = sqlite_schema.connect(self.path, self._schema_files)

        def failed(failure):
            self._pool.stop()
            return failure

        return self._run(connect).addErrback(failed)

    def close(self):
        if not self._pool.started:
            return succeed(None)
        return ensureDeferred(self._close())

    async def _close(self):
        await self._writes.drained()

        def disconnect():
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        try:
            await self._run(disconnect)
        finally:
            self._pool.stop()

    def ping(self):
        if not self._pool.started:
            return succeed(False)

        def check():
            try:
                self._connection.execute("SELECT 1").fetchone()
                return True
            except sqlite3.Error:
                return False

        return self._run(check)

    def _write(self, function):
        """Run ``function(connection)`` in a transaction (shared with concurrent writes)."""
        return self._writes.submit(function)

    def _read(self, query, *params):
        def select():
            try:
                return self._connection.execute(query, params).fetchall()
            except sqlite3.Error as e:
                raise StorageError(f"SQLite read failed: {e}") from None

        return self._run(select)

    def record_readings(self, host_id, readings, received_at=None):
        readings = list(readings)

        def store(connection):
            connection.executemany(
                _APPEND_READING,
                [(r.sensor_id, r.timestamp, r.value, r.extra) for r in readings],
            )
            connection.executemany(
                _UPSERT_SENSOR,
                [
                    (
                        r.sensor_id, host_id, r.sensor_type, r.alias, r.extra, r.value, r.timestamp,
                        r.timestamp if received_at is None else received_at,
                    )
                    for r in readings
                ],
            )
            return [r.sensor_id for r in readings]

        return self._write(store)

    def sensors(self):
        query = f"SELECT {_SENSOR_COLUMNS} FROM sensors ORDER BY sensor_id"
        return self._read(query).addCallback(lambda rows: [SensorRecord(*row) for row in rows])

    def sensor(self, sensor_id):
        query = f"SELECT {_SENSOR_COLUMNS} FROM sensors WHERE sensor_id = ?"
        return self._read(query, sensor_id).addCallback(_first_sensor)

    def set_sensor_name(self, sensor_id, name):
        def rename(connection):
            connection.execute("UPDATE sensors SET name = ? WHERE sensor_id = ?", (name, sensor_id))
            query = f"SELECT {_SENSOR_COLUMNS} FROM sensors WHERE sensor_id = ?"
            return connection.execute(query, (sensor_id,)).fetchall()

        return self._write(rename).addCallback(_first_sensor)

    def delete_sensor(self, sensor_id):
        def delete(connection):
            cursor = connection.execute("DELETE FROM sensors WHERE sensor_id = ?", (sensor_id,))
            return cursor.rowcount == 1

        return self._write(delete)

    def history(self, sensor_id, start=None, end=None):
        query = (
            "SELECT sensor_id, timestamp, value, extra FROM readings WHERE sensor_id = ?"
            " AND timestamp >= coalesce(?, timestamp) AND timestamp < coalesce(?, timestamp + 1)"
            " ORDER BY timestamp"
        )
        return self._read(query, sensor_id, start, end).addCallback(
            lambda rows: [HistoryEntry(*row) for row in rows]
        )

    def put_rule(self, record):
        # Serialised here, on the reactor thread, so the row holds the document
        # as it was at the call, whatever the caller does to its dict later.
        try:
            document = json.dumps(record.document, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as e:
            return fail(StorageError(f"rule {record.kind}/{record.rule_id} is not JSON: {e}"))
        row = (record.kind, record.rule_id, record.zone, document, float(record.changed_at))

        def store(connection):
            connection.execute(_PUT_RULE, row)

        return self._write(store)

    def rule(self, kind, rule_id):
        query = f"SELECT {_RULE_COLUMNS} FROM rules WHERE kind = ? AND rule_id = ?"
        return self._read(query, kind, rule_id).addCallback(
            lambda rows: _rule_record(rows[0]) if rows else None
        )

    def rules(self, kind, zone=None, newest=None):
        # Two spellings rather than "zone = coalesce(?, zone)", which would
        # keep SQLite from using the (kind, zone) indexes.
        where, params = ("kind = ?", (kind,)) if zone is None else ("kind = ? AND zone = ?", (kind, zone))
        if newest is None:
            query = f"SELECT {_RULE_COLUMNS} FROM rules WHERE {where} ORDER BY rule_id"
        else:
            query = f"SELECT {_RULE_COLUMNS} FROM rules WHERE {where} ORDER BY changed_at DESC LIMIT ?"
            params += (int(newest),)

        def select():  # documents are parsed here, on the worker thread, not the reactor's
            try:
                rows = self._connection.execute(query, params).fetchall()
            except sqlite3.Error as e:
                raise StorageError(f"SQLite read failed: {e}") from None
            return [_rule_record(row) for row in rows]

        return self._run(select)

    def delete_rule(self, kind, rule_id):
        def delete(connection):
            cursor = connection.execute(
                "DELETE FROM rules WHERE kind = ? AND rule_id = ?", (kind, rule_id)
            )
            return cursor.rowcount == 1

        return self._write(delete)


def _first_sensor(rows):
    return SensorRecord(*rows[0]) if rows else None


def _rule_record(row):
    kind, rule_id, zone, document, changed_at = row
    return RuleRecord(kind, rule_id, zone, json.loads(document), changed_at)
