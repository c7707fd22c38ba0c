"""Daemons find the engine by mDNS, and follow it when it moves.

Every Zeroconf here, the advertisers' and the finders', runs on 127.0.0.1
only, so no test sends mDNS beyond this machine.  Each test advertises names
of its own and its finder ignores all others, so a developer's engine running
on the same host cannot confuse the tests.
"""

import threading
import uuid

import pytest
import pytest_twisted
from twisted.internet.defer import DeferredQueue
from twisted.internet.task import deferLater
from twisted.logger import LogLevel, capturedLogs, formatEvent
from zeroconf import ServiceInfo, ServiceStateChange

from rpymostat.discovery import AdvertiseService
from rpymostat.protocol import SERVICE_TYPE
from rpymostat.protocol.browse import MAX_API_PATH, Engine, EngineFinder, choose, engine_from_info

LOOPBACK = "127.0.0.1"
#: TEST-NET-2 (RFC 5737): no host has it, so Zeroconf cannot bind to it.
ABSENT_ADDRESS = "198.51.100.7"
#: Longest any single await may take before a test fails instead of hanging.
STEP_TIMEOUT = 8


def get_reactor():
    from twisted.internet import reactor

    return reactor


def unique_instance() -> str:
    return "rpymostat-test-" + uuid.uuid4().hex[:12]


def make_advertiser(instance_name, port) -> AdvertiseService:
    return AdvertiseService(get_reactor(), port, (LOOPBACK,), LOOPBACK, "9.8.7", instance_name=instance_name)


async def advertise(instance_name, port) -> AdvertiseService:
    service = make_advertiser(instance_name, port)
    service.startService()
    assert await service.when_advertised() == f"{instance_name}.{SERVICE_TYPE}"
    return service


def make_finder(*instances, **overrides) -> EngineFinder:
    """A finder on loopback that sees only ``instances``."""
    wanted = {f"{instance}.{SERVICE_TYPE}".lower() for instance in instances}
    arguments = dict(interfaces=(LOOPBACK,), name_filter=lambda name: name.lower() in wanted)
    arguments.update(overrides)
    return EngineFinder(get_reactor(), **arguments)


async def until(condition, timeout=STEP_TIMEOUT):
    """Poll ``condition`` on the reactor until true; fail after ``timeout`` seconds."""
    reactor = get_reactor()
    deadline = reactor.seconds() + timeout
    while not condition():
        assert reactor.seconds() < deadline, "condition not met in time"
        await deferLater(reactor, 0.05)


def next_url(changes: DeferredQueue):
    """The next URL given to ``on_change``, failing rather than hanging."""
    return changes.get().addTimeout(STEP_TIMEOUT, get_reactor())


@pytest_twisted.ensureDeferred
async def test_an_advertised_engine_is_found_with_its_api_url():
    instance = unique_instance()
    advertiser = await advertise(instance, 43220)
    finder = make_finder(instance)
    try:
        finder.startService()
        url = await finder.when_found().addTimeout(STEP_TIMEOUT, get_reactor())
        assert url == finder.current() == f"http://{LOOPBACK}:43220/v1"
        assert finder.when_found().called
        (engine,) = finder.engines()
        assert engine.version == "9.8.7"
    finally:
        await finder.stopService()
        await advertiser.stopService()
    assert finder.current() is None


@pytest_twisted.ensureDeferred
async def test_the_finder_follows_an_engine_that_restarts_on_another_port():
    instance = unique_instance()
    changes, threads = DeferredQueue(), []

    def on_change(url):
        threads.append(threading.current_thread())
        changes.put(url)

    advertiser = await advertise(instance, 43221)
    finder = make_finder(instance, on_change=on_change)
    try:
        finder.startService()
        assert await next_url(changes) == f"http://{LOOPBACK}:43221/v1"
        await advertiser.stopService()
        assert await next_url(changes) is None
        assert finder.current() is None
        advertiser = await advertise(instance, 43222)
        assert await next_url(changes) == f"http://{LOOPBACK}:43222/v1"
        assert finder.current() == f"http://{LOOPBACK}:43222/v1"
    finally:
        await finder.stopService()
        await advertiser.stopService()
    assert threads == [threading.main_thread()] * 3


