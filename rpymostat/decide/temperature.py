"""A zone's effective temperature from its weighted sensors, and which were dropped and why.

A sensor's reading is used only if it is fresh (seen within ``stale_after``
seconds), a number, plausible for a house and within its chip's measuring
range, and not a jump of :data:`MAX_JUMP_C` or more from the reading before
it within :data:`JUMP_WINDOW_S` (a loose wire or a failing chip, not the
room); the others are dropped with a reason and the weights of the rest carry
the mean.  Below ``quorum`` usable sensors the
zone has no trustworthy temperature at all (``value`` None), which sends it
to its safe state: a thermostat must never keep heating on an old number.
"""

import dataclasses
import math
from collections.abc import Mapping

#: Readings outside this range are broken sensors, not weather.
PLAUSIBLE_C = (-40.0, 85.0)

#: The measuring range of common sensor chips, from their datasheets: a
#: reading outside its chip's range is a fault, whatever it says.
SENSOR_RANGES_C = {
    "DS18B20": (-55.0, 125.0),
    "DS18S20": (-55.0, 125.0),
    "DS1822": (-55.0, 125.0),
    "DS1825": (-55.0, 125.0),
    "DS28EA00": (-40.0, 85.0),
    "DHT22": (-40.0, 80.0),
    "DHT11": (0.0, 50.0),
}

#: A reading this many kelvin away from the sensor's reading before it ...
MAX_JUMP_C = 20.0
#: ... within this many seconds is a fault: no room changes that fast.
JUMP_WINDOW_S = 60.0


@dataclasses.dataclass(frozen=True)
class Sample:
    """A sensor's newest reading: value (None if it could not measure), when (s, on the
    decision's clock), the chip's type if known, and its last trusted reading before it.

    ``suspect`` says that a jump away from ``previous`` began within
    :data:`JUMP_WINDOW_S` of it and has not come back since: a stuck fault
    stays dropped however long it lasts, until a reading returns to within
    :data:`MAX_JUMP_C` of the last trusted one.
    """

    value: float | None
    seen_at: float
    sensor_type: str | None = None
    previous: "Sample | None" = None
    suspect: bool = False


def is_jump(value, seen_at, trusted, suspect) -> bool:
    """Whether ``value`` at ``seen_at`` is a fault's jump away from the ``trusted`` sample."""
    if trusted is None or value is None or trusted.value is None:
        return False
    if not (math.isfinite(value) and math.isfinite(trusted.value)):
        return False
    far = abs(value - trusted.value) >= MAX_JUMP_C
    return far and (suspect or seen_at - trusted.seen_at <= JUMP_WINDOW_S)


def _out_of_range(sample) -> str | None:
    """Why ``sample``'s value is impossible for its chip or for a house, or None."""
    value = sample.value
    if not PLAUSIBLE_C[0] <= value <= PLAUSIBLE_C[1]:
        return f"implausible: {value} C"
    low, high = SENSOR_RANGES_C.get(sample.sensor_type, PLAUSIBLE_C)
    if not low <= value <= high:
        return f"outside the {sample.sensor_type}'s range of {low:g}..{high:g} C: {value} C"
    return None


def _jump(sample) -> str | None:
    """Why ``sample`` is a jump from its last trusted reading, or None."""
    before = sample.previous
    if not is_jump(sample.value, sample.seen_at, before, sample.suspect):
        return None
    elapsed = sample.seen_at - before.seen_at
    change = sample.value - before.value
    return f"jumped {change:+.1f} C in {elapsed:.0f} s, from {before.value:g} C: a fault, not the room"


@dataclasses.dataclass(frozen=True)
class EffectiveTemperature:
    """The weighted mean, the sensors used (with weights) and those dropped (with reasons)."""

    value: float | None
    used: Mapping[str, float]
    dropped: Mapping[str, str]
    coldest: float | None
    reason: str


def effective_temperature(weights, samples, now, stale_after=300.0, quorum=1) -> EffectiveTemperature:
    """Combine ``samples[sensor_id]`` by ``weights[sensor_id]`` as of ``now``."""
    used, dropped, values = {}, {}, {}
    for sensor_id, weight in sorted(weights.items()):
        sample = samples.get(sensor_id)
        if sample is None:
            dropped[sensor_id] = "never reported"
        elif now - sample.seen_at > stale_after:
            dropped[sensor_id] = f"stale: last seen {now - sample.seen_at:.0f} s ago"
        elif sample.value is None or not math.isfinite(sample.value):
            dropped[sensor_id] = "no value in its last reading"
        elif (fault := _out_of_range(sample) or _jump(sample)) is not None:
            dropped[sensor_id] = fault
        elif weight <= 0:
            dropped[sensor_id] = "weight is zero"
        else:
            used[sensor_id] = weight
            values[sensor_id] = sample.value
    coldest = min(values.values()) if values else None
    needed = max(quorum, 1)
    if len(used) < needed:
        reason = (
            f"only {len(used)} of {len(weights)} sensors usable, {needed} needed"
            if weights
            else "no sensors are assigned to this zone"
        )
        return EffectiveTemperature(None, used, dropped, coldest, reason)
    total = sum(used.values())
    value = sum(values[s] * w for s, w in used.items()) / total
    return EffectiveTemperature(
        round(value, 3),
        used,
        dropped,
        coldest,
        (f"weighted mean of {len(used)} sensors" if len(used) > 1 else "the reading of 1 sensor"),
    )
