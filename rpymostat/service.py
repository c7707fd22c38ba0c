"""The engine's Twisted service tree.

``make_service(config, reactor)`` builds an :class:`EngineService`, which
holds storage, the timeline cache (its refresh timer), the decision loop (its
timer), the history services (keeping zones' states, pruning old raw
readings), the event stream (its keep-alive timer), the HTTP API and, once
the API listens, the DNS-SD advertisement.  Starting it opens storage first,
then starts the timeline cache and the decision loop (after reading the
outputs' real states back), the history services and the event stream,
listens for HTTP, then advertises the real port.  Stopping runs the other way round (withdraw the
advertisement, stop the loops, end every event stream, stop listening, close
the relay client and the database), so a SIGTERM leaves nothing half-done.
"""

import time
from zoneinfo import ZoneInfo

from twisted.application.service import MultiService
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.logger import Logger

from rpymostat.access import OpenAccess
from rpymostat.api.event_stream import EventStream
from rpymostat.api.pairing_api import EngineAddresses
from rpymostat.api.site import build_site
from rpymostat.api.validation import load_openapi
from rpymostat.auth.admin import first_admin_token
from rpymostat.auth.policy import TokenAccess
from rpymostat.control_loop.loop import build_decision_loop
from rpymostat.decide.plugin import GROUP as DECISION_GROUP
from rpymostat.decide.plugin import IDecisionPlugin
from rpymostat.discovery import AdvertiseService, advertised_addresses
from rpymostat.events import EventBus
from rpymostat.history.pruning import RawPruner
from rpymostat.history.recorder import ZoneHistoryRecorder
from rpymostat.protocol.client import JsonClient
from rpymostat.protocol.endpoints import certificate_fingerprint, is_tls, listen_endpoint
from rpymostat.protocol.plugins import load_plugins
from rpymostat.protocol.watchdog import Watchdog
from rpymostat.schedule.cache import TimelineCache
from rpymostat.schedule.plugin import GROUP as SCHEDULE_GROUP
from rpymostat.schedule.plugin import ISchedulePlugin
from rpymostat.storage import open_storage
from rpymostat.version import __version__

log = Logger()

#: How long a relay unit may take to answer a command: a dead unit must not
#: stall the decision loop for long (each run tries a dead unit once).
RELAY_TIMEOUT_S = 5.0


class EngineService(MultiService):
    """Storage, HTTP API and DNS-SD advertisement, started in that order.

    ``when_ready()`` fires with the listening port once the API answers, or
    fails when the engine could not start (the runner then exits 1).
    """

    def __init__(self, config, reactor, storage=None, watchdog=None, monotonic=time.monotonic):
        super().__init__()
        self.config = config
        self.reactor = reactor
        self.watchdog = watchdog if watchdog is not None else Watchdog()
        self.watchdog.check_period("the decision loop", config.decision_interval)
        self.storage = storage if storage is not None else open_storage(config, reactor)
        self.events = EventBus()
        self.zone_info = ZoneInfo(config.timezone)
        # Plugins are loaded and verified once, here; the API lists these same ones.
        self.schedule_plugins = load_plugins(SCHEDULE_GROUP, ISchedulePlugin)
        self.decision_plugins = {
            name: plugin_class() for name, plugin_class in load_plugins(DECISION_GROUP, IDecisionPlugin).items()
        }
        schedule = self.schedule_plugins[config.schedule_plugin](self.storage, self.zone_info)
        self.timelines = TimelineCache(schedule, self.storage, reactor, hours=config.timeline_hours)
        self.events.subscribe(self.timelines.on_event)
        self.relay_client = JsonClient(reactor, timeout=RELAY_TIMEOUT_S)
        self.decisions = build_decision_loop(
            self.storage,
            self.timelines,
            self.events,
            reactor,
            self.relay_client,
            self.decision_plugins,
            config.limits,
            config.decision_interval,
            config.sensor_stale_s,
            config.run_sample_s,
            monotonic=monotonic,
            watchdog=self.watchdog,
        )
        if config.auth:
            self.access = TokenAccess(self.storage, load_openapi(), monotonic)
        else:
            self.access = OpenAccess()
        self.event_stream = EventStream(self.events, reactor)
        self.zone_history = ZoneHistoryRecorder(self.storage, self.decisions.reports, reactor, config.decision_interval)
        self.pruner = RawPruner(self.storage, reactor, config.history_raw_days)
        self.port = None
        self.addresses = EngineAddresses()  # what the engine proves itself for, once it listens
        self._storage_open = False
        self._ready = None

    def when_ready(self) -> Deferred:
        return self._ready

    def startService(self):
        super().startService()
        self._ready = ensureDeferred(self._start())

    async def _start(self):
        await self.storage.open()
        self._storage_open = True
        log.info("storage ready: {storage}", storage=self.storage.description)
        if not self.config.auth:
            log.warn(
                "RPYMOSTAT_AUTH is off: anyone who can reach port {port} can change the heating"
                " and switch its relays; turn it on unless this is a lab without strangers",
                port=self.config.api_port,
            )
        else:
            written = await first_admin_token(self.storage, self.reactor.seconds(), self.config.data_dir)
            if written is not None:
                log.info("first start: the admin token is in {path} (readable by this user only)", path=written)
        self.timelines.setServiceParent(self)
        await self.decisions.load()
        self.decisions.setServiceParent(self)
        self.zone_history.setServiceParent(self)
        self.pruner.setServiceParent(self)
        self.event_stream.setServiceParent(self)
        site = build_site(
            self.storage,
            self.reactor,
            self.events,
            self.access,
            self.timelines,
            self.zone_info,
            self.decisions,
            self.schedule_plugins,
            self.decision_plugins,
            engine_addresses=self.addresses,
            event_stream=self.event_stream,
            history_raw_days=self.config.history_raw_days,
        )
        endpoint = listen_endpoint(self.reactor, self.config.listen, self.config.api_host, self.config.api_port)
        self.port = await endpoint.listen(site)
        address = self.port.getHost()
        self.addresses.port = address.port
        # Every address of the host, and those mDNS runs on: a daemon may dial any of them.
        self.addresses.hosts = frozenset(advertised_addresses(address.host, ())) | set(self.config.mdns_interfaces)
        tls = is_tls(self.config.listen)
        log.info(
            "API listening on {scheme}://{host}:{port}/",
            scheme="https" if tls else "http",
            host=address.host,
            port=address.port,
        )
        if tls:
            log.info(
                "TLS certificate SHA-256 {fingerprint}: paired daemons pin it",
                fingerprint=certificate_fingerprint(self.config.listen),
            )
        if self.config.advertise:
            advertiser = AdvertiseService(
                self.reactor,
                port=address.port,
                interfaces=self.config.mdns_interfaces,
                host=self.config.api_host,
                version=__version__,
                tls=tls,
            )
            advertiser.setServiceParent(self)
        self.watchdog.ready(f"API on port {address.port}")
        return self.port

    def stopService(self):
        return ensureDeferred(self._stop())

    async def _stop(self):
        self.watchdog.stopping()
        await super().stopService()
        # Open streams would keep their connections, and stopListening waits for those.
        self.event_stream.close_all()
        if self.port is not None:
            await self.port.stopListening()
            self.port = None
        await self.relay_client.close()
        if self._storage_open:
            self._storage_open = False
            await self.storage.close()
        self.watchdog.close()
        log.info("engine stopped")


def make_service(config, reactor) -> EngineService:
    """The engine's service tree for ``config``; nothing happens until it starts."""
    return EngineService(config, reactor)
