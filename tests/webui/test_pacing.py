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
        clock.now = 1000.0 + second
        assert pacing.attempt("192.0.2.7") is None  # counted as failed until it succeeds
    clock.now = 1020.0
    assert pacing.attempt("192.0.2.7") == 41  # the first failure (t=1000) ages out at 1060
    assert pacing.attempt("192.0.2.8") is None
    clock.now = 1060.0
    assert pacing.attempt("192.0.2.7") is None  # one aged out: one more try


def test_a_right_password_takes_its_try_back():
    clock = Monotonic()
    pacing = LoginPacing(limit=2, window=60.0, monotonic=clock)
    assert pacing.attempt("192.0.2.7") is None
    pacing.succeeded("192.0.2.7")
    assert pacing._failures == {}
    assert pacing.attempt("192.0.2.7") is None
    assert pacing.attempt("192.0.2.7") is None
    assert pacing.attempt("192.0.2.7") is not None  # two failures: the third waits
    pacing.succeeded("192.0.2.9")  # an address never seen: nothing to take back


def test_tries_in_parallel_cannot_slip_past_the_limit():
    pacing = LoginPacing(limit=3, window=60.0, monotonic=Monotonic())
    # Eight page threads each start a check before any has finished: only three may go ahead.
    started = [pacing.attempt("192.0.2.7") for _ in range(8)]
    assert started.count(None) == 3


def test_many_addresses_are_forgotten_once_their_failures_age_out():
    clock = Monotonic()
    pacing = LoginPacing(limit=5, window=10.0, monotonic=clock)
    for host in range(1000):
        pacing.attempt(f"10.0.{host // 256}.{host % 256}")
    clock.now += 11
    pacing.attempt("192.0.2.7")
    assert list(pacing._failures) == ["192.0.2.7"]
