"""One zone's decision from its inputs: the pure heart of the decision loop.

The loop gathers the inputs (the zone's settings, the segment of the timeline
in force, the sensors' newest readings, the outputs' real states) and this
module turns them into a :class:`ZoneDecision`: the effective temperature,
the plugin's wish, the safety layer's verdict, each with its reason.  Nothing
here does I/O or reads a clock, so every case is a plain test (a failing
plugin is logged, loudly, on every decision until it is fixed).
"""

import dataclasses
from typing import Mapping, Optional

from twisted.logger import Logger

from rpymostat.decide.hysteresis import Hysteresis
from rpymostat.decide.safety import Limits, review
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
    segment: Optional[object]
    target_error: Optional[str]
    plugin: str
    wish: Decision
    final: FinalDecision
    outputs: Mapping[str, bool]


def decide_zone(zone, settings, segment, samples, output_states, now, plugins,
                limits=Limits(), stale_after=300.0, target_error=None) -> ZoneDecision:
    """The decision for ``zone`` (``settings`` is its full zone document).

    ``segment`` is the timeline segment in force (None with ``target_error``
    when the schedule failed: the zone then goes to its safe state);
    ``samples`` maps sensor ids to :class:`~.temperature.Sample`;
    ``output_states`` maps ``heat``/``cool`` to :class:`~.state.OutputState`;
    ``now``, the samples' ``seen_at`` and the outputs' times are on one
    clock, which should be monotonic (durations must not follow a wall
    clock that can step);
    ``plugins`` maps plugin names to instances.
    """
    weights, quorum = settings["sensors"], settings.get("quorum", 1)
    if segment is not None and segment.setpoints.sensors:
        weights = segment.setpoints.sensors
        quorum = min(quorum, len(weights))  # a rule naming one sensor must not leave the zone safe-stated
    temperature = effective_temperature(weights, samples, now, stale_after, quorum)
    # Frost protection looks at every fresh sensor of the zone, not only those a rule weights.
    every_sensor = effective_temperature({**settings["sensors"], **weights}, samples, now, stale_after)
    state = ZoneState(
        zone=zone,
        mode=settings["mode"],
        temperature=temperature.value,
        heat_setpoint=segment.setpoints.heat if segment is not None else None,
        cool_setpoint=segment.setpoints.cool if segment is not None else None,
        outputs={name: output_states[name] for name in (HEAT, COOL) if name in output_states},
        coldest=every_sensor.coldest,
        config=settings["decision"].get("config", {}),
    )
    plugin_name = settings["decision"]["plugin"]
    wish = _wish(plugin_name, plugins, state, now, target_error)
    per_output = {name: dataclasses.replace(limits, **own) for name, own in settings.get("safety", {}).items()}
    final = review(state, wish, now, limits, per_output, target_error)
    outputs = dict(final.outputs)
    outputs[FAN] = outputs[HEAT] or outputs[COOL]
    return ZoneDecision(zone, now, settings["mode"], temperature, segment, target_error,
                        plugin_name, wish, final, outputs)


def _wish(plugin_name, plugins, state, now, target_error):
    """The plugin's decision; a missing or failing plugin is replaced by the built-in one."""
    if target_error is not None:
        return Decision({HEAT: False, COOL: False}, f"no target: {target_error}")
    plugin = plugins.get(plugin_name)
    if plugin is None:
        fallback = Hysteresis().decide(dataclasses.replace(state, config={}), now)
        return Decision(fallback.outputs,
                        f"decision plugin {plugin_name!r} is not installed; built-in hysteresis: {fallback.reason}")
    try:
        wish = plugin.decide(state, now)
        if not isinstance(wish, Decision):
            raise TypeError(f"decide() returned {type(wish).__name__}, not a Decision")
        return wish
    except Exception as error:
        log.failure("decision plugin {plugin} failed for zone {zone}; the built-in hysteresis decides",
                    plugin=plugin_name, zone=state.zone)
        fallback = Hysteresis().decide(dataclasses.replace(state, config={}), now)
        return Decision(fallback.outputs,
                        f"decision plugin {plugin_name!r} failed ({error}); built-in hysteresis: {fallback.reason}")