@pytest_twisted.ensureDeferred
async def test_of_two_engines_the_lowest_name_is_chosen_and_the_other_logged():
    base = unique_instance()
    low, high = base + "-a", base + "-b"
    advertisers = [await advertise(high, 43223), await advertise(low, 43224)]
    finder = make_finder(low, high)
    try:
        with capturedLogs() as events:
            finder.startService()
            await until(lambda: len(finder.engines()) == 2)
        assert finder.current() == f"http://{LOOPBACK}:43224/v1"
        assert [e.name for e in finder.engines()] == [
            f"{low}.{SERVICE_TYPE}",
            f"{high}.{SERVICE_TYPE}",
        ]
        last = [e for e in events if "using engine" in e["log_format"]][-1]
        assert (last["name"], last["others"]) == (
            f"{low}.{SERVICE_TYPE}",
            [f"{high}.{SERVICE_TYPE}"],
        )
    finally:
        await finder.stopService()
        for advertiser in advertisers:
            await advertiser.stopService()


def test_the_choice_ignores_arrival_order_and_name_case():
    first = Engine("Alpha._rpymostat._tcp.local.", ("10.0.0.9",), 1, "/v1", None)
    second = Engine("beta._rpymostat._tcp.local.", ("10.0.0.1",), 1, "/v1", None)
    assert choose([first, second]) == choose([second, first]) == first
    assert choose([]) is None


def test_urls_use_the_first_address_with_ipv6_in_brackets():
    assert Engine("x", ("fd00::2",), 8088, "/v1", None).url == "http://[fd00::2]:8088/v1"
    assert Engine("x", ("10.0.0.2", "fd00::2"), 80, "/v2", None).url == "http://10.0.0.2:80/v2"


@pytest_twisted.ensureDeferred
async def test_a_failing_zeroconf_is_logged_and_the_finder_runs_on():
    def factory(interfaces):
        raise OSError("no such interface")

    changes = []
    finder = make_finder(zeroconf_factory=factory, on_change=changes.append)
    with capturedLogs() as events:
        finder.startService()
        found = finder.when_found()
        assert finder.running
        assert await finder.stopService() is None
    (error,) = [e for e in events if e["log_level"] == LogLevel.error]
    assert "discovery unavailable" in error["log_format"]
    assert (error["error_type"], error["error"]) == ("OSError", "no such interface")
    assert finder.current() is None and changes == [] and not found.called
    found.cancel()


@pytest_twisted.ensureDeferred
async def test_an_interface_that_does_not_exist_is_logged_and_the_finder_runs_on():
    finder = make_finder(interfaces=(ABSENT_ADDRESS,))
    with capturedLogs() as events:
        finder.startService()
        assert await finder.stopService() is None
    (error,) = [e for e in events if e["log_level"] == LogLevel.error]
    assert error["interfaces"] == (ABSENT_ADDRESS,)
    assert finder.current() is None


def info(instance, port=8088, addresses=("10.0.0.2",), **properties) -> ServiceInfo:
    properties = properties or {"version": "1.0", "api": "/v1"}
    return ServiceInfo(
        SERVICE_TYPE,
        f"{instance}.{SERVICE_TYPE}",
        port=port,
        properties=properties,
        parsed_addresses=list(addresses),
    )


def test_a_resolved_advertisement_becomes_an_engine_ipv4_first():
    engine = engine_from_info(info("e", 8088, ["fd00::2", "10.0.0.9", "10.0.0.10"], api="/v2"))
    assert engine == Engine(f"e.{SERVICE_TYPE}", ("10.0.0.9", "10.0.0.10", "fd00::2"), 8088, "/v2", None)
    assert engine_from_info(info("e", 8088, ["fd00::2"], version="3")).url == "http://[fd00::2]:8088/v1"
    assert engine_from_info(info("e", 8088, [])) is None


