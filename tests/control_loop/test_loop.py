"""The decision loop end to end: API in, relay commands out over real HTTP, time on a Clock."""

import datetime

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import fail

from rpymostat.control_loop.loop import build_decision_loop
from rpymostat.decide.hysteresis import Hysteresis
from rpymostat.decide.safety import Limits
from rpymostat.events import EventBus
from rpymostat.protocol.client import JsonClient
from rpymostat.schedule.cache import TimelineCache
from rpymostat.schedule.rules_plugin import RulesSchedule
from rpymostat.storage.interface import StorageError
from rpymostat.testing import FakeStorage
from tests.api_client import ApiClient
from tests.conftest import NOW
from tests.control_loop.relay_unit import start_unit

ZONE = {"sensors": {"s1": 1.0}, "default_heat_setpoint": 21.0, "outputs": {"heat": "unit1/r1"}}
#: The secret of units registered at an address where nothing listens.
GHOST_SECRET = "ghost-secret-" + "g" * 30


class House:
    """Engine parts over one storage, a relay unit on loopback, time on ``clock``."""

    def __init__(self, storage, clock, unit, url, plugin=None, monotonic=None):
        self.storage, self.clock, self.unit, self.url = storage, clock, unit, url
        self.events = EventBus()
        from zoneinfo import ZoneInfo

        self.timelines = TimelineCache(plugin or RulesSchedule(storage, ZoneInfo("UTC")), storage, clock)
        self.events.subscribe(self.timelines.on_event)
        self.client = JsonClient(reactor, timeout=2)
        self.loop = build_decision_loop(
            storage,
            self.timelines,
            self.events,
            clock,
            self.client,
            {"hysteresis": Hysteresis()},
            Limits(),
            30.0,
            300.0,
            300.0,
            monotonic=monotonic,
        )
        self.api = ApiClient(storage, clock, timelines=self.timelines, events=self.events, decisions=self.loop)

    async def reading(self, value, sensor="s1"):
        code, body, _ = await self.api.put(
            "/v1/sensors/update", {"host_id": "pi", "sensors": {sensor: {"type": "ds18b20", "value": value}}}
        )
        assert code == 201, body

    async def tick(self, seconds=0):
        self.clock.advance(seconds)
        await self.loop.run_all()

    async def state(self):
        code, body, _ = await self.api.get("/v1/zones/default/state")
        assert code == 200, body
        return body


@pytest_twisted.async_yield_fixture
async def house(store, clock):
    unit, port, url = await start_unit(reactor, clock, ["r1", "r2"])
    built = House(store, clock, unit, url)
    await built.loop.load()
    code, _, _ = await built.api.post(
        "/v1/controls/register", unit.registration(url, "unit1", {"r1": {"type": "test", "state": False}})
    )
    assert code == 201
    await built.reading(20.9)  # inside the dead band: heat stays off
    code, body, _ = await built.api.put("/v1/zones/default", ZONE)
    assert code == 200, body
    yield built
    await built.client.close()
    await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_cold_room_turns_heat_on_and_warm_room_off_after_minimum_on_time(house):
    house.clock.advance(400)  # the relay has been off long enough
    await house.reading(19.0)
    await house.tick()
    assert house.unit.relays["r1"]["state"] is True
    state = await house.state()
    assert state["outputs"]["heat"] == {
        "address": "unit1/r1",
        "desired": True,
        "on": True,
        "since": state["decided_at"],
        "safety_off": None,
        "note": None,
    }
    assert state["temperature"]["value"] == 19.0
    assert state["target"]["heat_setpoint"] == 21.0 and state["target"]["source"]["type"] == "default"
    assert state["decision"]["reason"] == "heat target 21 C: 19 C is at or below 20.7 C: heat on"

    house.clock.advance(60)
    await house.reading(21.5)
    await house.tick()
    state = await house.state()
    assert house.unit.relays["r1"]["state"] is True
    assert state["safety"] == [
        {"output": "heat", "wished": False, "decided": True, "reason": "minimum on time: on for 60 of 300 s"}
    ]
    await house.reading(21.5)
    await house.tick(241)
    assert house.unit.relays["r1"]["state"] is False
    assert (await house.state())["safety"] == []


@pytest_twisted.ensureDeferred
async def test_stale_readings_switch_heat_off_and_say_why(house):
    house.clock.advance(400)
    await house.reading(19.0)
    await house.tick()
    assert house.unit.relays["r1"]["state"] is True
    await house.tick(301)
    assert house.unit.relays["r1"]["state"] is False
    state = await house.state()
    assert state["temperature"] == {
        "value": None,
        "reason": "only 0 of 1 sensors usable, 1 needed",
        "used": {},
        "dropped": {"s1": "stale: last seen 301 s ago"},
    }


