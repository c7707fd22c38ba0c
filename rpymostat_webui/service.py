"""The web UI daemon's Twisted service tree.

One reactor carries everything that waits: finding the engine (the
configured URL or DNS-SD), pairing with it like any other daemon (role
``admin`` unless configured ``user``; or a token given by hand), the
HTTP port, and the live event relay.  Pages are Flask views run by
Twisted's WSGI container on a small thread pool (a production server with
threads, not Flask's development one); they reach the engine with the
blocking :class:`~rpymostat_webui.engine.EngineClient`, which reads where
the engine is and the token to send from this service at each request.
"""

from twisted.application.internet import TimerService
from twisted.application.service import MultiService
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool
from twisted.web.resource import Resource
from twisted.web.wsgi import WSGIResource

from rpymostat.protocol import API_BASE_PATH
from rpymostat.protocol.client import JsonClient
from rpymostat.protocol.credentials import hand_given
from rpymostat.protocol.endpoints import WILDCARD_HOSTS, server_endpoint
from rpymostat.protocol.host_id import host_id
from rpymostat.protocol.jsonsite import json_site
from rpymostat.protocol.peer import EngineLink
from rpymostat.protocol.vetting import FixedEngine
from rpymostat.protocol.watchdog import Watchdog
from rpymostat_webui.app import create_app, provisioned_password
from rpymostat_webui.engine import EngineClient, Location
from rpymostat_webui.household import Household
from rpymostat_webui.relay import EventRelay

log = Logger()

#: Where the UI keeps its own engine credentials (a sensor daemon on the same host keeps its own).
CREDENTIALS_FILE = "webui-credentials.json"

#: Page threads: each blocks on the engine for a few ms; live streams use none.
MAX_THREADS = 8

#: Seconds between systemd watchdog pings; each ping first goes through the page threads.
HEARTBEAT_S = 10.0


class Root(Resource):
    """``/live/events`` to the relay; every other path to the Flask app, whole."""

    def __init__(self, wsgi, relay):
        super().__init__()
        self._wsgi, self._relay = wsgi, relay

    def getChildWithDefault(self, name, request):
        if request.path == b"/live/events":
            return self._relay
        request.prepath.pop()  # every path has a first segment ("" for "/"), so this is always reached
        request.postpath.insert(0, name)
        return self._wsgi


class WebuiService(MultiService):
    """Engine discovery, the link (pairing), and the HTTP port serving pages and the relay.

    ``engine`` is the configured engine or the mDNS finder; either gives
    ``current()``, a vetted engine URL or None.  ``when_ready()`` fires with
    the listening port, or fails when it cannot listen (the daemon exits 1).
    """

    def __init__(self, config, reactor, clock=None, watchdog=None):
        super().__init__()
        self.config = config
        self.reactor = reactor
        clock = clock or reactor
        given = hand_given(config.token, config.token_file)  # before anything opens: it may raise
        self.household = Household(config.data_dir, provisioned=provisioned_password(config))
        self.host_id = host_id(config.data_dir)
        self.client = JsonClient(reactor)
        self.link = EngineLink(
            self.client,
            clock,
            config.data_dir,
            self.host_id,
            config.role,
            engine_url=lambda: self.engine.current(),
            hand_given=given,
            credentials_file=CREDENTIALS_FILE,
        )
        self.finder = None
        if config.engine_url:
            self.engine = FixedEngine(config.engine_url + API_BASE_PATH, self.link.vet, clock)
        else:
            # Imported here: python-zeroconf costs a few MB a UI with a fixed URL need not pay.
            from rpymostat.protocol.browse import EngineFinder

            self.engine = self.finder = EngineFinder(
                reactor, interfaces=config.mdns_interfaces, vet=self.link.vet, clock=clock
            )
        self.engine.setServiceParent(self)
        self.link.setServiceParent(self)
        self.pages = EngineClient(self.location, on_refused=lambda: reactor.callFromThread(self.link.refused))
        self.app = create_app(config, engine=self.pages, household=self.household)
        self.pool = ThreadPool(minthreads=1, maxthreads=MAX_THREADS, name="rpymostat-webui")
        root = Root(WSGIResource(reactor, self.pool, self.app), EventRelay(reactor, self.location, self.client.agent))
        self.site = json_site(root)  # no form parsing by Twisted (Flask reads the body), no tracebacks
        self.watchdog = watchdog if watchdog is not None else Watchdog()
        self.heartbeat = TimerService(HEARTBEAT_S, self._heartbeat)
        self.heartbeat.clock = reactor  # it vouches for the real reactor and threads, not a test's clock
        self.port = None
        self._ready = None

    def _heartbeat(self):
        """Ping systemd once a no-op has run on a page thread: pages stuck on the engine stop the pings.

        The timer waits for this Deferred, so a pool whose threads all hang
        sends no more pings and systemd restarts the daemon after WatchdogSec.
        """
        return deferToThreadPool(self.reactor, self.pool, lambda: None).addCallback(lambda _: self.watchdog.ping())

    def location(self) -> Location:
        """Where the engine is and the UI's token, or why there is none yet (shown on every page)."""
        url = self.engine.current()
        credentials = self.link.credentials
        if url is None:
            where = self.config.engine_url or "the network (mDNS)"
            return Location(None, reason=f"looking for the engine at {where}")
        if credentials is None:
            pairing = self.link.pairing
            code = pairing.code if pairing is not None else None
            reason = (
                f"waiting for an admin to approve this web UI: rpymostat-engine pair approve {code}"
                if code
                else "asking the engine to pair with this web UI"
            )
            return Location(None, reason=reason)
        return Location(url, credentials.token, fingerprint=credentials.fingerprint)

    def when_ready(self) -> Deferred:
        return self._ready

    def startService(self):
        self.pool.start()
        super().startService()
        self._ready = ensureDeferred(self._listen())

    async def _listen(self):
        self.port = await server_endpoint(self.reactor, self.config.host, self.config.port).listen(self.site)
        address = self.port.getHost()
        shown = "localhost" if self.config.host in WILDCARD_HOSTS else address.host
        log.info("web UI on http://{host}:{port}/", host=shown, port=address.port)
        code = self.household.setup_code()
        if code is not None:
            log.warn(
                "no household password yet: open http://{host}:{port}/setup and enter the setup code"
                " {code} (also in {path}, readable by this user only)",
                host=shown,
                port=address.port,
                code=code,
                path=self.household.setup_code_path,
            )
        self.watchdog.check_period("the web UI heartbeat", HEARTBEAT_S)
        self.watchdog.ready(f"serving on port {address.port}")
        self.heartbeat.startService()
        return self.port

    async def _stop(self):
        self.watchdog.stopping()
        if self.heartbeat.running:
            await self.heartbeat.stopService()
        if self.port is not None:
            await self.port.stopListening()
        await super().stopService()
        await self.client.close()
        self.pool.stop()
        self.watchdog.close()
        log.info("web UI stopped")

    def stopService(self):
        return ensureDeferred(self._stop())


def make_service(config, reactor) -> WebuiService:
    return WebuiService(config, reactor)
