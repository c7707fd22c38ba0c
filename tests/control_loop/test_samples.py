"""Sensor samples as the loop keeps them: a fault's jump stays dropped until the sensor comes back."""

from rpymostat.control_loop.samples import SensorSamples
from rpymostat.decide.temperature import effective_temperature
from rpymostat.storage.interface import Reading


def feed(samples, *values, every=30.0):
    """Readings of sensor ``a`` every ``every`` s (monotonic and stamped alike); returns the time of the last."""
    at = 0.0
    for value in values:
        at += every
        samples.received([Reading("a", "DS18B20", value, 1795608000.0 + at)], at)
    return at


def used_or_why(samples, now):
    result = effective_temperature({"a": 1.0}, samples.samples(), now)
    return result.value if result.value is not None else result.dropped["a"]


def test_a_stuck_fault_stays_dropped_however_long_it_lasts():
    samples = SensorSamples()
    now = feed(samples, 21.5, 0.5, 0.5, 0.5, 0.5, 0.5)  # a wire came loose and stays loose
    assert used_or_why(samples, now) == "jumped -21.0 C in 150 s, from 21.5 C: a fault, not the room"
    samples.received([Reading("a", "DS18B20", 20.0, 1795608000.0 + 200)], 200.0)  # ... until one is back near 21.5
    assert used_or_why(samples, 200.0) == 20.0


def test_one_spike_costs_one_reading_not_the_good_one_after_it():
    samples = SensorSamples()
    now = feed(samples, 21.5, 85.0)
    assert used_or_why(samples, now).startswith("jumped +63.5 C in 30 s")
    now = feed(samples, 21.5, 85.0, 21.6)
    assert used_or_why(samples, now) == 21.6


def test_a_large_change_after_a_long_silence_is_the_room():
    samples = SensorSamples()
    feed(samples, 21.0)
    samples.received([Reading("a", "DS18B20", 1.0, 1795608000.0 + 7200)], 7200.0)  # back after two hours
    assert used_or_why(samples, 7200.0) == 1.0


def test_a_failed_read_in_a_fault_keeps_the_sensor_suspect():
    samples = SensorSamples()
    feed(samples, 21.5, 0.5, None)
    samples.received([Reading("a", "DS18B20", 0.5, 1795608000.0 + 120)], 120.0)
    assert used_or_why(samples, 120.0).startswith("jumped -21.0 C in 90 s")
