"""Loading relay backends from entry points: explicit names, auto-detection,
clashing relay ids, broken plugins, and releasing hardware when loading fails."""

from importlib.metadata import EntryPoint

import pytest
from zope.interface import implementer

from rpymostat.protocol.plugins import load_plugins
from rpymostat.protocol.settings import ConfigError
from rpymostat_control.config import ControlConfig
from rpymostat_control.relays.gpio import GpioRelays
from rpymostat_control.relays.interface import GROUP, IRelayBackend, RelayFault
from rpymostat_control.relays.loading import BrokenBackendError, load_backends
from rpymostat_control.relays.phidget import PhidgetRelays
from rpymostat_control.relays.sim import SimRelays

#: Every backend built from this module, so a test can check which were closed.
BUILT = []


class Tracked(SimRelays):
    """A sim backend that records that it was built and whether it was closed."""

    name = "tracked"

    def __init__(self, config):
        super().__init__(config)
        self.closed = False
        BUILT.append(self)

    def close(self):
        super().close()
        self.closed = True


class Twin(Tracked):
    """Finds the same ``sim-N`` ids as :class:`Tracked`: two backends claiming one relay."""

    name = "twin"


class Idle(Tracked):
    """Finds no relays on this host, whatever the config says."""

    name = "idle"

    def relays(self):
        return {}


class Exploding(SimRelays):
    """Its hardware fails while it is built."""

    name = "exploding"

    def __init__(self, config):
        raise RelayFault("board on fire")


class Undeclared:
    """Has the methods but never says it implements IRelayBackend."""

    name = "undeclared"

    def __init__(self, config):
        pass

    def relays(self):
        return {}

    def get(self, relay_id):
        return False

    def set(self, relay_id, on):
        pass

    def close(self):
        pass


@implementer(IRelayBackend)
class NoSet:
    """Says it implements IRelayBackend but has no set()."""

    name = "noset"

    def __init__(self, config):
        pass

    def relays(self):
        return {}

    def get(self, relay_id):
        return False

    def close(self):
        pass


class Misnamed(SimRelays):
    """Installed as ``misnamed`` but calls itself ``sim``."""


def point(name, value):
    return EntryPoint(name=name, value=value, group=GROUP)


HERE = "tests.control.test_relay_loading"
BUILT_IN = [
    point("sim", "rpymostat_control.relays.sim:SimRelays"),
    point("gpio", "rpymostat_control.relays.gpio:GpioRelays"),
    point("tracked", f"{HERE}:Tracked"),
]


@pytest.fixture(autouse=True)
def forget_built():
    BUILT.clear()


@pytest.fixture
def config():
    """Two simulated relays; no GPIO pins."""
    return ControlConfig(sim_relays=2)


def kinds(backends):
    return [type(backend) for backend in backends]


def test_the_built_in_backends_are_installed():
    built_in = {"sim": SimRelays, "gpio": GpioRelays, "phidget22": PhidgetRelays}
    assert built_in.items() <= load_plugins(GROUP, IRelayBackend).items()


def test_named_backends_are_used_even_if_they_find_nothing(config):
    backends = load_backends(config, names=["gpio", "sim"], found=BUILT_IN)
    assert kinds(backends) == [GpioRelays, SimRelays]


def test_names_come_from_the_config_by_default():
    config = ControlConfig(relays=("sim", "sim", "gpio"))
    assert kinds(load_backends(config, found=BUILT_IN)) == [SimRelays, GpioRelays]


def test_an_unknown_name_is_a_config_error_listing_the_installed_ones(config):
    with pytest.raises(ConfigError) as raised:
        load_backends(config, names=["sim", "zwave", "x10"], found=BUILT_IN)
    assert isinstance(raised.value, ValueError)
    assert str(raised.value) == (
        "RPYMOSTAT_RELAYS: unknown relay backend 'zwave', 'x10'; installed backends: gpio, sim, tracked"
    )
    assert BUILT == []


def test_an_unknown_name_with_nothing_installed_says_so(config):
    with pytest.raises(ConfigError, match="installed backends: none$"):
        load_backends(config, names=["sim"], found=[])


def test_without_names_the_backends_finding_relays_are_kept_and_the_others_closed(config):
    found = BUILT_IN[:2] + [point("idle", f"{HERE}:Idle")]
    assert kinds(load_backends(config, found=found)) == [SimRelays]
    assert [(type(backend), backend.closed) for backend in BUILT] == [(Idle, True)]


def test_without_names_and_without_relays_there_are_no_backends():
    assert load_backends(ControlConfig(), found=BUILT_IN) == []
    assert [backend.closed for backend in BUILT] == [True]


def test_the_installed_entry_points_are_used_by_default(config):
    assert kinds(load_backends(config, names=["sim"])) == [SimRelays]


def test_two_backends_claiming_one_relay_id_is_a_config_error_and_both_are_closed(config):
    found = [point("tracked", f"{HERE}:Tracked"), point("twin", f"{HERE}:Twin")]
    with pytest.raises(ConfigError) as raised:
        load_backends(config, found=found)
    assert str(raised.value) == (
        "RPYMOSTAT_RELAYS: relay id 'sim-1' is found by both the 'tracked' and the 'twin'"
        " backends; use only one of them"
    )
    assert [backend.closed for backend in BUILT] == [True, True]


def test_a_backend_failing_to_build_closes_the_ones_built_before(config):
    found = BUILT_IN + [point("exploding", f"{HERE}:Exploding")]
    with pytest.raises(RelayFault, match="board on fire"):
        load_backends(config, names=["tracked", "exploding"], found=found)
    assert [backend.closed for backend in BUILT] == [True]


@pytest.mark.parametrize(
    "value, why",
    [
        ("rpymostat_control.relays.nosuch:Relays", "No module named"),
        (f"{HERE}:Absent", "Absent"),
        (f"{HERE}:Undeclared", "Does not declaratively implement"),
        (f"{HERE}:NoSet", "set"),
    ],
)
def test_a_broken_backend_is_rejected_by_name(config, value, why):
    name = value.rsplit(":", 1)[1].lower()
    with pytest.raises(BrokenBackendError) as raised:
        load_backends(config, names=["sim"], found=BUILT_IN + [point(name, value)])
    message = str(raised.value)
    assert message.startswith(f"relay backend {name!r} ({value}) is broken: ")
    assert why in message


def test_a_backend_whose_name_differs_from_its_entry_point_is_rejected(config):
    value = f"{HERE}:Misnamed"
    with pytest.raises(BrokenBackendError) as raised:
        load_backends(config, found=[point("misnamed", value)])
    assert str(raised.value) == (
        f"relay backend 'misnamed' ({value}) is broken: its name attribute is 'sim', not 'misnamed'"
    )
