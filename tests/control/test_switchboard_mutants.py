"""What the relay unit says and reports at its edges.

Mutation testing (``benchmarks/mutation.sh``) showed these were held by no test: the log
lines an installer reads in the journal (each relay at start, a safety off and its reason,
a disk that cannot keep switch times, a relay that cannot be read), the exact errors of a
refused start, the time left that a refusal reports, and a relay switched on behind the
unit's back when the outputs go to their safe states.  Expected values are worked out by
hand; the hardware is the simulated backend or the small ``Board`` below.
"""

import errno

import pytest
from twisted.internet.task import Clock
from twisted.logger import formatEvent, globalLogPublisher
from zope.interface import implementer

from rpymostat_control.config import ControlConfig
from rpymostat_control.lease import Lease
from rpymostat_control.relays.interface import IRelayBackend, RelayFault
from rpymostat_control.relays.sim import SimRelays
from rpymostat_control.state_file import FILE_NAME, StateFile, Switched
from rpymostat_control.switchboard import SafeStates, Switchboard, TooSoon, UnknownRelay

#: 2026-11-25T12:00:00Z
NOW = 1795608000.0
NOW_ISO = "2026-11-25T12:00:00.000+00:00"


@implementer(IRelayBackend)
class Board:
    """A backend with no outputs at all, or aliased ones, that keeps exactly what it is sent
    and may fail to read or close with an exception of its own (a plugin may raise more than
    RelayFault)."""

    name = "board"

    def __init__(self, aliases):
        self.aliases = dict(aliases)
        self.states = dict.fromkeys(aliases, False)
        self.read_error = None
        self.close_error = None

    def relays(self):
        return dict(self.aliases)

    def get(self, relay_id):
        if self.read_error is not None:
            raise self.read_error
        return self.states[relay_id]

    def set(self, relay_id, on):
        self.states[relay_id] = on

    def close(self):
        if self.close_error is not None:
            raise self.close_error


@pytest.fixture
def clock():
    clock = Clock()
    clock.advance(NOW)
    return clock


@pytest.fixture
def log_lines():
    """The switchboard's lines logged so far, each as the journal would show it.

    Only the switchboard's own: pytest-twisted runs the reactor during every test, so
    a line from another test's service (a registration) may arrive meanwhile.
    """
    events = []
    globalLogPublisher.addObserver(events.append)
    yield lambda: [
        formatEvent(event) for event in events if event.get("log_namespace") == "rpymostat_control.switchboard"
    ]
    globalLogPublisher.removeObserver(events.append)


def sim(count=2, on=()):
    backend = SimRelays(ControlConfig(sim_relays=count))
    for relay_id in on:
        backend.set(relay_id, True)
    return backend


def board(tmp_path, clock, backends, min_on=300.0, min_off=300.0, safe_states=None, monotonic=None):
    return Switchboard(
        backends, clock, StateFile(tmp_path), min_on, min_off, safe_states or {}, monotonic=monotonic or clock.seconds
    )


def test_a_relay_found_on_with_no_record_is_switched_safe_and_the_log_says_why(tmp_path, clock, log_lines):
    backend = sim(count=1, on=["sim-1"])
    board(tmp_path, clock, [backend])
    assert backend.get("sim-1") is False
    assert (
        log_lines()[0] == "relay sim-1 is on at start but this unit has no record of it: switched off, its safe state"
    )


def test_the_start_logs_every_relay_its_state_and_its_safe_state(tmp_path, clock, log_lines):
    backend = sim(on=["sim-2"])
    StateFile(tmp_path).save({"sim-1": Switched(False, NOW - 60), "sim-2": Switched(True, NOW)})
    board(tmp_path, clock, [backend], safe_states={"sim-1": True, "sim-2": False})
    assert (backend.get("sim-1"), backend.get("sim-2")) == (False, True)  # both as this unit left them
    assert log_lines() == [
        "relay sim-1 (sim) is off since 2026-11-25T11:59:00.000+00:00; safe state on",
        f"relay sim-2 (sim) is on since {NOW_ISO}; safe state off",
    ]


def test_a_misnamed_safe_state_stops_the_start_naming_every_unknown_output(tmp_path, clock):
    with pytest.raises(ValueError) as two_unknown:
        board(tmp_path, clock, [sim()], safe_states={"sim-1": True, "heat-pump": True, "boiler": False})
    assert str(two_unknown.value) == (
        "RPYMOSTAT_SAFE_STATES names boiler, heat-pump, which no relay backend found; outputs found: sim-1, sim-2"
    )
    with pytest.raises(ValueError) as nothing_found:
        board(tmp_path, clock, [Board({})], safe_states={"boiler": False})
    assert str(nothing_found.value) == (
        "RPYMOSTAT_SAFE_STATES names boiler, which no relay backend found; outputs found: none"
    )


