"""The built-in decision plugin: on/off with a dead band around the target.

Heating switches on at ``target - cold_tolerance`` and off at ``target +
hot_tolerance`` (defaults 0.3 C); inside the band the output keeps its state,
so it does not chatter around the setpoint.  Cooling mirrors it: on at
``target + hot_tolerance``, off at ``target - cold_tolerance``.  ``auto``
uses both setpoints.  Pure: the decision depends only on the state passed in.
"""

from zope.interface import implementer

from rpymostat.decide.plugin import IDecisionPlugin
from rpymostat.decide.state import COOL, HEAT, Decision


def _switch(name, currently_on, temperature, on_at, off_at, heating):
    """``(on, reason)`` for one output with on/off thresholds."""
    if heating:
        if temperature <= on_at:
            return True, f"{temperature:g} C is at or below {on_at:g} C: {name} on"
        if temperature >= off_at:
            return False, f"{temperature:g} C is at or above {off_at:g} C: {name} off"
    else:
        if temperature >= on_at:
            return True, f"{temperature:g} C is at or above {on_at:g} C: {name} on"
        if temperature <= off_at:
            return False, f"{temperature:g} C is at or below {off_at:g} C: {name} off"
    state = "on" if currently_on else "off"
    return (
        currently_on,
        f"{temperature:g} C is between {min(on_at, off_at):g} and {max(on_at, off_at):g} C: {name} stays {state}",
    )


@implementer(IDecisionPlugin)
class Hysteresis:
    """Heat on below the band, off above it; cooling mirrored."""

    name = "hysteresis"
    description = "On/off control with a dead band around each setpoint."
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "cold_tolerance": {"type": "number", "minimum": 0, "maximum": 5, "default": 0.3},
            "hot_tolerance": {"type": "number", "minimum": 0, "maximum": 5, "default": 0.3},
        },
    }

    def decide(self, state, now):
        cold = state.config.get("cold_tolerance", 0.3)
        hot = state.config.get("hot_tolerance", 0.3)
        if state.mode == "off":
            return Decision({HEAT: False, COOL: False}, "mode is off")
        if state.temperature is None:
            return Decision({HEAT: False, COOL: False}, "no trustworthy temperature")
        outputs, reasons = {HEAT: False, COOL: False}, []
        was = {name: output.on for name, output in state.outputs.items()}
        if state.mode in ("heat", "auto") and state.heat_setpoint is not None:
            target = state.heat_setpoint
            outputs[HEAT], why = _switch(
                HEAT, was.get(HEAT, False), state.temperature, target - cold, target + hot, True
            )
            reasons.append(f"heat target {target:g} C: {why}")
        if state.mode in ("cool", "auto") and state.cool_setpoint is not None:
            target = state.cool_setpoint
            outputs[COOL], why = _switch(
                COOL, was.get(COOL, False), state.temperature, target + hot, target - cold, False
            )
            reasons.append(f"cool target {target:g} C: {why}")
        return Decision(outputs, "; ".join(reasons) or f"no setpoint for mode {state.mode}")
