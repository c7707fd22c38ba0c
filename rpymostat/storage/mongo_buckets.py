"""How the MongoDB backend keeps raw readings: one bucket document per series and hour.

A year of one-minute readings from five sensors is 2.6 million values; as one
document each (an ``_id``, field names, a float) MongoDB would spend about a
hundred bytes on every one, and a day's chart would read 7200 documents.  As
MongoDB's time-series schema guidance describes, readings are therefore
grouped: ``reading_buckets`` holds one document per series and UTC hour,
unique on ``(series, start)``::

    {series: "28-...", start: <hour start, epoch seconds>, version: <writes so far>,
     values: {"<millisecond in the hour>": <hundredths, or null>},
     failures: {"<millisecond>": "<the device's reason>"},
     quarters: {"0".."3": {count, low, high, total}}}

``quarters`` sums the values of each of the hour's four 15-minute rollups.
It is what makes a batch safe without a transaction.  A batch reads its
buckets, keeps the readings whose millisecond is not there yet (a re-delivered
one is not), and adds them to each bucket with one update that sets the
values and adds them to the sums in the same document, atomically, on the
condition that the bucket's ``version`` is still the one read (a new bucket
is inserted, failing on the unique index if it appeared meanwhile).  The
``quarters`` collection is then *set* from those sums.  In a transaction
the new values are added to their ``days`` (``$inc``), which commits with the
buckets or not at all; without one, each day the batch has a value in is
set to the sum of its quarters, so repeating the whole batch after a failure
half-way arrives at the same rollups, whatever the server.

Every query names one series and a range of ``start`` (or one ``_id``), the
shape an index answers even on a server whose planner is simple (SecantusDB
scans a collection for an ``$in`` or an extra condition); a batch of an hour
of five sensors costs a few round trips per sensor, not one per reading.

A bucket's sums outlive its values: pruning unsets old values and keeps the
sums, and deletes only a bucket that it empties.  A reading that arrives for
an hour whose bucket was deleted (more than the retention late) makes a new
bucket seeded with that hour's stored quarters, so nothing is lost or
counted twice.

Times are whole milliseconds and values hundredths, as :mod:`.timeseries`
says for every backend.
"""

import datetime
import math

from pymongo import InsertOne, UpdateOne
from twisted.internet import defer

from rpymostat.storage.interface import StorageError
from rpymostat.storage.timeseries import QUARTER, Rollup, local_day, millis, to_hundredths

#: Seconds in one bucket.
HOUR = 3600

#: ``(collection, key fields, unique)`` of every index history needs.
INDEXES = (
    ("reading_buckets", ["series", "start"], True),
    ("reading_buckets", ["start", "series"], False),
    ("quarters", ["series", "start"], True),
    ("days", ["series", "day"], True),
    ("zone_setpoints", ["zone", "t"], True),
    ("zone_latest", ["zone"], True),
)

_ROLLUP_FIELDS = ("count", "low", "high", "total")

#: Up to how many readings of a series a batch reads back only their own milliseconds of the
#: buckets (a live update has one a sensor), rather than every value (a daemon's backlog).
_PROJECTED = 64


def bucket_of(ms):
    """``(hour start in epoch seconds, millisecond in the hour)`` of the epoch millisecond ``ms``."""
    start = ms // (HOUR * 1000) * HOUR
    return start, ms - start * 1000


