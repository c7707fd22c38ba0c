"""Simulated sensors, for demos and tests on hosts without a 1-wire bus.

Values drift smoothly around 20 C and are a pure function of the clock, so a
demo looks alive while a test that fixes the clock gets exact numbers.
"""

import math
import time

from zope.interface import implementer

from rpymostat_sensor.readers.interface import ISensorReader, SensorReading


@implementer(ISensorReader)
class SimReader:
    """``config.sim_sensors`` sensors named ``sim-0``, ``sim-1``, ..."""

    name = "sim"
    sensor_type = "sim"

    #: Degrees Celsius the values swing around, how far, and over how many seconds.
    MEAN = 20.0
    SWING = 1.5
    PERIOD = 3600.0

    def __init__(self, config, clock=time.time):
        self._count = config.sim_sensors
        self._clock = clock

    def sensor_ids(self):
        """Sorted as strings, like every reader's (``sim-10`` before ``sim-2``)."""
        return sorted(f"sim-{number}" for number in range(self._count))

    def read(self):
        """Each sensor's value at ``clock()``; each sensor is a little out of phase."""
        now = self._clock()
        readings = {
            f"sim-{number}": SensorReading(self.sensor_type, self._celsius(number, now))
            for number in range(self._count)
        }
        return dict(sorted(readings.items()))

    def _celsius(self, number: int, now: float) -> float:
        angle = 2 * math.pi * now / self.PERIOD + number
        return round(self.MEAN + self.SWING * math.sin(angle), 3)
