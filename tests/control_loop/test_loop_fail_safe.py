"""The decision loop's safety cases against the real relay unit (its switchboard, lease and
minimum times) over loopback HTTP, with the wall clock and the monotonic clock apart.

The fake unit of ``test_loop.py`` has no minimum times; these tests would pass
against it whether or not a safety "off" reaches the relay at once, so they
run against ``rpymostat-control`` itself.
"""

import datetime

import pytest_twisted
from twisted.internet import reactor
from twisted.internet.task import Clock

from rpymostat.storage.interface import StorageError
from rpymostat.testing import FakeStorage
from rpymostat_control.config import ControlConfig
from rpymostat_control.relays.sim import SimRelays
from rpymostat_control.service import ControlService
from tests.conftest import NOW
from tests.control_loop.test_loop import ZONE, FailingSchedule, House

HEAT_ZONE = {**ZONE, "outputs": {"heat": "unit1/sim-1"}}


class Clocks:
    """The engine's and the unit's wall clock (a Clock that NTP may step) and one monotonic clock."""

    def __init__(self):
        self.wall = Clock()
        self.wall.advance(NOW)
        self.elapsed = 0.0

    def monotonic(self):
        return 10_000.0 + self.elapsed

    def advance(self, seconds):
        self.elapsed += seconds
        self.wall.advance(seconds)

    def step_wall(self, seconds):
        self.wall.rightNow += seconds


class ZoneFailures(FakeStorage):
    """Storage whose zone reads can be made to fail, as a corrupt record or a failing disk would."""

    fail_zone_reads = False

    def zone(self, name):
        if self.fail_zone_reads:
            from twisted.internet.defer import fail

            return fail(StorageError("zone record unreadable"))
        return super().zone(name)


class RealHouse(House):
    """The engine parts of ``House`` and a real relay unit (min on/off 300 s, lease 360 s)."""

    async def tick(self, seconds=0):
        self.clocks.advance(seconds)
        await self.loop.run_all()

    @property
    def heat_on(self):
        return self.relays.get("sim-1")


async def real_house(tmp_path, storage=None, plugin=None):
    clocks = Clocks()
    config = ControlConfig(
        token="rpy_given-by-hand",  # pairing has tests of its own
        engine_url="http://127.0.0.1:9",
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path / "unit",
        relays=("sim",),
        sim_relays=2,
        lease=360.0,
        min_on=300.0,
        min_off=300.0,
    )
    relays = SimRelays(config)
    unit = ControlService(config, reactor, backends=[relays], clock=clocks.wall, monotonic=clocks.monotonic)
    unit.startService()
    port = await unit.when_ready()
    url = f"http://127.0.0.1:{port.getHost().port}"
    house = RealHouse(storage or FakeStorage(), clocks.wall, None, url, plugin=plugin, monotonic=clocks.monotonic)
    house.clocks, house.relays, house.control = clocks, relays, unit
    await house.loop.load()
    code, body, _ = await house.api.post(
        "/v1/controls/register",
        {
            "host_id": "unit1",
            "url": url,
            "relays": {"sim-1": {"type": "sim", "state": False}},
            "secret": unit.secret.value,  # what the unit sent to its engine URL, where nothing listens
        },
    )
    assert code == 201, body
    await house.reading(19.0)
    code, body, _ = await house.api.put("/v1/zones/default", HEAT_ZONE)
    assert code == 200, body
    return house


async def heating(house):
    """Past the unit's minimum off time, a cold room: heat goes on (every tick renews the lease)."""
    await house.tick(200)
    await house.reading(19.0)
    await house.tick(200)
    await house.reading(19.0)
    await house.tick()
    assert house.heat_on is True


async def close(house):
    await house.client.close()
    await house.control.stopService()


@pytest_twisted.ensureDeferred
async def test_overheating_switches_the_relay_off_at_once_inside_the_units_minimum_on_time(tmp_path):
    house = await real_house(tmp_path)
    try:
        await heating(house)
        await house.tick(60)
        await house.reading(31.0)
        await house.tick()
        assert house.heat_on is False  # 60 s into a 300 s minimum on time
        state = await house.state()
        assert state["outputs"]["heat"]["note"] is None and state["outputs"]["heat"]["on"] is False
        assert state["outputs"]["heat"]["safety_off"] == "never heat above 30 C (measured 31 C)"
    finally:
        await close(house)


