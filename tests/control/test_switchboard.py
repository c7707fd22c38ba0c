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
from rpymostat_control.switchboard import SafeStates, Switchboard, TooSoon, UnknownRelay

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
        self.unwritable = False

    def relays(self):
        return dict(self.aliases)

    def get(self, relay_id):
        if self.unreadable:
            raise RelayFault("cannot read")
        return self.states[relay_id]

    def set(self, relay_id, on):
        if self.unwritable:
            raise RelayFault("cannot write")
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


def left(tmp_path, backend, at=NOW):
    """Record ``backend``'s states as this unit's own, set at ``at`` (a restart finds them so)."""
    StateFile(tmp_path).save({r: Switched(backend.get(r), at) for r in backend.relays()})
    return backend


def board(tmp_path, clock, backends, min_on=300.0, min_off=300.0, safe_states=None, monotonic=None):
    """A switchboard whose wall and monotonic clocks are both ``clock`` unless told otherwise."""
    return Switchboard(
        backends, clock, StateFile(tmp_path), min_on, min_off, safe_states or {}, monotonic=monotonic or clock.seconds
    )


def saved(tmp_path):
    return json.loads((tmp_path / FILE_NAME).read_text())["relays"]


def test_start_reads_the_hardware_and_saves_it(tmp_path, clock):
    switchboard = board(tmp_path, clock, [left(tmp_path, sim(on=["sim-2"]))])
    assert switchboard.relay_ids() == ["sim-1", "sim-2"]
    assert saved(tmp_path) == {"sim-1": {"state": False, "since": NOW}, "sim-2": {"state": True, "since": NOW}}
    assert switchboard.document("sim-2") == {
        "type": "sim",
        "state": True,
        "alias": None,
        "safe_state": False,
        "since": "2026-11-25T12:00:00.000+00:00",
        "seconds_in_state": 0.0,
        "min_on_s": 300.0,
        "min_off_s": 300.0,
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
    backend = left(tmp_path, sim(on=["sim-1"]))
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


def test_a_record_from_the_future_counts_from_now(tmp_path, clock):
    StateFile(tmp_path).save({"sim-1": Switched(False, NOW + 3600)})  # the clock was set back since
    switchboard = board(tmp_path, clock, [sim()], min_off=300)
    assert switchboard.document("sim-1")["since"] == "2026-11-25T12:00:00.000+00:00"
    assert switchboard.document("sim-1")["seconds_in_state"] == 0.0
    assert saved(tmp_path)["sim-1"] == {"state": False, "since": NOW}
    clock.advance(300)
    assert switchboard.command("sim-1", True) is True


@pytest.mark.parametrize("jump", [3600.0, -7200.0])
def test_wall_clock_jumps_change_no_age(tmp_path, jump):
    """NTP setting the clock of a Pi without a real-time clock must not skip a minimum time:
    ages run on the monotonic clock, the wall clock only stamps ``since``."""
    wall, monotonic = Clock(), Clock()
    wall.advance(NOW)
    switchboard = board(tmp_path, wall, [sim()], min_on=300, min_off=0, monotonic=monotonic.seconds)
    assert switchboard.command("sim-1", True) is True
    wall.advance(100)
    monotonic.advance(100)
    wall.advance(jump)
    document = switchboard.document("sim-1")
    assert document["seconds_in_state"] == 100.0
    assert document["since"] == "2026-11-25T12:00:00.000+00:00"
    with pytest.raises(TooSoon) as refused:
        switchboard.command("sim-1", False)
    assert refused.value.retry_after == 200.0
    monotonic.advance(200)
    assert switchboard.command("sim-1", False) is True
    assert saved(tmp_path)["sim-1"] == {"state": False, "since": NOW + 100 + jump}  # the wall time


def test_a_persisted_switch_becomes_an_age_once_at_start(tmp_path, clock):
    """The state file holds wall time; at start it becomes an age on the monotonic clock,
    which then alone counts, whatever the wall clock does."""
    StateFile(tmp_path).save({"sim-1": Switched(True, NOW - 100), "sim-2": Switched(False, NOW - 50)})
    monotonic = Clock()
    monotonic.advance(12.5)  # any base: a monotonic clock starts at boot, or anywhere
    switchboard = board(tmp_path, clock, [sim(on=["sim-1"])], monotonic=monotonic.seconds)
    clock.advance(-1000)
    assert switchboard.document("sim-1")["seconds_in_state"] == 100.0
    assert switchboard.document("sim-2")["seconds_in_state"] == 50.0
    monotonic.advance(150)
    assert switchboard.document("sim-1")["seconds_in_state"] == 250.0
    with pytest.raises(TooSoon) as refused:
        switchboard.command("sim-1", False)
    assert refused.value.retry_after == 50.0


def test_outputs_not_as_this_unit_left_them_go_to_their_safe_states_at_start(tmp_path, clock, logged):
    """A relay found in another state than recorded (a backend that resets its relays, a power
    cut) or with no record holds no engine's command: it goes safe at once; one found as
    recorded keeps the engine's last command for the first lease."""
    StateFile(tmp_path).save(
        {
            "sim-1": Switched(True, NOW - 10),  # a boiler the engine had on: reset off, off is safe
            "sim-2": Switched(True, NOW - 10),  # a pump, safe on: reset off, so back on
            "sim-3": Switched(False, NOW - 10),  # a pump the engine had off, found off: held
        }
    )
    backend = sim(count=5, on=["sim-5"])  # sim-4 and sim-5: no record
    safe = {"sim-2": True, "sim-3": True, "sim-4": True}
    switchboard = board(tmp_path, clock, [backend], min_on=300, min_off=300, safe_states=safe)
    assert {r: backend.get(r) for r in switchboard.relay_ids()} == {
        "sim-1": False,
        "sim-2": True,
        "sim-3": False,
        "sim-4": True,
        "sim-5": False,
    }
    assert saved(tmp_path) == {
        "sim-1": {"state": False, "since": NOW},
        "sim-2": {"state": True, "since": NOW},
        "sim-3": {"state": False, "since": NOW - 10},
        "sim-4": {"state": True, "since": NOW},
        "sim-5": {"state": False, "since": NOW},
    }
    assert "relay sim-2 is off at start but this unit last set it on: switched on, its safe state" in logged()
    assert "relay sim-4 is off at start but this unit has no record of it: switched on" in logged()
    assert "relay sim-5 is on at start but this unit has no record of it: switched off" in logged()
    assert "relay sim-1 is" not in logged() and "relay sim-3 is off at start" not in logged()
    with pytest.raises(TooSoon, match="minimum on time"):  # going safe counts as a switch
        switchboard.command("sim-2", False)
    assert switchboard.document("sim-3")["seconds_in_state"] == 10.0


def test_an_output_that_cannot_go_safe_at_start_stops_the_start(tmp_path, clock):
    backend = Board({"pump": None})
    backend.unwritable = True
    with pytest.raises(RelayFault, match="cannot switch relay pump to its safe state at start: cannot write"):
        board(tmp_path, clock, [backend], safe_states={"pump": True})


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'{"relays": 3}', b"\xff\xfe"])
def test_an_unreadable_state_file_counts_from_now(tmp_path, clock, logged, content):
    (tmp_path / FILE_NAME).write_bytes(content)
    clock.advance(5)
    switchboard = board(tmp_path, clock, [sim()])
    assert switchboard.document("sim-1")["seconds_in_state"] == 0.0
    assert "ignoring" in logged() and FILE_NAME in logged()
    assert saved(tmp_path)["sim-1"] == {"state": False, "since": NOW + 5}


