"""The engine's DNS-SD advertisement, as another process on this host sees it.

Every Zeroconf here, the advertiser's and the browser subprocess's, runs on
127.0.0.1 only, so no test sends mDNS beyond this machine.  Each test
advertises a name of its own, and the browser ignores every other name, so a
real engine running on the same host cannot confuse the tests.
"""

import json
import os
import sys
import uuid
from pathlib import Path

import ifaddr
import pytest
import pytest_twisted
from twisted.internet.defer import Deferred, DeferredQueue
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.utils import getProcessOutputAndValue
from twisted.logger import LogLevel, capturedLogs, formatEvent
from zeroconf import InterfaceChoice

from rpymostat.discovery import AdvertiseService, advertised_addresses, default_instance_name
from rpymostat.protocol import SERVICE_TYPE

BROWSER = str(Path(__file__).with_name("mdns_browse.py"))
LOOPBACK = "127.0.0.1"
#: TEST-NET-2 (RFC 5737): no host has it, so Zeroconf cannot bind to it.
ABSENT_ADDRESS = "198.51.100.7"
#: Longest any single await may take before a test fails instead of hanging.
STEP_TIMEOUT = 8


def get_reactor():
    from twisted.internet import reactor

    return reactor


def make_advertiser(**overrides) -> AdvertiseService:
    """An advertiser on loopback under a name no other test or engine uses."""
    arguments = dict(
        port=43210,
        interfaces=(LOOPBACK,),
        host=LOOPBACK,
        version="9.8.7",
        instance_name="rpymostat-test-" + uuid.uuid4().hex[:12],
    )
    arguments.update(overrides)
    return AdvertiseService(get_reactor(), **arguments)


def full_name(service: AdvertiseService) -> str:
    return f"{service.instance_name}.{SERVICE_TYPE}"


async def start_advertising(service: AdvertiseService) -> str:
    """Start ``service``; fail with the logged reason when mDNS on loopback is broken."""
    with capturedLogs() as events:
        service.startService()
        name = await service.when_advertised()
    if name is None:
        reasons = [formatEvent(e) for e in events if e["log_level"] == LogLevel.error]
        pytest.fail(
            "could not advertise on 127.0.0.1; these tests need the loopback interface "
            "up with 127.0.0.1 (nothing else): " + "; ".join(reasons)
        )
    return name


def browser_arguments(name, timeout, *extra):
    return [BROWSER, SERVICE_TYPE, str(timeout), LOOPBACK, "--name", name, *extra]


class JSONLines(ProcessProtocol):
    """Collects a subprocess's stdout as parsed JSON lines, as they arrive."""

    def __init__(self):
        self.lines = DeferredQueue()
        self.ended = Deferred()
        self.stderr = b""
        self._partial = b""

    def outReceived(self, data):
        *complete, self._partial = (self._partial + data).split(b"\n")
        for line in complete:
            self.lines.put(json.loads(line))

    def errReceived(self, data):
        self.stderr += data

    def processEnded(self, reason):
        self.ended.callback(reason.value.exitCode)

    def next_line(self) -> Deferred:
        return self.lines.get().addTimeout(STEP_TIMEOUT, get_reactor())


@pytest_twisted.ensureDeferred
async def test_another_process_discovers_the_engine():
    service = make_advertiser()
    try:
        assert await start_advertising(service) == full_name(service)
        out, err, code = await getProcessOutputAndValue(
            sys.executable,
            browser_arguments(full_name(service), 5, "--count", "1"),
            env=dict(os.environ),
            reactor=get_reactor(),
        )
    finally:
        await service.stopService()
    assert code == 0, err.decode()
    assert json.loads(out) == {
        "services": [
            {
                "name": full_name(service),
                "server": service.server,
                "addresses": [LOOPBACK],
                "port": 43210,
                "properties": {"version": "9.8.7", "api": "/v1"},
            }
        ]
    }


@pytest_twisted.ensureDeferred
async def test_stopping_sends_goodbye_that_a_watching_browser_sees():
    reactor = get_reactor()
    service = make_advertiser()
    await start_advertising(service)
    browser = JSONLines()
    process = reactor.spawnProcess(
        browser,
        sys.executable,
        [sys.executable, *browser_arguments(full_name(service), STEP_TIMEOUT, "--watch")],
        env=dict(os.environ),
    )
    try:
        added = await browser.next_line()
        assert added["event"] == "added", browser.stderr.decode()
        assert added["service"]["port"] == 43210
        await service.stopService()
        assert service.advertised_name is None
        assert await browser.next_line() == {"event": "removed", "name": full_name(service)}
        assert await browser.ended == 0
    finally:
        await service.stopService()
        if process.pid is not None:
            process.signalProcess("KILL")


