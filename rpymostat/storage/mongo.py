"""The networked storage backend: a MongoDB (wire-protocol) server, through txmongo.

Collections: ``sensors`` (one document per sensor, unique ``sensor_id``; a
document stored before ``received_at`` was kept lacks that field and reads as None),
here; the history (``reading_buckets``, ``quarters``, ``days``,
``zone_setpoints``, ``zone_latest``) in :mod:`.mongo_history` and
:mod:`.mongo_buckets`;
``rules``, ``zones``, ``relay_units`` and ``output_states`` in
:mod:`.mongo_records`; ``runs`` in :mod:`.mongo_runs`.  Records an older engine
kept in ``rules`` are moved to their collections on open
(:mod:`.mongo_migration`), and its ``readings`` collection into buckets and
rollups (:mod:`.mongo_readings_migration`).  A sensor's times and value are
stored as BSON doubles, so a float round-trips bit for bit, as in the SQLite
backend's REAL columns; history keeps whole milliseconds and hundredths
(:mod:`.timeseries`).

What "all or nothing" means here.  Every write of :meth:`record_readings` is
idempotent and conditional, whatever the server:

* a reading is added to its hour's bucket only where that millisecond is not
  yet kept, together with its quarter's sums, in one document update
  conditional on the bucket's version; without a transaction the rollups are
  then set from those sums (absolute values, never increments), so a
  re-delivered reading changes nothing and is never counted twice
  (:mod:`.mongo_buckets`);
* a sensor is created by an upsert that only sets fields on insert (``name``
  starts as null and is never touched again), then updated by a plain update
  whose filter is ``last_seen <= timestamp``: an older reading matches nothing.
  Only each sensor's newest reading of the batch is written, which is what
  updating with every reading in turn would leave.

On a server that supports multi-document transactions (a replica set or a
mongos; SecantusDB qualifies, since it advertises itself as a single-node
replica set) the whole batch runs in one transaction, so it is truly all or
nothing.  A standalone ``mongod`` refuses transactions; there the history is
written first and the sensors second, and a batch that failed half-way has
left only writes that the retry of the same batch repeats as no-ops, so a
retry converges on exactly the state of one successful call.  The sensor
daemons retry every batch the engine did not acknowledge.

Writes from this object run one at a time (a DeferredLock), as the SQLite
backend's single worker thread runs them: concurrent transactions on the same
sensor would otherwise fail each other with WriteConflict.  A conflict with
another client (there should be none: one engine owns a database) fails the
batch with StorageError, and the daemon's retry settles it.

txmongo imports the global reactor for its connections and its own timers;
this module uses the injected ``reactor`` for everything it schedules itself
(the start-up check's thread hop, timeouts), which in the engine is the same
object.  Every call is bounded by ``timeout`` seconds, because txmongo waits
for a reconnection indefinitely when the server has gone away.
"""

import datetime
from urllib.parse import urlsplit

import pymongo
from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import PyMongoError, ServerSelectionTimeoutError
from twisted.internet import defer
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from txmongo.connection import ConnectionPool
from txmongo.errors import TimeExceeded
from txmongo.filter import ASCENDING, sort
from zope.interface import implementer

from rpymostat.storage import mongo_buckets, mongo_credentials, mongo_records, mongo_runs
from rpymostat.storage.interface import IStorage, SensorRecord, StorageError
from rpymostat.storage.mongo_buckets import store_readings
from rpymostat.storage.mongo_credentials import MongoCredentials
from rpymostat.storage.mongo_history import MongoHistory
from rpymostat.storage.mongo_migration import move_records_out_of_rules
from rpymostat.storage.mongo_readings_migration import move_readings_into_buckets
from rpymostat.storage.mongo_records import MongoRecords, projection
from rpymostat.storage.mongo_runs import MongoRuns

DEFAULT_DATABASE = "rpymostat"

#: Failures of a MongoDB call that mean "the database could not do it".
_DATABASE_FAILURES = (
    PyMongoError,
    TimeExceeded,
    defer.TimeoutError,
    defer.CancelledError,
)


def redact_url(url):
    """``url`` with any password replaced by ``***``, safe for logs and errors."""
    scheme, separator, rest = url.partition("://")
    credentials, at, hosts = rest.rpartition("@")
    if not at:
        return url
    user, colon, _password = credentials.partition(":")
    return f"{scheme}{separator}{user}{':***' if colon else ''}@{hosts}"


