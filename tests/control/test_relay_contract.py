"""The one contract every relay backend keeps, run against each implementation.

Each builder returns a :class:`Rig`: a backend over fake hardware with
``count`` relays (gpiozero's mock pins, a fake Phidget board, or the
simulator), and a probe reading what the hardware really does, so "on" is
checked at the relay and not only by asking the backend.  ``count=0`` is a
host where that kind of relay is absent or not configured.

An unknown relay id is a :class:`RelayFault`, like any other call the backend
cannot carry out.
"""

import dataclasses
from collections.abc import Callable
from importlib.metadata import entry_points

import pytest
from gpiozero.pins.mock import MockFactory
from zope.interface.verify import verifyObject

from rpymostat_control.config import ControlConfig
from rpymostat_control.relays.gpio import GpioRelays
from rpymostat_control.relays.interface import GROUP, IRelayBackend, RelayFault
from rpymostat_control.relays.phidget import PhidgetRelays
from rpymostat_control.relays.sim import SimRelays
from rpymostat_control.testing import FakePhidgetBus


@dataclasses.dataclass
class Rig:
    backend: object
    #: ``is_on(relay_id)``: True while the hardware holds that relay closed.
    is_on: Callable[[str], bool]


def build_sim(count):
    backend = SimRelays(ControlConfig(sim_relays=count))
    return Rig(backend, backend.get)  # no hardware below it: its memory is the relay


def build_gpio(count, active_high=True):
    factory = MockFactory()
    pins = dict(list({17: "heat", 27: None, 22: "fan"}.items())[:count])
    for pin in pins:  # a fresh board's own resistor holds its relay open: low if active-high
        factory.pin(pin).pull = "down" if active_high else "up"
    backend = GpioRelays(ControlConfig(gpio_pins=pins, gpio_active_high=active_high), pin_factory=factory)
    return Rig(backend, lambda relay_id: factory.pin(int(relay_id[4:])).state == active_high)


def build_phidget(count):
    bus = FakePhidgetBus()
    if count:
        bus.plug(370077, channels=count)
    backend = PhidgetRelays(ControlConfig(phidget_channels=count or 4), channel_factory=bus.channel)
    return Rig(backend, lambda relay_id: bus.boards[370077].states[int(relay_id.rsplit("-", 1)[1])])


BUILDERS = {
    "sim": build_sim,
    "gpio": build_gpio,
    "gpio-active-low": lambda count: build_gpio(count, active_high=False),
    "phidget22": build_phidget,
}


@pytest.fixture(params=sorted(BUILDERS))
def build(request):
    """``build(count)``: a :class:`Rig` of each kind with ``count`` relays."""
    return BUILDERS[request.param]


def test_provides_the_interface(build):
    assert verifyObject(IRelayBackend, build(3).backend)


def test_is_installed_under_its_name(build):
    backend = build(3).backend
    installed = {point.name: point for point in entry_points(group=GROUP)}
    assert installed[backend.name].load() is type(backend)


def test_relay_ids_are_stable_and_usable_in_urls(build):
    backend = build(3).backend
    relays = backend.relays()
    assert len(relays) == 3
    assert backend.relays() == relays
    for relay_id, alias in relays.items():
        assert isinstance(relay_id, str) and relay_id
        assert "/" not in relay_id and not any(char.isspace() for char in relay_id)
        assert alias is None or (isinstance(alias, str) and alias)


def test_every_relay_is_off_after_construction(build):
    rig = build(3)
    for relay_id in rig.backend.relays():
        assert rig.backend.get(relay_id) is False
        assert not rig.is_on(relay_id)


def test_set_switches_exactly_that_relay(build):
    rig = build(3)
    relay_ids = list(rig.backend.relays())
    for relay_id in relay_ids:
        rig.backend.set(relay_id, True)
        assert rig.backend.get(relay_id) is True
        assert [rig.is_on(other) for other in relay_ids] == [other == relay_id for other in relay_ids]
        rig.backend.set(relay_id, False)
        assert rig.backend.get(relay_id) is False
        assert not rig.is_on(relay_id)


def test_setting_a_relay_to_its_state_again_changes_nothing(build):
    rig = build(2)
    first, second = rig.backend.relays()
    rig.backend.set(first, True)
    rig.backend.set(first, True)
    rig.backend.set(second, False)
    rig.backend.set(second, False)
    assert (rig.backend.get(first), rig.backend.get(second)) == (True, False)
    assert (rig.is_on(first), rig.is_on(second)) == (True, False)


def test_an_unknown_relay_id_is_a_relay_fault_and_changes_nothing(build):
    rig = build(2)
    with pytest.raises(RelayFault, match="no relay 'boiler-9'"):
        rig.backend.set("boiler-9", True)
    with pytest.raises(RelayFault, match="no relay 'boiler-9'"):
        rig.backend.get("boiler-9")
    assert not any(rig.is_on(relay_id) for relay_id in rig.backend.relays())


def test_after_close_every_call_is_a_relay_fault(build):
    backend = build(2).backend
    relay_id = next(iter(backend.relays()))
    backend.close()
    with pytest.raises(RelayFault, match=relay_id):
        backend.get(relay_id)
    with pytest.raises(RelayFault, match=relay_id):
        backend.set(relay_id, True)
    backend.close()  # closing twice is harmless: shutdown paths may overlap


def test_nothing_configured_finds_nothing(build):
    backend = build(0).backend
    assert backend.relays() == {}
    backend.close()