@pytest_twisted.ensureDeferred
async def test_an_interface_that_does_not_exist_is_logged_and_the_service_runs_on():
    service = make_advertiser(interfaces=(ABSENT_ADDRESS,), host="0.0.0.0")
    with capturedLogs() as events:
        service.startService()
        assert await service.when_advertised() is None
        assert service.running
        assert await service.stopService() is None
    errors = [e for e in events if e["log_level"] == LogLevel.error]
    assert len(errors) == 1
    assert "discovery unavailable" in errors[0]["log_format"]
    assert errors[0]["interfaces"] == (ABSENT_ADDRESS,)
    assert errors[0]["error_type"] == "OSError"


class FakeZeroconf:
    """Stands in for python-zeroconf's Zeroconf; records what was asked of it."""

    def __init__(self, interfaces, fail_with=None, fail_close_with=None):
        self.interfaces = interfaces
        self.fail_with = fail_with
        self.fail_close_with = fail_close_with
        self.registered = []
        self.closed = False

    def register_service(self, info, allow_name_change=False):
        if self.fail_with is not None:
            raise self.fail_with
        self.registered.append((info, allow_name_change))

    def close(self):
        self.closed = True
        if self.fail_close_with is not None:
            raise self.fail_close_with


@pytest_twisted.ensureDeferred
async def test_a_failed_registration_closes_zeroconf_and_is_logged():
    made = []

    def factory(interfaces):
        made.append(FakeZeroconf(interfaces, fail_with=RuntimeError("probe failed")))
        return made[-1]

    service = make_advertiser(zeroconf_factory=factory)
    with capturedLogs() as events:
        service.startService()
        assert await service.when_advertised() is None
    assert made[0].closed
    assert made[0].interfaces == [LOOPBACK]
    (error,) = [e for e in events if e["log_level"] == LogLevel.error]
    assert (error["error_type"], error["error"]) == ("RuntimeError", "probe failed")
    await service.stopService()


@pytest_twisted.ensureDeferred
async def test_stop_during_registration_waits_for_it_then_closes():
    made = []

    def factory(interfaces):
        made.append(FakeZeroconf(interfaces))
        return made[-1]

    service = make_advertiser(interfaces=(), host="0.0.0.0", zeroconf_factory=factory)
    service.startService()
    await service.stopService()
    (zeroconf,) = made
    ((info, allow_name_change),) = zeroconf.registered
    assert allow_name_change and zeroconf.closed
    assert zeroconf.interfaces is InterfaceChoice.All
    assert info.properties == {b"version": b"9.8.7", b"api": b"/v1"}
    assert not service.running and service.advertised_name is None


@pytest_twisted.ensureDeferred
async def test_a_failure_to_close_is_logged_and_stopping_still_succeeds():
    made = []

    def factory(interfaces):
        made.append(FakeZeroconf(interfaces, fail_close_with=OSError("socket gone")))
        return made[-1]

    service = make_advertiser(zeroconf_factory=factory)
    with capturedLogs() as events:
        service.startService()
        assert await service.when_advertised() == full_name(service)
        assert await service.stopService() is None
    (error,) = [e for e in events if e["log_level"] == LogLevel.error]
    assert "socket gone" in formatEvent(error)


def adapter(*addresses):
    ips = [ifaddr.IP(a if ":" not in a else (a, 0, 0), 64, "x") for a in addresses]
    return ifaddr.Adapter("x", "x", ips)


ADAPTERS = [adapter("127.0.0.1", "::1"), adapter("192.0.2.2", "fd00::2", "fe80::1")]


def test_a_specific_listening_address_is_the_only_one_advertised():
    assert advertised_addresses("192.0.2.9", (LOOPBACK,), ADAPTERS) == ["192.0.2.9"]


def test_a_wildcard_listener_is_advertised_on_the_mdns_interfaces():
    assert advertised_addresses("0.0.0.0", (LOOPBACK, "fd00::2"), ADAPTERS) == [LOOPBACK]
    assert advertised_addresses("::", (LOOPBACK, "fd00::2"), ADAPTERS) == [LOOPBACK, "fd00::2"]


def test_without_interfaces_every_routable_address_is_advertised():
    assert advertised_addresses("0.0.0.0", (), ADAPTERS) == ["192.0.2.2"]
    assert advertised_addresses("::", (), ADAPTERS) == ["192.0.2.2", "fd00::2"]
    assert advertised_addresses("0.0.0.0", (), ADAPTERS[:1]) == [LOOPBACK]


def test_the_instance_name_fits_one_dns_label():
    name = default_instance_name("ü" * 100)
    assert name.startswith("RPyMostat engine on ü")
    assert len(name.encode("utf-8")) <= 63
