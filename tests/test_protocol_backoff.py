"""Capped exponential backoff, shared by the sensor and control daemons."""

from rpymostat.protocol.backoff import Backoff


def delays(backoff, count):
    return [backoff.next_delay() for _ in range(count)]


def test_doubles_from_first_up_to_the_cap_and_stays_there():
    backoff = Backoff()
    assert delays(backoff, 11) == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 300.0, 300.0]
    assert backoff.failures == 11
    assert delays(Backoff(0.5, 3.0), 5) == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_reset_starts_afresh():
    backoff = Backoff(1.0, 5.0)
    delays(backoff, 4)
    backoff.reset()
    assert backoff.failures == 0
    assert delays(backoff, 2) == [1.0, 2.0]


def test_a_first_delay_over_the_cap_is_capped():
    assert delays(Backoff(10.0, 4.0), 2) == [4.0, 4.0]


def test_weeks_of_failures_never_overflow():
    """``first * 2 ** failures`` overflows a float after 1024 failures (3.5 days at 300 s)."""
    backoff = Backoff()
    assert delays(backoff, 5000)[-1] == 300.0
    assert backoff.failures == 5000