def _float_or_none(number):
    return None if number is None else float(number)


_SENSOR_FIELDS = projection(SensorRecord)

#: ``(collection, key fields, unique)`` of every index, created (if missing) on open.
_INDEXES = (
    ("sensors", ["sensor_id"], True),
    *mongo_buckets.INDEXES,
    *mongo_records.INDEXES,
    *mongo_runs.INDEXES,
    *mongo_credentials.INDEXES,
)


def _check_server(url, timeout):
    """Blocking: ping the server with pymongo; say whether it takes transactions.

    Runs on a worker thread.  pymongo's server selection gives a clear,
    bounded answer to "is anybody there", which txmongo (retrying forever)
    does not.
    """
    client = pymongo.MongoClient(
        url,
        serverSelectionTimeoutMS=int(timeout * 1000),
        connectTimeoutMS=int(timeout * 1000),
    )
    try:
        client.admin.command("ping")
        hello = client.admin.command("hello")
    finally:
        client.close()
    replicated = "setName" in hello or hello.get("msg") == "isdbgrid"
    return replicated and "logicalSessionTimeoutMinutes" in hello


@implementer(IStorage)
class MongoStorage(MongoHistory, MongoRuns, MongoRecords, MongoCredentials):
    """:class:`IStorage` on the database named in ``url`` (``mongodb://host:port/dbname``).

    Daily rollups count the local days of ``timezone``, the engine's.
    ``timeout`` bounds the start-up check and every later call, in seconds;
    ``ping_timeout`` bounds :meth:`ping`, which must answer False quickly
    when the server has gone.  With ``use_transactions`` False a batch is never
    written in a transaction, as on a standalone server, even where it could be.
    """

    log = Logger()

    def __init__(
        self,
        url: str,
        reactor,
        timeout: float = 10.0,
        ping_timeout: float = 2.0,
        use_transactions: bool = True,
        timezone=datetime.UTC,
    ):
        self.url = url
        self.description = redact_url(url)
        self._reactor = reactor
        self._timeout = timeout
        self._ping_timeout = ping_timeout
        self._use_transactions = use_transactions
        self._timezone = timezone
        self._database_name = urlsplit(url).path.lstrip("/") or DEFAULT_DATABASE
        self._pool = None
        self._writes = defer.DeferredLock()
        self.transactions = False
        """Whether batches are written in a transaction; known once open."""

    @property
    def _database(self):
        return self._pool[self._database_name]

    @property
    def _sensors(self):
        return self._database["sensors"]

    def _call(self, what, operation):
        """Run ``operation()``, bounded by the timeout, its database failures as StorageError.

        A closed backend fails at once instead of waiting for a connection.
        """
        if self._pool is None:
            return defer.fail(StorageError(f"MongoDB {what} refused: {self.description} is closed"))
        deferred = defer.maybeDeferred(operation)
        deferred.addTimeout(self._timeout, self._reactor)

        def failed(failure):
            failure.trap(*_DATABASE_FAILURES)
            if failure.check(PyMongoError):
                reason = failure.getErrorMessage()
            else:
                reason = f"no answer within {self._timeout:g} s"
            raise StorageError(f"MongoDB {what} failed on {self.description}: {reason}")

        return deferred.addErrback(failed)

    def open(self):
        return defer.ensureDeferred(self._open())

    async def _open(self):
        pool = self._reactor.getThreadPool()
        try:
            supported = await deferToThreadPool(self._reactor, pool, _check_server, self.url, self._timeout)
        except ServerSelectionTimeoutError as e:
            reason = str(e).split(", Timeout:")[0]
            raise StorageError(
                f"MongoDB at {self.description} did not answer within {self._timeout:g} s: {reason}"
            ) from None
        except (PyMongoError, ValueError) as e:  # pymongo: ValueError for a bad port
            raise StorageError(f"MongoDB at {self.description} cannot be used: {e}") from None
        self.transactions = supported and self._use_transactions
        # Reconnect at least every 5 s (txmongo's default backs off to 60 s),
        # so the engine recovers soon after the server comes back.
        self._pool = ConnectionPool(self.url, max_delay=5.0)
        try:
            for collection, keys, unique in _INDEXES:
                await self._call(
                    "creating indexes",
                    lambda collection=collection, keys=keys, unique=unique: self._database[collection].create_index(
                        sort(ASCENDING(keys)), unique=unique
                    ),
                )
            moved = await self._call("moving records out of rules", lambda: move_records_out_of_rules(self._database))
            migrated = await move_readings_into_buckets(self._database, self._timezone, self._call)
        except StorageError:
            await self.close()
            raise
        if moved:
            self.log.info("moved {count} zones, relay units, output states and runs out of rules", count=moved)
        if migrated:
            self.log.info("moved {count} readings into hour buckets and rollups", count=migrated)
        self.log.info(
            "storage {description} open (transactions: {transactions})",
            description=self.description,
            transactions=self.transactions,
        )

    def close(self):
        def disconnect():
            pool, self._pool = self._pool, None
            return pool.disconnect() if pool is not None else None

        return self._writes.run(disconnect)

    def ping(self):
        if self._pool is None:
            return defer.succeed(False)
        answer = self._database.command("ping")
        answer.addTimeout(self._ping_timeout, self._reactor)
        return answer.addCallbacks(lambda reply: bool(reply.get("ok")), lambda failure: False)

    def record_readings(self, host_id, readings, received_at=None):
        readings = list(readings)
        if not readings:
            return defer.succeed([])
        # Each sensor's newest reading (the later of equal times) is what the batch's
        # conditional updates, one after the other, would leave: write only that one.
        newest = {}
        for r in readings:
            if r.sensor_id not in newest or r.timestamp >= newest[r.sensor_id].timestamp:
                newest[r.sensor_id] = r
        sensors = []
        for r in newest.values():
            fields = {
                "host_id": host_id,
                "sensor_type": r.sensor_type,
                "alias": r.alias,
                "extra": r.extra,
                "value": _float_or_none(r.value),
                "last_seen": float(r.timestamp),
                "received_at": float(r.timestamp if received_at is None else received_at),
            }
            sensors.append(
                UpdateOne(
                    {"sensor_id": r.sensor_id},
                    {"$setOnInsert": dict(fields, name=None)},
                    upsert=True,
                )
            )
            sensors.append(
                UpdateOne(
                    {"sensor_id": r.sensor_id, "last_seen": {"$lte": fields["last_seen"]}},
                    {"$set": fields},
                )
            )

        async def write(session):
            # History first, then sensors, as the module docstring says.
            await store_readings(self._database, readings, self._timezone, session)
            await self._sensors.bulk_write(sensors, ordered=True, session=session)

        stored = self._call(
            "write",
            lambda: self._writes.run(lambda: defer.ensureDeferred(self._transaction(write))),
        )
        return stored.addCallback(lambda _: [r.sensor_id for r in readings])

    async def _transaction(self, work):
        """Await ``work(session)`` in one transaction where the server has them, else ``work(None)``."""
        if not self.transactions:
            return await work(None)
        async with self._pool.start_session() as session:
            async with session.start_transaction():
                return await work(session)

    def sensors(self):
        found = self._call("read", lambda: self._sensors.find({}, projection=_SENSOR_FIELDS).sort({"sensor_id": 1}))
        return found.addCallback(lambda rows: [SensorRecord(**r) for r in rows])

    def sensor(self, sensor_id):
        found = self._call("read", lambda: self._sensors.find_one({"sensor_id": sensor_id}, projection=_SENSOR_FIELDS))
        return found.addCallback(_sensor_record)

    def set_sensor_name(self, sensor_id, name):
        renamed = self._call(
            "write",
            lambda: self._writes.run(
                self._sensors.find_one_and_update,
                {"sensor_id": sensor_id},
                {"$set": {"name": name}},
                projection=_SENSOR_FIELDS,
                return_document=ReturnDocument.AFTER,
            ),
        )
        return renamed.addCallback(_sensor_record)

    def delete_sensor(self, sensor_id):
        deleted = self._call("write", lambda: self._writes.run(self._sensors.delete_one, {"sensor_id": sensor_id}))
        return deleted.addCallback(lambda result: result.deleted_count == 1)


def _sensor_record(document):
    return SensorRecord(**document) if document is not None else None
