"""Taking readings on schedule and delivering them to the engine, come what may.

Every ``interval`` seconds all readers are read (on the worker thread) and
the readings, each stamped with the time it was taken, go into the on-disk
buffer.  Delivery then sends the buffer until it is empty: first the newest
reading of every sensor in one update, so that after an outage every zone is
current again at once, then the backlog, oldest first, up to
``batch_readings`` readings an update with several readings per sensor.
If the engine cannot be reached or answers with a server error, delivery
pauses with capped exponential backoff
(:class:`~rpymostat.protocol.backoff.Backoff`) while readings keep being
taken and buffered; when it answers again, everything buffered arrives with
its original timestamps.  Since the engine stores a reading re-sent with the
same timestamp once, a retry after a lost answer never duplicates anything.

The engine judges each reading on its own.  Those it refuses (a value out of
range, a clock never set) would be refused forever, so they are logged and
dropped; the rest of the batch is stored.  An update refused as a whole (400,
413, 422 without per-sensor reasons, such as a host id the engine will not
take) is logged with the engine's message and dropped, not retried forever,
except that a backlog update with several readings per sensor refused that
way makes the pusher fall back to one reading per sensor and update, as an
engine older than that takes.

Every update carries this host's token (``link.headers()``, see
:class:`~rpymostat.protocol.peer.EngineLink`).  Until the host is paired
nothing is sent: readings are taken and buffered as usual and go out, with
their original timestamps, once an admin approved the pairing.  An engine
that answers ``401`` no longer knows the token (revoked, or its database
replaced): the link forgets it and pairs again, and the readings stay
buffered.  ``403`` (a token for another host or role) is an admin's mistake
to fix: it is logged with the engine's message and retried with backoff,
again without dropping anything.

The loop never stops: an iteration that raises anything (a buffer on a full
SD card, a client that chokes on an address) is logged with its traceback,
counted in :attr:`Pusher.errors`, and the next tick runs as usual.  Each
iteration, failed or not, ends with a ping of systemd's watchdog.
"""

from twisted.internet.defer import ensureDeferred
from twisted.logger import Logger

from rpymostat.protocol import SENSORS_UPDATE_PATH, below_api_base
from rpymostat.protocol.backoff import Backoff
from rpymostat.protocol.client import Unreachable
from rpymostat.protocol.times import iso_utc

log = Logger()

REFUSED = (400, 413, 422)

#: Readings in one backlog update; the engine takes at most 1000.
BATCH_READINGS = 1000

#: Where updates go, below the engine URL the pusher is given (which already
#: ends in the API path: the configured one, or the one the engine advertises).
UPDATE_SUFFIX = below_api_base(SENSORS_UPDATE_PATH)


class _NoWatchdog:
    def ping(self):
        pass