class FakeZeroconf:
    """Answers resolves from ``answers`` (a ServiceInfo, None, or an exception to raise)."""

    def __init__(self, answers, fail_close_with=None):
        self.answers = answers
        self.fail_close_with = fail_close_with
        self.gates = {}  # name -> threading.Event a resolve of that name waits for
        self.asked, self.answered = [], []
        self.closed = False

    def get_service_info(self, service_type, name, timeout):
        self.asked.append(name)
        if name in self.gates:
            assert self.gates[name].wait(STEP_TIMEOUT)
        answer = self.answers[name]
        self.answered.append(name)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self):
        self.closed = True
        if self.fail_close_with is not None:
            raise self.fail_close_with


class FakeBrowser:
    """Calls the finder's handler from a thread of its own, as python-zeroconf does."""

    def __init__(self, zeroconf, handler):
        self.zeroconf, self.handler, self.cancelled = zeroconf, handler, False

    def hear(self, instance, change=ServiceStateChange.Added):
        arguments = dict(
            zeroconf=self.zeroconf,
            service_type=SERVICE_TYPE,
            name=f"{instance}.{SERVICE_TYPE}",
            state_change=change,
        )
        thread = threading.Thread(target=self.handler, kwargs=arguments)
        thread.start()
        thread.join()

    def cancel(self):
        self.cancelled = True


async def fake_finder(answers, **overrides):
    """A started finder on fakes; returns it, its FakeZeroconf and its FakeBrowser."""
    zeroconf, browsers = FakeZeroconf(answers), []

    def browser(zeroconf, handler):
        browsers.append(FakeBrowser(zeroconf, handler))
        return browsers[-1]

    arguments = dict(zeroconf_factory=lambda interfaces: zeroconf, browser_factory=browser)
    arguments.update(overrides)
    finder = EngineFinder(get_reactor(), **arguments)
    finder.startService()
    await until(lambda: browsers)
    return finder, zeroconf, browsers[0]


@pytest_twisted.ensureDeferred
async def test_an_engine_that_moves_or_goes_is_followed_and_filtered_names_ignored():
    answers = {f"{n}.{SERVICE_TYPE}": info(n) for n in ("a", "b", "c")}
    changes = DeferredQueue()
    finder, zeroconf, browser = await fake_finder(
        answers, on_change=changes.put, name_filter=lambda name: not name.startswith("c.")
    )
    browser.hear("c")
    browser.hear("b")
    assert await next_url(changes) == "http://10.0.0.2:8088/v1"
    answers[f"a.{SERVICE_TYPE}"] = info("a", 9000)
    browser.hear("a")
    assert await next_url(changes) == "http://10.0.0.2:9000/v1"
    answers[f"a.{SERVICE_TYPE}"] = info("a", 9001, ["10.0.0.3"])
    browser.hear("a", ServiceStateChange.Updated)
    assert await next_url(changes) == "http://10.0.0.3:9001/v1"
    browser.hear("a", ServiceStateChange.Removed)
    assert await next_url(changes) == "http://10.0.0.2:8088/v1"
    browser.hear("b", ServiceStateChange.Removed)
    assert await next_url(changes) is None
    assert f"c.{SERVICE_TYPE}" not in zeroconf.asked
    await finder.stopService()
    assert browser.cancelled and zeroconf.closed


@pytest_twisted.ensureDeferred
async def test_a_resolve_overtaken_by_a_removal_is_dropped():
    answers = {f"{n}.{SERVICE_TYPE}": info(n) for n in ("a", "b")}
    finder, zeroconf, browser = await fake_finder(answers)
    zeroconf.gates[f"a.{SERVICE_TYPE}"] = gate = threading.Event()
    browser.hear("a")
    await until(lambda: zeroconf.asked)
    browser.hear("a", ServiceStateChange.Removed)
    gate.set()
    await until(lambda: zeroconf.answered)
    browser.hear("b")  # a later event, so a's stale answer has long arrived once b resolved
    await until(lambda: finder.engines())
    assert [e.name for e in finder.engines()] == [f"b.{SERVICE_TYPE}"]
    await finder.stopService()


