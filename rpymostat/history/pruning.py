"""Pruning raw readings older than the retention, a little at a time.

An SD card holds years of rollups but not years of raw readings, so raw
readings older than ``RPYMOSTAT_HISTORY_RAW_DAYS`` go.  Each step deletes at
most ``batch`` of them in one short write, so a sensor update waits behind
at most one small step, never behind a month of deletions (the first start
after an upgrade may have that much).  While steps find a full batch they
follow each other after ``pause``; then the pruner waits ``idle``.
"""

from twisted.application.service import Service
from twisted.internet.defer import ensureDeferred
from twisted.logger import Logger

from rpymostat.storage.timeseries import DAY

log = Logger()


class RawPruner(Service):
    """Deletes raw readings older than ``keep_days`` from ``storage``, ``batch`` at a time."""

    def __init__(self, storage, clock, keep_days, batch=500, pause=1.0, idle=600.0):
        self._storage, self._clock = storage, clock
        self._keep = keep_days * DAY
        self._batch, self._pause, self._idle = batch, pause, idle
        self._call = None
        self._step = None

    def startService(self):
        super().startService()
        self._call = self._clock.callLater(self._pause, self._run)

    def stopService(self):
        super().stopService()
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        return self._step  # a step under way finishes before storage closes

    def _run(self):
        self._step = ensureDeferred(self.prune_once())
        self._step.addCallback(self._next)

    def _next(self, deleted):
        self._step = None
        if self.running:
            self._call = self._clock.callLater(self._pause if deleted >= self._batch else self._idle, self._run)

    async def prune_once(self):
        """One step: fires with how many readings went (0 when storage failed, which is logged)."""
        before = self._clock.seconds() - self._keep
        try:
            deleted = await self._storage.prune_readings(before, self._batch)
        except Exception:
            log.failure("raw readings could not be pruned; trying again later")
            return 0
        if deleted:
            log.debug("pruned {deleted} raw readings", deleted=deleted)
        return deleted
