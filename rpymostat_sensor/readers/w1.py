"""1-wire temperature sensors on the kernel's w1 bus, read through w1thermsensor.

The kernel's ``w1-therm`` driver gives each sensor a directory named by its
global hardware id (``28-0000075565ad``: family code, dash, the 48-bit serial)
holding a ``w1_slave`` file; w1thermsensor turns that file into degrees and
knows every chip the driver does (DS18S20, DS1822, DS18B20, DS1825/MAX31850K,
DS28EA00).  This module adds what a thermostat needs on top: failure values
reported as failures, a CRC error retried, a vanished sensor reported rather
than raised, and a base directory per reader instead of a global one.
"""

import os
import time
from pathlib import Path

from zope.interface import implementer

# Importing w1thermsensor otherwise runs ``modprobe w1-gpio`` and ``modprobe
# w1-therm`` and raises KernelModuleLoadError when /sys/bus/w1/devices does not
# appear: on any host without a 1-wire bus (a laptop running the sim reader, CI)
# merely loading this entry point would fail, and modprobe needs root anyway.
# Loading the driver is the OS's job (``dtoverlay=w1-gpio`` on a Pi); without
# it this reader just finds no sensors.  ``setdefault`` leaves an explicit
# choice in the environment alone.
os.environ.setdefault("W1THERMSENSOR_NO_KERNEL_MODULE", "1")

from w1thermsensor import (  # noqa: E402 - must follow the variable above
    NoSensorFoundError,
    ResetValueError,
    Sensor,
    SensorNotReadyError,
    W1ThermSensor,
)

from rpymostat_sensor.readers.failures import (  # noqa: E402
    POWER_ON_CELSIUS,
    checked,
    failed,
)
from rpymostat_sensor.readers.interface import ISensorReader  # noqa: E402


@implementer(ISensorReader)
class W1Reader:
    """Every temperature sensor under ``config.w1_base_dir``.

    ``sensor_type`` is w1thermsensor's chip name, which it derives from the
    family code alone: a MAX31850K shares family 3b with the DS1825 and is
    reported as "DS1825".
    """

    name = "w1"

    #: Reads of one sensor before a CRC failure is reported.
    ATTEMPTS = 3

    #: Seconds between those reads; noise on the bus is usually gone by then.
    RETRY_DELAY = 0.1

    def __init__(self, config, sleep=time.sleep):
        self._base_dir = Path(config.w1_base_dir)
        # w1thermsensor reads its directory from the class attribute
        # BASE_DIRECTORY.  Setting it on W1ThermSensor itself would point every
        # other reader (and every other test) at ours, so each reader gets a
        # subclass of its own.
        self._sensor_class = type("W1ThermSensorAt", (W1ThermSensor,), {"BASE_DIRECTORY": self._base_dir})
        self._sleep = sleep

    def sensor_ids(self):
        """The ids of the sensor directories present now; [] without a w1 bus."""
        return sorted(self._devices())

    def read(self):
        """Each sensor's temperature, or None with the reason."""
        devices = self._devices()
        return {sensor_id: self._read(*devices[sensor_id]) for sensor_id in sorted(devices)}

    def _devices(self):
        """``{directory name: (chip, serial)}`` for the chips w1thermsensor knows.

        The directory is listed here rather than with
        ``W1ThermSensor.get_available_sensors()``: that builds every sensor as it
        goes, and the constructor raises NoSensorFoundError when a directory
        has no ``w1_slave``, so one sensor dropping off the bus mid-listing
        would hide all the others.  Here that sensor is still listed, and
        ``read()`` says it vanished.
        """
        try:
            entries = list(self._base_dir.iterdir())
        except OSError:
            return {}
        devices = {}
        for entry in entries:
            family, dash, serial = entry.name.partition("-")
            if len(family) != 2 or not dash or not serial:
                continue  # w1_bus_master1 and other non-device entries
            try:
                chip = Sensor.from_id_string(family)
            except ValueError:
                continue  # a 1-wire device that is not a thermometer
            devices[entry.name] = (chip, serial)
        return devices

    def _read(self, chip, serial):
        """One sensor's reading, retrying a failed CRC check."""
        for attempt in range(self.ATTEMPTS):
            if attempt:
                self._sleep(self.RETRY_DELAY)
            try:
                celsius = self._sensor_class(chip, serial).get_temperature()
            except SensorNotReadyError:
                continue
            except ResetValueError:
                celsius = POWER_ON_CELSIUS  # its reason is the one ``checked`` gives
            except NoSensorFoundError:
                return failed(chip.name, "w1_slave is gone or unreadable: the sensor left the bus")
            except (IndexError, ValueError):
                return failed(chip.name, "w1_slave is not in the w1-therm format")
            return checked(chip.name, celsius)
        return failed(
            chip.name,
            f"not ready or failed its CRC check {self.ATTEMPTS} times in a row (noise on the bus or a loose wire)",
        )
