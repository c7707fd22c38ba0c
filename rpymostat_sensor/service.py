"""The sensor daemon's Twisted service tree.

Starting it opens the buffer, loads the readers, finds the engine (the
configured URL, or DNS-SD), then reads and delivers every ``interval``
seconds.  The :class:`~rpymostat.protocol.peer.EngineLink` holds this host's
token (given by hand, stored, or got by pairing with the first engine found)
and vets every engine before it is used, so readings go only to the engine
this host paired with.  Reads and buffer writes run on one worker thread;
the engine is only ever talked to over HTTP.  systemd hears ``READY=1`` once
started, ``WATCHDOG=1`` from every iteration of the reading loop (so a loop
that stops gets the daemon restarted) and ``STOPPING=1`` on shutdown.
"""

from twisted.application.internet import TimerService
from twisted.application.service import MultiService
from twisted.internet.defer import ensureDeferred
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool

from rpymostat.protocol import API_BASE_PATH
from rpymostat.protocol.client import JsonClient
from rpymostat.protocol.credentials import hand_given
from rpymostat.protocol.host_id import host_id
from rpymostat.protocol.peer import EngineLink
from rpymostat.protocol.vetting import FixedEngine
from rpymostat.protocol.watchdog import Watchdog
from rpymostat_sensor.buffer import ReadingBuffer
from rpymostat_sensor.pusher import Pusher
from rpymostat_sensor.readers.loading import load_readers

log = Logger()


class SensorService(MultiService):
    """Readers, buffer, the link to the engine, engine discovery and the delivery timer.

    ``watchdog`` and ``buffer`` are injected by tests; by default systemd's
    (from the environment) and the buffer file in the data directory.
    ``engine`` is the configured engine or the mDNS finder (then also
    ``finder``); either gives ``current()``, a vetted engine URL or None.
    ``clock`` times the loop, retries and pairing (default: ``reactor``, which
    still carries the HTTP and the worker thread).
    """

    def __init__(self, config, reactor, readers=None, watchdog=None, buffer=None, clock=None):
        super().__init__()
        self.config = config
        self.reactor = reactor
        self.clock = clock = clock or reactor
        self.readers = readers if readers is not None else load_readers(config)
        given = hand_given(config.token, config.token_file)  # before anything opens: it may raise
        self.host_id = host_id(config.data_dir)
        self.buffer = buffer if buffer is not None else ReadingBuffer(config.data_dir, config.buffer_max)
        self.watchdog = watchdog if watchdog is not None else Watchdog()
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name="rpymostat-sensor")
        self.client = JsonClient(reactor)
        self.link = EngineLink(
            self.client,
            clock,
            config.data_dir,
            self.host_id,
            "sensor",
            engine_url=lambda: self.engine.current(),
            hand_given=given,
        )
        self.finder = None
        if config.engine_url:
            self.engine = FixedEngine(config.engine_url + API_BASE_PATH, self.link.vet, clock)
        else:
            # Imported here: python-zeroconf costs a few MB a host with a fixed URL need not pay.
            from rpymostat.protocol.browse import EngineFinder

            self.engine = self.finder = EngineFinder(
                reactor, interfaces=config.mdns_interfaces, vet=self.link.vet, clock=clock
            )
        self.engine.setServiceParent(self)
        self.link.setServiceParent(self)
        self.pusher = Pusher(
            clock,
            self.readers,
            self.buffer,
            self.client,
            self.host_id,
            self.engine.current,
            self._in_worker,
            watchdog=self.watchdog,
            link=self.link,
        )
        self.timer = TimerService(config.interval, self.pusher.take_readings)
        self.timer.clock = clock
        self.timer.setServiceParent(self)

    def _in_worker(self, function, *args):
        return deferToThreadPool(self.reactor, self._pool, function, *args)

    def startService(self):
        if not self.readers:
            log.warn(
                "no reader finds any sensor: nothing will be reported; check the wiring"
                " or name readers in RPYMOSTAT_SENSOR_READERS"
            )
        self._pool.start()
        log.info(
            "sensor daemon {host} with readers {readers}; {count} readings buffered",
            host=self.host_id,
            readers=[r.name for r in self.readers],
            count=len(self.buffer),
        )
        self.watchdog.check_period("the sensor reading loop", self.config.interval)
        super().startService()
        self.watchdog.ready(f"reading {len(self.readers)} readers every {self.config.interval:g} s")

    async def _stop(self):
        self.watchdog.stopping()
        self.pusher.stop()
        await super().stopService()
        await self.client.close()
        self._pool.stop()
        self.buffer.close()
        self.watchdog.close()
        log.info("sensor daemon stopped")

    def stopService(self):
        return ensureDeferred(self._stop())


def make_service(config, reactor) -> SensorService:
    return SensorService(config, reactor)