@pytest_twisted.ensureDeferred
async def test_unresolvable_engines_and_a_failing_on_change_are_logged_not_raised():
    answers = {
        f"a.{SERVICE_TYPE}": None,
        f"b.{SERVICE_TYPE}": OSError("gone"),
        f"c.{SERVICE_TYPE}": info("c"),
    }

    def on_change(url):
        raise ValueError("daemon bug")

    with capturedLogs() as events:
        finder, _, browser = await fake_finder(answers, on_change=on_change)
        for name in "abc":
            browser.hear(name)
        wanted = ("did not resolve", "resolving engine {name} failed", "on_change raised")
        await until(lambda: all(any(t in e["log_format"] for e in events) for t in wanted))
        assert finder.current() == "http://10.0.0.2:8088/v1"
        await finder.stopService()
    assert finder.current() is None


@pytest_twisted.ensureDeferred
async def test_waiting_can_be_cancelled_and_a_failed_close_is_logged():
    finder, zeroconf, _ = await fake_finder({})
    zeroconf.fail_close_with = OSError("socket gone")
    waiting = finder.when_found()
    waiting.cancel()
    waiting.addErrback(lambda failure: None)
    with capturedLogs() as events:
        assert await finder.stopService() is None
    (error,) = [e for e in events if e["log_level"] == LogLevel.error]
    assert "socket gone" in str(error["error"])


@pytest_twisted.ensureDeferred
async def test_a_browser_that_cannot_start_closes_zeroconf_and_is_logged():
    zeroconf = FakeZeroconf({})

    def browser(zeroconf, handler):
        raise RuntimeError("event loop is not running")

    finder = EngineFinder(get_reactor(), zeroconf_factory=lambda i: zeroconf, browser_factory=browser)
    with capturedLogs() as events:
        finder.startService()
        await finder.stopService()
        await until(lambda: zeroconf.closed)
    (error,) = [e for e in events if e["log_level"] == LogLevel.error]
    assert error["error_type"] == "RuntimeError"


@pytest.mark.parametrize(
    "api",
    [
        "v2",  # not from the root
        "/v 1",  # a space
        "/v1\t",
        "/v1\n",
        "/énergie",  # not ASCII
        b"/v1\xff",  # not even UTF-8
        "/\x7f",
        "/" + "a" * MAX_API_PATH,  # too long
        "//evil.example/v1",  # still a path, so kept: see below
    ],
)
def test_an_advertised_api_path_that_would_not_make_a_plain_url_makes_the_advertisement_ignored(api):
    with capturedLogs() as events:
        engine = engine_from_info(info("e", 8088, ["10.0.0.9"], api=api))
    if api == "//evil.example/v1":
        assert engine.url == "http://10.0.0.9:8088//evil.example/v1"  # the host stays the advertised address
        return
    assert engine is None
    [event] = events
    assert event["log_level"] == LogLevel.debug and "advertised API path" in formatEvent(event)


def test_the_longest_api_path_and_an_absent_one_are_fine():
    longest = "/" + "a" * (MAX_API_PATH - 1)
    assert engine_from_info(info("e", 8088, ["10.0.0.9"], api=longest)).api_path == longest
    assert engine_from_info(info("e", 8088, ["10.0.0.9"], api="/~!$&'()*+,;=:@%20-._")) is not None
    for absent in (None, ""):
        assert engine_from_info(info("e", 8088, ["10.0.0.9"], api=absent, version="1")).api_path == "/v1"


@pytest_twisted.ensureDeferred
async def test_an_engine_with_an_unusable_api_path_is_skipped_and_the_next_one_chosen():
    answers = {
        f"a.{SERVICE_TYPE}": info("a", api="/v 1"),
        f"b.{SERVICE_TYPE}": info("b", port=8089),
    }
    changes = DeferredQueue()
    with capturedLogs() as events:
        finder, _, browser = await fake_finder(answers, on_change=changes.put)
        browser.hear("a")
        browser.hear("b")
        assert await next_url(changes) == "http://10.0.0.2:8089/v1"
        await until(lambda: any("did not resolve" in e["log_format"] for e in events))
        assert [e.name for e in finder.engines()] == [f"b.{SERVICE_TYPE}"]
        await finder.stopService()


