"""OwfsReader against a fake OWFS mount: ids, scales, failure values, odd devices."""

import pytest

from rpymostat_sensor.config import SensorConfig
from rpymostat_sensor.readers.interface import SensorReading
from rpymostat_sensor.readers.owfs import OwfsReader, kernel_id
from rpymostat_sensor.readers.w1 import W1Reader
from tests.sensor.fake_owfs import FakeOwfs
from tests.sensor.fake_w1 import FakeW1Bus

ADDRESS = "28.AD6555070000"
SENSOR_ID = "28-0000075565ad"


@pytest.fixture
def owfs(tmp_path):
    return FakeOwfs(tmp_path / "1wire")


def reader_of(owfs):
    return OwfsReader(SensorConfig(owfs_dir=owfs.mount))


@pytest.mark.parametrize(
    "name",
    [
        "28.AD6555070000",
        "28AD6555070000",
        "28.AD6555070000.F1",
        "28.AD6555070000F1",
        "28AD6555070000.F1",
        "28AD6555070000F1",
        "28.ad6555070000",
    ],
)
def test_every_owfs_name_format_becomes_the_kernel_id(name):
    assert kernel_id(name) == SENSOR_ID


@pytest.mark.parametrize(
    "name",
    [
        "bus.0",
        "settings",
        "simultaneous",
        "uncached",
        "28.AD65550700",
        "28.XD6555070000",
    ],
)
def test_other_entries_are_not_devices(name):
    assert kernel_id(name) is None


def test_a_sensor_has_the_same_id_whichever_reader_sees_it(tmp_path, owfs):
    """Moved from a GPIO pin to a USB adapter, a sensor keeps its history."""
    FakeW1Bus(tmp_path / "w1").add(SENSOR_ID)
    owfs.add(ADDRESS)
    kernel = W1Reader(SensorConfig(w1_base_dir=tmp_path / "w1"))
    assert kernel.sensor_ids() == reader_of(owfs).sensor_ids() == [SENSOR_ID]


@pytest.mark.parametrize(
    "scale, degrees",
    [
        ("C", 21.5),
        ("F", 70.7),
        ("K", 294.65),
        ("R", 530.37),
        ("fahrenheit", 70.7),
    ],
)
def test_temperatures_are_converted_to_celsius(owfs, scale, degrees):
    owfs.set_scale(scale)
    owfs.add(ADDRESS, degrees)
    reading = reader_of(owfs).read()[SENSOR_ID]
    assert reading.sensor_type == "DS18B20"
    assert reading.value == pytest.approx(21.5)


def test_a_missing_scale_file_means_celsius(owfs):
    (owfs.mount / "settings" / "units" / "temperature_scale").unlink()
    owfs.add(ADDRESS, 21.5)
    assert reader_of(owfs).read()[SENSOR_ID].value == 21.5


def test_an_unknown_scale_is_reported(owfs):
    owfs.set_scale("X")
    owfs.add(ADDRESS, 21.5)
    reading = reader_of(owfs).read()[SENSOR_ID]
    assert reading == SensorReading("DS18B20", None, extra="unknown OWFS temperature scale 'X'")


@pytest.mark.parametrize(
    "scale, degrees",
    [
        ("C", 85.0),
        ("F", 185.0),
        ("K", 358.15),
        ("R", 644.67),
    ],
)
def test_the_power_on_value_is_caught_in_any_scale(owfs, scale, degrees):
    owfs.set_scale(scale)
    owfs.add(ADDRESS, degrees)
    reading = reader_of(owfs).read()[SENSOR_ID]
    assert reading.value is None
    assert reading.extra == "85.0 C is the DS18B20 power-on value, not a reading"


def test_the_read_error_value_is_caught(owfs):
    owfs.set_scale("F")
    owfs.add(ADDRESS, -196.6)
    reading = reader_of(owfs).read()[SENSOR_ID]
    assert reading.value is None
    assert "-127 C" in reading.extra


def test_only_devices_with_a_temperature_are_sensors(owfs):
    owfs.add(ADDRESS)
    owfs.add("26.A1B2C3000000", 19.0, device_type="DS2438")  # battery monitor, has one
    owfs.add_device("29.B18A1D000000", "DS2408")  # switch
    owfs.add_device("81.5E8C2F000000", "DS1420")  # the adapter's own id chip
    assert reader_of(owfs).sensor_ids() == ["26-000000c3b2a1", SENSOR_ID]


def test_an_unreadable_temperature_is_reported(owfs):
    device = owfs.add_device(ADDRESS, "DS18B20")
    (device / "temperature").mkdir()  # reading it fails, as an EIO from owfs would
    reading = reader_of(owfs).read()[SENSOR_ID]
    assert reading.value is None
    assert reading.extra.startswith(f"cannot read {ADDRESS}/temperature: ")


def test_a_temperature_that_is_not_a_number_is_reported(owfs):
    owfs.add(ADDRESS)
    (owfs.mount / ADDRESS / "temperature").write_text("")
    reading = reader_of(owfs).read()[SENSOR_ID]
    assert reading == SensorReading("DS18B20", None, extra=f"{ADDRESS}/temperature is not a number: ''")


def test_a_device_without_a_type_is_named_by_family(owfs):
    owfs.add(ADDRESS, 20.0)
    (owfs.mount / ADDRESS / "type").unlink()
    assert reader_of(owfs).read()[SENSOR_ID] == SensorReading("1-wire family 28", 20.0)


def test_an_absent_mount_has_no_sensors(tmp_path):
    reader = OwfsReader(SensorConfig(owfs_dir=tmp_path / "not-mounted"))
    assert reader.sensor_ids() == []
    assert reader.read() == {}
