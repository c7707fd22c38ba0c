"""The control daemon's service tree over real loopback HTTP, a fake engine and a hand-turned clock."""

import dataclasses
import json

import pytest
import pytest_twisted
import treq
from twisted.application.service import Service
from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.error import CannotListenError, ConnectionRefusedError
from twisted.internet.task import Clock
from twisted.logger import formatEvent, globalLogPublisher
from twisted.web.server import Site

from rpymostat_control.address import http_url, local_address_towards
from rpymostat_control.config import ControlConfig
from rpymostat_control.relays.interface import RelayFault
from rpymostat_control.relays.sim import SimRelays
from rpymostat_control.service import NO_RELAYS, SAFE_RETRY_S, ControlService, NoRelays, make_service
from rpymostat_control.state_file import StateFile, Switched
from tests.control.test_registrar import FakeEngine

NOW = 1795608000.0


@pytest.fixture
def logged():
    events = []
    globalLogPublisher.addObserver(events.append)
    yield lambda: "\n".join(formatEvent(event) for event in events)
    globalLogPublisher.removeObserver(events.append)


async def start_engine():
    fake = FakeEngine()
    fake.port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(fake))
    fake.base = f"http://127.0.0.1:{fake.port.getHost().port}"
    return fake


@pytest_twisted.async_yield_fixture
async def engine():
    fake = await start_engine()
    yield fake
    await fake.port.stopListening()


@pytest.fixture
def config(tmp_path, engine):
    return ControlConfig(
        token="rpy_given-by-hand",  # pairing has tests of its own
        engine_url=engine.base,
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path / "data",
        relays=("sim",),
        sim_relays=2,
        lease=180.0,
        min_on=300.0,
        min_off=0.0,
        safe_states={"sim-2": True},
    )


class Running:
    """A started service, its clock and its sim relays; stopped (if not yet) at the end."""

    def __init__(self, config, at=NOW, on=(), **options):
        self.clock = Clock()
        self.clock.advance(at)
        self.relays = SimRelays(config)
        for relay_id in on:
            self.relays.set(relay_id, True)
        self.service = ControlService(
            config, reactor, backends=[self.relays], clock=self.clock, monotonic=self.clock.seconds, **options
        )

    async def start(self):
        self.service.startService()
        port = await self.service.when_ready()
        self.url = f"http://127.0.0.1:{port.getHost().port}"
        return self

    async def registered(self, engine, count):
        """Wait until ``engine`` has ``count`` registrations; return the last."""
        while len(engine.received) < count:
            await self.service.registrar.attempt
            if len(engine.received) < count:
                await _turn()
        return engine.received[-1][1]

    @property
    def authorization(self):
        """The header the engine the unit registered with sends: the secret of the latest registration."""
        return {"Authorization": f"Bearer {self.service.secret.value}"}

    async def post(self, relay_id, state):
        response = await treq.post(
            f"{self.url}/v1/relays/{relay_id}",
            json.dumps({"state": state}).encode(),
            headers={"Content-Type": "application/json", **self.authorization},
        )
        return response.code, await response.json()

    async def stop(self):
        if self.service.running:
            await self.service.stopService()


def _turn():
    from twisted.internet.task import deferLater

    return deferLater(reactor, 0.01, lambda: None)


