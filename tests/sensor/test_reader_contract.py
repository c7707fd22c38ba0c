"""The one contract every sensor reader keeps, run against each implementation.

Each builder returns a reader over a fake with ``count`` sensors (the kernel's
sysfs tree, an OWFS mount, or the simulator); ``count=0`` is a host where
that kind of sensor is absent or not configured.
"""

from importlib.metadata import entry_points

import pytest
from zope.interface.verify import verifyObject

from rpymostat_sensor.config import SensorConfig
from rpymostat_sensor.readers.interface import GROUP, ISensorReader, SensorReading
from rpymostat_sensor.readers.owfs import OwfsReader
from rpymostat_sensor.readers.sim import SimReader
from rpymostat_sensor.readers.w1 import W1Reader
from tests.sensor.fake_owfs import FakeOwfs
from tests.sensor.fake_w1 import FakeW1Bus


def build_w1(tmp_path, count):
    bus = FakeW1Bus(tmp_path / "w1")
    for sensor_id, celsius in [("28-0000075565ad", 20.875), ("28-000005e2fdc3", 19.5)][:count]:
        bus.add(sensor_id, celsius)
    return W1Reader(SensorConfig(w1_base_dir=bus.base_dir), sleep=lambda seconds: None)


def build_owfs(tmp_path, count):
    if count == 0:
        return OwfsReader(SensorConfig(owfs_dir=None))
    mount = FakeOwfs(tmp_path / "owfs")
    for address, celsius in [("28.AD6555070000", 21.0), ("28.C3FDE2050000", 18.25)][:count]:
        mount.add(address, celsius)
    return OwfsReader(SensorConfig(owfs_dir=mount.mount))


def build_sim(tmp_path, count):
    return SimReader(SensorConfig(sim_sensors=count), clock=lambda: 1795608000.0)


BUILDERS = {"w1": build_w1, "owfs": build_owfs, "sim": build_sim}


@pytest.fixture(params=sorted(BUILDERS))
def build(request, tmp_path):
    """``build(count)``: a reader of each kind finding ``count`` sensors."""
    return lambda count: BUILDERS[request.param](tmp_path, count)


def test_provides_the_interface(build):
    assert verifyObject(ISensorReader, build(2))


def test_is_installed_under_its_name(build):
    reader = build(2)
    installed = {point.name: point for point in entry_points(group=GROUP)}
    assert installed[reader.name].load() is type(reader)


def test_sensor_ids_are_sorted_stable_and_match_read(build):
    reader = build(2)
    sensor_ids = reader.sensor_ids()
    assert len(sensor_ids) == 2
    assert sensor_ids == sorted(sensor_ids) == reader.sensor_ids()
    assert list(reader.read()) == sensor_ids


def test_readings_are_temperatures_or_say_why_not(build):
    for reading in build(2).read().values():
        assert isinstance(reading, SensorReading)
        assert isinstance(reading.sensor_type, str) and reading.sensor_type
        if reading.value is None:
            assert reading.extra
        else:
            assert isinstance(reading.value, float)
            assert -60.0 <= reading.value <= 130.0


def test_reading_twice_gives_the_same_readings(build):
    """Nothing changed on the (fake) bus or the clock, so nothing changes."""
    reader = build(2)
    assert reader.read() == reader.read()


def test_nothing_configured_finds_nothing(build):
    reader = build(0)
    assert reader.sensor_ids() == []
    assert reader.read() == {}
