"""The decision plugin contract: the built-in plugin keeps it, and it catches plugins that do not."""

import dataclasses

import pytest
from zope.interface import implementer

from rpymostat.decide.contract import check_decision_plugin
from rpymostat.decide.hysteresis import Hysteresis
from rpymostat.decide.plugin import IDecisionPlugin
from rpymostat.decide.state import COOL, HEAT, Decision


def test_hysteresis_keeps_the_contract_with_default_and_extreme_tolerances():
    check_decision_plugin(
        Hysteresis,
        configs=[
            {},
            {"cold_tolerance": 0, "hot_tolerance": 0},
            {"cold_tolerance": 5, "hot_tolerance": 5},
        ],
    )


@implementer(IDecisionPlugin)
class Thermostat:
    """A plain one-setpoint thermostat, correct as far as the contract goes; broken variants below."""

    name = "plain"
    description = "Heat below the heat setpoint, cool above the cool one."
    config_schema = {"type": "object", "properties": {"offset": {"type": "number"}}}

    def decide(self, state, now):
        if state.mode == "off" or state.temperature is None:
            return Decision({HEAT: False, COOL: False}, "nothing to do")
        heat = (
            state.mode in ("heat", "auto")
            and state.heat_setpoint is not None
            and (state.temperature < state.heat_setpoint + state.config.get("offset", 0))
        )
        cool = (
            not heat
            and state.mode in ("cool", "auto")
            and state.cool_setpoint is not None
            and (state.temperature > state.cool_setpoint)
        )
        return Decision({HEAT: heat, COOL: cool}, f"{state.temperature:g} C")


class BothOn(Thermostat):
    def decide(self, state, now):
        decision = super().decide(state, now)
        return Decision({HEAT: True, COOL: True}, decision.reason) if state.mode == "auto" else decision


class Speechless(Thermostat):
    def decide(self, state, now):
        return dataclasses.replace(super().decide(state, now), reason=" ")


class NeedsATemperature(Thermostat):
    def decide(self, state, now):
        if state.heat_setpoint is not None and state.temperature < state.heat_setpoint:
            return Decision({HEAT: True}, "cold")
        return super().decide(state, now)


class NeedsASetpoint(Thermostat):
    def decide(self, state, now):
        if state.mode == "heat" and state.temperature is not None and state.temperature < state.heat_setpoint:
            return Decision({HEAT: True}, "cold")
        return super().decide(state, now)


class Forgetful(Thermostat):
    """Remembers a count between calls: not pure."""

    def __init__(self):
        self.calls = 0

    def decide(self, state, now):
        self.calls += 1
        return Decision({HEAT: False}, f"call {self.calls}")


class WritesItsConfig(Thermostat):
    def decide(self, state, now):
        state.config.setdefault("offset", 0)
        return super().decide(state, now)


class HeatsWhenOff(Thermostat):
    def decide(self, state, now):
        return Decision({HEAT: True}, "always heat") if state.mode == "off" else super().decide(state, now)


class AnswersInWords(Thermostat):
    def decide(self, state, now):
        return Decision({HEAT: "on" if super().decide(state, now).outputs[HEAT] else "off"}, "words")


class BadSchema(Thermostat):
    config_schema = {"type": "thing"}


class Undeclared:
    name, description, config_schema = Thermostat.name, Thermostat.description, Thermostat.config_schema
    decide = Thermostat.decide


def test_a_correct_plugin_keeps_the_contract():
    check_decision_plugin(Thermostat, configs=[{}, {"offset": 0.5}])


@pytest.mark.parametrize(
    "plugin_class, configs, complaint",
    [
        (BothOn, [{}], r"heat and cool are both wished on .* mode 'auto'"),
        (Speechless, [{}], "the reason is empty"),
        (NeedsATemperature, [{}], r"decide raised TypeError.* temperature None"),
        (NeedsASetpoint, [{}], r"decide raised TypeError.* heat setpoint None"),
        (Forgetful, [{}], r"decide is not pure: Decision\(.*call 1.*call \d+"),
        (WritesItsConfig, [{}], r"decide raised AttributeError\(\"'mappingproxy' object has no attribute 'setdefault'"),
        (HeatsWhenOff, [{}], "mode is off but heat is wished on"),
        (AnswersInWords, [{}], "outputs must be True or False"),
        (Thermostat, [{"offset": "lots"}], r"example config \{'offset': 'lots'\} is not valid against config_schema"),
        (Undeclared, [{}], "failed to implement interface .*IDecisionPlugin: Does not declaratively implement"),
        (BadSchema, [{}], "config_schema is not a JSON Schema: 'thing' is not valid"),
    ],
)
def test_the_contract_catches_a_broken_plugin(plugin_class, configs, complaint):
    with pytest.raises(AssertionError, match=complaint):
        check_decision_plugin(plugin_class, configs=configs)
