"""The safety layer: every decision passes it, and every change it makes says why.

Applied after any plugin, in this order:

1. untrusted inputs: without a trustworthy temperature, or without a target
   (the schedule could not be computed), heating and cooling go off for
   safety, except frost protection (heat when the temperature, or without
   one any fresh reading, is below ``frost_c``); with a temperature, heat
   below ``frost_c`` whatever the mode or target;
2. absolute limits: never heat above ``max_heat_c``, never cool below
   ``min_cool_c`` (measured);
3. short-cycle protection: an output keeps its state until it has been on
   ``min_on_s`` / off ``min_off_s``, measured from the relay's real last
   switch (a setpoint change does not skip it), and is not switched on more
   than ``max_cycles_per_hour`` times an hour.  Switching *off* for safety
   (steps 1 and 2) does not wait for the minimum on time: a boiler with no
   trustworthy temperature must not run five more minutes (the decision
   names these outputs in ``safety_off``, and the relay unit is told so);
4. heating and cooling are never on together: the one already on stays, and
   the other is switched on only once its relay unit confirms the first is
   off (a unit may refuse or miss an "off").
"""

import dataclasses

from rpymostat.decide.state import COOL, HEAT, Adjustment, FinalDecision


@dataclasses.dataclass(frozen=True)
class Limits:
    """The safety layer's settings; the defaults protect ordinary equipment."""

    min_on_s: float = 300.0
    min_off_s: float = 300.0
    max_cycles_per_hour: int = 6
    max_heat_c: float = 30.0
    min_cool_c: float = 15.0
    frost_c: float = 5.0


def review(state, decision, now, limits=Limits(), per_output=None, no_target=None) -> FinalDecision:
    """The decision the outputs will follow, with an adjustment for each change.

    ``per_output`` may map ``heat``/``cool`` to the :class:`Limits` of that
    output's equipment (its minimum times and starts per hour); the others
    come from ``limits``.  ``no_target`` says why the zone has no target, if
    it has none: its outputs then go to their safe state like a zone without
    a trustworthy temperature.
    """
    per_output = per_output or {}
    wished = {name: bool(decision.outputs.get(name, False)) for name in (HEAT, COOL)}
    outputs = dict(wished)
    adjustments = []
    forced_off = {}  # output -> reason: switched off for safety, minimum on time does not hold these

    def adjust(name, value, reason):
        if outputs[name] != value:
            adjustments.append(Adjustment(name, outputs[name], value, reason))
            outputs[name] = value

    def force_off(name, reason):
        forced_off.setdefault(name, reason)
        adjust(name, False, reason)

    if state.temperature is None or no_target is not None:
        untrusted = "no trustworthy temperature" if state.temperature is None else f"no target ({no_target})"
        if state.temperature is not None and state.temperature < limits.frost_c:
            adjust(HEAT, True, f"frost protection: {state.temperature:g} C is below {limits.frost_c:g} C")
        elif state.temperature is None and state.coldest is not None and state.coldest < limits.frost_c:
            adjust(HEAT, True, f"frost protection: a sensor reads {state.coldest:g} C, below {limits.frost_c:g} C")
        else:
            force_off(HEAT, f"safe state: {untrusted}")
        force_off(COOL, f"safe state: {untrusted}")
    else:
        if state.temperature < limits.frost_c:
            adjust(HEAT, True, f"frost protection: {state.temperature:g} C is below {limits.frost_c:g} C")
        if state.temperature > limits.max_heat_c:
            force_off(HEAT, f"never heat above {limits.max_heat_c:g} C (measured {state.temperature:g} C)")
        if state.temperature < limits.min_cool_c:
            force_off(COOL, f"never cool below {limits.min_cool_c:g} C (measured {state.temperature:g} C)")

    for name in (HEAT, COOL):
        current = state.outputs.get(name)
        if current is None or outputs[name] == current.on:
            continue
        own = per_output.get(name, limits)
        held_for = now - current.since
        if current.on and held_for < own.min_on_s and name not in forced_off:
            adjust(name, True, f"minimum on time: on for {held_for:.0f} of {own.min_on_s:.0f} s")
        elif not current.on and held_for < own.min_off_s:
            adjust(name, False, f"minimum off time: off for {held_for:.0f} of {own.min_off_s:.0f} s")
        elif not current.on:
            recent = [t for t in current.switched_on_at if now - t < 3600]
            if len(recent) >= own.max_cycles_per_hour:
                adjust(name, False, f"{len(recent)} starts in the last hour, at most {own.max_cycles_per_hour}")

    if outputs[HEAT] and outputs[COOL]:
        cool_was_on = state.outputs.get(COOL) is not None and state.outputs[COOL].on
        loser = HEAT if cool_was_on else COOL
        adjust(loser, False, "heating and cooling are never on together")
    for name, other in ((HEAT, COOL), (COOL, HEAT)):
        mine, theirs = state.outputs.get(name), state.outputs.get(other)
        if outputs[name] and (mine is None or not mine.on) and theirs is not None and theirs.on:
            adjust(name, False, f"waits until {other} is confirmed off")
    safety_off = {name: reason for name, reason in forced_off.items() if not outputs[name]}
    return FinalDecision(outputs, decision.reason, tuple(adjustments), safety_off)
