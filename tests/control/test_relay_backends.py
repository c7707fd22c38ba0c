"""What each relay backend does beyond the shared contract: its ids, its
configuration, and how its hardware fails."""

import pytest
from gpiozero import GPIOPinInUse, OutputDevice
from gpiozero.pins.mock import MockFactory
from twisted.internet.task import Clock
from twisted.logger import capturedLogs, formatEvent

from rpymostat_control.config import ControlConfig
from rpymostat_control.relays.gpio import GpioRelays
from rpymostat_control.relays.interface import RelayFault
from rpymostat_control.relays.phidget import PhidgetRelays
from rpymostat_control.relays.sim import SimRelays
from rpymostat_control.state_file import StateFile
from rpymostat_control.switchboard import Switchboard
from rpymostat_control.testing import FakePhidgetBus

ANY = -1  # Phidget.ANY_SERIAL_NUMBER


# sim


def test_sim_relays_are_numbered_from_one():
    assert SimRelays(ControlConfig(sim_relays=3)).relays() == {"sim-1": None, "sim-2": None, "sim-3": None}


def test_a_failing_sim_relay_faults_until_mended():
    sim = SimRelays(ControlConfig(sim_relays=2), failing=["sim-2"])
    sim.set("sim-1", True)
    with pytest.raises(RelayFault, match="sim-2: simulated fault"):
        sim.set("sim-2", True)
    with pytest.raises(RelayFault, match="sim-2: simulated fault"):
        sim.get("sim-2")
    sim.failing.discard("sim-2")
    assert (sim.get("sim-1"), sim.get("sim-2")) == (True, False)


# gpio


def gpio(factory, pins, active_high=True):
    return GpioRelays(ControlConfig(gpio_pins=pins, gpio_active_high=active_high), pin_factory=factory)


def test_gpio_relays_are_named_by_pin_with_their_aliases():
    relays = gpio(MockFactory(), {17: "heat", 27: None}).relays()
    assert relays == {"gpio17": "heat", "gpio27": None}


def test_an_active_high_board_gets_a_high_pin_for_on():
    factory = MockFactory()
    backend = gpio(factory, {17: None})
    assert factory.pin(17).state is False
    backend.set("gpio17", True)
    assert factory.pin(17).state is True


def test_an_active_low_board_is_held_high_from_the_start_and_pulled_low_for_on():
    factory = MockFactory()
    factory.pin(17).pull = "up"  # the board's own resistor holds its relay open
    backend = gpio(factory, {17: None}, active_high=False)
    assert factory.pin(17).state is True
    assert backend.get("gpio17") is False
    backend.set("gpio17", True)
    assert factory.pin(17).state is False
    assert backend.get("gpio17") is True


@pytest.mark.parametrize("active_high", [True, False])
def test_a_gpio_pin_is_taken_over_at_the_level_found_and_never_forced(active_high):
    """A restarted daemon finds its relay closed: the backend says so and keeps it closed
    (the switchboard decides what happens next), with no glitch through the other level."""
    factory = MockFactory()
    factory.pin(17).pull = "up" if active_high else "down"  # the relay is closed as found
    factory.pin(17).clear_states()
    backend = gpio(factory, {17: None}, active_high=active_high)
    assert backend.get("gpio17") is True
    assert factory.pin(17).state is active_high
    assert [state for _, state in factory.pin(17).states[1:]] == []  # the pin never changed
    backend.set("gpio17", False)
    assert factory.pin(17).state is (not active_high)


def test_a_pin_in_use_is_a_fault_naming_it_and_frees_the_pins_claimed_before():
    factory = MockFactory()
    other_program = OutputDevice(27, pin_factory=factory)
    with pytest.raises(RelayFault, match=r"GPIO pin 27 \(RPYMOSTAT_GPIO_PINS\): .*in use") as raised:
        gpio(factory, {17: "heat", 27: "cool"})
    assert isinstance(raised.value.__cause__, GPIOPinInUse)
    # ``raised`` keeps the half-built backend alive, so pin 17 is free only if it was closed
    assert gpio(factory, {17: "heat"}).relays() == {"gpio17": "heat"}
    other_program.close()


def test_a_gpio_device_closed_underneath_is_a_fault():
    factory = MockFactory()
    backend = gpio(factory, {17: None})
    backend.close()
    with pytest.raises(RelayFault, match="gpio17: .*closed"):
        backend.set("gpio17", True)
    with pytest.raises(RelayFault, match="gpio17: .*closed"):
        backend.get("gpio17")


def test_no_gpio_pins_touches_no_hardware():
    """On this host gpiozero's default pin factory cannot load: it must not be asked for."""
    backend = GpioRelays(ControlConfig())
    assert backend.relays() == {}
    backend.close()


# phidget22


def phidget(bus, **settings):
    settings.setdefault("phidget_attach_timeout", 2.0)
    return PhidgetRelays(ControlConfig(**settings), channel_factory=bus.channel)


def test_phidget_relays_carry_the_board_serial_and_are_switched_off_at_attach(tmp_path):
    """Attaching switches nothing (the backend reports the states found); a daemon that has
    no record of them, as here, then switches them off through its switchboard."""
    bus = FakePhidgetBus()
    board = bus.plug(370077, states=[True, False, True, True])  # left on by an earlier run
    backend = phidget(bus)
    assert backend.relays() == {f"phidget-370077-{channel}": None for channel in range(4)}
    assert board.states == [True, False, True, True]
    assert [backend.get(f"phidget-370077-{channel}") for channel in range(4)] == [True, False, True, True]
    Switchboard([backend], Clock(), StateFile(tmp_path), 300.0, 300.0, {})
    assert board.states == [False] * 4


