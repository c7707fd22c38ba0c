"""The lease: the engine's last command holds only for so long."""

from twisted.internet.task import Clock
from twisted.logger import capturedLogs, formatEvent

from rpymostat_control.lease import Lease


def lease(seconds=180.0):
    clock = Clock()
    expiries = []
    return clock, Lease(clock, seconds, lambda: expiries.append(clock.seconds())), expiries


def test_expires_once_after_its_seconds_without_renewal():
    clock, held, expiries = lease()
    assert held.expires_in() is None  # not started
    held.start()
    clock.advance(179.5)
    assert held.expires_in() == 0.5 and expiries == []
    clock.advance(0.5)
    assert expiries == [180.0]
    assert held.expires_in() is None
    clock.advance(1000)
    assert expiries == [180.0]


def test_every_renewal_pushes_the_expiry_back():
    clock, held, expiries = lease(10)
    held.start()
    for _ in range(5):
        clock.advance(9)
        held.renew()
        assert held.expires_in() == 10
    clock.advance(10)
    assert expiries == [55.0]


def test_a_renewal_after_expiry_starts_a_new_lease():
    clock, held, expiries = lease(10)
    held.start()
    clock.advance(10)
    clock.advance(5)
    held.renew()
    assert held.expires_in() == 10
    clock.advance(10)
    assert expiries == [10.0, 25.0]


def test_stop_cancels_and_later_renewals_do_nothing_until_started_again():
    clock, held, expiries = lease(10)
    held.start()
    held.stop()
    held.renew()
    clock.advance(100)
    assert expiries == [] and held.expires_in() is None
    assert clock.getDelayedCalls() == []
    held.stop()  # twice is harmless
    held.start()
    clock.advance(10)
    assert expiries == [110.0]


def test_an_expiry_handler_that_raises_is_logged_counted_and_the_lease_still_works():
    clock = Clock()
    expiries = []

    def broken():
        expiries.append(clock.seconds())
        raise OSError("the board vanished")

    held = Lease(clock, 10, broken)
    with capturedLogs() as events:
        held.start()
        clock.advance(10)  # without the guard the reactor would only log it, uncounted
    assert held.failures == 1 and expiries == [10.0]
    assert [formatEvent(event).splitlines()[0] for event in events] == ["handling the lease expiry failed"]
    assert "OSError: the board vanished" in events[0]["log_failure"].getTraceback()
    held.renew()  # the next command starts a new lease, which expires again
    clock.advance(10)
    assert held.failures == 2 and expiries == [10.0, 20.0]


def test_the_deadline_follows_the_monotonic_clock_when_the_wall_clock_steps():
    wall = Clock()
    elapsed = [0.0]
    expiries = []
    lease = Lease(wall, 360, lambda: expiries.append(elapsed[0]), monotonic=lambda: elapsed[0])
    lease.start()
    wall.advance(3600)  # NTP sets a Pi's clock forward an hour at boot: the timer fires at once
    assert expiries == [] and lease.expires_in() == 360  # but no time has passed
    elapsed[0] = 359.0
    wall.advance(359)
    assert expiries == []
    elapsed[0] = 360.0
    wall.advance(1)
    assert expiries == [360.0]


def test_a_wake_up_the_wall_clock_delayed_is_caught_by_check():
    wall = Clock()
    elapsed = [0.0]
    expiries = []
    lease = Lease(wall, 360, lambda: expiries.append(elapsed[0]), monotonic=lambda: elapsed[0])
    lease.start()
    wall.rightNow -= 3600  # the wall clock set back an hour: the timer would fire an hour late
    elapsed[0] = 375.0
    wall.advance(15)
    assert expiries == []
    lease.check()  # the heartbeat, every 15 s
    assert expiries == [375.0] and lease.expires_in() is None