@pytest_twisted.ensureDeferred
async def test_start_registers_then_serves_and_a_lease_expiry_goes_safe_and_re_registers(config, engine, logged):
    unit = await Running(config).start()
    try:
        registration = await unit.registered(engine, 1)
        assert engine.received[0][0] == "/v1/controls/register"
        assert registration == {
            "host_id": unit.service.host_id,
            "url": unit.url,
            "relays": {"sim-1": {"type": "sim", "state": False}, "sim-2": {"type": "sim", "state": True}},
            "secret": registration["secret"],  # tests/control/test_unit_secret.py checks it
        }
        code, body = await unit.post("sim-1", True)
        assert (code, body["changed"], unit.relays.get("sim-1")) == (200, True, True)
        unit.clock.advance(100)
        code, body = await unit.post("sim-1", True)
        assert (code, body["changed"]) == (200, False)
        unit.clock.advance(179)
        assert unit.relays.get("sim-1") is True  # the second command renewed the lease
        unit.clock.advance(1)  # the lease runs out: safe states, minimum on time or not
        assert (unit.relays.get("sim-1"), unit.relays.get("sim-2")) == (False, True)
        assert (
            "no command from the engine for 180 s (lease expired): switched sim-1 off to their safe states"
        ) in logged()
        registration = await unit.registered(engine, 2)
        assert registration["relays"]["sim-1"]["state"] is False
        response = await treq.get(unit.url + "/v1/relays", headers=unit.authorization)
        assert (await response.json())["lease"]["expires_in_s"] is None
    finally:
        await unit.stop()


@pytest_twisted.ensureDeferred
async def test_the_lease_starts_when_the_daemon_does(config, engine):
    # A restart finds the output on, as it had switched it: it holds for one lease.
    StateFile(config.data_dir).save({"sim-1": Switched(True, NOW - 60), "sim-2": Switched(True, NOW - 60)})
    unit = Running(config, on=["sim-1"])
    await unit.start()
    try:
        await unit.registered(engine, 1)
        unit.clock.advance(179.9)
        assert unit.relays.get("sim-1") is True
        unit.clock.advance(0.1)
        assert unit.relays.get("sim-1") is False
    finally:
        await unit.stop()


def pending(clock):
    return sorted(round(call.getTime() - clock.seconds(), 3) for call in clock.getDelayedCalls())


@pytest_twisted.ensureDeferred
async def test_after_a_lease_expiry_safe_states_are_retried_until_every_output_is_safe(config, engine, logged):
    """A USB hiccup at the moment the lease runs out must not leave a boiler on while the
    engine is away: the unit tries again every few seconds until the relay answers."""
    unit = await Running(config).start()
    try:
        await unit.registered(engine, 1)
        assert (await unit.post("sim-1", True))[0] == 200
        unit.relays.failing.add("sim-1")
        unit.clock.advance(180)
        assert unit.relays._states["sim-1"] is True
        assert (
            "no command from the engine for 180 s (lease expired): relay sim-1 could not go to"
            " its safe state off: sim-1: simulated fault"
        ) in logged()
        assert f"sim-1 not in their safe states; trying again in {SAFE_RETRY_S:g} s" in logged()
        await unit.registered(engine, 2)  # it registers again all the same
        assert SAFE_RETRY_S == 5.0 and pending(unit.clock) == [SAFE_RETRY_S]
        unit.clock.advance(SAFE_RETRY_S)
        assert "(lease expired), attempt 2: relay sim-1 could not go" in logged()
        assert pending(unit.clock) == [SAFE_RETRY_S]
        unit.relays.failing.clear()
        unit.clock.advance(SAFE_RETRY_S)
        assert unit.relays.get("sim-1") is False
        assert "(lease expired), attempt 3: switched sim-1 off to their safe states" in logged()
        assert pending(unit.clock) == []  # every output safe: no more tries
    finally:
        await unit.stop()


@pytest_twisted.ensureDeferred
async def test_a_new_command_or_a_stop_ends_the_safe_state_retries(config, engine, logged):
    unit = await Running(dataclasses.replace(config, lease=10.0)).start()
    try:
        await unit.registered(engine, 1)
        assert (await unit.post("sim-1", True))[0] == 200
        unit.relays.failing.add("sim-1")
        unit.clock.advance(10)
        assert pending(unit.clock) == [SAFE_RETRY_S]
        assert (await unit.post("sim-2", True))[0] == 200  # the engine is back: a new lease
        assert pending(unit.clock) == [SAFE_RETRY_S, 10.0]
        unit.relays.failing.clear()
        unit.clock.advance(SAFE_RETRY_S)  # the retry finds the new lease and stops
        assert "attempt 2" not in logged() and unit.relays.get("sim-1") is True  # the engine rules
        assert pending(unit.clock) == [5.0]  # only the lease is left
        unit.relays.failing.add("sim-1")
        unit.clock.advance(5)  # the new lease runs out: retries start afresh
        assert pending(unit.clock) == [SAFE_RETRY_S]
        await unit.service.stopService()
        assert pending(unit.clock) == []
        assert logged().count("trying again in") == 2
    finally:
        await unit.stop()


