"""The MongoDB backend's history: raw readings in hour buckets, rollups, zone setpoint changes.

Collections (indexes in :data:`.mongo_buckets.INDEXES`): ``reading_buckets``
(the raw readings of each sensor and zone series, one document per hour; see
:mod:`.mongo_buckets` for its form and why a batch is safe without a
transaction), ``quarters`` ``{series, start, count, low, high, total}`` and
``days`` ``{series, day, ...}`` (the rollups, in hundredths, kept forever),
``zone_setpoints`` ``{zone, t, heat, cool, mode}`` (``t`` in epoch
milliseconds), a document only when a zone's setpoints or mode changed, and
``zone_latest`` ``{zone, temperature: {t, value}, setpoints: {t, heat, cool,
mode}}``, the newest of each kept for a zone, which a decision's setpoints
are compared with: one small document read, where finding the newest of a
year of changes takes a sort (that a simple server such as SecantusDB does
by reading every one of them).  Answers
are built by
:func:`.timeseries.aggregate_rows` from the same rows the SQLite backend
reads, so both answer alike.

:class:`MongoHistory` is a part of :class:`~.mongo.MongoStorage`, kept apart
so each module stays one subject; it uses that class's ``_call``,
``_writes``, ``_database``, ``_timezone`` and ``_transaction``.
"""

from pymongo import DeleteOne, UpdateOne
from twisted.internet import defer

from rpymostat.storage.interface import HistoryEntry, Reading, SetpointChange
from rpymostat.storage.mongo_buckets import bucket_of, find_by_series, rollup_row, store_readings
from rpymostat.storage.timeseries import (
    aggregate_rows,
    aggregate_values,
    from_hundredths,
    millis,
    seconds,
    to_hundredths,
    zone_series,
)

#: How many buckets one prune step reads at a time while looking for old readings.
_PRUNE_PAGE = 64

_VALUES_FIELDS = {"series": True, "start": True, "values": True, "_id": False}

_ROWS_FIELDS = {"series": True, "start": True, "values": True, "failures": True, "_id": False}

_PRUNE_FIELDS = {"series": True, "start": True, "values": True, "_id": False}

_SETPOINT_FIELDS = {"t": True, "heat": True, "cool": True, "mode": True, "_id": False}


def _bucket_rows(bucket, low, high):
    """``(millisecond, hundredths, reason)`` of a bucket's readings in [``low``, ``high``) (epoch
    milliseconds), in time order."""
    failures, base = bucket["failures"], bucket["start"] * 1000
    offsets = sorted(int(offset) for offset in bucket["values"])
    return [
        (base + offset, bucket["values"][str(offset)], failures.get(str(offset)))
        for offset in offsets
        if low <= base + offset < high
    ]


def _setpoint_change(document):
    heat, cool = from_hundredths(document["heat"]), from_hundredths(document["cool"])
    return SetpointChange(seconds(document["t"]), heat, cool, document["mode"])