def test_bad_entries_in_the_state_file_are_skipped(tmp_path):
    (tmp_path / FILE_NAME).write_text(
        json.dumps(
            {
                "relays": {
                    "a": {"state": True, "since": 1.5},
                    "b": {"state": 1, "since": 2},
                    "c": {"state": True},
                    "d": "on",
                    "e": {"state": False, "since": True},
                    "f": {"state": False, "since": 7},
                }
            }
        )
    )
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
    with pytest.raises(
        ValueError,
        match="RPYMOSTAT_SAFE_STATES names heat-pump, which no relay backend found; outputs found: sim-1, sim-2",
    ):
        board(tmp_path, clock, [sim()], safe_states={"heat-pump": True})


def test_safe_states_override_minimum_times_and_survive_faults(tmp_path, clock, logged):
    backend = left(tmp_path, sim(count=3, on=["sim-1", "sim-3"]))
    switchboard = board(tmp_path, clock, [backend], safe_states={"sim-2": True})
    backend.failing.add("sim-3")
    assert switchboard.to_safe_states("lease expired") == SafeStates(["sim-1", "sim-2"], ["sim-3"])
    assert (backend.get("sim-1"), backend.get("sim-2")) == (False, True)
    assert switchboard.document("sim-2")["safe_state"] is True
    assert saved(tmp_path)["sim-1"] == {"state": False, "since": NOW}
    assert "lease expired: switched sim-1 off, sim-2 on to their safe states" in logged()
    assert "lease expired: relay sim-3 could not go to its safe state off: sim-3: simulated fault" in logged()
    backend.failing.add("sim-1")
    assert switchboard.to_safe_states("failing") == ([], ["sim-1", "sim-3"])
    assert "failing: every output already" not in logged()  # not while one could not be set
    backend.failing.clear()
    assert switchboard.to_safe_states("again") == (["sim-3"], [])
    assert switchboard.to_safe_states("and again") == ([], [])
    assert "and again: every output already in its safe state" in logged()


