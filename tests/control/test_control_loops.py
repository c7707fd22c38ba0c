"""The daemon's loops never die of an exception, systemd's watchdog hears from the heartbeat,
and the state file is written off the reactor thread, newest last.

The service runs with real HTTP on loopback, a real state file and a real
systemd notification socket (a Unix datagram socket in a temporary directory);
only the relay hardware is faked, by backends raising what plugins may raise.
"""

import dataclasses
import json
import os
import shutil
import socket
import tempfile
import threading

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.task import Clock

from rpymostat.protocol.watchdog import Watchdog
from rpymostat_control.relays.sim import SimRelays
from rpymostat_control.service import HEARTBEAT_S, SAFE_RETRY_S, ControlService
from rpymostat_control.state_file import FILE_NAME, StateFile, Switched
from tests.control.test_control_service import NOW, Running, config, engine, logged, pending  # noqa: F401


class Erratic(SimRelays):
    """Sim relays whose ``raising`` ones raise that exception (not a RelayFault), as a buggy
    plugin or a driver's own OSError would."""

    def __init__(self, config):
        super().__init__(config)
        self.raising = {}

    def get(self, relay_id):
        if relay_id in self.raising:
            raise self.raising[relay_id]
        return super().get(relay_id)

    def set(self, relay_id, on):
        if relay_id in self.raising:
            raise self.raising[relay_id]
        super().set(relay_id, on)


class Notified:
    """systemd's end of ``$NOTIFY_SOCKET``: every datagram the daemon sent, in order."""

    def __init__(self, environ_extra=None):
        self.directory = tempfile.mkdtemp(prefix="notify")  # short: Unix socket paths are
        self.path = os.path.join(self.directory, "sock")
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(self.path)
        self.socket.setblocking(False)
        self.watchdog = Watchdog({"NOTIFY_SOCKET": self.path, **(environ_extra or {})})
        self.received = []

    def messages(self):
        while True:
            try:
                self.received.append(self.socket.recv(4096).decode())
            except BlockingIOError:
                return self.received

    def close(self):
        self.watchdog.close()
        self.socket.close()
        shutil.rmtree(self.directory)


@pytest.fixture
def notified():
    systemd = Notified()
    yield systemd
    systemd.close()


def running_with(config, backend, **options):
    """A :class:`Running` service over ``backend`` instead of plain sim relays."""
    unit = Running.__new__(Running)
    unit.clock = Clock()
    unit.clock.advance(NOW)
    unit.relays = backend
    unit.service = ControlService(
        config, reactor, backends=[backend], clock=unit.clock, monotonic=unit.clock.seconds, **options
    )
    return unit


# The lease expiry and its retries.


@pytest.mark.parametrize("error", [RuntimeError("driver bug"), OSError(5, "Input/output error")])
@pytest_twisted.ensureDeferred
async def test_any_exception_of_a_backend_at_lease_expiry_is_retried_and_the_unit_registers(
    config, engine, logged, error
):
    """Not only RelayFault: a plugin raising anything must not end the safe-state retries
    (nor stop the other outputs going safe, nor the registration)."""
    backend = Erratic(dataclasses.replace(config, safe_states={}))
    unit = running_with(dataclasses.replace(config, lease=10.0), backend)
    await unit.start()
    try:
        await unit.registered(engine, 1)
        assert (await unit.post("sim-1", True))[0] == 200
        backend.raising["sim-1"] = error
        unit.clock.advance(10)
        assert backend._states == {"sim-1": True, "sim-2": True}  # sim-2 went to its safe state (on)
        assert f"relay sim-1 could not go to its safe state off: {error!r}" in logged()
        assert pending(unit.clock) == [SAFE_RETRY_S]
        await unit.registered(engine, 2)
        unit.clock.advance(SAFE_RETRY_S)
        assert "(lease expired), attempt 2: relay sim-1 could not go" in logged()
        del backend.raising["sim-1"]
        unit.clock.advance(SAFE_RETRY_S)
        assert backend.get("sim-1") is False and pending(unit.clock) == []
    finally:
        await unit.stop()


@pytest_twisted.ensureDeferred
async def test_a_bug_in_the_safe_state_pass_is_logged_counted_retried_and_the_unit_registers(config, engine, logged):
    unit = await Running(dataclasses.replace(config, lease=10.0)).start()
    try:
        await unit.registered(engine, 1)
        real = unit.service.switchboard.to_safe_states
        unit.service.switchboard.to_safe_states = lambda reason: 1 / 0
        unit.clock.advance(10)
        assert unit.service.loop_failures["safe states"] == 1
        assert "sending the outputs to their safe states failed" in logged()
        assert pending(unit.clock) == [SAFE_RETRY_S]
        await unit.registered(engine, 2)
        unit.service.switchboard.to_safe_states = real
        assert (await unit.post("sim-1", False))[0] == 200  # the engine is back: a new lease
        unit.clock.advance(10)
        assert pending(unit.clock) == []  # the new lease ran out and went safe cleanly
    finally:
        await unit.stop()


