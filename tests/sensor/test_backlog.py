"""After an outage: newest readings first, then the backlog in few updates, nothing lost or doubled.

Real buffer on disk, real engine site on loopback, real HTTP client.
"""

import json

import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import maybeDeferred
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.logger import formatEvent, globalLogPublisher
from twisted.web.resource import Resource
from twisted.web.server import Site

from rpymostat.protocol.client import JsonClient
from rpymostat.protocol.times import iso_utc
from rpymostat.testing import FakeStorage
from rpymostat_sensor.buffer import ReadingBuffer
from rpymostat_sensor.pusher import Pusher
from rpymostat_sensor.readers.interface import SensorReading
from tests.conftest import NOW
from tests.sensor.test_pusher import Engine, ScriptedReader

SENSORS = ("28-a", "28-b", "28-c")
OUTAGE = 2000  # readings per sensor buffered while the engine was away: 6000 in all


class RecordingStorage(FakeStorage):
    """The fake storage (contract-tested), remembering each batch the engine stored."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def record_readings(self, host_id, readings, received_at=None):
        self.batches.append(list(readings))
        return super().record_readings(host_id, readings, received_at)


def pusher_for(clock, reader, buffer, client, url):
    return Pusher(clock, [reader], buffer, client, "pi-test", lambda: url, lambda f, *a: maybeDeferred(f, *a))


def fill(buffer):
    """What a day of outage leaves: OUTAGE readings per sensor, 30 s apart, ending a minute ago."""
    for step in range(OUTAGE):
        taken_at = iso_utc(NOW - 60 - 30 * (OUTAGE - step))
        buffer.append([(sensor_id, SensorReading("DS18B20", 15.0 + step / 1000), taken_at) for sensor_id in SENSORS])


@pytest_twisted.ensureDeferred
async def test_after_an_outage_the_newest_readings_go_first_and_the_backlog_in_few_updates(tmp_path, clock):
    storage = RecordingStorage()
    engine = Engine(storage)
    await engine.up()
    buffer = ReadingBuffer(tmp_path, limit=20000)
    fill(buffer)
    client = JsonClient(reactor, timeout=10)
    reader = ScriptedReader(dict.fromkeys(SENSORS, 21.0))
    pusher = pusher_for(clock, reader, buffer, client, engine.url)
    try:
        await pusher.take_readings()
    finally:
        pusher.stop()
        await client.close()
        await engine.down()
    assert len(buffer) == 0
    first = storage.batches[0]
    assert sorted((r.sensor_id, r.value, r.timestamp) for r in first) == [
        (sensor_id, 21.0, NOW) for sensor_id in SENSORS
    ]
    # 6003 readings: the newest three, then six updates of at most 1000.
    assert len(storage.batches) == 1 + 6
    assert all(len(batch) <= 1000 for batch in storage.batches)
    for sensor_id in SENSORS:
        history = await storage.history(sensor_id)
        expected = [NOW - 60 - 30 * (OUTAGE - step) for step in range(OUTAGE)] + [NOW]
        assert [entry.timestamp for entry in history] == expected
        current = await storage.sensor(sensor_id)
        assert (current.value, current.last_seen) == (21.0, NOW)
    sent = [(r.sensor_id, r.timestamp) for batch in storage.batches for r in batch]
    assert len(sent) == len(set(sent)) == 3 * (OUTAGE + 1)


@pytest_twisted.ensureDeferred
async def test_the_zone_is_current_after_the_first_update_of_a_drain(tmp_path, clock):
    """The engine's value is the newest one as soon as the first update is stored."""
    storage = RecordingStorage()
    seen = []
    original = storage.record_readings

    def watch(host_id, readings, received_at=None):
        result = original(host_id, readings, received_at)
        seen.append(storage._sensors["28-a"].value)
        return result

    storage.record_readings = watch
    engine = Engine(storage)
    await engine.up()
    buffer = ReadingBuffer(tmp_path, limit=20000)
    fill(buffer)
    client = JsonClient(reactor, timeout=10)
    pusher = pusher_for(clock, ScriptedReader(dict.fromkeys(SENSORS, 21.0)), buffer, client, engine.url)
    try:
        await pusher.take_readings()
    finally:
        pusher.stop()
        await client.close()
        await engine.down()
    assert seen and set(seen) == {21.0}