def test_safe_states_rewrite_outputs_that_seem_right(tmp_path, clock):
    backend = Board({"r": None})
    switchboard = board(tmp_path, clock, [backend])
    backend.states["r"], backend.unreadable = True, True  # on behind its back, and unreadable
    assert switchboard.to_safe_states("stop") == ([], [])
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


def test_a_safety_off_ends_the_minimum_on_time_and_is_saved_through_save(tmp_path, clock, logged):
    snapshots = []
    backend = sim()
    switchboard = Switchboard(
        [backend], clock, StateFile(tmp_path), 300.0, 300.0, {}, monotonic=clock.seconds, save=snapshots.append
    )
    clock.advance(300)
    assert switchboard.command("sim-1", True) is True
    clock.advance(5)
    with pytest.raises(TooSoon):
        switchboard.command("sim-1", False)
    assert switchboard.command("sim-1", False, safety="overheat") is True
    assert backend.get("sim-1") is False
    assert snapshots[-1]["sim-1"] == Switched(False, NOW + 305)
    assert "relay sim-1 switched off for safety after 5 s on" in logged()
    assert switchboard.command("sim-1", False, safety="overheat") is False
    with pytest.raises(ValueError, match="a safety command only switches off"):
        switchboard.command("sim-1", True, safety="frost")
    with pytest.raises(TooSoon, match="minimum off time"):
        switchboard.command("sim-1", True)


def test_the_heartbeat_check_reads_every_output_and_nothing_once_closed(tmp_path, clock, logged):
    backend = sim(count=3)
    switchboard = board(tmp_path, clock, [backend])
    backend.failing.add("sim-2")
    backend.set("sim-3", True)
    assert switchboard.check() == ["sim-2"]
    assert "cannot read relay sim-2: sim-2: simulated fault" in logged()
    assert switchboard.document("sim-3")["state"] is True
    switchboard.close()
    assert switchboard.check() == []


class ReadsFail(SimRelays):
    """Relays that can still be switched but no longer read (a flaky USB read, a backend bug)."""

    reads_fail = False

    def get(self, relay_id):
        if self.reads_fail:
            raise RelayFault(f"{relay_id}: read timed out")
        return super().get(relay_id)


def test_an_off_is_written_even_when_the_relay_cannot_be_read(tmp_path, clock, logged):
    backend = ReadsFail(ControlConfig(sim_relays=2))
    switchboard = board(tmp_path, clock, [backend], min_on=300, min_off=0)
    switchboard.command("sim-1", True)
    backend.reads_fail = True
    clock.advance(60)
    assert switchboard.command("sim-1", False, safety="never heat above 30 C") is True
    assert SimRelays.get(backend, "sim-1") is False  # really off, 60 s into a 300 s minimum on time
    assert "cannot read relay sim-1 (sim-1: read timed out); switching it off all the same" in logged()
    with pytest.raises(RelayFault, match="read timed out"):  # an "on" still needs to know where it stands
        switchboard.command("sim-2", True)
    backend.set("sim-2", True)  # drifted on behind the unit's back, recorded off
    assert switchboard.command("sim-2", False) is False
    assert SimRelays.get(backend, "sim-2") is False