def test_an_unknown_relay_is_named_in_the_error(tmp_path, clock):
    switchboard = board(tmp_path, clock, [sim()])
    with pytest.raises(UnknownRelay) as unknown:
        switchboard.command("sim-9", True)
    assert unknown.value.args == ("sim-9",)


def test_a_stopping_unit_refuses_commands_saying_so(tmp_path, clock):
    switchboard = board(tmp_path, clock, [sim()])
    switchboard.close()
    with pytest.raises(RelayFault) as refused:
        switchboard.command("sim-1", True)
    assert str(refused.value) == "the relay unit is stopping"


def test_a_refusal_gives_the_time_left_to_the_millisecond(tmp_path, clock):
    monotonic = Clock()
    switchboard = board(tmp_path, clock, [sim()], min_off=300, monotonic=monotonic.seconds)
    monotonic.advance(42.6)
    with pytest.raises(TooSoon) as refused:
        switchboard.command("sim-1", True)
    assert refused.value.retry_after == 257.4  # not rounded to 257 s: a retry then would be refused again
    monotonic.advance(0.0004)  # off for 42.6004 s: 257.3996 s left, 257.4 to the millisecond
    with pytest.raises(TooSoon) as refused:
        switchboard.command("sim-1", True)
    assert refused.value.retry_after == 257.4


def test_switches_are_logged_with_the_relay_and_its_new_state(tmp_path, clock, log_lines):
    switchboard = board(tmp_path, clock, [sim()], min_on=0, min_off=0)
    switchboard.command("sim-1", True)
    switchboard.command("sim-1", False)
    assert log_lines()[-2:] == ["relay sim-1 switched on", "relay sim-1 switched off"]


def test_a_safety_off_is_logged_with_its_reason_and_how_long_the_relay_ran(tmp_path, clock, log_lines):
    switchboard = board(tmp_path, clock, [sim()], min_on=300, min_off=0)
    switchboard.command("sim-1", True)
    clock.advance(5)
    assert switchboard.command("sim-1", False, safety="overheat: 31 C") is True
    assert log_lines()[-1] == (
        "relay sim-1 switched off for safety after 5 s on (minimum on time 300 s notwithstanding): overheat: 31 C"
    )


def test_a_safety_command_to_switch_on_is_refused_saying_why(tmp_path, clock):
    backend = sim()
    switchboard = board(tmp_path, clock, [backend], min_off=0)
    with pytest.raises(ValueError) as refused:
        switchboard.command("sim-1", True, safety="frost")
    assert str(refused.value) == "a safety command only switches off"
    assert backend.get("sim-1") is False


def test_an_off_for_a_relay_that_cannot_be_read_is_written_all_the_same(tmp_path, clock, log_lines):
    backend = Board({"boiler": None})
    switchboard = board(tmp_path, clock, [backend], min_on=0, min_off=0)
    backend.states["boiler"] = True  # on behind the unit's back, and then unreadable
    backend.read_error = RelayFault("i2c timeout")
    assert switchboard.command("boiler", False) is False  # recorded off: nothing to switch, but written
    assert backend.states["boiler"] is False
    assert log_lines()[-1] == "cannot read relay boiler (i2c timeout); switching it off all the same"


def test_a_safety_off_writes_off_to_the_hardware(tmp_path, clock):
    backend = Board({"boiler": None})
    switchboard = board(tmp_path, clock, [backend], min_on=300, min_off=0)
    switchboard.command("boiler", True)
    clock.advance(5)
    assert switchboard.command("boiler", False, safety="no trustworthy temperature") is True
    assert backend.states["boiler"] is False  # the interface's "off", not merely something falsy


def test_a_disk_that_cannot_keep_switch_times_is_logged_with_its_path_and_error(tmp_path, clock, log_lines):
    switchboard = board(tmp_path, clock, [sim()], min_off=0)
    temporary = tmp_path / (FILE_NAME + ".tmp")
    temporary.mkdir()  # the temporary file cannot be written
    assert switchboard.command("sim-1", True) is True
    assert log_lines()[-2] == (
        f"could not save relay switch times to {tmp_path / FILE_NAME}:"
        f" [Errno {errno.EISDIR}] Is a directory: '{temporary}'; a restart would count minimum"
        " times from the restart"
    )


def test_a_relay_that_cannot_be_read_is_logged_with_the_fault(tmp_path, clock, log_lines):
    backend = sim()
    switchboard = board(tmp_path, clock, [backend])
    backend.failing.add("sim-2")
    switchboard.document("sim-2")
    assert log_lines()[-1] == "cannot read relay sim-2: sim-2: simulated fault"
    assert switchboard.check() == ["sim-2"]
    assert log_lines()[-1] == "cannot read relay sim-2: sim-2: simulated fault"


