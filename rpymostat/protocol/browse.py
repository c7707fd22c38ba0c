"""Find the engine by mDNS/DNS-SD, so daemons need not be told its address.

:class:`EngineFinder` browses for the engine while it runs and follows it as
engines come, go and move.  Several engines on one LAN is a mistake, but a
survivable one: the choice (:func:`choose`) is deterministic, so every daemon
talks to the same engine, and logged.  python-zeroconf calls browser handlers
on its own thread; they only hop to the reactor thread, where all state lives.
Blocking calls run in the reactor's thread pool.  Failures are logged, never raised.

A paired daemon gives the finder a ``vet``: then an engine is used only once
it has proved it is the one this host paired with, candidates being asked in
the same name order (:class:`~rpymostat.protocol.vetting.Vetting`), so a rogue
advertisement is skipped and the real engine still followed when it moves.
"""

import ipaddress
from collections.abc import Callable, Iterable
from typing import NamedTuple

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredLock, succeed
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from zeroconf import InterfaceChoice, ServiceBrowser, ServiceStateChange, Zeroconf

from rpymostat.protocol import API_BASE_PATH, SERVICE_TYPE, TXT_API_PATH, TXT_TLS, TXT_VERSION
from rpymostat.protocol.vetting import Vetting

#: How long to wait for one engine's SRV, TXT and address records, in milliseconds.
RESOLVE_TIMEOUT_MS = 3000


class Engine(NamedTuple):
    """One resolved advertisement; ``addresses`` sorted, IPv4 first."""

    name: str
    addresses: tuple[str, ...]
    port: int
    api_path: str
    version: str | None
    tls: bool = False

    @property
    def url(self) -> str:
        """The API's base URL on the first address, e.g. ``http://[fd00::2]:8088/v1`` (``https`` with TLS)."""
        host = self.addresses[0]
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{self.api_path}"


def name_order(engine: Engine):
    """Lowest name first, ignoring case as DNS does (exact name breaks ties)."""
    return engine.name.lower(), engine.name


def choose(engines: Iterable[Engine]) -> Engine | None:
    """The engine every daemon picks given the same advertisements; None if none."""
    return min(engines, key=name_order, default=None)


#: The longest API path an advertisement may give (``/v1`` in practice).
MAX_API_PATH = 100

log = Logger()


def usable_api_path(path: str) -> bool:
    """Whether an advertised API path can go into a URL as is: ``/``, then printable ASCII, no spaces."""
    return path.startswith("/") and len(path) <= MAX_API_PATH and all("!" <= c <= "~" for c in path)


def engine_from_info(info) -> Engine | None:
    """An :class:`Engine` from a resolved ``ServiceInfo``; None if it has no usable address or API path.

    The advertisement is anybody's on the LAN, so an API path that would not
    make a plain URL (not starting with ``/``, a space, a control or non-ASCII
    character, over :data:`MAX_API_PATH` characters) makes it ignored rather
    than tried.
    """
    parsed = (ipaddress.ip_address(text) for text in info.parsed_addresses())
    addresses = tuple(str(a) for a in sorted(parsed, key=lambda a: (a.version, a)))
    if not addresses or not info.port:
        return None
    properties = {
        key.decode("utf-8", "replace"): None if value is None else value.decode("utf-8", "replace")
        for key, value in info.properties.items()
    }
    api_path = properties.get(TXT_API_PATH) or API_BASE_PATH
    if not usable_api_path(api_path):
        log.debug("ignoring engine {name}: its advertised API path {path!r} is unusable", name=info.name, path=api_path)
        return None
    tls = properties.get(TXT_TLS) == "1"
    return Engine(info.name, addresses, info.port, api_path, properties.get(TXT_VERSION), tls)


def default_zeroconf(interfaces) -> Zeroconf:
    """A python-zeroconf instance on ``interfaces`` (addresses, or InterfaceChoice.All)."""
    return Zeroconf(interfaces=interfaces)


def default_browser(zeroconf: Zeroconf, handler) -> ServiceBrowser:
    """A browser for engines; its thread calls ``handler`` by keyword, and ``cancel()`` ends it."""
    return ServiceBrowser(zeroconf, SERVICE_TYPE, handlers=[handler])