class Pusher:
    """Reads, buffers and delivers; all time from ``clock``, blocking work via ``run_blocking``.

    ``watchdog`` (a :class:`~rpymostat.protocol.watchdog.Watchdog`) is pinged
    at the end of every loop iteration and after each update the loop's own
    delivery gets through, so a long drain does not look like a hang.
    ``link`` (an :class:`~rpymostat.protocol.peer.EngineLink`) authenticates
    the updates; without one they carry no token, as an engine without
    authentication takes them.
    """

    def __init__(
        self,
        clock,
        readers,
        buffer,
        client,
        host_id,
        engine_url,
        run_blocking,
        first_backoff=1.0,
        max_backoff=300.0,
        watchdog=None,
        batch_readings=BATCH_READINGS,
        link=None,
    ):
        self._clock = clock
        self._readers = readers
        self._buffer = buffer
        self._client = client
        self._host_id = host_id
        self._engine_url = engine_url
        self._run = run_blocking
        self._backoff = Backoff(first_backoff, max_backoff)
        self._watchdog = watchdog if watchdog is not None else _NoWatchdog()
        self._batch_readings = batch_readings
        self._link = link
        self._delivering = False
        self._retry = None
        self._one_per_sensor = False
        self._stopped = False
        self.errors = 0
        """Iterations and deliveries that raised an unexpected exception, since start."""

    def take_readings(self):
        """One iteration of the loop (the timer's job): read, buffer, deliver; never fails."""
        return ensureDeferred(self._take_readings())

    async def _take_readings(self):
        try:
            taken_at = iso_utc(self._clock.seconds())
            readings = await self._run(self._read_all, taken_at)
            dropped = await self._run(self._buffer.append, readings)
            if dropped:
                log.warn("buffer full: dropped the {count} oldest unsent readings", count=dropped)
            await self.deliver(progress=self._ping)
        except Exception:
            self.errors += 1
            log.failure(
                "taking readings failed ({errors} failures so far); trying again at the next tick", errors=self.errors
            )
        finally:
            self._ping()

    def _ping(self):
        # An iteration still running when shutdown began must not ping after STOPPING=1.
        if not self._stopped:
            self._watchdog.ping()

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

    def deliver(self, progress=None):
        """Send buffered readings until none is left or the engine stops answering; never fails.

        ``progress`` is called after each update the engine took.
        """
        if self._delivering or (self._retry is not None and self._retry.active()):
            return ensureDeferred(_nothing())
        self._delivering = True
        return ensureDeferred(self._deliver(progress)).addBoth(self._done_delivering)

    def _done_delivering(self, result):
        self._delivering = False
        return result

    async def _deliver(self, progress):
        try:
            await self._drain(progress)
        except Exception:
            self.errors += 1
            log.failure("delivering readings failed ({errors} failures so far)", errors=self.errors)
            self._back_off()

    async def _drain(self, progress):
        newest_first = True
        while True:
            if self._link is not None and not self._link.paired:
                log.debug("waiting for this host to be paired with the engine; readings stay buffered")
                return None  # the next tick tries again: no backoff to wait out once approved
            url = self._engine_url()
            if url is None:
                log.info("no engine known yet; readings stay buffered")
                return self._back_off()
            if newest_first:
                seqs, sensors = await self._run(self._buffer.newest_batch)
                newest_first = False
            elif self._one_per_sensor:
                seqs, sensors = await self._run(self._buffer.next_batch)
            else:
                seqs, sensors = await self._run(self._buffer.backlog_batch, self._batch_readings)
            if not seqs:
                return None
            body = {"host_id": self._host_id, "sensors": sensors}
            try:
                response = await self._client.request("PUT", url + UPDATE_SUFFIX, body, headers=self._headers())
            except Unreachable as error:
                log.warn("engine unreachable: {error}", error=error)
                return self._back_off()
            if response.code == 201:
                self._backoff.reset()
                self._report(response.body)
                await self._run(self._buffer.remove, seqs)
                if progress is not None:
                    progress()
            elif response.code in REFUSED:
                await self._refused(response, seqs, sensors)
            elif response.code in (401, 403):
                self._unauthorised(response)
                return self._back_off()
            else:
                log.warn("engine answered {code}: {message}", code=response.code, message=response.error)
                return self._back_off()

    async def _refused(self, response, seqs, sensors):
        """Drop what the engine will never take; fall back to one reading per sensor if need be."""
        reasons = _notes(response.body, "refused")
        several = any(isinstance(entry, list) for entry in sensors.values())
        if not reasons and several and response.code in (413, 422) and not self._one_per_sensor:
            log.warn(
                "engine refused several readings per sensor ({code}: {message});"
                " sending one reading per sensor and update from now on",
                code=response.code,
                message=response.error,
            )
            self._one_per_sensor = True
            return
        if reasons:
            self._report(response.body)
        else:
            log.error(
                "engine refused {count} readings ({code}): {message}; dropping them",
                count=len(seqs),
                code=response.code,
                message=response.error,
            )
        await self._run(self._buffer.remove, seqs)

    def _headers(self) -> dict:
        return {} if self._link is None else self._link.headers()

    def _unauthorised(self, response):
        """The engine refused this host's token (401) or what it may do (403); readings stay."""
        if response.code == 401 and self._link is not None:
            self._link.refused()
            return
        log.error(
            "engine refused this host's update ({code}): {message}; readings stay buffered",
            code=response.code,
            message=response.error,
        )

    def _report(self, body):
        """Log what the engine refused (dropped for good) or adjusted in an update."""
        for sensor_id, why in sorted(_notes(body, "refused").items()):
            log.error("engine refused the reading of {sensor_id}: {why}; dropping it", sensor_id=sensor_id, why=why)
        for sensor_id, what in sorted(_notes(body, "adjusted").items()):
            log.warn("engine adjusted the reading of {sensor_id}: {what}", sensor_id=sensor_id, what=what)

    @property
    def failures(self) -> int:
        """Failed deliveries since the engine last accepted one."""
        return self._backoff.failures

    def _back_off(self):
        if self._stopped:
            return  # a delivery that was under way when the daemon began to stop
        delay = self._backoff.next_delay()
        self._retry = self._clock.callLater(delay, self.deliver)
        log.info("retrying delivery in {delay} s", delay=delay)

    def stop(self):
        """Cancel a pending retry and stop pinging the watchdog (on shutdown)."""
        self._stopped = True
        if self._retry is not None and self._retry.active():
            self._retry.cancel()


def _notes(body, key) -> dict:
    """The engine's per-sensor ``refused`` or ``adjusted`` object, or {} when it gave none."""
    notes = body.get(key) if isinstance(body, dict) else None
    return notes if isinstance(notes, dict) else {}


async def _nothing():
    return None