def test_a_backends_own_exception_is_logged_with_its_type(tmp_path, clock, log_lines):
    backend = Board({"boiler": None})
    switchboard = board(tmp_path, clock, [backend])
    backend.read_error = OSError("usb gone")
    assert switchboard.document("boiler")["state"] is False  # the last known state
    assert log_lines()[-1] == "cannot read relay boiler: OSError('usb gone')"


def test_the_time_in_state_is_reported_to_the_millisecond(tmp_path, clock):
    monotonic = Clock()
    switchboard = board(tmp_path, clock, [sim()], monotonic=monotonic.seconds)
    monotonic.advance(10.0004)
    assert switchboard.document("sim-1")["seconds_in_state"] == 10.0


def test_a_relay_that_cannot_go_safe_is_logged_with_the_state_it_should_be_in(tmp_path, clock, log_lines):
    backend = sim()
    switchboard = board(tmp_path, clock, [backend], safe_states={"sim-2": True})  # a pump: safe on
    backend.failing.add("sim-2")
    assert switchboard.to_safe_states("lease expired") == SafeStates([], ["sim-2"])
    assert log_lines()[-1] == "lease expired: relay sim-2 could not go to its safe state on: sim-2: simulated fault"


def test_a_backend_that_fails_to_close_is_logged_by_name(tmp_path, clock, log_lines):
    backend = Board({"boiler": None})
    backend.close_error = OSError("usb gone")
    board(tmp_path, clock, [backend]).close()
    assert log_lines()[-1] == "closing relay backend board failed: usb gone"


def test_going_safe_when_already_safe_says_so(tmp_path, clock, log_lines):
    switchboard = board(tmp_path, clock, [sim()])
    assert switchboard.to_safe_states("lease expired") == SafeStates([], [])
    assert log_lines()[-1] == "lease expired: every output already in its safe state"


def test_a_relay_switched_on_behind_the_units_back_goes_safe_and_then_waits_its_minimum_off_time(
    tmp_path, clock, log_lines
):
    backend = sim()
    switchboard = board(tmp_path, clock, [backend], min_on=300, min_off=300)
    clock.advance(1000)
    backend.set("sim-1", True)  # someone at the relay, or a board reset
    assert switchboard.to_safe_states("lease expired") == SafeStates(["sim-1"], [])
    assert log_lines()[-2:] == [
        "relay sim-1 is on though it was switched off here (reset or switched by something else);"
        " counting its time from now",
        "lease expired: switched sim-1 off to their safe states",
    ]
    assert backend.get("sim-1") is False
    assert StateFile(tmp_path).load()["sim-1"] == Switched(False, NOW + 1000)
    with pytest.raises(TooSoon) as refused:  # it just ran: no new start for five minutes
        switchboard.command("sim-1", True)
    assert refused.value.message == "minimum off time: sim-1 has been off for 0 of 300 s"


def test_a_lease_renewed_before_it_was_started_runs_from_that_renewal():
    # "the lease runs ``seconds`` from now, whether it had expired or not": a command the
    # unit accepts arms the lease even if nothing started it yet; only stop() disarms it.
    clock = Clock()
    expiries = []
    lease = Lease(clock, 10.0, lambda: expiries.append(clock.seconds()))
    lease.renew()
    assert lease.expires_in() == 10.0
    clock.advance(10)
    assert expiries == [10.0]


def test_a_lease_whose_timer_fires_early_waits_for_what_is_really_left():
    # the reactor's timer follows the wall clock: NTP setting it forward fires the timer early
    clock, monotonic, expiries = Clock(), Clock(), []
    lease = Lease(clock, 10.0, lambda: expiries.append(monotonic.seconds()), monotonic=monotonic.seconds)
    lease.start()
    monotonic.advance(9.5)
    clock.advance(10)  # the timer fires half a second early
    assert expiries == [] and lease.expires_in() == 0.5
    monotonic.advance(0.5)
    clock.advance(0.5)
    assert expiries == [10.0]


def test_a_lease_found_run_out_by_the_heartbeat_leaves_no_timer_behind():
    # the wall clock was set back: the timer is late, the heartbeat's check() ends the lease
    clock, monotonic, expiries = Clock(), Clock(), []
    lease = Lease(clock, 10.0, lambda: expiries.append(monotonic.seconds()), monotonic=monotonic.seconds)
    lease.start()
    monotonic.advance(10)
    lease.check()
    assert expiries == [10.0] and lease.expires_in() is None
    assert clock.getDelayedCalls() == []