class EngineFinder(Service):
    """Knows, while running, which engine answers on the LAN.

    ``interfaces`` are the addresses mDNS runs on (empty: all).  ``on_change``
    is called on the reactor thread with the chosen engine's URL, or None,
    each time the choice changes.  ``name_filter(full_name)`` (called on the
    reactor thread) may exclude advertisements, e.g. to pin one engine or to
    ignore developers' engines in tests.  ``vet(url)`` (returning a bool or a
    Deferred of one; by default every engine is accepted) must pass before an
    engine is chosen; ``clock`` times its retries (default: ``reactor``).
    ``zeroconf_factory(interfaces)`` and ``browser_factory(zeroconf, handler)``
    are for tests.  Stopping forgets every engine and verdict without calling
    ``on_change``; pending ``when_found()`` wait on.
    """

    log = Logger()

    def __init__(
        self,
        reactor,
        interfaces: tuple[str, ...] = (),
        on_change: Callable[[str | None], None] | None = None,
        zeroconf_factory: Callable[..., Zeroconf] | None = None,
        name_filter: Callable[[str], bool] | None = None,
        browser_factory: Callable[..., ServiceBrowser] = default_browser,
        vet: Callable[[str], object] | None = None,
        clock=None,
    ):
        self._reactor = reactor
        self._vetting = None if vet is None else Vetting(vet, clock or reactor, self._choose)
        self.interfaces = tuple(interfaces)
        self._on_change = on_change
        self._zeroconf_factory = zeroconf_factory or default_zeroconf
        self._name_filter = name_filter
        self._browser_factory = browser_factory
        self._lock = DeferredLock()
        self._zeroconf = self._browser = None
        self._waiters = []
        self._forget()

    def _forget(self):
        if self._vetting is not None:
            self._vetting.stop()
        self._engines = {}
        self._events = {}  # name -> events heard, so a resolve overtaken by one is dropped
        self._chosen, self._others = None, ()

    def current(self) -> str | None:
        """The chosen engine's base URL, or None while none is known."""
        return None if self._chosen is None else self._chosen.url

    def engines(self) -> tuple[Engine, ...]:
        """Every engine known, in name order (the chosen one first)."""
        return tuple(sorted(self._engines.values(), key=name_order))

    def when_found(self) -> Deferred:
        """Fires with the first URL known (at once if one is); cancel it to stop waiting."""
        if self._chosen is not None:
            return succeed(self._chosen.url)
        waiter = Deferred(lambda d: self._waiters.remove(d))
        self._waiters.append(waiter)
        return waiter

    def startService(self):
        super().startService()
        self._lock.run(self._open)

    def stopService(self) -> Deferred:
        """Fires, never fails, once browsing stopped and Zeroconf is closed."""
        super().stopService()
        return self._lock.run(self._close)

    def _in_thread(self, function, *args) -> Deferred:
        return deferToThreadPool(self._reactor, self._reactor.getThreadPool(), function, *args)

    def _open(self) -> Deferred:
        interfaces = list(self.interfaces) or InterfaceChoice.All
        return (
            self._in_thread(self._zeroconf_factory, interfaces).addCallback(self._browse).addErrback(self._unavailable)
        )

    def _browse(self, zeroconf):
        """On the reactor thread, so no handler can run before ``_zeroconf`` is set."""
        self._zeroconf = zeroconf
        try:
            self._browser = self._browser_factory(zeroconf, self._heard)
        except BaseException:
            self._zeroconf = None
            self._in_thread(zeroconf.close)
            raise
        self.log.info("browsing mDNS on {interfaces}", interfaces=self.interfaces or "all")

    def _unavailable(self, failure):
        self.log.error(
            "mDNS discovery unavailable, give this daemon the engine's address: could not "
            "browse on {interfaces}: {error_type}: {error}",
            interfaces=self.interfaces or "all",
            error_type=failure.type.__name__,
            error=failure.getErrorMessage(),
        )

    def _heard(self, zeroconf, service_type, name, state_change):
        """Runs on the browser's thread; python-zeroconf passes these by keyword."""
        self._reactor.callFromThread(self._changed, zeroconf, name, state_change)

    def _changed(self, zeroconf, name, state_change):
        if zeroconf is not self._zeroconf or (self._name_filter and not self._name_filter(name)):
            return
        self._events[name] = event = self._events.get(name, 0) + 1
        if state_change is ServiceStateChange.Removed:
            self._engines.pop(name, None)
            return self._choose()
        resolve = zeroconf.get_service_info
        resolving = self._in_thread(resolve, SERVICE_TYPE, name, RESOLVE_TIMEOUT_MS)
        resolving.addCallbacks(self._resolved, self._resolve_failed, (zeroconf, name, event), None, (zeroconf, name))

    def _resolved(self, info, zeroconf, name, event):
        if zeroconf is not self._zeroconf or self._events.get(name) != event:
            return  # stopped, or a later event for this name superseded this one
        engine = None if info is None else engine_from_info(info)
        if engine is None:
            self.log.warn("engine {name} did not resolve to a usable address, port and API path", name=name)
            self._engines.pop(name, None)
        else:
            self._engines[name] = engine
        self._choose()

    def _resolve_failed(self, failure, zeroconf, name):
        if zeroconf is self._zeroconf:  # else it was closed under the resolve: no news
            self.log.warn("resolving engine {name} failed: {error}", name=name, error=failure.value)

    def _pick(self) -> Engine | None:
        """The engine to use: the first in name order, or the first that passed the vet."""
        if self._vetting is None:
            return choose(self._engines.values())
        engines = self.engines()
        url = self._vetting.pick([engine.url for engine in engines])
        return next((engine for engine in engines if engine.url == url), None)

    def _choose(self):
        """Re-pick after any change; log when the choice or the other engines change."""
        chosen, previous = self._pick(), self._chosen
        others = tuple(e.name for e in self.engines() if chosen is None or e.name != chosen.name)
        if (chosen, others) == (previous, self._others):
            return
        self._chosen, self._others = chosen, others
        if chosen is None and others:
            self.log.info("no engine has proved itself yet; answering: {others}", others=list(others))
        elif chosen is None:
            self.log.warn("no engine answers on mDNS any more")
        else:
            self.log.info(
                "using engine {name} at {url} (version {version}); others answering: {others}",
                name=chosen.name,
                url=chosen.url,
                version=chosen.version,
                others=list(others),
            )
        if self.current() == (previous and previous.url):
            return
        if chosen is not None:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                waiter.callback(chosen.url)
        if self._on_change is not None:
            try:
                self._on_change(self.current())
            except Exception:
                self.log.failure("on_change raised; discovery goes on")

    def _close(self) -> Deferred:
        zeroconf, browser, self._zeroconf, self._browser = self._zeroconf, self._browser, None, None
        self._forget()
        if zeroconf is None:
            return succeed(None)
        closing = self._in_thread(lambda: (browser.cancel(), zeroconf.close()))
        return closing.addCallbacks(lambda _: None, self._close_failed)

    def _close_failed(self, failure):
        self.log.error("closing mDNS browsing failed: {error}", error=failure.value)