@pytest_twisted.ensureDeferred
async def test_a_sensor_that_stops_measuring_switches_heat_off_at_once(tmp_path):
    house = await real_house(tmp_path)
    try:
        await heating(house)
        await house.tick(30)
        await house.reading(None)
        await house.tick()
        assert house.heat_on is False
        assert (await house.state())["temperature"]["dropped"] == {"s1": "no value in its last reading"}
    finally:
        await close(house)


@pytest_twisted.ensureDeferred
async def test_an_ordinary_off_still_waits_for_the_minimum_on_time(tmp_path):
    house = await real_house(tmp_path)
    try:
        await heating(house)
        await house.tick(60)
        await house.reading(22.0)
        await house.tick()
        assert house.heat_on is True
        await house.reading(22.0)
        await house.tick(241)
        assert house.heat_on is False
    finally:
        await close(house)


@pytest_twisted.ensureDeferred
async def test_heat_that_is_on_when_the_database_goes_down_goes_off_at_once(tmp_path):
    house = await real_house(tmp_path)
    try:
        await heating(house)
        house.storage.available = False
        await house.tick(30)
        assert house.heat_on is False
        assert house.loop.failures["default"] == (
            "deciding zone 'default' failed: fake database is unavailable; its outputs were sent to their safe state"
        )
        house.storage.available = True
        await house.tick(301)
        await house.reading(19.0)
        await house.tick()
        assert house.heat_on is True and "default" not in house.loop.failures
    finally:
        await close(house)


@pytest_twisted.ensureDeferred
async def test_a_zone_whose_settings_cannot_be_read_goes_to_its_safe_state_and_says_so(tmp_path):
    house = await real_house(tmp_path, storage=ZoneFailures())
    try:
        await heating(house)
        house.storage.fail_zone_reads = True
        await house.tick(30)
        assert house.heat_on is False
        house.storage.fail_zone_reads = False  # the API's own zone lookup must work to answer
        house.loop.run_zones = lambda names: house.loop.settled()  # keep the failure on show
        code, body, _ = await house.api.get("/v1/zones/default/state")
        assert (code, body["error"]) == (
            503,
            "deciding zone 'default' failed: zone record unreadable; its outputs were sent to their safe state",
        )
    finally:
        await close(house)


@pytest_twisted.ensureDeferred
async def test_a_failing_schedule_switches_running_heat_off_at_once(tmp_path):
    house = await real_house(tmp_path)
    try:
        await heating(house)
        house.timelines._plugin = FailingSchedule()
        house.timelines._cached.clear()
        await house.tick(30)
        assert house.heat_on is False
        state = await house.state()
        assert state["decision"]["reason"].startswith("no target: the failing schedule plugin failed")
        reason = state["outputs"]["heat"]["safety_off"]
        assert reason.startswith("safe state: no target (the failing schedule plugin failed")
    finally:
        await close(house)


class EmptyTimeline:
    name = "empty"

    async def timeline(self, zone, default, begin, end):
        return []


@pytest_twisted.ensureDeferred
async def test_a_plugin_returning_no_segments_is_no_target_not_a_crash(tmp_path):
    house = await real_house(tmp_path)
    try:
        await heating(house)
        house.timelines._plugin = EmptyTimeline()
        house.timelines._cached.clear()
        await house.tick(30)
        assert house.heat_on is False
        assert (await house.state())["target_error"].startswith("the timeline could not be read")
    finally:
        await close(house)


@pytest_twisted.ensureDeferred
async def test_a_wall_clock_stepped_back_does_not_stretch_the_minimum_on_time(tmp_path):
    house = await real_house(tmp_path)
    try:
        await heating(house)
        house.clocks.step_wall(-3600)  # NTP sets the clock back an hour
        await house.tick(301)
        await house.reading(22.0)
        await house.tick()
        assert house.heat_on is False  # 301 s really passed: the minimum on time is over
    finally:
        await close(house)


@pytest_twisted.ensureDeferred
async def test_a_wall_clock_stepped_back_does_not_keep_a_dead_sensor_fresh(tmp_path):
    house = await real_house(tmp_path)
    try:
        await heating(house)
        house.clocks.step_wall(-3600)
        await house.tick(301)  # no reading for 301 s, though the wall clock says "an hour ago"
        assert house.heat_on is False
        assert (await house.state())["temperature"]["dropped"] == {"s1": "stale: last seen 301 s ago"}
    finally:
        await close(house)