@pytest_twisted.ensureDeferred
async def test_stop_goes_safe_releases_the_hardware_and_stops_listening(config, engine, logged):
    unit = await Running(config).start()
    await unit.registered(engine, 1)
    assert (await unit.post("sim-1", True))[0] == 200
    await unit.service.stopService()
    assert "stopping: switched sim-1 off to their safe states" in logged()
    with pytest.raises(RelayFault, match="closed"):
        unit.relays.get("sim-1")
    with pytest.raises(ConnectionRefusedError):
        await treq.get(unit.url + "/v1/relays", persistent=False)
    assert unit.service.port is None
    assert "control daemon stopped" in logged()


@pytest_twisted.ensureDeferred
async def test_minimum_times_survive_a_restart(config, engine):
    first = await Running(config).start()
    assert (await first.post("sim-1", True))[0] == 200
    first.clock.advance(180)  # the lease expires: sim-1 off at +180
    assert first.relays.get("sim-1") is False
    await first.stop()
    second = Running(dataclasses.replace(config, min_off=300.0), at=NOW + 230)
    await second.start()
    try:
        code, body = await second.post("sim-1", True)
        assert code == 409
        assert body["error"] == "minimum off time: sim-1 has been off for 50 of 300 s"
        assert body["retry_after_s"] == 250.0
    finally:
        await second.stop()


@pytest_twisted.ensureDeferred
async def test_the_url_of_a_unit_listening_everywhere_is_its_address_towards_the_engine(config, engine):
    unit = await Running(dataclasses.replace(config, host="0.0.0.0")).start()
    try:
        registration = await unit.registered(engine, 1)
        assert registration["url"] == f"http://127.0.0.1:{unit.service.port.getHost().port}"
    finally:
        await unit.stop()


@pytest_twisted.ensureDeferred
async def test_a_configured_unit_url_is_sent_as_is(config, engine):
    unit = await Running(dataclasses.replace(config, url="http://boiler.lan:8089")).start()
    try:
        assert (await unit.registered(engine, 1))["url"] == "http://boiler.lan:8089"
    finally:
        await unit.stop()


class StubFinder(Service):
    """Stands in for EngineFinder: the test announces engines through ``announce``."""

    def __init__(self, reactor, interfaces, on_change, vet, clock):
        self.interfaces = interfaces
        self.announce = on_change
        self.vet = vet  # the unit's link: the real finder asks it before announcing an engine


@pytest_twisted.ensureDeferred
async def test_without_an_engine_url_it_registers_with_each_engine_discovery_finds(config, engine):
    unit = Running(
        dataclasses.replace(config, engine_url=None, mdns_interfaces=("127.0.0.1",)), finder_factory=StubFinder
    )
    finder = unit.service.finder
    assert finder in list(unit.service) and finder.interfaces == ("127.0.0.1",)
    unit.service.on_engine_change(engine.base + "/v1")  # before listening: only remembered
    finder.announce(None)
    await unit.start()
    other = await start_engine()
    try:
        await unit.service.registrar.attempt
        assert engine.received == [] and unit.clock.getDelayedCalls()  # none known: retrying
        finder.announce(engine.base + "/v1")
        await unit.registered(engine, 1)
        finder.announce(engine.base + "/v1")  # no change: nothing new
        finder.announce(other.base + "/v1")
        await unit.registered(other, 1)
        finder.announce(None)
        finder.announce(engine.base + "/v1")  # it came back, perhaps restarted: again
        await unit.registered(engine, 2)
        assert len(engine.received) == 2 and len(other.received) == 1
    finally:
        await unit.stop()
        await other.port.stopListening()


