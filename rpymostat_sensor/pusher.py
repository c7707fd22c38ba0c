"""Taking readings on schedule and delivering them to the engine, come what may.

Every ``interval`` seconds all readers are read (on the worker thread) and
the readings, each stamped with the time it was taken, go into the on-disk
buffer.  Delivery then sends the buffer's oldest readings, one update at a
time, until it is empty.  If the engine cannot be reached or answers with a
server error, delivery pauses with capped exponential backoff
(:class:`~rpymostat.protocol.backoff.Backoff`) while readings
keep being taken and buffered; when it answers again, everything buffered
arrives with its original timestamps.  Since the engine stores a reading
re-sent with the same timestamp once, a retry after a lost answer never
duplicates anything.  An update the engine refuses as invalid (400, 413,
422) is logged with the engine's message and dropped, not retried forever.
"""

import datetime

from twisted.internet.defer import ensureDeferred
from twisted.logger import Logger

from rpymostat.protocol.backoff import Backoff
from rpymostat.protocol.client import Unreachable

log = Logger()

UTC = datetime.timezone.utc
REFUSED = (400, 413, 422)


def stamp(seconds: float) -> str:
    """Epoch seconds as the ISO 8601 UTC timestamp the engine expects."""
    return datetime.datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


class Pusher:
    """Reads, buffers and delivers; all time from ``clock``, blocking work via ``run_blocking``."""

    def __init__(self, clock, readers, buffer, client, host_id, engine_url, run_blocking,
                 first_backoff=1.0, max_backoff=300.0):
        self._clock = clock
        self._readers = readers
        self._buffer = buffer
        self._client = client
        self._host_id = host_id
        self._engine_url = engine_url
        self._run = run_blocking
        self._backoff = Backoff(first_backoff, max_backoff)
        self._delivering = False
        self._retry = None

    def take_readings(self):
        """Read every sensor, buffer the readings, then deliver (the timer's job)."""
        return ensureDeferred(self._take_readings())

    async def _take_readings(self):
        taken_at = stamp(self._clock.seconds())
        readings = await self._run(self._read_all, taken_at)
        dropped = await self._run(self._buffer.append, readings)
        if dropped:
            log.warn("buffer full: dropped the {count} oldest unsent readings", count=dropped)
        await self.deliver()

    def _read_all(self, taken_at):
        readings = []
        for reader in self._readers:
            try:
                found = reader.read()
            except Exception as error:
                log.error("reader {reader} failed: {error}", reader=reader.name, error=error)
                continue
            readings += [(sensor_id, reading, taken_at) for sensor_id, reading in sorted(found.items())]
        return readings

    def deliver(self):
        """Send buffered readings until none is left or the engine stops answering."""
        if self._delivering or (self._retry is not None and self._retry.active()):
            return ensureDeferred(_nothing())
        self._delivering = True
        return ensureDeferred(self._deliver()).addBoth(self._done_delivering)

    def _done_delivering(self, result):
        self._delivering = False
        return result

    async def _deliver(self):
        while True:
            url = self._engine_url()
            if url is None:
                log.info("no engine known yet; readings stay buffered")
                return self._back_off()
            seqs, sensors = await self._run(self._buffer.next_batch)
            if not seqs:
                return None
            body = {"host_id": self._host_id, "sensors": sensors}
            try:
                response = await self._client.request("PUT", url + "/sensors/update", body)
            except Unreachable as error:
                log.warn("engine unreachable: {error}", error=error)
                return self._back_off()
            if response.code == 201:
                self._backoff.reset()
                await self._run(self._buffer.remove, seqs)
            elif response.code in REFUSED:
                log.error(
                    "engine refused {count} readings ({code}): {message}; dropping them",
                    count=len(seqs), code=response.code, message=response.error,
                )
                await self._run(self._buffer.remove, seqs)
            else:
                log.warn("engine answered {code}: {message}", code=response.code, message=response.error)
                return self._back_off()

    @property
    def failures(self) -> int:
        """Failed deliveries since the engine last accepted one."""
        return self._backoff.failures

    def _back_off(self):
        delay = self._backoff.next_delay()
        self._retry = self._clock.callLater(delay, self.deliver)
        log.info("retrying delivery in {delay} s", delay=delay)

    def stop(self):
        """Cancel a pending retry (on shutdown)."""
        if self._retry is not None and self._retry.active():
            self._retry.cancel()


async def _nothing():
    return None
