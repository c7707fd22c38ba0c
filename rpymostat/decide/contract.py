"""What every decision plugin promises, checked by running it on many zone states.

A plugin author runs the whole contract in one call from any test runner::

    from rpymostat.decide.contract import check_decision_plugin

    def test_my_plugin_keeps_the_decision_plugin_contract():
        check_decision_plugin(MyPlugin, configs=[{}, {"band": 2.0}])

Each check is a plain function that raises :class:`AssertionError` naming the
state that broke it, so nothing here needs pytest.  The states are a fixed
grid, not random ones, so a failure is the same on every run: every zone mode,
temperatures below, inside and above the targets and none at all, each
setpoint present or missing, outputs on, off or unknown.

The engine only ever hands a plugin what it can produce, and the grid keeps to
that: heating and cooling are never both on (the safety layer sees to it),
and a heat setpoint is at least :data:`MIN_DEADBAND_C` below the cool one
(the API refuses anything closer).
"""

import itertools
import types
from collections.abc import Iterable, Mapping

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from zope.interface.exceptions import Invalid
from zope.interface.verify import verifyClass

from rpymostat.decide.plugin import IDecisionPlugin
from rpymostat.decide.state import COOL, FAN, HEAT, MIN_DEADBAND_C, Decision, OutputState, ZoneState

#: When the grid's decisions are asked for (epoch s); outputs switched before it.
NOW = 1795608000.0

#: The smallest gap the API allows between a heat and a cool setpoint.

MODES = ("heat", "cool", "auto", "off")

#: Temperatures around the setpoints below, from frost to far too hot, and none.
TEMPERATURES = (None, -10.0, 4.0, 15.0, 19.0, 19.7, 20.0, 20.3, 20.5, 21.0, 21.3, 23.0, 26.0, 27.0, 35.0)

#: (heat setpoint, cool setpoint): both, the closest the API allows, one, none.
SETPOINTS = (
    (20.0, 26.0),
    (20.0, 20.0 + MIN_DEADBAND_C),
    (20.0, None),
    (None, 26.0),
    (None, None),
)

#: What the relay units last reported: nothing, each one alone, both off.
OUTPUTS = (
    {},
    {HEAT: OutputState(False, NOW - 600)},
    {HEAT: OutputState(True, NOW - 600), COOL: OutputState(False, NOW - 3600)},
    {HEAT: OutputState(False, NOW - 3600), COOL: OutputState(True, NOW - 600)},
    {HEAT: OutputState(False, NOW - 60), COOL: OutputState(False, NOW - 60), FAN: OutputState(True, NOW - 60)},
)


def check_decision_plugin(plugin_class, configs: Iterable[Mapping] = ({},)) -> None:
    """Every check below on ``plugin_class``, with each of ``configs`` as the zone's config.

    ``configs`` are examples of what a user may configure: each must be valid
    against the plugin's ``config_schema``; ``{}`` (every default) is the one
    the engine uses for a zone that configured nothing.
    """
    configs = [dict(config) for config in configs]
    check_declaration(plugin_class, configs)
    plugin = plugin_class()
    decided = []
    for state in zone_states(configs):
        decision = decide(plugin, state)
        check_decision(state, decision)
        decided.append((state, decision))
    check_pure(plugin_class, plugin, decided)


def check_declaration(plugin_class, configs) -> None:
    """The class provides :class:`IDecisionPlugin`, says what it is, and describes its config.

    ``config_schema`` is a valid JSON Schema (draft 2020-12, as the API
    checks a zone's config with it) of an object, which every example config
    satisfies.
    """
    try:
        verifyClass(IDecisionPlugin, plugin_class)
    except Invalid as error:
        raise AssertionError(str(error)) from error
    for attribute in ("name", "description"):
        value = getattr(plugin_class, attribute)
        assert isinstance(value, str) and value.strip(), f"{attribute} must be a non-empty string, not {value!r}"
    schema = plugin_class.config_schema
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        raise AssertionError(f"config_schema is not a JSON Schema: {error.message}") from error
    assert schema.get("type") == "object", f"config_schema must describe an object, not {schema.get('type')!r}"
    validator = Draft202012Validator(schema)
    for config in configs:
        problems = [error.message for error in validator.iter_errors(config)]
        assert not problems, f"example config {config!r} is not valid against config_schema: {'; '.join(problems)}"


def zone_states(configs) -> Iterable[ZoneState]:
    """The grid of states (see the module docstring), the config a read-only mapping.

    A read-only config makes a plugin that writes into it fail loudly: the
    zone's config belongs to the engine, shared by every decision.
    """
    for config, mode, temperature, (heat, cool), outputs in itertools.product(
        configs, MODES, TEMPERATURES, SETPOINTS, OUTPUTS
    ):
        coldest = None if temperature is None else temperature - 0.5
        yield ZoneState(
            zone="contract",
            mode=mode,
            temperature=temperature,
            heat_setpoint=heat,
            cool_setpoint=cool,
            outputs=types.MappingProxyType(outputs),
            coldest=coldest,
            config=types.MappingProxyType(config),
        )


def decide(plugin, state) -> Decision:
    """The plugin's decision for ``state``; any exception is a broken contract naming the state."""
    try:
        return plugin.decide(state, NOW)
    except Exception as error:
        raise AssertionError(f"decide raised {error!r} for {describe(state)}") from error


def check_decision(state, decision) -> None:
    """A :class:`Decision` with a reason, booleans per output, never heating and cooling together.

    With the zone's mode ``off`` nothing may be wished on: the safety layer's
    frost protection is what heats a switched-off house, not the plugin.
    """
    where = f"for {describe(state)}"
    assert isinstance(decision, Decision), f"decide returned {decision!r}, not a Decision, {where}"
    assert isinstance(decision.reason, str) and decision.reason.strip(), f"the reason is empty {where}"
    assert isinstance(decision.outputs, Mapping), f"outputs {decision.outputs!r} is not a mapping {where}"
    unknown = set(decision.outputs) - {HEAT, COOL, FAN}
    assert not unknown, f"outputs names {sorted(unknown)}, not among {HEAT}, {COOL}, {FAN}, {where}"
    wrong = {name: value for name, value in decision.outputs.items() if not isinstance(value, bool)}
    assert not wrong, f"outputs must be True or False, got {wrong} {where}"
    assert not (decision.outputs.get(HEAT) and decision.outputs.get(COOL)), (
        f"heat and cool are both wished on ({decision.reason!r}) {where}"
    )
    if state.mode == "off":
        on = sorted(name for name in (HEAT, COOL) if decision.outputs.get(name))
        assert not on, f"mode is off but {', '.join(on)} is wished on ({decision.reason!r}) {where}"


def check_pure(plugin_class, plugin, decided) -> None:
    """Same state, same decision: asked again, in the opposite order, and of a fresh instance.

    A plugin keeping anything between calls (a counter, the last state of a
    zone) answers differently the second time round, or differs from a new
    instance; either is a broken contract, since one instance serves every
    zone and the engine may ask again at any time.
    """
    fresh = plugin_class()
    for state, first in reversed(decided):
        for again in (decide(plugin, state), decide(fresh, state)):
            assert again == first, f"decide is not pure: {first!r} then {again!r} for {describe(state)}"


def describe(state) -> str:
    """The parts of ``state`` that vary in the grid, for a failure message."""
    outputs = {name: output.on for name, output in state.outputs.items()}
    return (
        f"mode {state.mode!r}, temperature {state.temperature!r}, heat setpoint {state.heat_setpoint!r},"
        f" cool setpoint {state.cool_setpoint!r}, outputs on {outputs}, config {dict(state.config)}"
    )