def stamp(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat()


@pytest_twisted.ensureDeferred
async def test_a_sensor_host_five_minutes_behind_is_fresh_and_stays_so_after_an_engine_restart(tmp_path):
    house = await real_house(tmp_path)
    try:
        await house.tick(200)
        await house.tick(200)
        behind = house.clock.seconds() - 330
        code, body, _ = await house.api.put(
            "/v1/sensors/update",
            {"host_id": "pi", "sensors": {"s1": {"type": "t", "value": 19.0, "timestamp": stamp(behind)}}},
        )
        assert code == 201, body
        await house.tick()
        assert house.heat_on is True
        assert (await house.state())["temperature"]["used"] == {"s1": 1.0}
        restarted = House(house.storage, house.clock, None, house.url, monotonic=lambda: 77.0)
        await restarted.loop.load()
        await restarted.loop.run_all()
        assert (await restarted.state())["temperature"]["used"] == {"s1": 1.0}
        await restarted.client.close()
    finally:
        await close(house)


@pytest_twisted.ensureDeferred
async def test_a_reading_that_jumps_20_k_does_not_drive_the_heating_and_the_state_says_why(tmp_path):
    house = await real_house(tmp_path)
    try:
        await house.tick(200)
        await house.reading(21.5)
        await house.tick(200)
        assert house.heat_on is False  # warm enough
        await house.reading(21.5)
        await house.tick(30)
        await house.reading(0.5)  # 30 s later, a loose wire: frost protection must not fire on it either
        await house.tick()
        assert house.heat_on is False
        state = await house.state()
        assert state["temperature"]["dropped"] == {"s1": "jumped -21.0 C in 30 s, from 21.5 C: a fault, not the room"}
        await house.tick(30)
        await house.reading(19.0)  # a real reading again, 30 s later: 18.5 K from the fault, so used
        await house.tick()
        assert house.heat_on is True and (await house.state())["temperature"]["value"] == 19.0
    finally:
        await close(house)


@pytest_twisted.ensureDeferred
async def test_a_reading_outside_its_chips_range_does_not_drive_the_heating(tmp_path):
    house = await real_house(tmp_path)
    try:
        await house.tick(200)
        await house.tick(200)
        code, body, _ = await house.api.put(
            "/v1/sensors/update", {"host_id": "pi", "sensors": {"s1": {"type": "DHT22", "value": 82.0}}}
        )
        assert code == 201, body
        await house.tick()
        state = await house.state()
        assert state["temperature"]["dropped"] == {"s1": "outside the DHT22's range of -40..80 C: 82.0 C"}
        assert house.heat_on is False and state["outputs"]["heat"]["safety_off"] == (
            "safe state: no trustworthy temperature"
        )
    finally:
        await close(house)


class WritesFail(FakeStorage):
    """A full SD card: reads work, writes of output states and runs fail."""

    full = False

    def put_output_state(self, *args):
        if self.full:
            from twisted.internet.defer import fail

            return fail(StorageError("database or disk is full"))
        return super().put_output_state(*args)

    def start_run(self, run):
        if self.full:
            from twisted.internet.defer import fail

            return fail(StorageError("database or disk is full"))
        return super().start_run(run)


@pytest_twisted.ensureDeferred
async def test_a_disk_that_cannot_store_a_switch_does_not_short_cycle_the_boiler(tmp_path):
    house = await real_house(tmp_path, storage=WritesFail())
    try:
        house.storage.full = True
        await heating(house)  # switched on; storing that fails
        for _ in range(8):  # four minutes: the boiler keeps running, no safety off
            await house.tick(30)
            await house.reading(19.0)
            assert house.heat_on is True
        assert "default" not in house.loop.failures
        assert house.loop.ledger.state("unit1/sim-1").on is True  # kept in memory
    finally:
        await close(house)


@pytest_twisted.ensureDeferred
async def test_a_long_database_outage_logs_one_traceback_then_one_line_a_tick(tmp_path):
    from twisted.logger import globalLogPublisher

    house = await real_house(tmp_path)
    logged = []
    globalLogPublisher.addObserver(logged.append)
    try:
        await heating(house)
        house.storage.available = False
        for _ in range(3):
            await house.tick(30)
        tracebacks = [e for e in logged if e.get("log_failure") is not None and "listing the zones" in e["log_format"]]
        still = [e for e in logged if e.get("log_format", "").endswith("(still)")]
        assert len(tracebacks) == 1 and len(still) == 2
        house.storage.available = True
        await house.tick(30)
        house.storage.available = False
        await house.tick(30)  # a new outage: its traceback again
        assert len([e for e in logged if e.get("log_failure") is not None and "listing" in e["log_format"]]) == 2
    finally:
        globalLogPublisher.removeObserver(logged.append)
        await close(house)
