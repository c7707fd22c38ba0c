"""The output ledger: real switch times from the units' reports, kept across restarts."""

import pytest_twisted

from rpymostat.decide.outputs import OutputLedger
from rpymostat.testing import FakeStorage

NOW = 1795608000.0


@pytest_twisted.ensureDeferred
async def test_a_slow_answer_is_not_a_new_switch_and_adds_no_start():
    ledger = OutputLedger(FakeStorage())
    assert await ledger.observe("u/r", True, 0.0, NOW) is True
    for k in range(1, 12):  # the unit answered 3 s after the engine asked
        assert await ledger.observe("u/r", True, 30.0 * k + 3.0, NOW + 30 * k) is False
    state = ledger.state("u/r")
    assert (state.on, state.since, state.switched_on_at) == (True, NOW, (NOW,))


@pytest_twisted.ensureDeferred
async def test_an_off_and_on_between_reports_counts_as_a_start_and_survives_a_restart():
    storage = FakeStorage()
    ledger = OutputLedger(storage)
    await ledger.observe("u/r", True, 0.0, NOW)
    assert await ledger.observe("u/r", True, 10.0, NOW + 600) is False  # same state, later switch
    state = ledger.state("u/r")
    assert state.since == NOW + 590 and state.switched_on_at == (NOW, NOW + 590)
    restarted = OutputLedger(storage)
    await restarted.load()
    assert restarted.state("u/r") == state and restarted.addresses() == ["u/r"]
