"""Loading readers from entry points: explicit names, the default, broken plugins."""

from importlib.metadata import EntryPoint

import pytest
from zope.interface import implementer

from rpymostat.protocol.plugins import load_plugins
from rpymostat.protocol.settings import ConfigError
from rpymostat_sensor.config import SensorConfig
from rpymostat_sensor.readers.interface import GROUP, ISensorReader
from rpymostat_sensor.readers.loading import BrokenReaderError, load_readers
from rpymostat_sensor.readers.owfs import OwfsReader
from rpymostat_sensor.readers.sim import SimReader
from rpymostat_sensor.readers.w1 import W1Reader

BUILT_IN = [
    EntryPoint(name="w1", value="rpymostat_sensor.readers.w1:W1Reader", group=GROUP),
    EntryPoint(name="owfs", value="rpymostat_sensor.readers.owfs:OwfsReader", group=GROUP),
    EntryPoint(name="sim", value="rpymostat_sensor.readers.sim:SimReader", group=GROUP),
]


class Undeclared:
    """Has the methods but never says it implements ISensorReader."""

    name = "undeclared"

    def __init__(self, config):
        pass

    def sensor_ids(self):
        return []

    def read(self):
        return {}


@implementer(ISensorReader)
class NoRead:
    """Says it implements ISensorReader but has no read()."""

    name = "noread"

    def __init__(self, config):
        pass

    def sensor_ids(self):
        return []


class Misnamed(SimReader):
    """Installed as ``misnamed`` but calls itself ``sim``."""


@pytest.fixture
def config(tmp_path):
    """Two simulated sensors; no w1 bus and no OWFS mount."""
    return SensorConfig(w1_base_dir=tmp_path / "no-w1", sim_sensors=2)


def point(name, value):
    return EntryPoint(name=name, value=value, group=GROUP)


def kinds(readers):
    return [type(reader) for reader in readers]


def test_the_built_in_readers_are_installed():
    built_in = {"w1": W1Reader, "owfs": OwfsReader, "sim": SimReader}
    assert built_in.items() <= load_plugins(GROUP, ISensorReader).items()


def test_named_readers_are_used_even_if_they_find_nothing(config):
    readers = load_readers(config, names=["w1", "sim"], found=BUILT_IN)
    assert kinds(readers) == [W1Reader, SimReader]


def test_names_come_from_the_config_by_default(tmp_path):
    config = SensorConfig(readers=("owfs", "owfs", "w1"), w1_base_dir=tmp_path)
    assert kinds(load_readers(config, found=BUILT_IN)) == [OwfsReader, W1Reader]


def test_an_unknown_name_is_a_config_error_listing_the_known_ones(config):
    with pytest.raises(ConfigError) as raised:
        load_readers(config, names=["sim", "dht22", "bme280"], found=BUILT_IN)
    assert isinstance(raised.value, ValueError)
    assert str(raised.value) == (
        "RPYMOSTAT_SENSOR_READERS: unknown sensor reader 'dht22', 'bme280'; installed readers: owfs, sim, w1"
    )


def test_without_names_the_readers_finding_sensors_are_used(config):
    assert kinds(load_readers(config, found=BUILT_IN)) == [SimReader]


def test_without_names_and_without_sensors_there_are_no_readers(tmp_path):
    config = SensorConfig(w1_base_dir=tmp_path)
    assert load_readers(config, found=BUILT_IN) == []


def test_the_installed_entry_points_are_used_by_default(config):
    assert kinds(load_readers(config, names=["sim"])) == [SimReader]


@pytest.mark.parametrize(
    "value, why",
    [
        ("rpymostat_sensor.readers.nosuch:Reader", "No module named"),
        ("tests.sensor.test_loading:Absent", "Absent"),
        ("tests.sensor.test_loading:Undeclared", "Does not declaratively implement"),
        ("tests.sensor.test_loading:NoRead", "read"),
    ],
)
def test_a_broken_reader_is_rejected_by_name(config, value, why):
    name = value.rsplit(":", 1)[1].lower()
    with pytest.raises(BrokenReaderError) as raised:
        load_readers(config, names=["sim"], found=BUILT_IN + [point(name, value)])
    message = str(raised.value)
    assert message.startswith(f"sensor reader {name!r} ({value}) is broken: ")
    assert why in message


def test_a_reader_whose_name_differs_from_its_entry_point_is_rejected(config):
    value = "tests.sensor.test_loading:Misnamed"
    with pytest.raises(BrokenReaderError) as raised:
        load_readers(config, found=[point("misnamed", value)])
    assert str(raised.value) == (
        f"sensor reader 'misnamed' ({value}) is broken: its name attribute is 'sim', not 'misnamed'"
    )