@pytest_twisted.ensureDeferred
async def test_desired_state_is_resent_each_loop_so_a_restarted_unit_converges(house):
    house.clock.advance(400)
    await house.reading(19.0)
    await house.tick()
    house.unit.relays["r1"] = {"state": False, "since": house.clock.seconds()}  # the unit restarted
    await house.tick(30)
    assert house.unit.commands[-1] == ("r1", True)
    assert house.unit.relays["r1"]["state"] is True


@pytest_twisted.ensureDeferred
async def test_a_refusing_unit_is_believed_and_noted(house):
    house.clock.advance(400)
    house.unit.refuse = True
    await house.reading(19.0)
    await house.tick()
    heat = (await house.state())["outputs"]["heat"]
    assert heat["desired"] is True and heat["on"] is False
    assert heat["note"] == "the unit refused: minimum off time"


@pytest.mark.parametrize(
    "answer, note",
    [
        ((500, b"oops"), "relay unit 'unit1' answered 500: HTTP 500"),
        ((200, b'{"state": "yes"}'), "the relay unit's answer lacks a valid state or seconds_in_state"),
        (
            (200, b'{"state": true, "seconds_in_state": NaN}'),
            "the relay unit's answer lacks a valid state or seconds_in_state",
        ),
        (
            (200, b'{"state": true, "seconds_in_state": 1e300}'),
            "the relay unit's answer lacks a valid state or seconds_in_state",
        ),
        (
            (200, b'{"state": true, "seconds_in_state": -5}'),
            "the relay unit's answer lacks a valid state or seconds_in_state",
        ),
    ],
)
@pytest_twisted.ensureDeferred
async def test_a_broken_unit_answer_is_a_note_not_a_crash(house, answer, note):
    house.unit.answer = answer
    await house.reading(19.0)
    await house.tick()
    heat = (await house.state())["outputs"]["heat"]
    assert heat["on"] is None and heat["note"] == note


@pytest_twisted.ensureDeferred
async def test_unregistered_or_unreachable_units_are_noted(house):
    code, _, _ = await house.api.put("/v1/zones/default", {**ZONE, "outputs": {"heat": "ghost/r1"}})
    await house.reading(19.0)
    await house.tick()
    assert (await house.state())["outputs"]["heat"]["note"] == "no relay unit 'ghost' has registered"
    await house.api.post(
        "/v1/controls/register",
        {
            "host_id": "ghost",
            "url": "http://127.0.0.1:9",
            "relays": {"r1": {"type": "test", "state": False}},
            "secret": GHOST_SECRET,
        },
    )
    await house.tick()
    note = (await house.state())["outputs"]["heat"]["note"]
    assert note.startswith("relay unit 'ghost' unreachable: POST http://127.0.0.1:9/v1/relays/r1")


@pytest_twisted.ensureDeferred
async def test_minimum_off_time_survives_an_engine_restart(house):
    house.clock.advance(400)
    await house.reading(19.0)
    await house.tick()
    await house.reading(22.0)
    await house.tick(301)
    assert house.unit.relays["r1"]["state"] is False
    restarted = House(house.storage, house.clock, house.unit, house.url)
    await restarted.loop.load()
    house.clock.advance(100)
    await restarted.reading(19.0)
    await restarted.tick()
    assert house.unit.relays["r1"]["state"] is False
    assert (await restarted.state())["safety"][0]["reason"] == "minimum off time: off for 100 of 300 s"
    await restarted.client.close()


@pytest_twisted.ensureDeferred
async def test_runs_are_recorded_with_samples_and_survive_a_restart(house):
    house.clock.advance(400)
    await house.reading(19.0)
    await house.tick()
    for _ in range(11):
        await house.reading(19.5)
        await house.tick(30)
    restarted = House(house.storage, house.clock, house.unit, house.url)
    await restarted.loop.load()
    await restarted.reading(21.5)
    await restarted.tick(30)
    code, body, _ = await restarted.api.get("/v1/zones/default/runs")
    assert code == 200
    [run] = body["runs"]
    assert run["output"] == "heat" and run["start_temperature"] == 19.0 and run["target"] == 21.0
    assert run["end_temperature"] == 21.5 and run["ended_at"] is not None
    assert [s["temperature"] for s in run["samples"]] == [19.0, 19.5]  # every 300 s
    await restarted.client.close()


