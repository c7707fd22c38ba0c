"""The sd_notify client: what systemd receives, and that nothing it does can fail a loop."""

import os
import socket

import pytest

from rpymostat.protocol.watchdog import Watchdog


@pytest.fixture
def notify_socket(tmp_path):
    """A datagram socket standing in for systemd's notification socket."""
    path = tmp_path / "notify"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(2)
    yield str(path), server
    server.close()


def test_without_notify_socket_every_call_does_nothing():
    watchdog = Watchdog({})
    assert not watchdog.enabled
    watchdog.ready("up")
    watchdog.ping()
    watchdog.stopping()
    assert watchdog.sent == 0
    assert watchdog.interval is None


def test_messages_reach_the_service_manager(notify_socket):
    path, server = notify_socket
    watchdog = Watchdog({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "20000000"})
    assert watchdog.enabled
    watchdog.ready("listening on 8088")
    watchdog.ping()
    watchdog.status("3 zones")
    watchdog.stopping()
    received = [server.recv(4096).decode() for _ in range(4)]
    assert received == ["READY=1\nSTATUS=listening on 8088", "WATCHDOG=1", "STATUS=3 zones", "STOPPING=1"]
    assert watchdog.sent == 4
    watchdog.close()


def test_abstract_socket_names_start_with_at():
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"rpymostat-test-{os.getpid()}"
    server.bind("\0" + name)
    server.settimeout(2)
    try:
        Watchdog({"NOTIFY_SOCKET": "@" + name}).ping()
        assert server.recv(100) == b"WATCHDOG=1"
    finally:
        server.close()


def test_a_vanished_socket_is_logged_not_raised(tmp_path):
    watchdog = Watchdog({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    watchdog.ping()  # must not raise
    assert watchdog.sent == 0


@pytest.mark.parametrize(
    "environ, interval",
    [
        ({"WATCHDOG_USEC": "30000000"}, 30.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 30.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_interval_is_systemds_watchdog_period_for_this_process(environ, interval):
    assert Watchdog(environ).interval == interval


def test_a_loop_must_ping_twice_per_watchdog_period():
    watchdog = Watchdog({"WATCHDOG_USEC": "60000000"})
    assert watchdog.check_period("the sensor loop", 30)
    assert not watchdog.check_period("the sensor loop", 31)
    assert Watchdog({}).check_period("any loop", 3600)
