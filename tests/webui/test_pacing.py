"""Failed logins from one address are paced; the window slides, other addresses are untouched."""

from rpymostat_webui.guard import LoginPacing


class Monotonic:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_eleventh_try_in_a_minute_waits_until_the_oldest_failure_is_a_minute_old():
    clock = Monotonic()
    pacing = LoginPacing(limit=10, window=60.0, monotonic=clock)
    for second in range(10):
        assert pacing.retry_after("192.0.2.7") is None
        clock.now = 1000.0 + second
        pacing.failed("192.0.2.7")
    clock.now = 1020.0
    assert pacing.retry_after("192.0.2.7") == 41  # the first failure (t=1000) ages out at 1060
    assert pacing.retry_after("192.0.2.8") is None
    clock.now = 1060.0
    assert pacing.retry_after("192.0.2.7") is None  # one aged out: one more try


def test_an_address_with_no_recent_failures_is_forgotten():
    clock = Monotonic()
    pacing = LoginPacing(limit=2, window=10.0, monotonic=clock)
    pacing.failed("192.0.2.7")
    clock.now += 11
    assert pacing.retry_after("192.0.2.7") is None
    assert pacing._failures == {}