@pytest_twisted.ensureDeferred
async def test_one_broken_sensor_costs_only_its_own_readings(tmp_path, clock):
    storage = FakeStorage()
    engine = Engine(storage)
    await engine.up()
    buffer = ReadingBuffer(tmp_path, limit=100)
    client = JsonClient(reactor, timeout=5)
    reader = ScriptedReader({"28-a": 131.0, "28-b": 19.0})
    pusher = pusher_for(clock, reader, buffer, client, engine.url)
    events = []
    globalLogPublisher.addObserver(events.append)
    try:
        await pusher.take_readings()
        buffer.append(
            [
                ("28-a", SensorReading("DS18B20", 135.0), iso_utc(NOW - 30)),
                ("28-b", SensorReading("DS18B20", 18.5), iso_utc(NOW - 30)),
                ("28-b", SensorReading("DS18B20", 18.0), iso_utc(NOW - 60)),
            ]
        )
        await pusher.deliver()
    finally:
        globalLogPublisher.removeObserver(events.append)
        pusher.stop()
        await client.close()
        await engine.down()
    assert len(buffer) == 0 and pusher.failures == 0
    assert await storage.sensor("28-a") is None
    assert [(e.timestamp, e.value) for e in await storage.history("28-b")] == [
        (NOW - 60, 18.0),
        (NOW - 30, 18.5),
        (NOW, 19.0),
    ]
    logged = "\n".join(formatEvent(event) for event in events)
    assert (
        "engine refused the reading of 28-a: sensors.28-a.value: 131.0 is greater than the maximum of 130; dropping it"
    ) in logged
    assert "sensors.28-a.value: 135.0 is greater than the maximum of 130; dropping it" in logged


@pytest_twisted.ensureDeferred
async def test_a_clock_running_ahead_is_stored_and_warned_about(tmp_path):
    from twisted.internet.task import Clock

    storage = FakeStorage()
    engine = Engine(storage)
    await engine.up()
    ahead = Clock()
    ahead.advance(reactor.seconds() + 3600)
    buffer = ReadingBuffer(tmp_path, limit=100)
    client = JsonClient(reactor, timeout=5)
    pusher = pusher_for(ahead, ScriptedReader({"28-a": 20.0}), buffer, client, engine.url)
    events = []
    globalLogPublisher.addObserver(events.append)
    try:
        await pusher.take_readings()
    finally:
        globalLogPublisher.removeObserver(events.append)
        pusher.stop()
        await client.close()
        await engine.down()
    assert len(buffer) == 0
    current = await storage.sensor("28-a")
    assert current.value == 20.0 and current.last_seen < ahead.seconds() - 3000
    warnings = [formatEvent(e) for e in events if e.get("log_level").name == "warn"]
    assert any(
        w.startswith("engine adjusted the reading of 28-a: the sending host's clock runs 3600 s ahead")
        and "stored 3600 s earlier" in w
        for w in warnings
    ), warnings


class OldEngine(Resource):
    """An engine from before arrays of readings: a sensor's reading must be one object."""

    isLeaf = True

    def __init__(self):
        super().__init__()
        self.stored = []

    def render_PUT(self, request):
        document = json.loads(request.content.read())
        request.setHeader(b"Content-Type", b"application/json")
        for sensor_id, entry in document["sensors"].items():
            if not isinstance(entry, dict):
                request.setResponseCode(422)
                return json.dumps(
                    {"status": "error", "error": f"sensors.{sensor_id}: {entry!r} is not of type 'object'"}
                ).encode()
        self.stored += [(s, e["timestamp"]) for s, e in document["sensors"].items()]
        request.setResponseCode(201)
        return json.dumps({"status": "created", "ids": list(document["sensors"])}).encode()


@pytest_twisted.ensureDeferred
async def test_an_engine_without_arrays_gets_one_reading_per_sensor_and_loses_nothing(tmp_path, clock):
    old = OldEngine()
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(old))
    buffer = ReadingBuffer(tmp_path, limit=100)
    for step in range(3):
        buffer.append([("28-a", SensorReading("DS18B20", 20.0), iso_utc(NOW - 90 + 30 * step))])
    client = JsonClient(reactor, timeout=5)
    url = f"http://127.0.0.1:{port.getHost().port}/v1"
    pusher = pusher_for(clock, ScriptedReader({"28-a": 21.0}), buffer, client, url)
    try:
        await pusher.take_readings()
    finally:
        pusher.stop()
        await client.close()
        await port.stopListening()
    assert len(buffer) == 0
    assert sorted(old.stored) == sorted(("28-a", iso_utc(NOW - 90 + 30 * step)) for step in range(4))
