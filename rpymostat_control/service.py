"""The control daemon's Twisted service tree.

Building it finds the relay outputs (none is fatal), reads their state and
their persisted switch times.  Starting it starts the lease at once (a
restarted unit holds its outputs for one lease while the engine finds it),
listens for HTTP, then registers with the engine: the configured URL, or the
one DNS-SD finds, once it proves it is the engine this unit paired with (a
unit without a token pairs first; see docs/security.rst).  When the lease runs out, every output goes to its safe
state and the unit registers again; an output whose hardware fails then is
tried again every :data:`SAFE_RETRY_S` seconds until every output is safe or
a command starts a new lease.  Stopping (SIGTERM) stops listening, sends every
output to its safe state, writes the state file and releases the hardware.

No exception may end a loop that keeps a house safe: the lease expiry, the
safe-state retries and the heartbeat each log (``log.failure``) and count
(:attr:`ControlService.loop_failures`) whatever a backend raises, and go on.
The heartbeat (every :data:`HEARTBEAT_S` seconds) re-reads every output's
hardware and only then pings systemd's watchdog, so a stuck reactor or a
wedged backend stops the pings and systemd restarts the daemon; the daemon
says READY once listening and STOPPING when it stops.
"""

import collections
import time

from twisted.application.internet import TimerService
from twisted.application.service import MultiService
from twisted.internet.defer import Deferred, ensureDeferred, maybeDeferred
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger

from rpymostat.protocol import API_BASE_PATH
from rpymostat.protocol.client import JsonClient
from rpymostat.protocol.credentials import hand_given
from rpymostat.protocol.endpoints import WILDCARD_HOSTS, server_endpoint
from rpymostat.protocol.host_id import host_id
from rpymostat.protocol.jsonsite import json_site
from rpymostat.protocol.peer import EngineLink
from rpymostat.protocol.vetting import FixedEngine
from rpymostat.protocol.watchdog import Watchdog
from rpymostat_control.address import http_url, local_address_towards
from rpymostat_control.api import RelayApi
from rpymostat_control.lease import Lease
from rpymostat_control.registrar import Registrar
from rpymostat_control.state_file import StateFile
from rpymostat_control.state_writer import StateWriter
from rpymostat_control.switchboard import Switchboard
from rpymostat_control.unit_secret import UnitSecret

log = Logger()

NO_RELAYS = (
    "no relay outputs found; set RPYMOSTAT_RELAYS and its settings, e.g. RPYMOSTAT_RELAYS=sim RPYMOSTAT_SIM_RELAYS=4"
)


#: Seconds between tries to put every output in its safe state while the lease
#: is expired and some output could not be set (a USB hiccup, say).
SAFE_RETRY_S = 5.0

#: Seconds between heartbeats: every output's hardware re-read, then a watchdog ping.
HEARTBEAT_S = 15.0

#: The relay unit's own credentials file in its data directory: a sensor daemon on
#: the same host (and data directory) keeps ``engine-credentials.json``.
CREDENTIALS_FILE = "control-credentials.json"


class NoRelays(RuntimeError):
    """No backend found any output: a relay unit without relays is a configuration error."""


