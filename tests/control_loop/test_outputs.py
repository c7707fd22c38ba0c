"""The output ledger: real switch times from the units' reports, kept across restarts."""

import pytest_twisted
from twisted.internet.task import Clock

from rpymostat.control_loop.outputs import OutputLedger
from rpymostat.testing import FakeStorage

NOW = 1795608000.0


class SteppedClocks:
    """A wall clock at NOW that can be stepped, and a monotonic clock that is never stepped."""

    def __init__(self, monotonic=1000.0):
        self.wall = Clock()
        self.wall.advance(NOW)
        self._monotonic = monotonic

    def monotonic(self):
        return self._monotonic

    def advance(self, seconds):
        self.wall.advance(seconds)
        self._monotonic += seconds

    def step_wall(self, seconds):
        """NTP sets the wall clock; the monotonic one goes on."""
        self.wall.rightNow += seconds


def ledger_on(storage, clocks=None):
    clocks = clocks or SteppedClocks(NOW)  # monotonic equal to the wall clock, until a step
    return OutputLedger(storage, clocks.wall, clocks.monotonic)


@pytest_twisted.ensureDeferred
async def test_a_slow_answer_is_not_a_new_switch_and_adds_no_start():
    ledger = ledger_on(FakeStorage())
    assert await ledger.observe("u/r", True, 0.0, NOW) is True
    for k in range(1, 12):  # the unit answered 3 s after the engine asked
        assert await ledger.observe("u/r", True, 30.0 * k + 3.0, NOW + 30 * k) is False
    state = ledger.state("u/r")
    assert (state.on, state.since, state.switched_on_at) == (True, NOW, (NOW,))


@pytest_twisted.ensureDeferred
async def test_an_off_and_on_between_reports_counts_as_a_start_and_survives_a_restart():
    storage = FakeStorage()
    clocks = SteppedClocks(NOW)
    ledger = ledger_on(storage, clocks)
    await ledger.observe("u/r", True, 0.0, NOW)
    clocks.advance(600)
    assert await ledger.observe("u/r", True, 10.0, NOW + 600) is False  # same state, later switch
    state = ledger.state("u/r")
    assert state.since == NOW + 590 and state.switched_on_at == (NOW, NOW + 590)
    later = SteppedClocks(NOW)
    later.advance(600)
    restarted = ledger_on(storage, later)
    await restarted.load()
    assert restarted.state("u/r") == state and restarted.addresses() == ["u/r"]


@pytest_twisted.ensureDeferred
async def test_durations_follow_the_monotonic_clock_when_the_wall_clock_steps():
    clocks = SteppedClocks(monotonic=5000.0)
    storage = FakeStorage()
    ledger = ledger_on(storage, clocks)
    await ledger.observe("u/r", True, 0.0, clocks.monotonic())
    clocks.advance(100)
    clocks.step_wall(-3600)  # the wall clock is set back an hour
    state = ledger.state("u/r")
    assert clocks.monotonic() - state.since == 100  # on for 100 s, not 3700
    shown = ledger.shown("u/r")
    assert shown.since == NOW - 3600  # as the wall clock now tells it: 100 s ago
    [record] = await storage.output_states()
    assert record.since == NOW


@pytest_twisted.ensureDeferred
async def test_a_restart_turns_stored_switch_times_into_ages_once():
    storage = FakeStorage()
    clocks = SteppedClocks(monotonic=5000.0)
    ledger = ledger_on(storage, clocks)
    await ledger.observe("u/r", True, 0.0, clocks.monotonic())
    later = SteppedClocks(monotonic=20.0)  # a new process: its monotonic clock starts anywhere
    later.wall.advance(250)
    restarted = ledger_on(storage, later)
    await restarted.load()
    state = restarted.state("u/r")
    assert (state.on, later.monotonic() - state.since) == (True, 250)
    assert [later.monotonic() - t for t in state.switched_on_at] == [250]
    behind = SteppedClocks(monotonic=20.0)
    behind.wall.rightNow -= 600  # restarted with the wall clock set back: never a negative age
    again = ledger_on(storage, behind)
    await again.load()
    assert behind.monotonic() - again.state("u/r").since == 0
