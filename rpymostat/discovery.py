"""Advertise the engine by mDNS/DNS-SD, so daemons find it without configuration.

The engine builds an :class:`AdvertiseService` once its HTTP port is known
(the configured port may be 0, picked at listen time) and adds it to its
service tree; starting it registers ``<instance>._rpymostat._tcp.local.`` with
TXT ``version`` and ``api``, stopping it sends goodbye packets so browsers drop
the engine at once rather than when the record's TTL runs out.

Discovery is a convenience, not a dependency: every failure here is logged
and swallowed, and the engine keeps serving to daemons configured by address.

python-zeroconf's sync API blocks (probing and announcing take about 1.5 s)
and runs its own thread, so each blocking call runs in the reactor's thread
pool, and calls are serialised so a stop waits for a registration in flight.
"""

import ipaddress
import socket
from collections.abc import Callable, Sequence

import ifaddr
from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredLock, succeed
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from zeroconf import InterfaceChoice, ServiceInfo, Zeroconf

from rpymostat.protocol import API_BASE_PATH, SERVICE_TYPE, TXT_API_PATH, TXT_TLS, TXT_VERSION
from rpymostat.protocol.endpoints import WILDCARD_HOSTS

#: DNS labels, and so DNS-SD instance names, hold at most 63 bytes.
MAX_LABEL_BYTES = 63


def default_zeroconf(interfaces) -> Zeroconf:
    """A python-zeroconf instance on ``interfaces`` (addresses, or InterfaceChoice.All)."""
    return Zeroconf(interfaces=interfaces)


def default_instance_name(hostname: str) -> str:
    """``RPyMostat engine on <host>``: unique per host, readable in any browser."""
    return truncate_label("RPyMostat engine on " + hostname)


def truncate_label(text: str) -> str:
    """``text`` cut to one DNS label without splitting a UTF-8 character."""
    return text.encode("utf-8")[:MAX_LABEL_BYTES].decode("utf-8", "ignore")


def host_addresses(include_ipv6: bool, adapters=None) -> list[str]:
    """This host's addresses worth advertising on a LAN.

    Loopback and IPv6 link-local addresses are left out (the latter need a
    scope that DNS-SD cannot carry); a host with nothing else still gets its
    loopback addresses, so local daemons find it.
    """
    found, loopback = [], []
    for adapter in ifaddr.get_adapters() if adapters is None else adapters:
        for ip in adapter.ips:
            text = ip.ip if ip.is_IPv4 else ip.ip[0]
            if ip.is_IPv6 and not include_ipv6:
                continue
            address = ipaddress.ip_address(text)
            if address.is_loopback:
                loopback.append(text)
            elif not (address.version == 6 and address.is_link_local):
                found.append(text)
    return found or loopback


def advertised_addresses(host: str, interfaces: Sequence[str], adapters=None) -> list[str]:
    """The addresses clients should connect to, given where the API listens.

    A specific ``host`` is the only address that answers.  A wildcard means
    every address, narrowed to the mDNS ``interfaces`` when those are set
    (they are where the engine means to be found); ``0.0.0.0`` listens on IPv4
    only, so IPv6 addresses are then left out.
    """
    if host not in WILDCARD_HOSTS:
        return [host]
    include_ipv6 = host == "::"
    if interfaces:
        return [a for a in interfaces if include_ipv6 or ":" not in a]
    return host_addresses(include_ipv6, adapters)


class AdvertiseService(Service):
    """The engine's DNS-SD advertisement for as long as the service runs.

    ``port`` is the API's actual listening port, so build this only after
    listening.  ``interfaces`` are the addresses mDNS runs on (empty: all).
    ``zeroconf_factory(interfaces)`` exists for tests.

    ``stopService()`` returns a Deferred that fires, never fails, once the
    goodbye packets are sent and Zeroconf is closed.  ``advertised_name`` is
    the registered name (which may have gained a suffix if another engine had
    the name), or None while nothing is advertised.
    """

    log = Logger()

    def __init__(
        self,
        reactor,
        port: int,
        interfaces: tuple[str, ...],
        host: str,
        version: str,
        instance_name: str | None = None,
        zeroconf_factory: Callable[..., Zeroconf] = default_zeroconf,
        tls: bool = False,
    ):
        self._reactor = reactor
        self.tls = tls
        self.port = port
        self.interfaces = tuple(interfaces)
        self.host = host
        self.version = version
        hostname = socket.gethostname().split(".")[0] or "rpymostat"
        self.instance_name = instance_name or default_instance_name(hostname)
        self.server = hostname + ".local."
        self._zeroconf_factory = zeroconf_factory
        self._zeroconf = None
        self._lock = DeferredLock()
        self.advertised_name = None

    def startService(self):
        super().startService()
        self._lock.run(self._register)

    def stopService(self) -> Deferred:
        super().stopService()
        return self._lock.run(self._withdraw)

    def when_advertised(self) -> Deferred:
        """Fires with the advertised name once registration ends, or None if it failed."""
        return self._lock.run(lambda: succeed(self.advertised_name))

    def _in_thread(self, function, *args) -> Deferred:
        return deferToThreadPool(self._reactor, self._reactor.getThreadPool(), function, *args)

    def _register(self) -> Deferred:
        done = self._in_thread(self._register_blocking)
        return done.addCallbacks(self._advertised, self._unavailable)

    def _register_blocking(self):
        """Runs in a pool thread: build the record, open Zeroconf, probe and announce."""
        info = ServiceInfo(
            SERVICE_TYPE,
            f"{self.instance_name}.{SERVICE_TYPE}",
            port=self.port,
            properties={
                TXT_VERSION: self.version,
                TXT_API_PATH: API_BASE_PATH,
                **({TXT_TLS: "1"} if self.tls else {}),
            },
            server=self.server,
            parsed_addresses=advertised_addresses(self.host, self.interfaces),
        )
        zeroconf = self._zeroconf_factory(list(self.interfaces) or InterfaceChoice.All)
        try:
            zeroconf.register_service(info, allow_name_change=True)
        except BaseException:
            zeroconf.close()
            raise
        return zeroconf, info

    def _advertised(self, result):
        self._zeroconf, info = result
        self.advertised_name = info.name
        self.log.info(
            "advertising {name} by mDNS: port {port}, addresses {addresses}",
            name=info.name,
            port=info.port,
            addresses=info.parsed_addresses(),
            interfaces=self.interfaces or "all",
        )

    def _unavailable(self, failure):
        self.log.error(
            "mDNS discovery unavailable, daemons must be given the engine's address: "
            "could not advertise on {interfaces}: {error_type}: {error}",
            interfaces=self.interfaces or "all",
            error_type=failure.type.__name__,
            error=failure.getErrorMessage(),
        )

    def _withdraw(self) -> Deferred:
        """Close Zeroconf, which sends goodbyes for everything it registered.

        python-zeroconf's ``unregister_service`` only schedules its goodbyes,
        so closing right after it could cut them short; ``close`` waits for them.
        """
        zeroconf, self._zeroconf = self._zeroconf, None
        name, self.advertised_name = self.advertised_name, None
        if zeroconf is None:
            return succeed(None)
        done = self._in_thread(zeroconf.close)
        return done.addCallbacks(self._withdrawn, self._withdraw_failed, callbackArgs=(name,), errbackArgs=(name,))

    def _withdrawn(self, _, name):
        self.log.info("withdrew mDNS advertisement {name}", name=name)

    def _withdraw_failed(self, failure, name):
        self.log.error("closing mDNS for {name} failed: {error}", name=name, error=failure.value)
