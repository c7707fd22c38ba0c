"""The embedded storage backend: one SQLite file, used from one worker thread.

SQLite calls block, so every call runs on a private one-thread pool
(``deferToThreadPool``), which also serialises writes without locks.  Writes
are committed in groups (:mod:`~rpymostat.storage.group_commit`), each write
still all or nothing; WAL with ``synchronous=FULL`` makes an acknowledged write
durable, even across a power cut, before its Deferred fires.

The tables (``schema/v6.sql``): ``sensors``, ``rules``, ``zones``,
``relay_units`` and ``output_states`` are served here; the history (series,
readings, rollups, setpoints) by :class:`~.sqlite_history.SQLiteHistory`,
``runs`` and ``run_samples`` by :class:`~.sqlite_runs.SQLiteRuns`,
``tokens`` and ``pairings`` by :class:`~.sqlite_credentials.SQLiteCredentials`.
"""

import datetime
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
    IStorage,
    OutputStateRecord,
    RelayUnitRecord,
    RuleRecord,
    SensorRecord,
    StorageError,
    ZoneRecord,
)
from rpymostat.storage.sqlite_credentials import SQLiteCredentials
from rpymostat.storage.sqlite_history import SQLiteHistory, store_readings
from rpymostat.storage.sqlite_runs import SQLiteRuns

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

_RULE_COLUMNS = "kind, rule_id, zone, document, changed_at"

_PUT_RULE = f"INSERT OR REPLACE INTO rules ({_RULE_COLUMNS}) VALUES (?, ?, ?, ?, ?)"