def quarter_index(offset):
    """Which of its bucket's quarters (``"0"`` to ``"3"``) the millisecond ``offset`` falls in."""
    return str(offset // (QUARTER * 1000))


def day_start(day, timezone):
    """The first second of local day number ``day`` in ``timezone`` (at a skipped midnight,
    the moment the clocks jumped), as epoch seconds."""
    midnight = datetime.datetime.combine(datetime.date.fromordinal(day), datetime.time(0), tzinfo=timezone)
    return math.floor(midnight.timestamp())


def rollup_fields(rollup):
    """A :class:`~.timeseries.Rollup` as the fields a rollup document stores."""
    return {"count": rollup.count, "low": rollup.low, "high": rollup.high, "total": rollup.total}


def stored_rollup(document):
    """A :class:`~.timeseries.Rollup` holding a stored rollup document's (or sums') fields."""
    rollup = Rollup()
    rollup.merge(*(document[field] for field in _ROLLUP_FIELDS))
    return rollup


def rollup_row(key, document):
    """A rollup document as an :func:`~.timeseries.aggregate_rows` row keyed by ``key``."""
    return (key, *(document[field] for field in _ROLLUP_FIELDS))


async def find_by_series(collection, series_names, low, high, session=None, key="start", **options):
    """Every document of ``collection`` of those series with ``low <= key < high``, one
    indexed query per series; outside a session (which takes one operation at a time) the
    queries are sent together, so a zone's six series cost one round trip's wait, not six."""
    queries = [{"series": series, key: {"$gte": low, "$lt": high}} for series in sorted(series_names)]
    if session is None:
        parts = await defer.gatherResults([collection.find(query, **options) for query in queries], consumeErrors=True)
    else:
        parts = [await collection.find(query, session=session, **options) for query in queries]
    return [document for part in parts for document in part]


def _batch(readings):
    """``{(series, hour start): {millisecond in the hour: (hundredths, reason)}}``, the first
    reading of a millisecond kept."""
    batch = {}
    for reading in readings:
        value = to_hundredths(reading.value)
        start, offset = bucket_of(millis(reading.timestamp))
        entry = (value, reading.extra if value is None else None)
        batch.setdefault((reading.sensor_id, start), {}).setdefault(offset, entry)
    return batch


async def _kept_buckets(buckets, batch, session):
    """``{(series, hour start): bucket}`` of the batch's buckets that exist: their ``_id``,
    ``version`` and ``quarters``, and of ``values`` the batch's milliseconds (all of them
    for a backlog of more than :data:`_PROJECTED` readings of a series)."""
    kept = {}
    for series in sorted({series for series, _ in batch}):
        starts = [start for name, start in batch if name == series]
        offsets = {offset for (name, _), entries in batch.items() if name == series for offset in entries}
        fields = {"start": True, "version": True, "quarters": True}
        fields |= {f"values.{o}": True for o in offsets} if len(offsets) <= _PROJECTED else {"values": True}
        query = {"series": series, "start": {"$gte": min(starts), "$lte": max(starts)}}
        for bucket in await buckets.find(query, projection=fields, session=session):
            kept[(series, bucket["start"])] = bucket
    return kept


async def _stored_quarters(database, keys, session):
    """``{(series, hour start): {quarter index: Rollup}}`` from the ``quarters`` collection, for
    new buckets."""
    seeds = {}
    for series in sorted({series for series, _ in keys}):
        for start in sorted(start for name, start in keys if name == series):
            query = {"series": series, "start": {"$gte": start, "$lt": start + HOUR}}
            for stored in await database["quarters"].find(query, session=session):
                index = str((stored["start"] - start) // QUARTER)
                seeds.setdefault((series, start), {})[index] = stored_rollup(stored)
    return seeds


def _new_bucket(key, entries, sums):
    series, start = key
    return {
        "series": series,
        "start": start,
        "version": 0,
        "values": {str(offset): value for offset, (value, _) in entries.items()},
        "failures": {str(offset): reason for offset, (_, reason) in entries.items() if reason is not None},
        "quarters": {index: rollup_fields(rollup) for index, rollup in sorted(sums.items())},
    }


def _additions(bucket, entries):
    """The update adding ``entries`` to ``bucket``, values and sums together, if nobody wrote
    the bucket since it was read."""
    fields, added = {}, {}
    for offset, (value, reason) in entries.items():
        fields[f"values.{offset}"] = value
        if reason is not None:
            fields[f"failures.{offset}"] = reason
        if value is not None:
            added.setdefault(quarter_index(offset), Rollup()).add(value)
    update = {"$set": fields, "$inc": {"version": 1}}
    for index, rollup in sorted(added.items()):
        sums = f"quarters.{index}"
        update["$inc"] |= {f"{sums}.count": rollup.count, f"{sums}.total": rollup.total}
        update.setdefault("$min", {})[f"{sums}.low"] = rollup.low
        update.setdefault("$max", {})[f"{sums}.high"] = rollup.high
    return UpdateOne({"_id": bucket["_id"], "version": bucket["version"]}, update)


async def store_readings(database, readings, timezone, session=None):
    """Add each :class:`~.interface.Reading` that is new to its bucket, then bring the rollups
    of every quarter and day the batch measured up to date from the buckets' sums.

    ``session`` is the transaction the call runs in, or None.  Without one,
    every write is idempotent (see the module docstring), so the caller may
    repeat the whole call after a failure; a bucket written by someone else
    between read and write fails the call with StorageError, to be repeated.
    """
    batch = _batch(readings)
    buckets = database["reading_buckets"]
    kept = await _kept_buckets(buckets, batch, session)
    missing = [key for key in sorted(batch) if key not in kept]
    seeds = await _stored_quarters(database, missing, session) if missing else {}
    writes, sums, fresh, added = [], {}, {}, {}
    for key, entries in sorted(batch.items()):
        series, start = key
        bucket = kept.get(key)
        if bucket is not None:
            sums[key] = {index: stored_rollup(stored) for index, stored in bucket.get("quarters", {}).items()}
            entries = {
                offset: entry for offset, entry in entries.items() if str(offset) not in bucket.get("values", {})
            }
        else:
            sums[key] = seeds.get(key, {})
        fresh[key] = entries
        for offset, (value, _) in entries.items():
            if value is not None:
                sums[key].setdefault(quarter_index(offset), Rollup()).add(value)
                added.setdefault((series, local_day(start * 1000 + offset, timezone)), Rollup()).add(value)
        if bucket is None:
            writes.append(InsertOne(_new_bucket(key, entries, sums[key])))
        elif entries:
            writes.append(_additions(bucket, entries))
    if writes:
        result = await buckets.bulk_write(writes, ordered=True, session=session)
        if result.inserted_count + result.matched_count < len(writes):
            raise StorageError("history was written by someone else meanwhile; send the batch again")
    if session is not None:
        # In a transaction the rollups were whole before it and the new values join them
        # together with their buckets, or not at all: only those are added.
        if added:
            await _set_quarters(database, _measured(fresh, sums), session)
            await _add_to_days(database, added, session)
        return
    # Without one, every quarter the batch has a value for, new or re-delivered (an earlier
    # try may have failed before its rollups), is set, and its day summed again.
    measured = _measured(batch, sums)
    if measured:
        await _set_quarters(database, measured, session)
        await recompute_days(
            database, {(series, local_day(start * 1000, timezone)) for series, start in measured}, timezone, session
        )


def _measured(batch, sums):
    """``{(series, quarter start): Rollup}`` of the quarters ``batch`` has a value in, from ``sums``."""
    return {
        (series, start + int(index) * QUARTER): sums[(series, start)][index]
        for (series, start), entries in batch.items()
        for index in {quarter_index(offset) for offset, (value, _) in entries.items() if value is not None}
        if index in sums[(series, start)]
    }


async def _add_to_days(database, added, session):
    """Add each ``(series, local day): Rollup`` of ``added`` to its daily rollup."""
    writes = [
        UpdateOne(
            {"series": series, "day": day},
            {
                "$inc": {"count": rollup.count, "total": rollup.total},
                "$min": {"low": rollup.low},
                "$max": {"high": rollup.high},
            },
            upsert=True,
        )
        for (series, day), rollup in sorted(added.items())
    ]
    await database["days"].bulk_write(writes, ordered=True, session=session)


async def _set_quarters(database, quarters, session):
    """Set each ``(series, quarter start): Rollup`` of ``quarters`` in the ``quarters`` collection."""
    writes = [
        UpdateOne({"series": series, "start": start}, {"$set": rollup_fields(rollup)}, upsert=True)
        for (series, start), rollup in sorted(quarters.items())
    ]
    await database["quarters"].bulk_write(writes, ordered=True, session=session)


async def recompute_days(database, days, timezone, session=None):
    """Set each ``(series, local day)`` of ``days`` in ``days`` to the sum of its quarters.

    Quarters are aligned to UTC quarter hours, which every time zone's
    offset is a multiple of, so each lies in one local day.
    """
    numbers = [day for _, day in days]
    low, high = day_start(min(numbers), timezone), day_start(max(numbers) + 1, timezone)
    sums = {key: Rollup() for key in days}
    series_names = {series for series, _ in days}
    for stored in await find_by_series(
        database["quarters"], series_names, low, high, session, projection={"_id": False}
    ):
        rollup = sums.get((stored["series"], local_day(stored["start"] * 1000, timezone)))
        if rollup is not None:
            rollup.merge(*(stored[field] for field in _ROLLUP_FIELDS))
    writes = [
        UpdateOne({"series": series, "day": day}, {"$set": rollup_fields(rollup)}, upsert=True)
        for (series, day), rollup in sorted(sums.items())
    ]
    await database["days"].bulk_write(writes, ordered=True, session=session)
