"""One zone's decision from its inputs: the pure heart of the decision loop.

The loop gathers the inputs once into a frozen :class:`~.inputs.ZoneInputs`
(the zone's settings, the segment of the timeline in force, the sensors'
newest readings, the outputs' real states, its plugin) and :func:`decide`
turns them into a :class:`ZoneDecision`: the effective temperature,
the plugin's wish, the safety layer's verdict, each with its reason.  Nothing
here does I/O or reads a clock, so every case is a plain test (a failing
plugin is logged, loudly, on every decision until it is fixed).
"""

import dataclasses
from collections.abc import Mapping

from twisted.logger import Logger

from rpymostat.decide.hysteresis import Hysteresis
from rpymostat.decide.inputs import ZoneInputs
from rpymostat.decide.safety import review
from rpymostat.decide.state import COOL, FAN, HEAT, Decision, FinalDecision, ZoneState
from rpymostat.decide.temperature import EffectiveTemperature, effective_temperature

log = Logger()


@dataclasses.dataclass(frozen=True)
class ZoneDecision:
    """Everything the loop decided for a zone at ``at``, and why.

    ``outputs`` is what each configured output should be (``fan`` follows
    heating and cooling); ``target_error`` says why there is no target when
    the schedule could not be computed.  ``at`` is on the clock the inputs'
    times are on (the loop's monotonic clock).
    """

    zone: str
    at: float
    mode: str
    temperature: EffectiveTemperature
    segment: object | None
    target_error: str | None
    plugin: str
    wish: Decision
    final: FinalDecision
    outputs: Mapping[str, bool]


def decide(inputs: ZoneInputs, now: float) -> ZoneDecision:
    """The decision for the zone of ``inputs`` at ``now`` (on the inputs' clock)."""
    temperature = effective_temperature(inputs.weights, inputs.samples, now, inputs.stale_after, inputs.quorum)
    # Frost protection looks at every fresh sensor of the zone, not only those a rule weights.
    every_sensor = effective_temperature(
        {**inputs.zone_sensors, **inputs.weights}, inputs.samples, now, inputs.stale_after
    )
    segment = inputs.segment
    state = ZoneState(
        zone=inputs.zone,
        mode=inputs.mode,
        temperature=temperature.value,
        heat_setpoint=segment.setpoints.heat if segment is not None else None,
        cool_setpoint=segment.setpoints.cool if segment is not None else None,
        outputs=inputs.outputs,
        coldest=every_sensor.coldest,
        config=inputs.plugin_config,
    )
    wish = _wish(inputs.plugin_name, inputs.plugin, state, now, inputs.target_error)
    final = review(state, wish, now, inputs.limits, inputs.per_output, inputs.target_error)
    outputs = dict(final.outputs)
    outputs[FAN] = outputs[HEAT] or outputs[COOL]
    return ZoneDecision(
        inputs.zone,
        now,
        inputs.mode,
        temperature,
        segment,
        inputs.target_error,
        inputs.plugin_name,
        wish,
        final,
        outputs,
    )


def _wish(plugin_name, plugin, state, now, target_error):
    """The plugin's decision; a missing or failing plugin is replaced by the built-in one."""
    if target_error is not None:
        return Decision({HEAT: False, COOL: False}, f"no target: {target_error}")
    if plugin is None:
        fallback = Hysteresis().decide(dataclasses.replace(state, config={}), now)
        return Decision(
            fallback.outputs,
            f"decision plugin {plugin_name!r} is not installed; built-in hysteresis: {fallback.reason}",
        )
    try:
        wish = plugin.decide(state, now)
        if not isinstance(wish, Decision):
            raise TypeError(f"decide() returned {type(wish).__name__}, not a Decision")
        return wish
    except Exception as error:
        log.failure(
            "decision plugin {plugin} failed for zone {zone}; the built-in hysteresis decides",
            plugin=plugin_name,
            zone=state.zone,
        )
        fallback = Hysteresis().decide(dataclasses.replace(state, config={}), now)
        return Decision(
            fallback.outputs,
            f"decision plugin {plugin_name!r} failed ({error}); built-in hysteresis: {fallback.reason}",
        )
