"""The interface every sensor reader implements, and what a reading is.

Reading hardware blocks (a DS18B20 conversion takes up to 750 ms), so the
daemon calls ``read()`` off the reactor thread; readers themselves stay
simple synchronous code that is easy to test against a fake device tree.
"""

import dataclasses

from zope.interface import Attribute, Interface

#: The entry point group of sensor readers.
GROUP = "rpymostat.sensors"


@dataclasses.dataclass(frozen=True)
class SensorReading:
    """One sensor's reading: degrees Celsius, or None with the reason in ``extra``."""

    sensor_type: str
    value: float | None
    alias: str | None = None
    extra: str | None = None


class ISensorReader(Interface):
    """Finds the sensors of one kind on this host and reads them.

    Built as ``Reader(config)`` with the daemon's
    :class:`~rpymostat_sensor.config.SensorConfig`.
    """

    name = Attribute("Short name, as in the entry point and RPYMOSTAT_SENSOR_READERS.")

    def sensor_ids():
        """The global ids of the sensors this reader finds now (may be empty); never raises."""

    def read():
        """``{sensor_id: SensorReading}`` for every sensor found.

        A sensor that cannot be read gives a reading with ``value=None`` and
        the reason in ``extra``; known failure values (a DS18B20's 85.0 C
        power-on value, -127 C) are never passed off as temperatures.
        """