@pytest_twisted.ensureDeferred
async def test_a_hold_takes_effect_at_once(house):
    house.clock.advance(400)
    await house.reading(20.9)
    await house.tick()
    assert house.unit.relays["r1"]["state"] is False
    code, body, _ = await house.api.post("/v1/zones/default/hold", {"heat_setpoint": 23})
    assert code == 201, body
    await house.loop.run_all()  # waits for the run the event started
    assert house.unit.relays["r1"]["state"] is True
    assert (await house.state())["target"]["source"]["type"] == "hold"


class FailingSchedule:
    name = "failing"

    async def timeline(self, zone, default, begin, end):
        raise RuntimeError("calendar server down")


@pytest_twisted.ensureDeferred
async def test_a_failing_schedule_means_safe_state_with_the_reason(store, clock):
    unit, port, url = await start_unit(reactor, clock, ["r1"])
    house = House(store, clock, unit, url, plugin=FailingSchedule())
    await house.api.post("/v1/controls/register", unit.registration(url, "unit1", {}))
    await house.reading(20.0)
    assert (await house.api.put("/v1/zones/default", ZONE))[0] == 200
    clock.advance(400)
    await house.reading(19.0)
    await house.tick()
    state = await house.state()
    assert state["target"] is None and "calendar server down" in state["target_error"]
    assert state["outputs"]["heat"]["desired"] is False
    assert state["decision"]["reason"].startswith("no target: the failing schedule plugin failed")
    await house.client.close()
    await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_unknown_zone_state_is_404(house):
    assert (await house.api.get("/v1/zones/attic/state"))[0] == 404
    assert (await house.api.get("/v1/zones/attic/runs"))[0] == 404


@pytest_twisted.ensureDeferred
async def test_the_fan_follows_heating_and_its_switch_is_announced(house):
    code, body, _ = await house.api.put(
        "/v1/zones/default", {**ZONE, "outputs": {"heat": "unit1/r1", "fan": "unit1/r2"}}
    )
    assert code == 200, body
    house.clock.advance(400)
    await house.reading(19.0)
    await house.tick()
    assert house.unit.relays["r2"]["state"] is True
    switched = [e.data for e in house.api.published if e.topic == "output.switched" and e.data["on"]]
    assert [(d["output"], d["address"]) for d in switched] == [("fan", "unit1/r2"), ("heat", "unit1/r1")]
    assert (await house.state())["outputs"]["fan"]["on"] is True


@pytest_twisted.ensureDeferred
async def test_a_deleted_zone_is_no_longer_decided(house):
    await house.reading(19.0, sensor="s2")
    assert (await house.api.put("/v1/zones/attic", {"sensors": {"s2": 1.0}}))[0] == 201
    assert (await house.api.get("/v1/zones/attic/state"))[0] == 200
    assert "attic" in house.loop.reports
    assert (await house.api.delete("/v1/zones/attic"))[0] == 204
    await house.loop.run_all()
    assert "attic" not in house.loop.reports


@pytest_twisted.ensureDeferred
async def test_a_database_outage_skips_a_tick_and_the_next_one_recovers(house):
    house.clock.advance(400)
    await house.reading(19.0)
    house.storage.available = False
    await house.tick()  # logged, not raised
    assert house.unit.relays["r1"]["state"] is False
    house.storage.available = True
    await house.tick(30)
    assert house.unit.relays["r1"]["state"] is True


@pytest_twisted.ensureDeferred
async def test_the_sites_own_loop_decides_with_the_installed_plugins(api):
    await api.put("/v1/sensors/update", {"host_id": "pi", "sensors": {"s1": {"type": "t", "value": 22.0}}})
    assert (await api.put("/v1/zones/default", {**ZONE, "outputs": {}}))[0] == 200
    state = (await api.get("/v1/zones/default/state"))[1]
    assert state["decision"]["reason"] == "heat target 21 C: 22 C is at or above 21.3 C: heat off"


@pytest_twisted.ensureDeferred
async def test_an_output_no_zone_uses_any_more_is_switched_off(house):
    house.clock.advance(400)
    await house.reading(19.0)
    await house.tick()
    assert house.unit.relays["r1"]["state"] is True
    house.clock.advance(400)
    await house.reading(19.0)
    assert (await house.api.put("/v1/zones/default", {**ZONE, "outputs": {"heat": "unit1/r2"}}))[0] == 200
    await house.tick()
    assert house.unit.relays["r2"]["state"] is True
    assert house.unit.relays["r1"]["state"] is False  # released, not left running


