"""The MongoDB backend's runs: one document per run in ``runs``, its samples an array.

A sample is ``$push``'ed onto its run: the server appends it in place, the
engine never reads and rewrites the growing document.  Indexes: unique
``run_id``; ``(zone, started_at)`` for a zone's latest runs, a page of them by
start time, and the intervals a history chart draws (read without their
samples); ``ended_at`` for the few open runs (``ended_at`` null).

:class:`MongoRuns` is a part of :class:`~.mongo.MongoStorage`, kept apart so
each module stays one subject; it uses :class:`~.mongo_records.MongoRecords`'
helpers and that class's ``_call`` and ``_writes``.
"""

from twisted.internet import defer

from rpymostat.storage.interface import RunInterval, RunRecord, RunSample

INDEXES = (
    ("runs", ["run_id"], True),
    ("runs", ["zone", "started_at"], False),
    ("runs", ["ended_at"], False),
    ("runs", ["zone", "ended_at"], False),
)


def _float_or_none(number):
    return None if number is None else float(number)


def run_document(run):
    """The stored form of a :class:`RunRecord` (also what the migration writes)."""
    return {
        "run_id": run.run_id,
        "zone": run.zone,
        "output": run.output,
        "started_at": float(run.started_at),
        "start_temperature": _float_or_none(run.start_temperature),
        "target": _float_or_none(run.target),
        "ended_at": _float_or_none(run.ended_at),
        "end_temperature": _float_or_none(run.end_temperature),
        "samples": [_sample_document(sample.at, sample.temperature) for sample in run.samples],
    }


def _sample_document(at, temperature):
    return {"at": float(at), "temperature": _float_or_none(temperature)}


def _run_record(document):
    return RunRecord(**{**document, "samples": tuple(RunSample(**sample) for sample in document["samples"])})


class MongoRuns:
    """The run methods of :class:`~.interface.IStorage` on MongoDB."""

    def start_run(self, run):
        return self._replace("runs", {"run_id": run.run_id}, run_document(run))

    def add_run_sample(self, run_id, at, temperature):
        return self._update_run(run_id, {"$push": {"samples": _sample_document(at, temperature)}})

    def end_run(self, run_id, ended_at, end_temperature):
        ended = {"ended_at": float(ended_at), "end_temperature": _float_or_none(end_temperature)}
        return self._update_run(run_id, {"$set": ended})

    def _update_run(self, run_id, update):
        """Apply ``update`` to the run; fire with True if it exists, False if not."""
        updated = self._call(
            "write", lambda: self._writes.run(self._database["runs"].update_one, {"run_id": run_id}, update)
        )
        return updated.addCallback(lambda result: result.matched_count == 1)

    def open_runs(self):
        return self._find("runs", {"ended_at": None}, RunRecord, {"run_id": 1}, parse=_run_record)

    def runs(self, zone, limit, start=None, end=None):
        started = {}
        if start is not None:
            started["$gte"] = float(start)
        if end is not None:
            started["$lt"] = float(end)
        query = {"zone": zone, "started_at": started} if started else {"zone": zone}
        return self._find(
            "runs", query, RunRecord, {"started_at": -1, "run_id": -1}, parse=_run_record, limit=int(limit)
        )

    def run_intervals(self, zone, start, end):
        # Through (zone, ended_at): the runs that ended after the start, and those still running,
        # never every run the zone had before the end (a year of them for yesterday's chart).
        order = {"started_at": 1, "run_id": 1}
        ended = self._find("runs", {"zone": zone, "ended_at": {"$gt": float(start)}}, RunInterval, order)
        running = self._find("runs", {"zone": zone, "ended_at": None}, RunInterval, order)

        def within(found):
            intervals = [interval for (_, part) in found for interval in part if interval.started_at < float(end)]
            return sorted(intervals, key=lambda interval: interval.started_at)

        return defer.gatherResults([ended, running], consumeErrors=True).addCallback(
            lambda parts: within([(None, part) for part in parts])
        )
