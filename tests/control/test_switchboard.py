"""The switchboard: minimum times from the real last switch, persisted; safe states."""

import json

import pytest
from twisted.internet.task import Clock
from twisted.logger import formatEvent, globalLogPublisher
from zope.interface import implementer

from rpymostat_control.config import ControlConfig
from rpymostat_control.relays.interface import IRelayBackend, RelayFault
from rpymostat_control.relays.sim import SimRelays
from rpymostat_control.state_file import FILE_NAME, StateFile, Switched
from rpymostat_control.switchboard import Switchboard, TooSoon, UnknownRelay

#: 2026-11-25T12:00:00Z
NOW = 1795608000.0


@implementer(IRelayBackend)
class Board:
    """A backend with aliases, whose close() may fail: what SimRelays does not cover."""

    name = "board"

    def __init__(self, aliases, close_error=None):
        self.aliases = dict(aliases)
        self.states = dict.fromkeys(aliases, False)
        self.close_error = close_error
        self.closed = False
        self.unreadable = False

    def relays(self):
        return dict(self.aliases)

    def get(self, relay_id):
        if self.unreadable:
            raise RelayFault("cannot read")
        return self.states[relay_id]

    def set(self, relay_id, on):
        self.states[relay_id] = on

    def close(self):
        self.closed = True
        if self.close_error:
            raise self.close_error


@pytest.fixture
def clock():
    clock = Clock()
    clock.advance(NOW)
    return clock


@pytest.fixture
def logged():
    events = []
    globalLogPublisher.addObserver(events.append)
    yield lambda: "\n".join(formatEvent(event) for event in events)
    globalLogPublisher.removeObserver(events.append)


def sim(count=2, on=()):
    backend = SimRelays(ControlConfig(sim_relays=count))
    for relay_id in on:
        backend.set(relay_id, True)
    return backend


def board(tmp_path, clock, backends, min_on=300.0, min_off=300.0, safe_states=None):
    return Switchboard(backends, clock, StateFile(tmp_path), min_on, min_off, safe_states or {})


def saved(tmp_path):
    return json.loads((tmp_path / FILE_NAME).read_text())["relays"]


def test_start_reads_the_hardware_and_saves_it(tmp_path, clock):
    switchboard = board(tmp_path, clock, [sim(on=["sim-2"])])
    assert switchboard.relay_ids() == ["sim-1", "sim-2"]
    assert saved(tmp_path) == {"sim-1": {"state": False, "since": NOW}, "sim-2": {"state": True, "since": NOW}}
    assert switchboard.document("sim-2") == {
        "type": "sim", "state": True, "alias": None, "safe_state": False,
        "since": "2026-11-25T12:00:00.000+00:00", "seconds_in_state": 0.0,
        "min_on_s": 300.0, "min_off_s": 300.0,
    }


def test_minimum_off_time_counts_from_the_real_switch(tmp_path, clock):
    backend = sim()
    switchboard = board(tmp_path, clock, [backend], min_off=300)
    clock.advance(42)
    with pytest.raises(TooSoon) as refused:
        switchboard.command("sim-1", True)
    assert refused.value.message == "minimum off time: sim-1 has been off for 42 of 300 s"
    assert refused.value.retry_after == 258.0 and refused.value.relay_id == "sim-1"
    assert backend.get("sim-1") is False
    clock.advance(258)
    assert switchboard.command("sim-1", True) is True
    assert backend.get("sim-1") is True
    assert saved(tmp_path)["sim-1"] == {"state": True, "since": NOW + 300}
    assert switchboard.document("sim-1")["seconds_in_state"] == 0.0


def test_minimum_on_time_and_commands_that_change_nothing(tmp_path, clock):
    backend = sim(on=["sim-1"])
    switchboard = board(tmp_path, clock, [backend], min_on=60, min_off=0)
    clock.advance(10.5)
    assert switchboard.command("sim-1", True) is False  # already on: allowed, not a switch
    with pytest.raises(TooSoon, match="minimum on time: sim-1 has been on for 10 of 60 s"):
        switchboard.command("sim-1", False)
    assert switchboard.document("sim-1")["seconds_in_state"] == 10.5
    clock.advance(49.5)
    assert switchboard.command("sim-1", False) is True
    assert switchboard.command("sim-2", True) is True  # zero minimum: at once