class MongoHistory:
    """The history methods of :class:`~rpymostat.storage.interface.IStorage` on MongoDB."""

    @property
    def _buckets(self):
        return self._database["reading_buckets"]

    def _buckets_between(self, names, low, high, fields):
        """The buckets of series ``names`` holding readings in [low, high) (epoch ms), by start."""

        async def read():
            # The buckets that start before ``high`` and end after ``low``.
            window = (bucket_of(low)[0], -(-high // 1000))
            found = await find_by_series(self._buckets, names, *window, projection=fields)
            return sorted(found, key=lambda bucket: bucket["start"])

        return self._call("read", lambda: defer.ensureDeferred(read()))

    def history(self, sensor_id, start=None, end=None):
        low = -(2**62) if start is None else millis(start)
        high = 2**62 if end is None else millis(end)
        found = self._buckets_between([sensor_id], low, high, _ROWS_FIELDS)
        return found.addCallback(
            lambda buckets: [
                HistoryEntry(sensor_id, seconds(ms), from_hundredths(value), reason)
                for bucket in buckets
                for ms, value, reason in _bucket_rows(bucket, low, high)
            ]
        )

    def aggregates(self, names, resolution, start, end, step):
        names = list(dict.fromkeys(names))
        start, end, step = int(start), int(end), int(step)
        if resolution == "raw":
            # Raw readings are kept in milliseconds: slots of the same length in those units.
            low, high = start * 1000, end * 1000

            def raw_answer(buckets):
                rows = {name: [] for name in names}
                for bucket in buckets:
                    base = bucket["start"] * 1000
                    rows[bucket["series"]] += [
                        (base + int(offset), value)
                        for offset, value in bucket["values"].items()
                        if value is not None and low <= base + int(offset) < high
                    ]
                # In time order, each slot is summed as its readings pass (no object a reading).
                return {name: aggregate_values(sorted(rows[name]), low, step * 1000) for name in names}

            return self._buckets_between(names, low, high, _VALUES_FIELDS).addCallback(raw_answer)
        collection, key = {"quarter": ("quarters", "start"), "day": ("days", "day")}[resolution]

        def answer(documents):
            rows = {name: [] for name in names}
            for document in documents:
                rows[document["series"]].append(rollup_row(document[key], document))
            return {name: aggregate_rows(rows[name], start, step) for name in names}

        found = self._call(
            "read",
            lambda: defer.ensureDeferred(
                find_by_series(self._database[collection], names, start, end, key=key, projection={"_id": False})
            ),
        )
        return found.addCallback(answer)

    def prune_readings(self, before, most):
        before, most = millis(before), int(most)
        return self._call("write", lambda: self._writes.run(lambda: defer.ensureDeferred(self._prune(before, most))))

    async def _prune(self, before, most):
        """Delete up to ``most`` readings before ``before``, oldest buckets first, in one bulk write:
        a bucket all of whose readings go is deleted, else its old milliseconds are unset (its sums stay)."""
        writes, left, skip = [], most, 0
        while left > 0:
            found = await self._buckets.find(
                {"start": {"$lt": before / 1000}}, projection=_PRUNE_FIELDS, skip=skip, limit=_PRUNE_PAGE
            ).sort({"start": 1, "series": 1})
            for bucket in found:
                offsets = sorted(int(offset) for offset in bucket["values"])
                old = [offset for offset in offsets if bucket["start"] * 1000 + offset < before][:left]
                key = {"series": bucket["series"], "start": bucket["start"]}
                if old and len(old) == len(offsets):
                    writes.append(DeleteOne(key))
                elif old:
                    gone = {f"{field}.{offset}": "" for offset in old for field in ("values", "failures")}
                    writes.append(UpdateOne(key, {"$unset": gone, "$inc": {"version": 1}}))
                left -= len(old)
                if left <= 0:
                    break
            if len(found) < _PRUNE_PAGE:
                break
            skip += len(found)
        if writes:
            await self._buckets.bulk_write(writes, ordered=True)
        return most - left

    def record_zone_state(self, zone, at, temperature, heat, cool, mode):
        ms, value = millis(at), to_hundredths(temperature)
        setpoints = {"heat": to_hundredths(heat), "cool": to_hundredths(cool), "mode": mode}

        async def store(session):
            latest = await self._database["zone_latest"].find_one({"zone": zone}, session=session) or {}
            kept = {}
            if value is not None:
                reading = Reading(zone_series(zone), "zone", temperature, at)
                await store_readings(self._database, [reading], self._timezone, session)
                kept["temperature"] = {"t": ms, "value": value}
            last = latest.get("setpoints")
            if last is None or {field: last[field] for field in setpoints} != setpoints:
                await self._database["zone_setpoints"].update_one(
                    {"zone": zone, "t": ms}, {"$set": setpoints}, upsert=True, session=session
                )
                kept["setpoints"] = {"t": ms, **setpoints}
            newer = {field: change for field, change in kept.items() if ms >= latest.get(field, {"t": ms})["t"]}
            if newer:
                await self._database["zone_latest"].update_one(
                    {"zone": zone}, {"$set": newer}, upsert=True, session=session
                )

        stored = self._call("write", lambda: self._writes.run(lambda: defer.ensureDeferred(self._transaction(store))))
        return stored.addCallback(lambda _: None)

    def setpoint_changes(self, zone, start, end):
        low, high = millis(start), millis(end)
        setpoints = self._database["zone_setpoints"]

        async def read():
            in_effect = await setpoints.find(
                {"zone": zone, "t": {"$lt": low}}, projection=_SETPOINT_FIELDS, limit=1
            ).sort({"t": -1})
            made = await setpoints.find(
                {"zone": zone, "t": {"$gte": low, "$lt": high}}, projection=_SETPOINT_FIELDS
            ).sort({"t": 1})
            return [_setpoint_change(document) for document in [*in_effect, *made]]

        return self._call("read", lambda: defer.ensureDeferred(read()))
