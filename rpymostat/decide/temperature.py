"""A zone's effective temperature from its weighted sensors, and which were dropped and why.

A sensor's reading is used only if it is fresh (seen within ``stale_after``
seconds), a number, and plausible; the others are dropped with a reason and
the weights of the rest carry the mean.  Below ``quorum`` usable sensors the
zone has no trustworthy temperature at all (``value`` None), which sends it
to its safe state: a thermostat must never keep heating on an old number.
"""

import dataclasses
import math
from collections.abc import Mapping

#: Readings outside this range are broken sensors, not weather.
PLAUSIBLE_C = (-40.0, 85.0)


@dataclasses.dataclass(frozen=True)
class Sample:
    """A sensor's newest reading: value (None if it could not measure) and when (epoch s)."""

    value: float | None
    seen_at: float


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
        elif not PLAUSIBLE_C[0] <= sample.value <= PLAUSIBLE_C[1]:
            dropped[sensor_id] = f"implausible: {sample.value} C"
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
