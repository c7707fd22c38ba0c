"""Values a 1-wire temperature sensor reports that are not temperatures.

A DS18B20 holds 85.0 C in its scratchpad from power-on until its first
conversion finishes, so a brown-out or a read racing a reset shows up as a
plausible-looking 85 C; -127 C is what many 1-wire stacks put in place of a
failed read.  Passed on, either would make the engine heat (or not) a room
on a number nobody measured, so both readers that talk to 1-wire chips turn
them into a reading with no value and the reason, here, in one place.
"""

from rpymostat_sensor.readers.interface import SensorReading

#: The scratchpad's power-on value, degrees Celsius.
POWER_ON_CELSIUS = 85.0

#: The usual stand-in for a failed read, degrees Celsius.
READ_ERROR_CELSIUS = -127.0

# A reading converted from another scale (358.15 K) misses 85.0 by rounding
# only; real readings step by 1/16 C at best, so this cannot hide one.
_TOLERANCE = 0.001


def failure_reason(celsius: float, sensor_type: str) -> str | None:
    """Why ``celsius`` is not a measurement, or None when it is one."""
    if abs(celsius - POWER_ON_CELSIUS) < _TOLERANCE:
        return f"85.0 C is the {sensor_type} power-on value, not a reading"
    if abs(celsius - READ_ERROR_CELSIUS) < _TOLERANCE:
        return "-127 C is the 1-wire read-error value, not a reading"
    return None


def failed(sensor_type: str, reason: str) -> SensorReading:
    """A reading with no value, saying why."""
    return SensorReading(sensor_type=sensor_type, value=None, extra=reason)


def checked(sensor_type: str, celsius: float) -> SensorReading:
    """``celsius`` as a reading, unless it is one of the failure values above."""
    reason = failure_reason(celsius, sensor_type)
    if reason is not None:
        return failed(sensor_type, reason)
    return SensorReading(sensor_type=sensor_type, value=float(celsius))
