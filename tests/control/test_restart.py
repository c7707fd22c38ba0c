"""A restarted daemon on real backends over fake hardware: it never short-cycles an output.

Each backend reports what its hardware holds instead of forcing it, and the
switchboard decides from the state file: an output exactly as this unit left
it keeps its state and switch time; anything else goes to its safe state at
once (docs/control.rst, "Lease, minimum times and restarts").
"""

import dataclasses
from collections.abc import Callable

import pytest
from gpiozero.pins.mock import MockFactory
from twisted.internet.task import Clock

from rpymostat_control.config import ControlConfig
from rpymostat_control.relays.gpio import GpioRelays
from rpymostat_control.relays.phidget import PhidgetRelays
from rpymostat_control.state_file import StateFile, Switched
from rpymostat_control.switchboard import Switchboard, TooSoon

NOW = 1795608000.0


@dataclasses.dataclass
class Hardware:
    """A backend built over hardware whose first relay was found closed (on)."""

    backend: object
    relay_id: str
    #: True while the hardware really holds that relay closed.
    is_on: Callable[[], bool]


def gpio_found_on(active_high):
    factory = MockFactory()
    # The pin is at the "closed" level when the daemon starts (a crash left it so).
    factory.pin(17).pull = "up" if active_high else "down"
    backend = GpioRelays(ControlConfig(gpio_pins={17: "heat"}, gpio_active_high=active_high), pin_factory=factory)
    return Hardware(backend, "gpio17", lambda: factory.pin(17).state == active_high)


def phidget_found_on():
    from rpymostat_control.testing import FakePhidgetBus

    bus = FakePhidgetBus()
    board = bus.plug(370077, states=[True, False, False, False])
    backend = PhidgetRelays(ControlConfig(phidget_attach_timeout=1.0), channel_factory=bus.channel)
    return Hardware(backend, "phidget-370077-0", lambda: board.states[0])


HARDWARE = {
    "gpio": lambda: gpio_found_on(True),
    "gpio-active-low": lambda: gpio_found_on(False),
    "phidget22": phidget_found_on,
}


@pytest.fixture(params=sorted(HARDWARE))
def hardware(request):
    built = HARDWARE[request.param]()
    yield built
    built.backend.close()


def restart(tmp_path, hardware):
    clock = Clock()
    clock.advance(NOW)
    return Switchboard([hardware.backend], clock, StateFile(tmp_path), 300.0, 300.0, {}, monotonic=clock.seconds)


def test_an_output_left_on_as_recorded_stays_on_with_its_switch_time(tmp_path, hardware):
    """A compressor switched on 60 s before the restart must not be cut short by it."""
    StateFile(tmp_path).save({hardware.relay_id: Switched(True, NOW - 60)})
    switchboard = restart(tmp_path, hardware)
    assert hardware.is_on()
    document = switchboard.document(hardware.relay_id)
    assert (document["state"], document["seconds_in_state"]) == (True, 60.0)
    with pytest.raises(TooSoon, match="has been on for 60 of 300 s"):
        switchboard.command(hardware.relay_id, False)
    assert hardware.is_on()


def test_an_output_found_on_without_a_record_goes_to_its_safe_state(tmp_path, hardware):
    switchboard = restart(tmp_path, hardware)
    assert not hardware.is_on()
    assert switchboard.document(hardware.relay_id)["state"] is False


def test_an_output_found_on_but_recorded_off_goes_to_its_safe_state(tmp_path, hardware):
    StateFile(tmp_path).save({hardware.relay_id: Switched(False, NOW - 60)})
    restart(tmp_path, hardware)
    assert not hardware.is_on()
