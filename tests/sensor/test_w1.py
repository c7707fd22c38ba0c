"""W1Reader against a fake sysfs tree: chips, failure values, retries, vanishing sensors."""

from pathlib import Path

import pytest

from rpymostat_sensor.config import SensorConfig
from rpymostat_sensor.readers.interface import SensorReading

# W1ThermSensor through our module, which makes it importable off a Pi.
from rpymostat_sensor.readers.w1 import W1Reader, W1ThermSensor
from tests.sensor.fake_w1 import FakeW1Bus, scratchpad, w1_slave_text

SENSOR_ID = "28-0000075565ad"


@pytest.fixture
def bus(tmp_path):
    return FakeW1Bus(tmp_path / "devices")


class Sleeps:
    """Records each sleep and lets a test change the bus while the reader waits."""

    def __init__(self, during=None):
        self.seconds = []
        self.during = during

    def __call__(self, seconds):
        self.seconds.append(seconds)
        if self.during is not None:
            self.during()


def reader_of(bus, sleep=None):
    return W1Reader(SensorConfig(w1_base_dir=bus.base_dir), sleep=sleep or Sleeps())


def test_the_fake_writes_what_a_real_ds18b20_wrote(bus):
    """A line captured from a real sensor at 23.125 C, byte for byte."""
    real = "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"
    assert w1_slave_text(*scratchpad("28", 23.125)) == real
    assert bus.add(SENSOR_ID, 23.125).w1_slave.read_text() == real


def test_reads_a_ds18b20(bus):
    bus.add(SENSOR_ID, 20.875)
    assert reader_of(bus).read() == {SENSOR_ID: SensorReading("DS18B20", 20.875)}


@pytest.mark.parametrize(
    "sensor_id, chip",
    [
        ("10-000802b4a2c1", "DS18S20"),
        ("22-000000a1b2c3", "DS1822"),
        ("28-0000075565ad", "DS18B20"),
        ("3b-0000001a2b3c", "DS1825"),  # also every MAX31850K: same family code
        ("42-00000012abcd", "DS28EA00"),
    ],
)
@pytest.mark.parametrize("celsius", [23.5, -5.25, 0.0])
def test_reads_every_chip_w1thermsensor_knows(bus, sensor_id, chip, celsius):
    bus.add(sensor_id, celsius)
    assert reader_of(bus).read() == {sensor_id: SensorReading(chip, celsius)}


def test_ignores_devices_that_are_not_thermometers(bus):
    bus.add(SENSOR_ID)
    bus.add_device("29-0000001d8ab1")  # DS2408 switch
    bus.add_device("00-400000000000")  # what a floating bus line enumerates as
    bus.add_device("28")  # not an id at all
    assert reader_of(bus).sensor_ids() == [SENSOR_ID]


@pytest.mark.parametrize(
    "sensor_id, chip",
    [
        (SENSOR_ID, "DS18B20"),
        ("10-000802b4a2c1", "DS18S20"),
    ],
)
def test_power_on_value_is_not_a_reading(bus, sensor_id, chip):
    """w1thermsensor raises ResetValueError for a DS18B20, returns 85.0 for a DS18S20."""
    bus.add(sensor_id).power_on()
    reading = reader_of(bus).read()[sensor_id]
    assert reading.value is None
    assert reading.extra == f"85.0 C is the {chip} power-on value, not a reading"


def test_read_error_value_is_not_a_reading(bus):
    bus.add(SENSOR_ID).read_error()
    reading = reader_of(bus).read()[SENSOR_ID]
    assert reading == SensorReading("DS18B20", None, extra="-127 C is the 1-wire read-error value, not a reading")


def test_a_failed_crc_is_read_again(bus):
    sensor = bus.add(SENSOR_ID)
    sensor.fail_crc()
    sleeps = Sleeps(during=lambda: sensor.set_temperature(21.0))
    assert reader_of(bus, sleeps).read() == {SENSOR_ID: SensorReading("DS18B20", 21.0)}
    assert sleeps.seconds == [W1Reader.RETRY_DELAY]


@pytest.mark.parametrize(
    "broken",
    [
        "fail_crc",
        # w1thermsensor treats an all-zero scratchpad (a shorted line) like a failed CRC
        "00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n",
        "",
    ],
)
def test_a_crc_failing_every_time_is_reported(bus, broken):
    sensor = bus.add(SENSOR_ID)
    if broken == "fail_crc":
        sensor.fail_crc()
    else:
        sensor.write_raw(broken)
    sleeps = Sleeps()
    reading = reader_of(bus, sleeps).read()[SENSOR_ID]
    assert reading.value is None
    assert "CRC check 3 times" in reading.extra
    assert sleeps.seconds == [W1Reader.RETRY_DELAY] * 2


@pytest.mark.parametrize(
    "garbage",
    [
        "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n",
        "zz zz 4b 46 7f ff 0e 10 57 : crc=57 YES\nzz zz 4b 46 7f ff 0e 10 57 t=?\n",
    ],
)
def test_a_garbled_file_is_reported(bus, garbage):
    bus.add(SENSOR_ID).write_raw(garbage)
    reading = reader_of(bus).read()[SENSOR_ID]
    assert reading == SensorReading("DS18B20", None, extra="w1_slave is not in the w1-therm format")


def test_a_vanishing_sensor_is_reported_and_the_others_still_read(bus):
    """The window between the sensor leaving and the kernel removing its directory."""
    bus.add(SENSOR_ID).unplug()
    bus.add("28-000005e2fdc3", 19.5)
    readings = reader_of(bus).read()
    assert readings[SENSOR_ID].value is None
    assert "the sensor left the bus" in readings[SENSOR_ID].extra
    assert readings["28-000005e2fdc3"].value == 19.5


def test_a_removed_sensor_is_no_longer_found(bus):
    bus.add(SENSOR_ID)
    reader = reader_of(bus)
    assert reader.sensor_ids() == [SENSOR_ID]
    bus.remove(SENSOR_ID)
    assert reader.sensor_ids() == []


def test_no_w1_bus_means_no_sensors(tmp_path):
    reader = W1Reader(SensorConfig(w1_base_dir=tmp_path / "no-such-dir"))
    assert reader.sensor_ids() == []
    assert reader.read() == {}


def test_each_reader_keeps_its_own_base_directory(tmp_path):
    first, second = FakeW1Bus(tmp_path / "a"), FakeW1Bus(tmp_path / "b")
    first.add("28-0000000000aa", 20.0)
    second.add("28-0000000000bb", 21.0)
    assert reader_of(first).sensor_ids() == ["28-0000000000aa"]
    assert list(reader_of(second).read()) == ["28-0000000000bb"]
    assert W1ThermSensor.BASE_DIRECTORY == Path("/sys/bus/w1/devices")
