"""Delivery to a real engine site over loopback: buffering, backoff, recovery, refusals."""

import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import maybeDeferred
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.logger import formatEvent, globalLogPublisher

from rpymostat.api.site import build_site
from rpymostat.protocol.client import JsonClient
from rpymostat.testing import FakeStorage, engine_parts
from rpymostat_sensor.buffer import ReadingBuffer
from rpymostat_sensor.pusher import Pusher
from rpymostat_sensor.readers.interface import SensorReading
from tests.conftest import NOW


class ScriptedReader:
    """Returns whatever the test puts in ``values``."""

    name = "scripted"

    def __init__(self, values):
        self.values = values

    def read(self):
        return {sensor_id: SensorReading("DS18B20", value) for sensor_id, value in self.values.items()}


class Engine:
    """The engine's real site on a loopback port that the test can take down and bring back."""

    def __init__(self, storage):
        self.site = build_site(**engine_parts(storage, reactor))
        self.port = None
        self.number = 0

    async def up(self):
        endpoint = TCP4ServerEndpoint(reactor, self.number, interface="127.0.0.1")
        self.port = await endpoint.listen(self.site)
        self.number = self.port.getHost().port

    async def down(self):
        await self.port.stopListening()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.number}/v1"


@pytest_twisted.async_yield_fixture
async def setup(tmp_path, clock):
    storage = FakeStorage()
    engine = Engine(storage)
    await engine.up()
    reader = ScriptedReader({"28-a": 20.5, "28-b": 19.0})
    buffer = ReadingBuffer(tmp_path, limit=1000)
    client = JsonClient(reactor, timeout=2)
    address = {"url": engine.url}
    pusher = Pusher(
        clock, [reader], buffer, client, "pi-test", lambda: address["url"], lambda f, *a: maybeDeferred(f, *a)
    )
    yield pusher, engine, storage, buffer, reader, address
    pusher.stop()
    await client.close()
    await engine.down()


@pytest_twisted.ensureDeferred
async def test_readings_arrive_with_the_time_they_were_taken(setup):
    pusher, engine, storage, buffer, reader, _ = setup
    await pusher.take_readings()
    assert len(buffer) == 0
    sensor = await storage.sensor("28-a")
    assert (sensor.host_id, sensor.value, sensor.last_seen) == ("pi-test", 20.5, NOW)


@pytest_twisted.ensureDeferred
async def test_engine_away_buffers_then_everything_arrives_once(setup, clock):
    pusher, engine, storage, buffer, reader, _ = setup
    await engine.down()
    for minute in range(3):
        reader.values = {"28-a": 20.0 + minute, "28-b": 19.0}
        await pusher.take_readings()
        clock.advance(30)
    assert len(buffer) == 6
    assert pusher.failures >= 1
    await engine.up()
    clock.advance(300)  # the pending retry fires
    for _ in range(50):
        if len(buffer) == 0:
            break
        await _tick()
    assert len(buffer) == 0
    history = await storage.history("28-a")
    assert [(e.timestamp, e.value) for e in history] == [(NOW, 20.0), (NOW + 30, 21.0), (NOW + 60, 22.0)]
    assert pusher.failures == 0


@pytest_twisted.ensureDeferred
async def test_refused_update_is_logged_and_dropped_not_retried(setup):
    pusher, engine, storage, buffer, reader, _ = setup
    reader.values = {"28-a": 500.0}
    await pusher.take_readings()
    assert len(buffer) == 0
    assert await storage.sensors() == []
    assert pusher.failures == 0


@pytest_twisted.ensureDeferred
async def test_no_engine_known_keeps_readings_and_retries(setup, clock):
    pusher, engine, storage, buffer, reader, address = setup
    address["url"] = None
    await pusher.take_readings()
    assert len(buffer) == 2 and pusher.failures == 1
    address["url"] = engine.url
    clock.advance(1)
    for _ in range(50):
        if len(buffer) == 0:
            break
        await _tick()
    assert len(buffer) == 0
    assert (await storage.sensor("28-b")).value == 19.0


@pytest_twisted.ensureDeferred
async def test_days_without_an_engine_keep_retrying_at_the_cap(setup, clock):
    """``first * 2 ** failures`` overflowed a float after 1024 failures, and retries stopped."""
    pusher, engine, storage, buffer, reader, address = setup
    address["url"] = None
    await pusher.deliver()
    for _ in range(1030):
        [retry] = clock.getDelayedCalls()
        clock.advance(retry.getTime() - clock.seconds())
    [retry] = clock.getDelayedCalls()
    assert retry.getTime() - clock.seconds() == 300.0 and pusher.failures == 1031


class BrokenReader:
    name = "broken"

    def read(self):
        raise OSError("bus gone")


@pytest_twisted.ensureDeferred
async def test_a_broken_reader_a_full_buffer_and_a_server_error(tmp_path, clock):
    storage = FakeStorage()
    storage.available = False  # the engine answers 503
    engine = Engine(storage)
    await engine.up()
    events = []
    globalLogPublisher.addObserver(events.append)
    buffer = ReadingBuffer(tmp_path, limit=1)
    client = JsonClient(reactor, timeout=2)
    pusher = Pusher(
        clock,
        [BrokenReader(), ScriptedReader({"28-a": 20.5, "28-b": 19.0})],
        buffer,
        client,
        "pi-test",
        lambda: engine.url,
        lambda f, *a: maybeDeferred(f, *a),
    )
    try:
        await pusher.take_readings()
    finally:
        globalLogPublisher.removeObserver(events.append)
        pusher.stop()
        await client.close()
        await engine.down()
    logged = "\n".join(formatEvent(event) for event in events)
    assert "reader broken failed: bus gone" in logged
    assert "buffer full: dropped the 1 oldest unsent readings" in logged
    assert "engine answered 503: database unavailable" in logged
    assert len(buffer) == 1 and pusher.failures == 1


async def _tick():
    """Let the real reactor run once (the HTTP exchange happens on it)."""
    from twisted.internet.task import deferLater

    await deferLater(reactor, 0.02, lambda: None)