@pytest_twisted.ensureDeferred
async def test_cooling_starts_only_after_the_unit_confirms_heating_off(house):
    auto = {**ZONE, "mode": "auto", "default_cool_setpoint": 24.0, "outputs": {"heat": "unit1/r1", "cool": "unit1/r2"}}
    assert (await house.api.put("/v1/zones/default", auto))[0] == 200
    house.clock.advance(400)
    await house.reading(19.0)
    await house.tick()
    assert house.unit.relays["r1"]["state"] is True
    house.clock.advance(400)
    house.unit.refuse = True  # the heat relay's unit will not switch it off yet
    await house.reading(27.0)
    await house.tick()
    assert house.unit.commands[-2:] == [("r2", False), ("r1", False)]  # cool waits for heat to be off
    assert house.unit.relays == {"r1": {"state": True, "since": NOW + 400}, "r2": {"state": False, "since": NOW}}
    safety = (await house.state())["safety"]
    assert {"output": "cool", "wished": True, "decided": False, "reason": "waits until heat is confirmed off"} in safety
    house.unit.refuse = False
    await house.reading(27.0)
    await house.tick(30)
    assert house.unit.relays["r1"]["state"] is False
    await house.reading(27.0)
    await house.tick(30)
    assert house.unit.relays["r2"]["state"] is True


@pytest_twisted.ensureDeferred
async def test_a_dead_unit_costs_one_attempt_per_run_and_a_bad_url_is_only_a_note(house):
    await house.api.post(
        "/v1/controls/register",
        {
            "host_id": "ghost",
            "url": "http://127.0.0.1:9",
            "relays": {"a": {"type": "t", "state": False}},
            "secret": GHOST_SECRET,
        },
    )
    house.loop._dispatcher.begin_run()
    first = await house.loop._dispatcher.send("ghost/a", True)
    second = await house.loop._dispatcher.send("ghost/b", True)
    assert first.note == second.note and "unreachable" in first.note
    await house.storage.put_relay_unit("weird", {"host_id": "weird", "url": "http://[zz"}, NOW)
    note = (await house.loop._dispatcher.send("weird/a", True)).note
    assert note.startswith("relay unit 'weird' unreachable:")


class ControlReadsFail(FakeStorage):
    def relay_unit(self, host_id):
        return fail(StorageError("disk read error"))


@pytest_twisted.ensureDeferred
async def test_a_zone_that_cannot_be_decided_answers_503_not_an_old_decision(clock):
    unit, port, url = await start_unit(reactor, clock, ["r1"])
    house = House(ControlReadsFail(), clock, unit, url)
    await house.api.post("/v1/controls/register", unit.registration(url, "unit1", {}))
    await house.reading(20.9)
    assert (await house.api.put("/v1/zones/default", ZONE))[0] == 200
    code, body, _ = await house.api.get("/v1/zones/default/state")
    assert (code, body) == (
        503,
        {
            "status": "error",
            "error": "deciding zone 'default' failed: disk read error; its outputs were sent to their safe state",
        },
    )
    await house.client.close()
    await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_a_sensor_whose_clock_runs_ahead_goes_stale_on_the_engines_time(house):
    house.clock.advance(400)
    ahead = house.clock.seconds() + 290
    stamp = datetime.datetime.fromtimestamp(ahead, datetime.UTC).isoformat()
    code, body, _ = await house.api.put(
        "/v1/sensors/update", {"host_id": "pi", "sensors": {"s1": {"type": "t", "value": 19.0, "timestamp": stamp}}}
    )
    assert code == 201, body
    await house.tick()
    assert house.unit.relays["r1"]["state"] is True
    await house.tick(301)  # 301 s after the engine received it, though "only" 11 s after its stamp
    assert house.unit.relays["r1"]["state"] is False


@pytest_twisted.ensureDeferred
async def test_runs_are_listed_newest_first_up_to_a_limit(house):
    for _ in range(3):
        house.clock.advance(400)
        await house.reading(19.0)
        await house.tick()
        house.clock.advance(400)
        await house.reading(22.0)
        await house.tick()
    runs = (await house.api.get("/v1/zones/default/runs"))[1]["runs"]
    assert len(runs) == 3 and runs[0]["started_at"] > runs[1]["started_at"] > runs[2]["started_at"]
    assert all(run["ended_at"] is not None for run in runs)
    assert len((await house.api.get("/v1/zones/default/runs?limit=2"))[1]["runs"]) == 2
    for bad in ("0", "1001", "two", "-1", "9" * 5000):
        code, body, _ = await house.api.get(f"/v1/zones/default/runs?limit={bad}")
        assert (code, body["error"]) == (422, "limit: must be a whole number from 1 to 1000")
    assert await house.storage.open_runs() == []
