"""Recording runs: each time heating or cooling ran, from when to when, and how the room went.

A run starts when a zone's output is really on (as its relay unit reports)
and ends when it is really off.  It holds the temperature and target at the
start and a sample every ``sample_every`` seconds while it lasts, which is
what history views and predictive start learn from.  Runs are stored as they
happen, in the storage's runs (a sample is an appended row, never a rewrite
of the run), so an engine restart neither loses nor doubles one: an open run
is read back and continued.
"""

import dataclasses

from rpymostat.storage.interface import RunRecord, RunSample


@dataclasses.dataclass(frozen=True)
class _OpenRun:
    """What the recorder needs of a run in progress: which it is, and when it last sampled."""

    run_id: str
    started_at: float
    sampled_at: float


class RunRecorder:
    """Turns output observations into stored runs."""

    def __init__(self, storage, sample_every=300.0):
        self._storage = storage
        self._sample_every = sample_every
        self._open = {}  # (zone, output) -> _OpenRun

    async def load(self):
        """Pick up runs left open by the previous engine process.

        Should two be open for one output (a crash between writes of an
        older engine), the one that started last continues; the other ends
        at its last sample, when it was last known to run.
        """
        for run in sorted(await self._storage.open_runs(), key=lambda run: (run.started_at, run.run_id)):
            key = (run.zone, run.output)
            if key in self._open:
                older = self._open[key]
                await self._storage.end_run(older.run_id, older.sampled_at, None)
            sampled_at = run.samples[-1].at if run.samples else run.started_at
            self._open[key] = _OpenRun(run.run_id, run.started_at, sampled_at)

    async def observe(self, zone, output, state, now, temperature, target):
        """Note the output's real :class:`~.state.OutputState` at ``now``, both in wall-clock time.

        ``temperature`` is the effective temperature (may be None) and
        ``target`` the setpoint the output works towards (may be None).
        """
        key = (zone, output)
        running = self._open.get(key)
        if state.on and running is None:
            run_id = f"{zone}:{output}:{state.since:.0f}"
            await self._storage.start_run(
                RunRecord(
                    run_id,
                    zone,
                    output,
                    state.since,
                    temperature,
                    target,
                    samples=(RunSample(now, temperature),),
                )
            )
            self._open[key] = _OpenRun(run_id, state.since, now)
        elif state.on and now - running.sampled_at >= self._sample_every:
            await self._storage.add_run_sample(running.run_id, now, temperature)
            self._open[key] = dataclasses.replace(running, sampled_at=now)
        elif not state.on and running is not None:
            await self._close(key, max(state.since, running.started_at), temperature)

    async def close_others(self, active, now):
        """End every open run whose ``(zone, output)`` is not in ``active``, at ``now``.

        A zone deleted, or an output taken out of it, is switched off by the
        loop; its run must end too, or a zone created later under the same
        name would continue it.
        """
        for key in sorted(set(self._open) - set(active)):
            await self._close(key, max(now, self._open[key].started_at), None)

    async def _close(self, key, ended_at, temperature):
        await self._storage.end_run(self._open[key].run_id, ended_at, temperature)
        del self._open[key]

    async def runs(self, zone, limit=100, start=None, end=None):
        """The ``limit`` stored :class:`~rpymostat.storage.interface.RunRecord` of ``zone`` that started
        last (in [``start``, ``end``) when given), newest first.

        Storage reads only those runs, through an index, so a year of runs
        is never read to show the latest.
        """
        return await self._storage.runs(zone, limit, start, end)