def json_text(what, document):
    """``document`` as the JSON text the database keeps (sorted keys, no NaN), or StorageError."""
    try:
        return json.dumps(document, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise StorageError(f"{what} is not JSON: {e}") from None


@implementer(IStorage)
class SQLiteStorage(SQLiteHistory, SQLiteRuns, SQLiteCredentials):
    """:class:`IStorage` on a SQLite file at ``path`` (history: :class:`~.sqlite_history.SQLiteHistory`,
    runs: :class:`~.sqlite_runs.SQLiteRuns`, tokens and pairings:
    :class:`~.sqlite_credentials.SQLiteCredentials`).  Daily rollups count the
    days of ``timezone``, the engine's."""

    def __init__(self, path: Path, reactor, schema_files=sqlite_schema.SCHEMA_FILES, timezone=datetime.UTC):
        self.path = Path(path)
        self._timezone = timezone
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
            self._connection = sqlite_schema.connect(self.path, self._schema_files, self._timezone)

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

    def _read(self, query, *params, parse=None):
        """Fire with the rows of ``query``, each turned by ``parse`` (if given) on the worker
        thread, where JSON documents are parsed too, not on the reactor's."""

        def parsed(found):
            [rows] = found
            return rows if parse is None else [parse(row) for row in rows]

        return self._read_many([(query, params)], then=parsed)

    def _read_many(self, queries, then=lambda found: found):
        """Fire with ``then([rows of each (query, params)])``, all read on the worker thread
        between two writes, so they see the same state."""

        def select(connection):
            return then([connection.execute(query, params).fetchall() for query, params in queries])

        return self._read_with(select)

    def _read_with(self, function):
        """Fire with ``function(connection)``, run on the worker thread between two writes."""

        def select():
            connection = self._connection
            if connection is None:  # closed while this read waited for the thread
                raise StorageError(f"{self.description} is closed")
            try:
                return function(connection)
            except sqlite3.Error as e:
                raise StorageError(f"SQLite read failed: {e}") from None

        return self._run(select)

    def _read_one(self, query, *params, parse):
        return self._read(query, *params, parse=parse).addCallback(lambda found: found[0] if found else None)

    def record_readings(self, host_id, readings, received_at=None):
        readings = list(readings)

        def store(connection):
            store_readings(connection, readings)
            connection.executemany(
                _UPSERT_SENSOR,
                [
                    (
                        r.sensor_id,
                        host_id,
                        r.sensor_type,
                        r.alias,
                        r.extra,
                        r.value,
                        r.timestamp,
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
        return self._delete("DELETE FROM sensors WHERE sensor_id = ?", sensor_id)

    def put_rule(self, record):
        # Serialised here, on the reactor thread, so the row holds the document
        # as it was at the call, whatever the caller does to its dict later.
        try:
            document = json_text(f"rule {record.kind}/{record.rule_id}", record.document)
        except StorageError:
            return fail()
        row = (record.kind, record.rule_id, record.zone, document, float(record.changed_at))

        def store(connection):
            connection.execute(_PUT_RULE, row)

        return self._write(store)

    def rule(self, kind, rule_id):
        query = f"SELECT {_RULE_COLUMNS} FROM rules WHERE kind = ? AND rule_id = ?"
        return self._read_one(query, kind, rule_id, parse=_rule_record)

    def rules(self, kind, zone=None):
        # Two spellings rather than "zone = coalesce(?, zone)", which would
        # keep SQLite from using the (kind, zone) index.
        where, params = ("kind = ?", (kind,)) if zone is None else ("kind = ? AND zone = ?", (kind, zone))
        query = f"SELECT {_RULE_COLUMNS} FROM rules WHERE {where} ORDER BY rule_id"
        return self._read(query, *params, parse=_rule_record)

    def delete_rule(self, kind, rule_id):
        return self._delete("DELETE FROM rules WHERE kind = ? AND rule_id = ?", kind, rule_id)

    def _delete(self, statement, *key):
        """Fire with True if ``statement`` deleted the one row of ``key``, False if there was none."""

        def delete(connection):
            return connection.execute(statement, key).rowcount == 1

        return self._write(delete)

    def _put_document(self, what, statement, key, document, at, record):
        """Store ``document`` as JSON text under ``key`` at ``at``; fire with ``record(key, copy, at)``."""
        try:
            text = json_text(what, document)
        except StorageError:
            return fail()
        row = (key, text, float(at))

        def store(connection):
            connection.execute(statement, row)
            return record(key, json.loads(text), float(at))

        return self._write(store)

    def put_zone(self, name, document, changed_at):
        statement = "INSERT OR REPLACE INTO zones (name, document, changed_at) VALUES (?, ?, ?)"
        return self._put_document(f"zone {name}", statement, name, document, changed_at, ZoneRecord)

    def zone(self, name):
        query = "SELECT name, document, changed_at FROM zones WHERE name = ?"
        return self._read_one(query, name, parse=_document_record(ZoneRecord))

    def zones(self):
        query = "SELECT name, document, changed_at FROM zones ORDER BY name"
        return self._read(query, parse=_document_record(ZoneRecord))

    def delete_zone(self, name):
        return self._delete("DELETE FROM zones WHERE name = ?", name)

    def put_relay_unit(self, host_id, registration, registered_at):
        statement = "INSERT OR REPLACE INTO relay_units (host_id, registration, registered_at) VALUES (?, ?, ?)"
        return self._put_document(
            f"relay unit {host_id}", statement, host_id, registration, registered_at, RelayUnitRecord
        )

    def relay_unit(self, host_id):
        query = "SELECT host_id, registration, registered_at FROM relay_units WHERE host_id = ?"
        return self._read_one(query, host_id, parse=_document_record(RelayUnitRecord))

    def relay_units(self):
        query = "SELECT host_id, registration, registered_at FROM relay_units ORDER BY host_id"
        return self._read(query, parse=_document_record(RelayUnitRecord))

    def put_output_state(self, address, on, since, starts):
        try:
            row = (address, int(bool(on)), float(since), json_text(f"output {address}", [float(t) for t in starts]))
        except StorageError:
            return fail()

        def store(connection):
            connection.execute(
                "INSERT OR REPLACE INTO output_states (address, is_on, since, starts) VALUES (?, ?, ?, ?)", row
            )

        return self._write(store)

    def output_states(self):
        query = "SELECT address, is_on, since, starts FROM output_states ORDER BY address"
        return self._read(query, parse=_output_state_record)


def _first_sensor(rows):
    return SensorRecord(*rows[0]) if rows else None


def _rule_record(row):
    kind, rule_id, zone, document, changed_at = row
    return RuleRecord(kind, rule_id, zone, json.loads(document), changed_at)


def _document_record(record_class):
    """A parser of ``(key, JSON text, time)`` rows into ``record_class``."""

    def parse(row):
        key, document, at = row
        return record_class(key, json.loads(document), at)

    return parse


def _output_state_record(row):
    address, is_on, since, starts = row
    return OutputStateRecord(address, bool(is_on), since, tuple(json.loads(starts)))