def test_a_restart_keeps_counting_when_the_hardware_agrees(tmp_path, clock):
    first = board(tmp_path, clock, [sim()], min_off=0)
    first.command("sim-1", True)
    switched_at = clock.seconds()
    clock.advance(100)
    restarted = board(tmp_path, clock, [sim(on=["sim-1"])])
    assert restarted.document("sim-1")["seconds_in_state"] == 100.0
    with pytest.raises(TooSoon) as refused:
        restarted.command("sim-1", False)
    assert refused.value.retry_after == 200.0
    assert saved(tmp_path)["sim-1"] == {"state": True, "since": switched_at}


def test_a_restart_counts_from_now_when_the_hardware_was_reset(tmp_path, clock):
    board(tmp_path, clock, [sim()], min_off=0).command("sim-1", True)
    clock.advance(1000)
    restarted = board(tmp_path, clock, [sim()])  # power loss: every relay dropped off
    assert restarted.document("sim-1")["seconds_in_state"] == 0.0
    assert saved(tmp_path)["sim-1"] == {"state": False, "since": NOW + 1000}
    with pytest.raises(TooSoon, match="has been off for 0 of 300 s"):
        restarted.command("sim-1", True)


def test_a_clock_set_back_restarts_the_count_instead_of_freezing_it(tmp_path):
    StateFile(tmp_path).save({"sim-1": Switched(False, NOW + 3600)})
    clock = Clock()
    clock.advance(NOW)
    switchboard = board(tmp_path, clock, [sim()], min_off=300)
    assert switchboard.document("sim-1")["since"] == "2026-11-25T12:00:00.000+00:00"
    clock.advance(300)
    assert switchboard.command("sim-1", True) is True
    clock.advance(-7200)  # the wall clock jumps back while running
    assert switchboard.document("sim-1")["seconds_in_state"] == 0.0
    clock.advance(300)
    assert switchboard.document("sim-1")["seconds_in_state"] == 300.0


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'{"relays": 3}', b"\xff\xfe"])
def test_an_unreadable_state_file_counts_from_now(tmp_path, clock, logged, content):
    (tmp_path / FILE_NAME).write_bytes(content)
    clock.advance(5)
    switchboard = board(tmp_path, clock, [sim()])
    assert switchboard.document("sim-1")["seconds_in_state"] == 0.0
    assert "ignoring" in logged() and FILE_NAME in logged()
    assert saved(tmp_path)["sim-1"] == {"state": False, "since": NOW + 5}


def test_bad_entries_in_the_state_file_are_skipped(tmp_path):
    (tmp_path / FILE_NAME).write_text(json.dumps({"relays": {
        "a": {"state": True, "since": 1.5}, "b": {"state": 1, "since": 2}, "c": {"state": True},
        "d": "on", "e": {"state": False, "since": True}, "f": {"state": False, "since": 7},
    }}))
    assert StateFile(tmp_path).load() == {"a": Switched(True, 1.5), "f": Switched(False, 7.0)}
    assert StateFile(tmp_path / "nowhere").load() == {}


def test_saving_is_atomic_and_leaves_no_temporary_file(tmp_path):
    state_file = StateFile(tmp_path / "new")
    state_file.save({"b": Switched(True, 2.0), "a": Switched(False, 1.0)})
    state_file.save({"a": Switched(True, 3.0)})
    assert [p.name for p in (tmp_path / "new").iterdir()] == [FILE_NAME]
    assert state_file.load() == {"a": Switched(True, 3.0)}


def test_a_switch_nobody_asked_for_counts_as_a_switch(tmp_path, clock, logged):
    backend = sim()
    switchboard = board(tmp_path, clock, [backend], min_on=300, min_off=0)
    clock.advance(50)
    backend.set("sim-1", True)  # a board reset, or someone at the relay
    document = switchboard.document("sim-1")
    assert document["state"] is True and document["seconds_in_state"] == 0.0
    assert saved(tmp_path)["sim-1"] == {"state": True, "since": NOW + 50}
    assert "sim-1 is on though it was switched off here" in logged()
    with pytest.raises(TooSoon, match="minimum on time"):
        switchboard.command("sim-1", False)


