"""Moving the raw readings an older engine kept in ``readings`` into hour buckets and rollups.

Until issue 16 the MongoDB backend kept one document per reading in
``readings``: ``{sensor_id, timestamp (float), value (float or null), extra}``.
On open, any such collection is converted series by series into
``reading_buckets`` with their quarter sums, ``quarters`` and ``days``
(:mod:`.mongo_buckets`), as history keeps values: whole milliseconds,
hundredths, the first reading of a millisecond kept (as the SQLite upgrade to
schema version 6 does); then the collection is dropped.

It is idempotent: every document is written with absolute values (``$set``
of whole buckets and rollups computed from the old readings, never
``$inc``), and the old collection goes only after the last series is
written, so an engine stopped half-way writes the same documents again on
the next open and arrives at the same state.  Nothing else writes history
before open has finished.  Each step reads one window of readings of one
series (a day), each query one series and a range of times, which even a
simple server answers from the old ``(sensor_id, timestamp)`` index; a year
of them never sits in memory and no call outlives the backend's timeout.
"""

from pymongo import UpdateOne
from twisted.internet import defer

from rpymostat.storage.mongo_buckets import bucket_of, rollup_fields
from rpymostat.storage.timeseries import QUARTER, Rollup, local_day, millis, to_hundredths

OLD_COLLECTION = "readings"

#: Seconds of old readings of one series read in one step (a multiple of the buckets' hour).
WINDOW = 86400

_OLD_FIELDS = {"timestamp": True, "value": True, "extra": True, "_id": False}


def _hour(timestamp):
    """The start of the bucket an old reading of ``timestamp`` goes to."""
    return bucket_of(millis(timestamp))[0]


def _buckets(readings):
    """``{hour start: bucket fields}`` of ``readings`` (in time order), the first of a millisecond kept."""
    buckets = {}
    for reading in readings:
        start, offset = bucket_of(millis(reading["timestamp"]))
        bucket = buckets.setdefault(start, {"version": 0, "values": {}, "failures": {}, "quarters": {}})
        if str(offset) in bucket["values"]:
            continue
        value = to_hundredths(reading["value"])
        bucket["values"][str(offset)] = value
        if value is None:
            if reading.get("extra") is not None:
                bucket["failures"][str(offset)] = reading["extra"]
            continue
        bucket["quarters"].setdefault(str(offset // (QUARTER * 1000)), Rollup()).add(value)
    return buckets


async def _move_window(database, series, low, days, timezone):
    """Write the buckets of ``series`` that start in [``low``, ``low + WINDOW``) from its old
    readings; add their values to ``days``; fire with how many readings were kept."""
    # A reading a hair before a window's end can round to its next millisecond, in the
    # next window: read a little beyond both ends and keep the window's own hours.
    query = {"sensor_id": series, "timestamp": {"$gte": low - 0.001, "$lt": low + WINDOW + 0.001}}
    found = await database[OLD_COLLECTION].find(query, projection=_OLD_FIELDS)
    readings = sorted((r for r in found if low <= _hour(r["timestamp"]) < low + WINDOW), key=lambda r: r["timestamp"])
    buckets = _buckets(readings)
    bucket_writes, quarter_writes = [], []
    for start, bucket in sorted(buckets.items()):
        for index, rollup in sorted(bucket["quarters"].items()):
            bucket["quarters"][index] = rollup_fields(rollup)
            quarter_start = start + int(index) * QUARTER
            key = {"series": series, "start": quarter_start}
            quarter_writes.append(UpdateOne(key, {"$set": rollup_fields(rollup)}, upsert=True))
            days.setdefault(local_day(quarter_start * 1000, timezone), Rollup()).merge(
                rollup.count, rollup.low, rollup.high, rollup.total
            )
        bucket_writes.append(UpdateOne({"series": series, "start": start}, {"$set": bucket}, upsert=True))
    if bucket_writes:
        await database["reading_buckets"].bulk_write(bucket_writes, ordered=True)
    if quarter_writes:
        await database["quarters"].bulk_write(quarter_writes, ordered=True)
    return sum(len(bucket["values"]) for bucket in buckets.values())


async def _move_series(database, series, first, last, timezone, call):
    """Move every old reading of ``series`` (measured from ``first`` to ``last``), a window at
    a time, then set its daily rollups; fire with how many were kept."""
    days, moved = {}, 0
    for low in range(_hour(first), _hour(last) + 1, WINDOW):
        moved += await call(
            "moving readings into buckets",
            lambda low=low: defer.ensureDeferred(_move_window(database, series, low, days, timezone)),
        )
    writes = [
        UpdateOne({"series": series, "day": day}, {"$set": rollup_fields(rollup)}, upsert=True)
        for day, rollup in sorted(days.items())
    ]
    if writes:
        await call("moving readings into buckets", lambda: database["days"].bulk_write(writes, ordered=True))
    return moved


async def move_readings_into_buckets(database, timezone, call):
    """Convert ``database.readings`` (if any) into buckets and rollups, then drop it; fire with
    how many readings were kept (a second's later readings are not).  ``call(what, operation)``
    runs each step, bounded as the backend bounds its calls."""
    names = await call("looking for old readings", lambda: database.collection_names())
    if OLD_COLLECTION not in names:
        return 0
    spans = await call(
        "moving readings into buckets",
        lambda: database[OLD_COLLECTION].aggregate(
            [{"$group": {"_id": "$sensor_id", "first": {"$min": "$timestamp"}, "last": {"$max": "$timestamp"}}}]
        ),
    )
    moved = 0
    for span in sorted(spans, key=lambda span: span["_id"]):
        moved += await _move_series(database, span["_id"], span["first"], span["last"], timezone, call)
    await call("moving readings into buckets", lambda: database.drop_collection(OLD_COLLECTION))
    return moved