def test_the_real_finder_is_used_without_an_engine_url(config):
    service = make_service(dataclasses.replace(config, engine_url=None, mdns_interfaces=("127.0.0.1",)), reactor)
    from rpymostat.protocol.browse import EngineFinder

    assert isinstance(service.finder, EngineFinder) and service.finder in list(service)
    assert [backend.name for backend in service.switchboard.backends] == ["sim"]
    service.switchboard.close()


@pytest.mark.parametrize("relays", [("sim",), ()])
def test_no_relays_is_a_clear_error(config, relays):
    # relays=() tries every installed backend; a Phidget board is not waited for long.
    quick = dataclasses.replace(config, sim_relays=0, relays=relays, phidget_attach_timeout=0.05)
    with pytest.raises(NoRelays) as error:
        make_service(quick, reactor)
    assert str(error.value) == NO_RELAYS
    assert "RPYMOSTAT_RELAYS=sim RPYMOSTAT_SIM_RELAYS=4" in NO_RELAYS


def test_a_bad_start_releases_the_hardware(config):
    relays = SimRelays(config)
    with pytest.raises(ValueError, match="RPYMOSTAT_SAFE_STATES names pump"):
        ControlService(dataclasses.replace(config, safe_states={"pump": True}), reactor, backends=[relays])
    with pytest.raises(RelayFault, match="closed"):
        relays.get("sim-1")


@pytest_twisted.ensureDeferred
async def test_a_port_in_use_fails_readiness_and_stopping_is_still_safe(config, engine):
    taken = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(FakeEngine()))
    unit = Running(dataclasses.replace(config, port=taken.getHost().port))
    unit.relays.set("sim-1", True)
    try:
        unit.service.startService()
        with pytest.raises(CannotListenError, match="Address already in use"):
            await unit.service.when_ready()
        await unit.service.stopService()
        assert engine.received == []
    finally:
        await taken.stopListening()
    with pytest.raises(RelayFault, match="closed"):
        unit.relays.get("sim-1")
    saved = StateFile(config.data_dir).load()  # what the outputs were left in, as the unit recorded it
    assert saved["sim-1"].state is False and saved["sim-2"].state is True  # each in its safe state


@pytest.mark.parametrize(
    "address, url",
    [
        ("192.168.1.20", "http://192.168.1.20:8089"),
        ("fd00::20", "http://[fd00::20]:8089"),
        ("fe80::1%eth0", "http://[fe80::1%25eth0]:8089"),
    ],
)
def test_unit_urls(address, url):
    assert http_url(address, 8089) == url


def test_no_route_to_the_engine_is_an_os_error():
    with pytest.raises(OSError):
        local_address_towards("http://[ff02::1]:8088/v1")


@pytest.mark.parametrize("port_stop", ["none", "raises"])
@pytest_twisted.ensureDeferred
async def test_stopping_leaves_every_output_safe_even_when_the_port_stops_badly(config, port_stop):
    """Twisted's stopListening() may answer None once the port is gone, or fail: the outputs go safe anyway."""
    unit = await Running(config).start()
    unit.service.switchboard.command("sim-1", True)
    real = unit.service.port
    await real.stopListening()

    class GonePort:
        def stopListening(self):
            if port_stop == "raises":
                raise OSError("the port is already gone")
            return None

    unit.service.port = GonePort()
    try:
        await unit.service.stopService()
    except OSError:
        assert port_stop == "raises"
    saved = StateFile(config.data_dir).load()
    assert saved["sim-1"].state is False and saved["sim-2"].state is True  # each in its safe state