class ControlService(MultiService):
    """Switchboard, lease, HTTP API, registration and (without a fixed URL) discovery.

    ``reactor`` listens and runs threads; ``clock`` (default: the reactor)
    drives the lease, registration and safe-state retries and stamps switch
    times, and ``monotonic`` (default: :func:`time.monotonic`) measures the
    outputs' ages, so tests can turn time by hand while HTTP stays real.
    ``backends`` default to those
    :func:`~rpymostat_control.relays.loading.load_backends` builds;
    ``finder_factory(reactor, interfaces=..., on_change=...)`` to
    :class:`~rpymostat.protocol.browse.EngineFinder`; ``watchdog`` to a
    :class:`~rpymostat.protocol.watchdog.Watchdog` of this process's
    environment, pinged by a heartbeat on ``heartbeat_clock`` (default: the
    reactor); ``state_file`` to the
    :class:`~rpymostat_control.state_file.StateFile` in the data directory
    (written on a worker thread by a
    :class:`~rpymostat_control.state_writer.StateWriter`).
    """

    def __init__(
        self,
        config,
        reactor,
        backends=None,
        clock=None,
        monotonic=None,
        finder_factory=None,
        watchdog=None,
        state_file=None,
        heartbeat_clock=None,
    ):
        super().__init__()
        self.config = config
        self.reactor = reactor
        self.clock = clock if clock is not None else reactor
        given = hand_given(config.token, config.token_file)  # before any hardware opens: it may raise
        self.watchdog = watchdog if watchdog is not None else Watchdog()
        #: ``{loop name: runs that raised}``; each was logged with its traceback.
        self.loop_failures = collections.Counter()
        monotonic = monotonic if monotonic is not None else time.monotonic
        if backends is None:
            from rpymostat_control.relays.loading import load_backends

            backends = load_backends(config)
        try:
            if not any(backend.relays() for backend in backends):
                raise NoRelays(NO_RELAYS)
            config.data_dir.mkdir(parents=True, exist_ok=True)
            self.host_id = host_id(config.data_dir)
            state_file = state_file if state_file is not None else StateFile(config.data_dir)
            self.state_writer = StateWriter(reactor, state_file)
            self.switchboard = Switchboard(
                backends,
                self.clock,
                state_file,
                config.min_on,
                config.min_off,
                config.safe_states,
                monotonic,
                save=self.state_writer.save,
            )
        except BaseException:
            for backend in backends:
                backend.close()
            raise
        self.lease = Lease(self.clock, config.lease, self._lease_expired, monotonic)
        self.client = JsonClient(reactor)
        self.link = EngineLink(
            self.client,
            self.clock,
            config.data_dir,
            self.host_id,
            "control",
            engine_url=lambda: self.engine_url,
            hand_given=given,
            credentials_file=CREDENTIALS_FILE,
            on_paired=self._paired,
        )
        self.link.setServiceParent(self)
        self.finder = self.fixed = None
        self._found_url = None
        if config.engine_url:
            self.fixed = FixedEngine(config.engine_url + API_BASE_PATH, self.link.vet, self.clock)
            self.fixed.setServiceParent(self)
        else:
            if finder_factory is None:
                # Imported here: python-zeroconf costs a few MB a host with a fixed URL need not pay.
                from rpymostat.protocol.browse import EngineFinder as finder_factory
            self.finder = finder_factory(
                reactor,
                interfaces=config.mdns_interfaces,
                on_change=self.on_engine_change,
                vet=self.link.vet,
                clock=self.clock,
            )
            self.finder.setServiceParent(self)
        #: New at every registration, which carries it; every request must carry the newest.
        self.secret = UnitSecret()
        self.registrar = Registrar(
            self.clock,
            self.client,
            lambda: self.engine_url,
            self._registration,
            headers=self.link.headers,
            refused=self.link.refused,
            accepted=lambda document: self.secret.confirm(document["secret"]),
        )
        self.site = json_site(RelayApi(self.switchboard, self.lease, self.host_id, self.secret))
        self.heartbeat = TimerService(HEARTBEAT_S, self._heartbeat)
        # The pings vouch for the real reactor, so they follow it, not a test's clock.
        self.heartbeat.clock = heartbeat_clock if heartbeat_clock is not None else reactor
        self.port = None
        self._ready = None
        self._safe_retry = None

    def when_ready(self) -> Deferred:
        """Fires with the listening port, or fails if the API cannot listen (exit 1)."""
        return self._ready

    def startService(self):
        log.info(
            "control daemon {host} with relays {relays}; lease {lease} s",
            host=self.host_id,
            relays=", ".join(self.switchboard.relay_ids()),
            lease=self.config.lease,
        )
        self.watchdog.check_period("the relay heartbeat", HEARTBEAT_S)
        self.lease.start()
        super().startService()
        self._ready = ensureDeferred(self._start())

    async def _start(self):
        endpoint = server_endpoint(self.reactor, self.config.host, self.config.port)
        self.port = await endpoint.listen(self.site)
        address = self.port.getHost()
        log.info("relay API listening on {url}", url=http_url(address.host, address.port))
        self.watchdog.ready(f"relays {', '.join(self.switchboard.relay_ids())}")
        self.heartbeat.startService()  # a first round now, then every HEARTBEAT_S
        self.registrar.register()
        return self.port

    def _heartbeat(self):
        """Re-read every output's hardware, then tell systemd the daemon is alive.

        Runs from a TimerService, which would stop for good on an exception:
        so every exception is logged and counted here, and the ping still
        follows a round that went through (a read fault is news, not a hang).
        A backend that hangs stops the pings, which is the point.
        """
        try:
            self.switchboard.check()
            self.lease.check()  # a wake-up the wall clock delayed is caught here
        except Exception:
            self.loop_failures["heartbeat"] += 1
            log.failure("the relay heartbeat failed")
        self.watchdog.ping()

    def _lease_expired(self):
        self._cancel_safe_retry()
        try:
            self._to_safe_states(1)
        finally:  # whatever happened, the engine may have lost the unit
            self.registrar.register()

    def _to_safe_states(self, attempt: int):
        """The lease expired: every output to its safe state, tried again every
        :data:`SAFE_RETRY_S` seconds while any output fails.

        A retry that finds a new lease (the engine commanded again) does nothing
        and ends the retries; so does stopping, which cancels them.
        """
        self._safe_retry = None
        if self.lease.expires_in() is not None:
            return
        reason = f"no command from the engine for {self.config.lease:g} s (lease expired)"
        if attempt > 1:
            reason += f", attempt {attempt}"
        try:
            failed = self.switchboard.to_safe_states(reason).failed
        except Exception:  # a bug below; the outputs' states are unknown, so try again
            self.loop_failures["safe states"] += 1
            log.failure("{reason}: sending the outputs to their safe states failed", reason=reason)
            failed = self.switchboard.relay_ids()
        if failed:
            log.warn(
                "{outputs} not in their safe states; trying again in {delay:g} s",
                outputs=", ".join(failed),
                delay=SAFE_RETRY_S,
            )
            self._safe_retry = self.clock.callLater(SAFE_RETRY_S, self._to_safe_states, attempt + 1)

    def _cancel_safe_retry(self):
        if self._safe_retry is not None:  # pending: a retry that runs clears it first
            self._safe_retry.cancel()
        self._safe_retry = None

    @property
    def engine_url(self) -> str | None:
        """The engine's API base URL once it proved itself: the configured one, or the one discovery chose."""
        return self.fixed.current() if self.fixed is not None else self._found_url

    def on_engine_change(self, url):
        """Discovery chose another engine (one that proved itself), or lost it: register with each new one.

        An engine that vanished and came back at the same URL may have restarted,
        so it is registered with again too.
        """
        previous, self._found_url = self._found_url, url
        if url is not None and url != previous and self.port is not None:
            log.info("registering with the engine found at {url}", url=url)
            self.registrar.register()

    def _paired(self):
        """An admin approved this unit's pairing: register at once."""
        if self.port is not None:
            self.registrar.register()

    async def _registration(self, engine_url: str) -> dict:
        """The registration document for ``engine_url``; OSError if no route leads there.

        It carries the unit's secret, which from then on opens the API: only
        the engine that receives it can command the unit.
        """
        url = self.config.url
        if url is None:
            port = self.port.getHost().port
            address = self.config.host
            if address in WILDCARD_HOSTS:
                address = await deferToThreadPool(
                    self.reactor, self.reactor.getThreadPool(), local_address_towards, engine_url
                )
            url = http_url(address, port)
        return {
            "host_id": self.host_id,
            "url": url,
            "relays": self.switchboard.registration(),
            "secret": self.secret.for_registration(),
        }

    def stopService(self):
        return ensureDeferred(self._stop())

    async def _stop(self):
        self.watchdog.stopping()
        self.lease.stop()
        self._cancel_safe_retry()
        self.registrar.stop()
        try:
            if self.port is not None:
                port, self.port = self.port, None
                await maybeDeferred(port.stopListening)  # may answer None once the port is gone
            if self.heartbeat.running:
                await self.heartbeat.stopService()
            await super().stopService()
        finally:  # whatever went wrong above, a stopping unit leaves every output safe
            try:
                self.switchboard.to_safe_states("stopping")
            finally:
                self.switchboard.close()
                await self.state_writer.stop()
        await self.client.close()
        log.info("control daemon stopped")


def make_service(config, reactor) -> ControlService:
    """The control daemon's service tree for ``config``; raises if no relay is found."""
    return ControlService(config, reactor)
