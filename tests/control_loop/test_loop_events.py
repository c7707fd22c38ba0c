"""What the decision loop announces: a decision with its temperature and setpoints,
sensors going stale and coming back, and a failing decision plugin."""

import pytest_twisted
from twisted.internet import reactor

from rpymostat.control_loop.loop import build_decision_loop
from rpymostat.decide.hysteresis import Hysteresis
from rpymostat.decide.safety import Limits
from tests.control_loop.relay_unit import start_unit
from tests.control_loop.test_loop import ZONE, House, house  # noqa: F401 (fixture)


def announced(house, *topics):
    return [(event.topic, dict(event.data)) for event in house.api.published if event.topic in topics]


@pytest_twisted.ensureDeferred
async def test_a_decision_carries_its_reason_temperature_and_setpoints(house):
    house.clock.advance(400)
    await house.reading(19.0)
    await house.tick()
    _, decided = announced(house, "zone.decided")[-1]
    assert decided == {
        "zone": "default",
        "outputs": {"heat": True, "cool": False, "fan": True},
        "reason": "heat target 21 C: 19 C is at or below 20.7 C: heat on",
        "mode": "heat",
        "temperature": 19.0,
        "heat_setpoint": 21.0,
        "cool_setpoint": 26.0,
    }
    count = len(announced(house, "zone.decided"))
    await house.tick()
    assert len(announced(house, "zone.decided")) == count  # nothing changed: nothing announced


@pytest_twisted.ensureDeferred
async def test_a_sensor_going_stale_and_coming_back_is_announced_once_each(house):
    await house.tick()
    await house.tick(301)
    await house.tick(30)
    assert announced(house, "sensor.stale", "sensor.back") == [
        ("sensor.stale", {"sensor_id": "s1", "seconds_since": 301.0}),
    ]
    await house.reading(20.0)
    assert announced(house, "sensor.back") == []  # judged when the loop decides, as the decision judges it
    await house.tick()
    await house.tick(30)
    assert announced(house, "sensor.stale", "sensor.back")[1:] == [("sensor.back", {"sensor_id": "s1"})]


@pytest_twisted.ensureDeferred
async def test_a_deleted_sensor_is_not_announced_back(house):
    await house.tick(301)
    house.events.publish("sensor.deleted", house.clock.seconds(), sensor_id="s1")
    await house.tick(30)  # a sensor the loop has no reading of is neither stale nor back
    await house.reading(20.0)
    await house.tick()
    assert [topic for topic, _ in announced(house, "sensor.stale", "sensor.back")] == ["sensor.stale"]


class Flaky:
    """A decision plugin that fails while ``broken`` says so."""

    name = "hysteresis"
    description = "fails on demand"
    config_schema = Hysteresis.config_schema

    def __init__(self):
        self.broken = "the wires are crossed"

    def decide(self, state, now):
        if self.broken:
            raise RuntimeError(self.broken)
        return Hysteresis().decide(state, now)


@pytest_twisted.ensureDeferred
async def test_a_failing_decision_plugin_is_announced_when_it_starts_failing(store, clock):
    unit, port, url = await start_unit(reactor, clock, ["r1"])
    house = House(store, clock, unit, url)
    plugin = Flaky()
    house.loop = build_decision_loop(
        store, house.timelines, house.events, clock, house.client, {"hysteresis": plugin}, Limits()
    )
    try:
        await house.reading(20.0)
        assert (await house.api.put("/v1/zones/default", ZONE))[0] == 200
        await house.tick()
        await house.tick(30)
        plugin.broken = None
        await house.tick(30)
        plugin.broken = "a new fault"
        await house.tick(30)
        errors = announced(house, "plugin.error")
        assert [data["error"] for _, data in errors] == [
            "decision plugin 'hysteresis' failed (the wires are crossed); built-in hysteresis: "
            "heat target 21 C: 20 C is at or below 20.7 C: heat on",
            "decision plugin 'hysteresis' failed (a new fault); built-in hysteresis: "
            "heat target 21 C: 20 C is at or below 20.7 C: heat on",
        ]
        assert {(data["zone"], data["plugin"]) for _, data in errors} == {("default", "hysteresis")}
    finally:
        await house.client.close()
        await port.stopListening()
