"""How much work the decision loop does: coalesced runs, no sensor reads per tick, runs that end."""

import pytest_twisted
from twisted.internet.defer import Deferred

from rpymostat.control_loop.coalesce import EVERY_ZONE, CoalescingRunner
from rpymostat.protocol.watchdog import Watchdog
from tests.control_loop.test_loop import ZONE, house  # noqa: F401 (fixture)


class GatedWork:
    """Work that records what it was asked and waits for the test to let each run finish."""

    def __init__(self):
        self.asked = []
        self.gate = None

    async def __call__(self, zones):
        self.asked.append(zones)
        self.gate = Deferred()
        await self.gate


def test_requests_during_a_run_become_one_more_run_with_the_union_of_zones():
    work = GatedWork()
    runner = CoalescingRunner(work)
    first = runner.request(["a"])
    later = [runner.request([zone]) for zone in ("b", "c", "b")] + [runner.request(["d"])]
    fired = []
    for done in [first] + later:
        done.addCallback(fired.append)
    assert work.asked == [{"a"}] and fired == []
    work.gate.callback(None)
    assert work.asked == [{"a"}, {"b", "c", "d"}] and len(fired) == 1  # the rest wait for the second run
    settled = runner.settled()
    work.gate.callback(None)
    assert len(fired) == 5 and settled.called
    assert runner.settled().called  # idle: at once


def test_any_request_for_every_zone_makes_the_pending_run_cover_every_zone():
    work = GatedWork()
    runner = CoalescingRunner(work)
    runner.request(["a"])
    for _ in range(100):
        runner.request(["b"])
        runner.request(EVERY_ZONE)
    work.gate.callback(None)
    work.gate.callback(None)
    assert work.asked == [{"a"}, EVERY_ZONE]


def test_a_failing_run_is_logged_and_the_next_one_still_runs():
    asked = []

    async def flaky(zones):
        asked.append(zones)
        if len(asked) == 1:
            raise RuntimeError("boom")

    runner = CoalescingRunner(flaky)
    first = runner.request(["a"])
    assert first.called and first.result is None
    assert runner.request(["b"]).called and asked == [{"a"}, {"b"}]


@pytest_twisted.ensureDeferred
async def test_changes_during_a_slow_run_are_coalesced(house):
    await house.loop.settled()  # the fixture's own runs (real HTTP to the unit) are over
    gate = Deferred()
    runs = []
    original = house.loop._runner._work

    async def slow(zones):
        runs.append(zones)
        if len(runs) == 1:
            await gate
        await original(zones)

    house.loop._runner._work = slow
    house.loop.run_all()
    for setpoint in range(10, 30):
        await house.api.post("/v1/zones/default/hold", {"heat_setpoint": setpoint})
        await house.api.post(
            "/v1/controls/register",
            house.unit.registration(house.url, "unit1", {"r1": {"type": "test", "state": False}}),
        )
    gate.callback(None)
    await house.loop.settled()
    assert runs == [EVERY_ZONE, EVERY_ZONE]


@pytest_twisted.ensureDeferred
async def test_ticks_read_no_sensor_from_storage(house):
    reads = []
    original = house.storage.sensors
    house.storage.sensors = lambda: reads.append(1) or original()
    await house.reading(19.0)
    for _ in range(5):
        await house.tick(30)
    assert reads == []
    assert (await house.state())["temperature"]["value"] == 19.0


@pytest_twisted.ensureDeferred
async def test_each_tick_of_the_timer_pings_the_watchdog_after_the_run(house, tmp_path):
    import socket

    path = str(tmp_path / "notify")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)
    server.setblocking(False)
    house.loop._watchdog = Watchdog({"NOTIFY_SOCKET": path})
    try:
        await house.loop._tick()
        await house.loop._tick()
        assert [server.recv(64), server.recv(64)] == [b"WATCHDOG=1", b"WATCHDOG=1"]
    finally:
        server.close()


@pytest_twisted.ensureDeferred
async def test_deleting_a_zone_ends_its_open_run_and_a_new_zone_of_that_name_starts_afresh(house):
    await house.reading(19.0, sensor="s2")
    attic = {"sensors": {"s2": 1.0}, "default_heat_setpoint": 21.0, "outputs": {"heat": "unit1/r2"}}
    assert (await house.api.put("/v1/zones/attic", attic))[0] == 201
    house.clock.advance(400)
    await house.reading(19.0, sensor="s2")
    await house.tick()
    assert house.unit.relays["r2"]["state"] is True
    assert len(await house.storage.open_runs()) == 1
    assert (await house.api.delete("/v1/zones/attic"))[0] == 204
    await house.tick(30)
    assert house.unit.relays["r2"]["state"] is False  # released
    assert await house.storage.open_runs() == []
    [ended] = await house.storage.runs("attic", 10)
    assert ended.ended_at == house.clock.seconds() and ended.end_temperature is None
    house.clock.advance(400)
    assert (await house.api.put("/v1/zones/attic", attic))[0] == 201
    await house.reading(19.0, sensor="s2")
    await house.tick()
    runs = (await house.api.get("/v1/zones/attic/runs"))[1]["runs"]
    assert len(runs) == 2 and runs[0]["ended_at"] is None and runs[1]["ended_at"] is not None