def test_without_a_serial_every_channel_is_pinned_to_the_board_channel_0_found():
    bus = FakePhidgetBus()
    bus.plug(370077)
    bus.plug(480088)
    phidget(bus, phidget_attach_timeout=2.5)
    assert bus.attempts == [(ANY, 0, 2500), (370077, 1, 2500), (370077, 2, 2500), (370077, 3, 2500)]
    assert bus.held == {(370077, channel) for channel in range(4)}


def test_a_configured_serial_picks_that_board():
    bus = FakePhidgetBus()
    bus.plug(370077)
    bus.plug(480088)
    backend = phidget(bus, phidget_serial=480088, phidget_channels=2)
    assert list(backend.relays()) == ["phidget-480088-0", "phidget-480088-1"]
    assert {serial for serial, _, _ in bus.attempts} == {480088}


def test_a_tiny_attach_timeout_still_waits_rather_than_forever():
    """Phidget22 reads a timeout of 0 ms as "wait forever"."""
    bus = FakePhidgetBus()
    bus.plug(370077, channels=1)
    phidget(bus, phidget_attach_timeout=0.0001, phidget_channels=1)
    assert bus.attempts == [(ANY, 0, 1)]


def test_no_board_and_no_serial_means_no_relays_and_a_log_line_saying_why():
    with capturedLogs() as events:
        backend = phidget(FakePhidgetBus())
    assert backend.relays() == {}
    assert [formatEvent(event) for event in events] == [
        "no Phidget relay board attached within 2 s (Timed Out); the phidget22 backend has no relays"
    ]


def test_a_missing_configured_board_is_a_fault_naming_its_serial():
    bus = FakePhidgetBus()
    bus.plug(370077)
    with pytest.raises(RelayFault) as raised:
        phidget(bus, phidget_serial=480088)
    assert str(raised.value) == ("Phidget board 480088 (RPYMOSTAT_PHIDGET_SERIAL) did not attach within 2 s: Timed Out")
    assert bus.held == set()


def failing_library():
    raise OSError("libusb-1.0.so.0: cannot open shared object file")


def test_an_unloadable_phidget22_library_means_no_relays_unless_a_board_is_configured():
    with capturedLogs() as events:
        backend = PhidgetRelays(ControlConfig(), channel_factory=failing_library)
    assert backend.relays() == {}
    assert "libusb-1.0.so.0: cannot open" in formatEvent(events[0])
    with pytest.raises(RelayFault, match="Phidget board 480088 .*libusb-1.0.so.0"):
        PhidgetRelays(ControlConfig(phidget_serial=480088), channel_factory=failing_library)


def test_a_board_with_fewer_channels_than_configured_is_a_fault_and_releases_the_board():
    bus = FakePhidgetBus()
    bus.plug(370077, channels=4)
    with pytest.raises(
        RelayFault,
        match=(
            r"Phidget board 370077 channel 4 did not attach: Timed Out;"
            r" does the board have RPYMOSTAT_PHIDGET_CHANNELS=8 channels"
        ),
    ):
        phidget(bus, phidget_channels=8)
    assert bus.held == set()


def test_a_channel_held_by_another_program_is_a_fault_not_a_channel_of_another_board():
    bus = FakePhidgetBus()
    bus.plug(370077)
    bus.plug(480088)
    bus.hold(370077, 1)
    with pytest.raises(RelayFault, match="Phidget board 370077 channel 1 did not attach"):
        phidget(bus)
    assert bus.held == {(370077, 1)}


def test_zero_channels_looks_for_no_board():
    bus = FakePhidgetBus()
    bus.plug(370077)
    assert phidget(bus, phidget_channels=0).relays() == {}
    assert bus.attempts == []


def test_attaching_is_logged_with_the_serial_to_pin_it():
    bus = FakePhidgetBus()
    bus.plug(370077, channels=2)
    with capturedLogs() as events:
        phidget(bus, phidget_channels=2)
    assert [formatEvent(event) for event in events] == ["Phidget relay board 370077 attached with 2 relays"]


def test_an_unplugged_board_faults_until_plugged_back_in():
    bus = FakePhidgetBus()
    bus.plug(370077)
    backend = phidget(bus)
    backend.set("phidget-370077-2", True)
    bus.unplug(370077)
    with pytest.raises(RelayFault, match="phidget-370077-2: Device not Attached"):
        backend.get("phidget-370077-2")
    with pytest.raises(RelayFault, match="phidget-370077-0: Device not Attached"):
        backend.set("phidget-370077-0", True)
    bus.plug(370077)
    assert backend.get("phidget-370077-2") is False  # the board lost power
    backend.set("phidget-370077-2", True)
    assert bus.boards[370077].states == [False, False, True, False]


def test_the_real_phidget22_library_reports_a_missing_board_as_a_fault():
    """No fake: the C library really times out, and that surfaces as a RelayFault.
    Serial 1 is no real board, so this is safe on a host with relays attached."""
    config = ControlConfig(phidget_serial=1, phidget_attach_timeout=0.05)
    with pytest.raises(RelayFault, match=r"Phidget board 1 \(RPYMOSTAT_PHIDGET_SERIAL\) did not attach"):
        PhidgetRelays(config)