@pytest_twisted.ensureDeferred
async def test_an_engine_that_cannot_prove_itself_is_ignored_and_the_real_one_followed(tmp_path):
    """A rogue advertising a lower name never gets the choice; the real engine is followed when it moves."""
    from twisted.internet.task import Clock

    from rpymostat.protocol.client import JsonClient
    from rpymostat.protocol.credentials import Credentials, save
    from rpymostat.protocol.peer import EngineLink
    from rpymostat.protocol.tokens import token_hash
    from rpymostat.protocol.vetting import REFUSAL_S, RETRY_S
    from tests.sensor.fake_engine import FakeEngine

    clock, reactor = Clock(), get_reactor()
    real, rogue = await FakeEngine(clock).listen(reactor), await FakeEngine(clock).listen(reactor)
    moved = await FakeEngine(clock).listen(reactor)  # the real engine after a restart on another port
    credentials = Credentials("rpy_paired", "sensor-pi", "the-secret")
    for engine in (real, moved):
        engine.tokens[token_hash(credentials.token)] = {"name": credentials.name, "secret": credentials.secret}
    save(tmp_path, credentials)
    client = JsonClient(reactor, timeout=2)
    link = EngineLink(client, clock, tmp_path, "pi", "sensor", lambda: None)
    port = lambda engine: engine.port.getHost().port  # noqa: E731
    answers = {
        f"a.{SERVICE_TYPE}": info("a", port(rogue), [LOOPBACK]),
        f"b.{SERVICE_TYPE}": info("b", port(real), [LOOPBACK]),
        f"c.{SERVICE_TYPE}": info("c", 9, [LOOPBACK]),  # nothing listens: cannot be asked
    }
    changes = DeferredQueue()
    finder, _, browser = await fake_finder(answers, vet=link.vet, clock=clock, on_change=changes.put)
    try:
        with capturedLogs() as events:
            browser.hear("c")
            browser.hear("a")
            browser.hear("b")
            assert await next_url(changes) == real.url
            await until(lambda: rogue.proofs_asked() and real.proofs_asked() and clock.getDelayedCalls())
            assert finder.current() == real.url and changes.pending == []
            assert rogue.updates == [] and len(real.proofs_asked()) == 1
            # The rogue's refusal stands until it expires; the silent one is asked again sooner.
            clock.advance(RETRY_S)
            clock.advance(REFUSAL_S - RETRY_S)
            await until(lambda: len(rogue.proofs_asked()) == 2)
            assert finder.current() == real.url
            # The real engine moves: asked again at its new address, then followed.
            answers[f"b.{SERVICE_TYPE}"] = info("b", port(moved), [LOOPBACK])
            browser.hear("b", ServiceStateChange.Updated)
            assert await next_url(changes) is None  # not used at the new address before its proof
            assert await next_url(changes) == moved.url == finder.current()
            assert moved.proofs_asked() == ["/v1/pair/proof"]
        warnings = [e for e in events if e["log_level"] == LogLevel.warn]
        assert [e["url"] for e in warnings] == [rogue.url]
        assert "cannot prove it is the one this host paired with" in warnings[0]["log_format"]
        assert all(rogue.url not in str(e.get("url")) for e in events if "using engine" in e["log_format"])
    finally:
        await finder.stopService()
        assert clock.getDelayedCalls() == []
        await client.close()
        for engine in (real, rogue, moved):
            await engine.close()


@pytest_twisted.ensureDeferred
async def test_without_a_vet_every_engine_is_accepted_as_before():
    answers = {f"a.{SERVICE_TYPE}": info("a")}
    finder, _, browser = await fake_finder(answers)
    browser.hear("a")
    await until(lambda: finder.current())
    assert finder.current() == "http://10.0.0.2:8088/v1"
    await finder.stopService()
