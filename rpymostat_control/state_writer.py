"""Writing the relay state file on a worker thread, newest snapshot last.

Every switch rewrites ``relay-state.json`` with an fsync, which on a Pi's SD
card can take tens or hundreds of milliseconds; on the reactor thread that
would stall every other request, lease and heartbeat meanwhile.  So the
switchboard hands each new snapshot to :meth:`StateWriter.save`, which returns
at once, and one worker thread writes.

What the caller may rely on:

- the in-memory state is authoritative; the file only has to catch up;
- writes never run concurrently and never reorder: a snapshot handed in later
  is always written later, so the file never goes back to an older state;
- snapshots that arrive while a write is in flight are coalesced: only the
  newest is written next (each holds every output, so nothing is lost);
- :meth:`StateWriter.stop` waits until the newest snapshot is on disk, so a
  daemon that stops cleanly leaves the file exactly as its outputs are.

A write that fails (a full or read-only card) is logged; the next switch tries
again with the newest state.
"""

from twisted.internet.defer import Deferred, succeed
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from rpymostat_control.state_file import StateFile, Switched

log = Logger()


class StateWriter:
    """Writes ``state_file`` on one thread of its own, started by the first :meth:`save`.

    ``reactor`` is where results come back (an IReactorFromThreads).  Call
    everything but the write itself from the reactor thread.
    """

    def __init__(self, reactor, state_file: StateFile):
        self._reactor = reactor
        self._state_file = state_file
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name="relay-state-writer")
        self._pending: dict[str, Switched] | None = None
        self._writing = False
        self._idle: list[Deferred] = []
        #: Snapshots written, and writes that failed (each logged).
        self.written = 0
        self.failures = 0

    def save(self, switched: dict[str, Switched]) -> None:
        """Write ``switched`` soon, after any write in flight; returns at once."""
        self._pending = dict(switched)
        if not self._writing:
            self._write_next()

    def _write_next(self) -> None:
        snapshot, self._pending = self._pending, None
        self._writing = True
        if not self._pool.started:
            self._pool.start()
        deferToThreadPool(self._reactor, self._pool, self._state_file.save, snapshot).addBoth(self._written)

    def _written(self, result) -> None:
        self._writing = False
        if isinstance(result, Failure):
            self.failures += 1
            if result.check(OSError):
                log.error(
                    "could not save relay switch times to {path}: {error}; a restart would"
                    " count minimum times from the restart",
                    path=str(self._state_file.path),
                    error=result.value,
                )
            else:
                log.failure("saving relay switch times failed unexpectedly", result)
        else:
            self.written += 1
        if self._pending is not None:
            self._write_next()
            return
        idle, self._idle = self._idle, []
        for waiter in idle:
            waiter.callback(None)

    def flush(self) -> Deferred:
        """Fires once every snapshot handed in so far is written (or its write failed)."""
        if not self._writing:
            return succeed(None)
        waiter = Deferred()
        self._idle.append(waiter)
        return waiter

    async def stop(self) -> None:
        """Write what is pending, then end the worker thread."""
        await self.flush()
        if self._pool.started:
            self._pool.stop()