# systemd: READY, WATCHDOG from the heartbeat, STOPPING.


@pytest_twisted.ensureDeferred
async def test_ready_once_listening_pings_from_the_heartbeat_and_stopping(config, engine, notified, logged):
    beat = Clock()
    unit = Running(config, watchdog=notified.watchdog, heartbeat_clock=beat)
    await unit.start()
    try:
        assert notified.messages()[0] == "READY=1\nSTATUS=relays sim-1, sim-2"
        assert notified.messages()[1:] == ["WATCHDOG=1"]  # the first round, at start
        unit.relays.set("sim-1", True)  # a switch nobody asked for: the heartbeat reads it
        beat.advance(HEARTBEAT_S)
        assert notified.messages()[1:] == ["WATCHDOG=1"] * 2
        assert "relay sim-1 is on though it was switched off here" in logged()
        beat.advance(HEARTBEAT_S - 0.1)
        assert len(notified.messages()) == 3  # no ping of its own between rounds
    finally:
        await unit.stop()
    assert notified.messages()[-1] == "STOPPING=1"
    beat.advance(HEARTBEAT_S * 3)
    assert notified.messages()[-1] == "STOPPING=1"  # the heartbeat stopped with the daemon


@pytest.mark.parametrize("error", [RuntimeError("driver bug"), OSError(5, "Input/output error")])
@pytest_twisted.ensureDeferred
async def test_a_backend_raising_in_the_heartbeat_is_logged_and_the_loop_goes_on(
    config, engine, notified, logged, error
):
    backend = Erratic(config)
    beat = Clock()
    unit = running_with(config, backend, watchdog=notified.watchdog, heartbeat_clock=beat)
    await unit.start()
    try:
        backend.raising["sim-1"] = error
        beat.advance(HEARTBEAT_S)
        assert f"cannot read relay sim-1: {error!r}" in logged()
        del backend.raising["sim-1"]
        backend.set("sim-2", False)  # still read: the loop went on
        beat.advance(HEARTBEAT_S)
        assert "relay sim-2 is off though it was switched on here" in logged()
        assert notified.messages().count("WATCHDOG=1") == 3
    finally:
        await unit.stop()


@pytest_twisted.ensureDeferred
async def test_a_bug_in_the_heartbeat_is_logged_counted_and_does_not_end_it(config, engine, notified, logged):
    beat = Clock()
    unit = Running(config, watchdog=notified.watchdog, heartbeat_clock=beat)
    await unit.start()
    try:
        unit.service.switchboard.check = lambda: 1 / 0
        beat.advance(HEARTBEAT_S)
        beat.advance(HEARTBEAT_S)
        assert unit.service.loop_failures["heartbeat"] == 2
        assert "the relay heartbeat failed" in logged()
        assert notified.messages().count("WATCHDOG=1") == 3
    finally:
        await unit.stop()


@pytest_twisted.ensureDeferred
async def test_a_watchdog_period_too_short_for_the_heartbeat_is_a_warning(config, engine, logged):
    systemd = Notified({"WATCHDOG_USEC": "20000000"})
    try:
        unit = await Running(config, watchdog=systemd.watchdog, heartbeat_clock=Clock()).start()
        await unit.stop()
    finally:
        systemd.close()
    assert (
        "the relay heartbeat runs every 15 s but systemd's WatchdogSec is 20 s; set WatchdogSec to at least 30 s"
    ) in logged()


# The state file, off the reactor thread.


class ThreadRecordingStateFile(StateFile):
    """A real state file that notes which thread each save ran on."""

    def __init__(self, data_dir):
        super().__init__(data_dir)
        self.threads = []

    def save(self, switched):
        self.threads.append(threading.get_ident())
        super().save(switched)


@pytest_twisted.ensureDeferred
async def test_switches_are_saved_on_a_worker_thread_and_the_newest_is_on_disk_after_stop(config, engine):
    state_file = ThreadRecordingStateFile(config.data_dir)
    unit = Running(dataclasses.replace(config, min_on=0.0), state_file=state_file)
    assert state_file.threads == [threading.get_ident()]  # the start: at once, a failure fatal
    await unit.start()
    for state in (True, False, True, False, True):
        unit.clock.advance(1)
        assert (await unit.post("sim-1", state))[0] == 200
    await unit.service.state_writer.flush()
    assert len(state_file.threads) > 1
    assert threading.get_ident() not in state_file.threads[1:]  # the reactor thread never fsyncs
    assert StateFile(config.data_dir).load()["sim-1"] == Switched(True, unit.clock.seconds())
    unit.clock.advance(1)
    assert (await unit.post("sim-1", False))[0] == 200
    await unit.service.stopService()  # flushes: what is on disk is what the outputs are
    saved = json.loads((config.data_dir / FILE_NAME).read_text())["relays"]
    assert {relay_id: entry["state"] for relay_id, entry in saved.items()} == {"sim-1": False, "sim-2": True}
    assert saved["sim-1"]["since"] == unit.clock.seconds()
