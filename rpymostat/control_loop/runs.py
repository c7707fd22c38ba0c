"""Recording runs: each time heating or cooling ran, from when to when, and how the room went.

A run starts when a zone's output is really on (as its relay unit reports)
and ends when it is really off.  It holds the temperature and target at the
start and a sample every ``sample_every`` seconds while it lasts, which is
what history views and predictive start learn from.  Runs are stored as they
happen, so an engine restart neither loses nor doubles one: an open run is
read back and continued.
"""

from rpymostat.storage.interface import RuleRecord

#: Storage kind of run records.
KIND = "run"

#: Storage kind of the pointers to open runs (one per zone and output), so a
#: restart reads the few open runs, not a year of history.
OPEN_KIND = "run.open"


class RunRecorder:
    """Turns output observations into stored run records."""

    def __init__(self, storage, sample_every=300.0):
        self._storage = storage
        self._sample_every = sample_every
        self._open = {}  # (zone, output) -> RuleRecord of the open run

    async def load(self):
        """Pick up runs left open by the previous engine process."""
        for pointer in await self._storage.rules(OPEN_KIND):
            record = await self._storage.rule(KIND, pointer.document["run_id"])
            if record is not None and record.document["ended_at"] is None:
                self._open[(record.zone, record.document["output"])] = record

    async def observe(self, zone, output, state, now, temperature, target):
        """Note the output's real :class:`~.state.OutputState` at ``now``, both in wall-clock time.

        ``temperature`` is the effective temperature (may be None) and
        ``target`` the setpoint the output works towards (may be None).
        """
        key = (zone, output)
        running = self._open.get(key)
        if state.on and running is None:
            document = {
                "zone": zone, "output": output, "started_at": state.since, "ended_at": None,
                "start_temperature": temperature, "target": target,
                "samples": [[now, temperature]],
            }
            run_id = f"{zone}:{output}:{state.since:.0f}"
            await self._save(key, RuleRecord(KIND, run_id, zone, document, now))
            await self._storage.put_rule(RuleRecord(OPEN_KIND, f"{zone}:{output}", zone, {"run_id": run_id}, now))
        elif state.on and now - running.document["samples"][-1][0] >= self._sample_every:
            document = {**running.document, "samples": running.document["samples"] + [[now, temperature]]}
            await self._save(key, RuleRecord(KIND, running.rule_id, zone, document, now))
        elif not state.on and running is not None:
            await self._close(key, max(state.since, running.document["started_at"]), temperature, now)

    async def close_others(self, active, now):
        """End every open run whose ``(zone, output)`` is not in ``active``, at ``now``.

        A zone deleted, or an output taken out of it, is switched off by the
        loop; its run must end too, or a zone created later under the same
        name would continue it.
        """
        for key in sorted(set(self._open) - set(active)):
            await self._close(key, max(now, self._open[key].document["started_at"]), None, now)

    async def _close(self, key, ended_at, temperature, now):
        running = self._open[key]
        document = {**running.document, "ended_at": ended_at, "end_temperature": temperature}
        await self._storage.put_rule(RuleRecord(KIND, running.rule_id, key[0], document, now))
        await self._storage.delete_rule(OPEN_KIND, f"{key[0]}:{key[1]}")
        del self._open[key]

    async def _save(self, key, record):
        await self._storage.put_rule(record)
        self._open[key] = record

    async def runs(self, zone, limit=100):
        """The newest ``limit`` stored runs of ``zone``, newest first.

        Storage hands back only the ``limit`` runs written last (an open run is
        written at every sample, a finished one when it ended), so a year of
        runs is never read to show the latest.
        """
        records = await self._storage.rules(KIND, zone, newest=limit)
        return sorted((r.document for r in records), key=lambda d: d["started_at"], reverse=True)
