"""The values the decision step works on: a zone's state, a decision, an adjustment."""

import dataclasses
from collections.abc import Mapping

#: The outputs a zone may drive.
HEAT, COOL, FAN = "heat", "cool", "fan"

#: A heat setpoint is at least this far below the cool one, so that heating and
#: cooling never chase each other in ``auto`` mode (the API refuses closer ones).
MIN_DEADBAND_C = 1.0


@dataclasses.dataclass(frozen=True)
class OutputState:
    """An output as the relay unit last reported it: on or off, and since when (epoch s)."""

    on: bool
    since: float
    switched_on_at: tuple[float, ...] = ()  # recent off->on switches, for cycles per hour


@dataclasses.dataclass(frozen=True)
class ZoneState:
    """What a decision plugin may look at; it reads nothing else.

    ``temperature`` is the effective temperature, None when the zone's
    sensors cannot be trusted (see :mod:`.temperature`); ``coldest`` is the
    lowest fresh reading, for frost protection.
    """

    zone: str
    mode: str  # "heat", "cool", "auto" or "off"
    temperature: float | None
    heat_setpoint: float | None
    cool_setpoint: float | None
    outputs: Mapping[str, OutputState]
    coldest: float | None = None
    config: Mapping = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Decision:
    """What a plugin wishes for each output, and why, in words."""

    outputs: Mapping[str, bool]
    reason: str


@dataclasses.dataclass(frozen=True)
class Adjustment:
    """The safety layer changed a wish: which output, to what, and why."""

    output: str
    wished: bool
    decided: bool
    reason: str


@dataclasses.dataclass(frozen=True)
class FinalDecision:
    """What the outputs will do: the plugin's decision after the safety layer.

    ``safety_off`` maps each output the safety layer switches off for safety
    (no trustworthy temperature, an absolute limit) to the reason: the relay
    unit is told so, and switches it off at once instead of waiting out its
    minimum on time.
    """

    outputs: Mapping[str, bool]
    reason: str
    adjustments: tuple[Adjustment, ...] = ()
    safety_off: Mapping[str, str] = dataclasses.field(default_factory=dict)