def test_hardware_faults(tmp_path, clock, logged):
    backend = sim()
    switchboard = board(tmp_path, clock, [backend], min_off=0)
    backend.failing.add("sim-1")
    with pytest.raises(RelayFault, match="simulated fault"):
        switchboard.command("sim-1", True)
    document = switchboard.document("sim-1")  # unreadable: the last known state, logged
    assert document["state"] is False
    assert "cannot read relay sim-1" in logged()
    with pytest.raises(UnknownRelay):
        switchboard.command("sim-9", True)
    with pytest.raises(UnknownRelay):
        switchboard.document("sim-9")


def test_a_relay_unreadable_at_start_stops_the_start(tmp_path, clock):
    backend = SimRelays(ControlConfig(sim_relays=1), failing=["sim-1"])
    with pytest.raises(RelayFault, match="cannot read relay sim-1 at start: sim-1: simulated fault"):
        board(tmp_path, clock, [backend])


def test_duplicate_ids_and_unknown_safe_states_stop_the_start(tmp_path, clock):
    with pytest.raises(ValueError, match="two relay backends both have an output 'sim-1'"):
        board(tmp_path, clock, [sim(), sim()])
    with pytest.raises(ValueError, match="RPYMOSTAT_SAFE_STATES names heat-pump, which no relay"
                                          " backend found; outputs found: sim-1, sim-2"):
        board(tmp_path, clock, [sim()], safe_states={"heat-pump": True})


def test_safe_states_override_minimum_times_and_survive_faults(tmp_path, clock, logged):
    backend = sim(count=3, on=["sim-1", "sim-3"])
    switchboard = board(tmp_path, clock, [backend], safe_states={"sim-2": True})
    backend.failing.add("sim-3")
    assert switchboard.to_safe_states("lease expired") == ["sim-1", "sim-2"]
    assert (backend.get("sim-1"), backend.get("sim-2")) == (False, True)
    assert switchboard.document("sim-2")["safe_state"] is True
    assert saved(tmp_path)["sim-1"] == {"state": False, "since": NOW}
    assert "lease expired: switched sim-1 off, sim-2 on to their safe states" in logged()
    assert "lease expired: relay sim-3 could not go to its safe state off: sim-3: simulated fault" in logged()
    backend.failing.add("sim-1")
    assert switchboard.to_safe_states("failing") == []
    assert "failing: every output already" not in logged()  # not while one could not be set
    backend.failing.clear()
    assert switchboard.to_safe_states("again") == ["sim-3"]
    assert switchboard.to_safe_states("and again") == []
    assert "and again: every output already in its safe state" in logged()


def test_safe_states_rewrite_outputs_that_seem_right(tmp_path, clock):
    backend = Board({"r": None})
    switchboard = board(tmp_path, clock, [backend])
    backend.states["r"], backend.unreadable = True, True  # on behind its back, and unreadable
    assert switchboard.to_safe_states("stop") == []
    assert backend.states["r"] is False


def test_registration_has_aliases_only_where_set(tmp_path, clock):
    switchboard = board(tmp_path, clock, [Board({"heat": "boiler", "fan": None})])
    assert switchboard.registration() == {
        "fan": {"type": "board", "state": False},
        "heat": {"type": "board", "state": False, "alias": "boiler"},
    }


def test_a_failing_disk_is_logged_and_the_switch_still_happens(tmp_path, clock, logged):
    backend = sim()
    switchboard = board(tmp_path, clock, [backend], min_off=0)
    (tmp_path / (FILE_NAME + ".tmp")).mkdir()  # the temporary file cannot be written
    assert switchboard.command("sim-1", True) is True
    assert backend.get("sim-1") is True
    assert "could not save relay switch times" in logged()


def test_an_unwritable_data_directory_stops_the_start(tmp_path, clock):
    (tmp_path / (FILE_NAME + ".tmp")).mkdir()
    with pytest.raises(OSError):
        board(tmp_path, clock, [sim()])


def test_after_close_commands_fail_and_documents_do_not_touch_hardware(tmp_path, clock, logged):
    failing_close = Board({"r": None}, close_error=RuntimeError("usb gone"))
    backend = sim()
    switchboard = board(tmp_path, clock, [failing_close, backend])
    switchboard.close()
    assert failing_close.closed
    assert "closing relay backend board failed: usb gone" in logged()
    with pytest.raises(RelayFault, match="the relay unit is stopping"):
        switchboard.command("sim-1", True)
    assert switchboard.document("sim-1")["state"] is False
    assert "cannot read" not in logged()
