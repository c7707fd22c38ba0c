"""Requests for decision runs, coalesced: a burst of changes costs one run, not a queue.

A rule change asks for its zone to be decided, a relay unit registering asks
for every zone, the timer asks for every zone.  While a run is going, later
requests are merged into one pending run (the union of their zones, or every
zone if any asked for all), so a client posting a hundred holds, or a hundred
units registering at once, queues at most one run behind the current one.
Every request's Deferred fires once a run that started after the request has
finished; none ever fails.
"""

from collections.abc import Awaitable, Callable, Iterable

from twisted.internet.defer import Deferred, ensureDeferred, succeed
from twisted.logger import Logger

log = Logger()

#: Passed to the work instead of a set of zones: decide every zone.
EVERY_ZONE = None


class CoalescingRunner:
    """Runs ``work(zones)`` (``zones`` a set, or :data:`EVERY_ZONE`) one run at a time."""

    def __init__(self, work: Callable[[set | None], Awaitable]):
        self._work = work
        self._running = False
        self._pending = False
        self._pending_zones = set()
        self._pending_all = False
        self._waiting = []  # Deferreds of the pending run
        self._idle = []  # Deferreds fired when nothing runs or waits

    def request(self, zones: Iterable[str] | None = EVERY_ZONE) -> Deferred:
        """Ask for a run of ``zones`` (every zone when omitted)."""
        if zones is EVERY_ZONE:
            self._pending_all = True
        else:
            self._pending_zones.update(zones)
        self._pending = True
        done = Deferred()
        self._waiting.append(done)
        if not self._running:
            ensureDeferred(self._drain())
        return done

    def settled(self) -> Deferred:
        """Fires once no run is going and none is pending."""
        if not self._running and not self._pending:
            return succeed(None)
        idle = Deferred()
        self._idle.append(idle)
        return idle

    async def _drain(self):
        self._running = True
        while self._pending:
            zones = EVERY_ZONE if self._pending_all else set(self._pending_zones)
            waiting, self._waiting = self._waiting, []
            self._pending, self._pending_all, self._pending_zones = False, False, set()
            try:
                await self._work(zones)
            except Exception:
                log.failure("a decision run failed; the next one retries")
            for done in waiting:
                done.callback(None)
        self._running = False
        idle, self._idle = self._idle, []
        for done in idle:
            done.callback(None)
