"""Effective temperature, the hysteresis plugin and the safety layer (pure functions)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zope.interface.verify import verifyObject

from rpymostat.decide.hysteresis import Hysteresis
from rpymostat.decide.plugin import IDecisionPlugin
from rpymostat.decide.safety import Limits, review
from rpymostat.decide.state import COOL, HEAT, Decision, OutputState, ZoneState
from rpymostat.decide.temperature import Sample, effective_temperature

NOW = 1795608000.0


def zone(
    temperature=20.0,
    mode="heat",
    heat=21.0,
    cool=None,
    heat_on=False,
    cool_on=False,
    since=NOW - 3600,
    coldest=None,
    config=None,
):
    return ZoneState(
        "default",
        mode,
        temperature,
        heat,
        cool,
        {HEAT: OutputState(heat_on, since), COOL: OutputState(cool_on, since)},
        coldest=coldest,
        config=config or {},
    )


# --- effective temperature ---


def test_weighted_mean_of_fresh_sensors():
    result = effective_temperature(
        {"a": 1.0, "b": 3.0}, {"a": Sample(20.0, NOW - 10), "b": Sample(22.0, NOW - 20)}, NOW
    )
    assert (result.value, result.used, result.dropped, result.coldest) == (21.5, {"a": 1.0, "b": 3.0}, {}, 20.0)


def test_stale_missing_null_and_implausible_sensors_are_dropped_with_reasons():
    samples = {
        "fresh": Sample(19.0, NOW - 60),
        "stale": Sample(25.0, NOW - 301),
        "null": Sample(None, NOW - 5),
        "hot": Sample(99.0, NOW - 5),
    }
    weights = dict.fromkeys(["fresh", "stale", "null", "hot", "gone"], 1.0)
    result = effective_temperature(weights, samples, NOW, stale_after=300)
    assert result.value == 19.0 and result.used == {"fresh": 1.0}
    assert result.dropped == {
        "stale": "stale: last seen 301 s ago",
        "null": "no value in its last reading",
        "hot": "implausible: 99.0 C",
        "gone": "never reported",
    }


def test_below_quorum_there_is_no_temperature():
    result = effective_temperature({"a": 1.0, "b": 1.0}, {"a": Sample(3.0, NOW)}, NOW, quorum=2)
    assert result.value is None
    assert result.coldest == 3.0
    assert result.reason == "only 1 of 2 sensors usable, 2 needed"


# --- hysteresis ---


def test_plugin_provides_its_interface():
    assert verifyObject(IDecisionPlugin, Hysteresis())


@pytest.mark.parametrize(
    "temperature, heat_on, expected",
    [
        (20.7, False, True),
        (20.8, False, False),
        (21.2, True, True),
        (21.3, True, False),
        (21.0, True, True),
        (21.0, False, False),
    ],
)
def test_heating_has_a_dead_band(temperature, heat_on, expected):
    decision = Hysteresis().decide(zone(temperature, heat_on=heat_on), NOW)
    assert decision.outputs[HEAT] is expected
    assert decision.outputs[COOL] is False
    assert "heat target 21 C" in decision.reason


def test_cooling_mirrors_and_auto_uses_both():
    cooling = Hysteresis().decide(zone(24.4, mode="cool", heat=None, cool=24.0), NOW)
    assert cooling.outputs == {HEAT: False, COOL: True}
    auto = Hysteresis().decide(zone(19.0, mode="auto", heat=20.0, cool=24.0), NOW)
    assert auto.outputs == {HEAT: True, COOL: False}
    assert "heat target 20 C" in auto.reason and "cool target 24 C" in auto.reason


def test_tolerances_come_from_config():
    wide = Hysteresis().decide(zone(20.5, config={"cold_tolerance": 1.0}), NOW)
    assert wide.outputs[HEAT] is False


@pytest.mark.parametrize(
    "state, reason", [(zone(mode="off"), "mode is off"), (zone(temperature=None), "no trustworthy temperature")]
)
def test_off_and_no_temperature_switch_everything_off(state, reason):
    assert Hysteresis().decide(state, NOW) == Decision({HEAT: False, COOL: False}, reason)


# --- safety layer ---


def test_untrusted_temperature_is_safe_state_except_frost():
    final = review(zone(None, heat_on=True, since=NOW - 600), Decision({HEAT: True, COOL: True}, "plugin"), NOW)
    assert final.outputs == {HEAT: False, COOL: False}
    assert [a.reason for a in final.adjustments] == ["safe state: no trustworthy temperature"] * 2
    frost = review(zone(None, coldest=3.5), Decision({HEAT: False, COOL: False}, "plugin"), NOW)
    assert frost.outputs[HEAT] is True
    assert frost.adjustments[0].reason == "frost protection: a sensor reads 3.5 C, below 5 C"


def test_absolute_limits():
    hot = review(zone(31.0), Decision({HEAT: True, COOL: False}, "bad plugin"), NOW)
    assert hot.outputs[HEAT] is False and "never heat above 30 C" in hot.adjustments[0].reason
    cold = review(zone(14.0, mode="cool"), Decision({HEAT: False, COOL: True}, "bad plugin"), NOW)
    assert cold.outputs[COOL] is False and "never cool below 15 C" in cold.adjustments[0].reason


def test_minimum_on_and_off_times_hold_the_state_and_say_so():
    held_on = review(zone(22.0, heat_on=True, since=NOW - 120), Decision({HEAT: False, COOL: False}, "warm"), NOW)
    assert held_on.outputs[HEAT] is True
    assert held_on.adjustments[0].reason == "minimum on time: on for 120 of 300 s"
    held_off = review(zone(19.0, since=NOW - 60), Decision({HEAT: True, COOL: False}, "cold"), NOW)
    assert held_off.outputs[HEAT] is False
    assert held_off.adjustments[0].reason == "minimum off time: off for 60 of 300 s"


def test_cycles_per_hour_are_capped():
    starts = tuple(NOW - 500 * k for k in range(1, 7))  # six starts within the hour
    state = ZoneState("z", "heat", 19.0, 21.0, None, {HEAT: OutputState(False, NOW - 400, starts)})
    final = review(state, Decision({HEAT: True}, "cold"), NOW, Limits(max_cycles_per_hour=6))
    assert final.outputs[HEAT] is False
    assert final.adjustments[0].reason == "6 starts in the last hour, at most 6"


def test_safety_switches_off_without_waiting_for_the_minimum_on_time():
    stale = review(zone(None, heat_on=True, since=NOW - 60), Decision({HEAT: True, COOL: False}, "p"), NOW)
    assert stale.outputs[HEAT] is False
    hot = review(zone(31.0, heat_on=True, since=NOW - 60), Decision({HEAT: True, COOL: False}, "p"), NOW)
    assert hot.outputs[HEAT] is False
    assert [a.reason for a in hot.adjustments] == ["never heat above 30 C (measured 31 C)"]


def test_cooling_waits_until_the_unit_confirms_heating_off():
    state = zone(27.0, mode="auto", heat=21.0, cool=24.0, heat_on=True, since=NOW - 3600)
    final = review(state, Decision({HEAT: False, COOL: True}, "warm"), NOW)
    assert final.outputs == {HEAT: False, COOL: False}
    assert final.adjustments[-1].reason == "waits until heat is confirmed off"


def test_heat_and_cool_never_together_the_running_one_stays():
    final = review(zone(22.0, cool_on=True), Decision({HEAT: True, COOL: True}, "confused plugin"), NOW)
    assert final.outputs == {HEAT: False, COOL: True}
    assert final.adjustments[0].reason == "heating and cooling are never on together"


OUTPUT = st.builds(
    OutputState,
    st.booleans(),
    st.floats(NOW - 7200, NOW),
    st.lists(st.floats(NOW - 7200, NOW), max_size=10).map(tuple),
)


@settings(max_examples=500, deadline=None)
@given(
    temperature=st.one_of(st.none(), st.floats(-10, 45)),
    coldest=st.one_of(st.none(), st.floats(-10, 45)),
    heat=OUTPUT,
    cool=OUTPUT,
    wish_heat=st.booleans(),
    wish_cool=st.booleans(),
)
def test_whatever_a_plugin_wishes_the_safety_rules_hold(temperature, coldest, heat, cool, wish_heat, wish_cool):
    limits = Limits()
    state = ZoneState("z", "auto", temperature, 21.0, 24.0, {HEAT: heat, COOL: cool}, coldest=coldest)
    final = review(state, Decision({HEAT: wish_heat, COOL: wish_cool}, "any"), NOW, limits)
    assert not (final.outputs[HEAT] and final.outputs[COOL])
    untrusted = temperature is None
    safety_off = {
        HEAT: (untrusted and not (coldest is not None and coldest < limits.frost_c))
        or (temperature is not None and temperature > limits.max_heat_c),
        COOL: untrusted or (temperature is not None and temperature < limits.min_cool_c),
    }
    for name, before, other in ((HEAT, heat, cool), (COOL, cool, heat)):
        if final.outputs[name] != before.on:  # a switch happens only when allowed
            needed = limits.min_on_s if before.on else limits.min_off_s
            # early only to switch off for safety, or because both were on (a unit refused an "off")
            assert NOW - before.since >= needed or (before.on and (safety_off[name] or other.on))
        if final.outputs[name] and not before.on:
            assert len([t for t in before.switched_on_at if NOW - t < 3600]) < limits.max_cycles_per_hour
            assert not other.on  # switched on only once the other is confirmed off
    if final.outputs[HEAT] and not heat.on:
        assert (temperature is not None and temperature <= limits.max_heat_c) or (
            temperature is None and coldest is not None and coldest < limits.frost_c
        )
    if final.outputs[COOL] and not cool.on:
        assert temperature is not None and temperature >= limits.min_cool_c
    changed = {a.output for a in final.adjustments}
    for name, wish in ((HEAT, wish_heat), (COOL, wish_cool)):
        assert final.outputs[name] == wish or name in changed


SKEWED_OUTPUT = st.builds(  # switch times up to 10 minutes "in the future": a clock that stepped
    OutputState,
    st.booleans(),
    st.floats(NOW - 7200, NOW + 600),
    st.lists(st.floats(NOW - 7200, NOW + 600), max_size=10).map(tuple),
)
OWN_LIMITS = st.builds(
    Limits,
    min_on_s=st.floats(0, 1800),
    min_off_s=st.floats(0, 1800),
    max_cycles_per_hour=st.integers(1, 12),
)


@settings(max_examples=500, deadline=None)
@given(
    temperature=st.one_of(st.none(), st.floats(-10, 45)),
    coldest=st.one_of(st.none(), st.floats(-10, 45)),
    heat=SKEWED_OUTPUT,
    cool=SKEWED_OUTPUT,
    wish_heat=st.booleans(),
    wish_cool=st.booleans(),
    heat_limits=OWN_LIMITS,
    cool_limits=OWN_LIMITS,
    no_target=st.sampled_from([None, "plugin failed"]),
)
def test_per_output_limits_skewed_clocks_and_frost_protection(
    temperature, coldest, heat, cool, wish_heat, wish_cool, heat_limits, cool_limits, no_target
):
    limits = Limits()
    own = {HEAT: heat_limits, COOL: cool_limits}
    state = ZoneState("z", "auto", temperature, 21.0, 24.0, {HEAT: heat, COOL: cool}, coldest=coldest)
    final = review(state, Decision({HEAT: wish_heat, COOL: wish_cool}, "any"), NOW, limits, own, no_target)
    assert not (final.outputs[HEAT] and final.outputs[COOL])
    frost = temperature if temperature is not None else coldest
    frosty = frost is not None and frost < limits.frost_c
    hot = temperature is not None and temperature > limits.max_heat_c
    for name, before, other in ((HEAT, heat, cool), (COOL, cool, heat)):
        needed = own[name].min_on_s if before.on else own[name].min_off_s
        if final.outputs[name] != before.on and not (
            before.on and not final.outputs[name] and (name in final.safety_off or other.on)
        ):
            # an ordinary switch waits out this output's own minimum time, counted from a
            # switch time that may lie ahead of now (never early because the clock stepped)
            assert NOW - before.since >= needed
        if final.outputs[name] and not before.on:
            assert len([t for t in before.switched_on_at if NOW - t < 3600]) < own[name].max_cycles_per_hour
    for name, reason in final.safety_off.items():
        assert final.outputs[name] is False and reason
    untrusted = temperature is None or no_target is not None
    if (untrusted and not frosty) or hot:
        assert final.outputs[HEAT] is False and HEAT in final.safety_off
    if untrusted or temperature < limits.min_cool_c:
        assert final.outputs[COOL] is False and COOL in final.safety_off
    # frost protection turns heat on whenever nothing forbids a start
    heat_free = heat.on or (
        NOW - heat.since >= heat_limits.min_off_s
        and len([t for t in heat.switched_on_at if NOW - t < 3600]) < heat_limits.max_cycles_per_hour
    )
    if frosty and not hot and heat_free and not cool.on:
        assert final.outputs[HEAT] is True
        assert any(a.reason.startswith("frost protection") for a in final.adjustments) or wish_heat
    if final.outputs[HEAT] and not heat.on and (untrusted or not wish_heat):
        assert frosty


def test_safety_offs_are_named_with_their_reason():
    stale = review(zone(None, heat_on=True, since=NOW - 60), Decision({HEAT: False, COOL: False}, "p"), NOW)
    assert stale.safety_off == {
        HEAT: "safe state: no trustworthy temperature",
        COOL: "safe state: no trustworthy temperature",
    }
    hot = review(zone(31.0, heat_on=True, since=NOW - 60), Decision({HEAT: True, COOL: False}, "p"), NOW)
    assert hot.safety_off == {HEAT: "never heat above 30 C (measured 31 C)"}
    ordinary = review(zone(22.0, heat_on=True, since=NOW - 60), Decision({HEAT: False, COOL: False}, "warm"), NOW)
    assert ordinary.safety_off == {} and ordinary.outputs[HEAT] is True  # minimum on time holds
    frost = review(zone(None, coldest=3.0), Decision({HEAT: False, COOL: False}, "p"), NOW)
    assert frost.outputs[HEAT] is True and HEAT not in frost.safety_off
    lost = review(
        zone(20.0, heat_on=True, since=NOW - 60),
        Decision({HEAT: True, COOL: False}, "p"),
        NOW,
        no_target="the rules schedule plugin failed",
    )
    assert lost.outputs[HEAT] is False
    assert lost.safety_off[HEAT] == "safe state: no target (the rules schedule plugin failed)"


def test_built_in_decision_plugin_loads_from_its_entry_point():
    from rpymostat.decide.plugin import GROUP, IDecisionPlugin
    from rpymostat.protocol.plugins import load_plugins

    assert load_plugins(GROUP, IDecisionPlugin) == {"hysteresis": Hysteresis}


def test_the_reason_reads_well_for_one_sensor_and_for_none():
    assert effective_temperature({"a": 1.0}, {"a": Sample(20.0, NOW)}, NOW).reason == "the reading of 1 sensor"
    assert effective_temperature({}, {}, NOW).reason == "no sensors are assigned to this zone"


# --- readings that are faults, not the room ---


def test_a_jump_of_20_k_within_a_minute_is_dropped_and_named():
    before = Sample(21.0, NOW - 30)
    result = effective_temperature({"a": 1.0}, {"a": Sample(0.5, NOW, "DS18B20", before)}, NOW)
    assert result.value is None and result.coldest is None  # it drives nothing, frost protection included
    assert result.dropped == {"a": "jumped -20.5 C in 30 s, from 21 C: a fault, not the room"}


def test_a_large_change_over_more_than_a_minute_or_a_small_one_is_the_room():
    slow = Sample(0.5, NOW, "DS18B20", Sample(21.0, NOW - 61))
    small = Sample(40.9, NOW, "DS18B20", Sample(21.0, NOW - 5))
    result = effective_temperature({"slow": 1.0, "small": 1.0}, {"slow": slow, "small": small}, NOW)
    assert result.used == {"slow": 1.0, "small": 1.0} and result.dropped == {}
    after_a_failed_read = Sample(19.0, NOW, "DS18B20", Sample(None, NOW - 10))
    assert effective_temperature({"a": 1.0}, {"a": after_a_failed_read}, NOW).value == 19.0


def test_a_reading_outside_its_chips_range_is_dropped_and_named():
    samples = {"dht": Sample(82.0, NOW, "DHT22"), "ds": Sample(82.0, NOW, "DS18B20"), "odd": Sample(82.0, NOW, "x")}
    result = effective_temperature({"dht": 1.0, "ds": 1.0, "odd": 1.0}, samples, NOW)
    assert result.dropped == {"dht": "outside the DHT22's range of -40..80 C: 82.0 C"}
    assert result.used == {"ds": 1.0, "odd": 1.0}  # within their ranges (an unknown chip: a house's range)
