"""The reading loop never stops, and tells systemd's watchdog that it goes round."""

import socket
import sqlite3

import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import maybeDeferred
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.task import LoopingCall, deferLater
from twisted.logger import globalLogPublisher

from rpymostat.api.site import build_site
from rpymostat.protocol.client import JsonClient
from rpymostat.protocol.watchdog import Watchdog
from rpymostat.testing import FakeStorage, engine_parts
from rpymostat_sensor.buffer import ReadingBuffer
from rpymostat_sensor.config import SensorConfig
from rpymostat_sensor.pusher import Pusher
from rpymostat_sensor.service import SensorService
from tests.sensor.test_pusher import Engine, ScriptedReader


class FailingDisk(ReadingBuffer):
    """The real buffer on a disk that fails ``failures`` appends (a full or dying SD card)."""

    def __init__(self, data_dir, limit, failures=1):
        super().__init__(data_dir, limit)
        self.failures = failures

    def append(self, readings):
        if self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("disk I/O error")
        return super().append(readings)


class NotifySocket:
    """A datagram socket standing in for systemd's notification socket."""

    def __init__(self, path):
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(str(path))
        self.socket.setblocking(False)
        self.path = path

    def messages(self):
        found = []
        while True:
            try:
                found.append(self.socket.recv(4096).decode())
            except BlockingIOError:
                return found


async def _until(condition, seconds=20.0):
    for _ in range(int(seconds / 0.02)):
        if await condition():
            return True
        await deferLater(reactor, 0.02, lambda: None)
    return False


@pytest_twisted.ensureDeferred
async def test_a_disk_error_on_one_tick_does_not_stop_the_loop_and_systemd_hears_it_all(tmp_path):
    storage = FakeStorage()
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
        build_site(**engine_parts(storage, reactor))
    )
    notify = NotifySocket(tmp_path / "notify")
    watchdog = Watchdog({"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "180000000"})
    config = SensorConfig(
        engine_url=f"http://127.0.0.1:{port.getHost().port}",
        interval=0.1,
        readers=("sim",),
        data_dir=tmp_path / "data",
        sim_sensors=1,
        token="rpy_sensor-test",  # a token given by hand: the engine site here checks none
    )
    buffer = FailingDisk(tmp_path / "data", 100)
    logged = []
    globalLogPublisher.addObserver(logged.append)
    service = SensorService(config, reactor, watchdog=watchdog, buffer=buffer)
    service.startService()
    messages = []
    try:

        async def delivered_and_pinged_twice():
            messages.extend(notify.messages())
            return await storage.sensor("sim-0") is not None and messages.count("WATCHDOG=1") >= 2

        assert await _until(delivered_and_pinged_twice)
        assert service.timer.running
        assert service.pusher.errors == 1
    finally:
        globalLogPublisher.removeObserver(logged.append)
        await service.stopService()
        await port.stopListening()
    failures = [
        e for e in logged if e.get("log_failure") is not None and "taking readings failed" in e.get("log_format", "")
    ]
    assert [str(e["log_failure"].value) for e in failures] == ["disk I/O error"]
    messages.extend(notify.messages())
    assert messages[0].startswith("READY=1")
    assert messages[-1] == "STOPPING=1"
    pings = messages.count("WATCHDOG=1")
    assert pings >= 2  # the failed iteration pinged too, and the one that delivered
    assert set(messages[1:-1]) == {"WATCHDOG=1"}


@pytest_twisted.ensureDeferred
async def test_no_pings_without_iterations(tmp_path):
    """The watchdog hears nothing between ticks: pings come from the loop, not from a timer."""
    from twisted.internet.task import Clock

    notify = NotifySocket(tmp_path / "notify")
    clock = Clock()
    pusher = Pusher(
        clock,
        [ScriptedReader({"28-a": 20.0})],
        ReadingBuffer(tmp_path, 100),
        None,
        "pi",
        lambda: None,
        lambda f, *a: maybeDeferred(f, *a),
        watchdog=Watchdog({"NOTIFY_SOCKET": str(notify.path)}),
    )
    await pusher.take_readings()
    assert notify.messages() == ["WATCHDOG=1"]
    clock.advance(3600)  # retries of delivery run, the loop does not
    assert notify.messages() == []
    pusher.stop()


@pytest_twisted.ensureDeferred
async def test_an_address_the_client_chokes_on_does_not_stop_the_loop(tmp_path, clock):
    """``Agent.request`` raises ValueError for ``http://[::1``: the client makes it Unreachable, retried."""
    storage = FakeStorage()
    engine = Engine(storage)
    await engine.up()
    address = {"url": "http://[::1/v1"}
    client = JsonClient(reactor, timeout=2)
    pusher = Pusher(
        clock,
        [ScriptedReader({"28-a": 20.5})],
        ReadingBuffer(tmp_path, 100),
        client,
        "pi-test",
        lambda: address["url"],
        lambda f, *a: maybeDeferred(f, *a),
    )
    loop = LoopingCall(pusher.take_readings)  # what TimerService runs
    loop.clock = clock
    stopped = loop.start(30)
    try:
        assert loop.running and pusher.errors == 0 and pusher.failures == 1  # a failure to send, not a bug
        address["url"] = engine.url
        clock.advance(30)  # the retry after 1 s, then the next tick

        async def delivered():
            return await storage.sensor("28-a") is not None

        assert await _until(delivered)
        assert loop.running
    finally:
        loop.stop()
        await stopped
        pusher.stop()
        await client.close()
        await engine.down()


class BrokenBatches(ReadingBuffer):
    def newest_batch(self):
        raise sqlite3.DatabaseError("database disk image is malformed")


@pytest_twisted.ensureDeferred
async def test_a_delivery_that_raises_is_counted_and_retried_later(tmp_path, clock):
    pusher = Pusher(
        clock,
        [ScriptedReader({"28-a": 20.5})],
        BrokenBatches(tmp_path, 100),
        None,
        "pi",
        lambda: "http://127.0.0.1:9/v1",
        lambda f, *a: maybeDeferred(f, *a),
    )
    await pusher.take_readings()
    assert (pusher.errors, pusher.failures) == (1, 1)
    [retry] = clock.getDelayedCalls()
    clock.advance(retry.getTime() - clock.seconds())
    assert (pusher.errors, pusher.failures) == (2, 2)
    pusher.stop()


@pytest_twisted.ensureDeferred
async def test_a_delivery_under_way_at_stop_schedules_no_retry(tmp_path, clock):
    """TimerService lets the last iteration finish after ``stop()``: it must not leave a retry behind."""
    pusher = Pusher(
        clock,
        [ScriptedReader({"28-a": 20.5})],
        ReadingBuffer(tmp_path, 100),
        None,
        "pi",
        lambda: None,
        lambda f, *a: maybeDeferred(f, *a),
    )
    pusher.stop()
    await pusher.take_readings()
    assert clock.getDelayedCalls() == [] and pusher.failures == 0
