"""A zone's whole decision from its inputs (rpymostat.decide.evaluate)."""

import datetime

from rpymostat.decide.evaluate import decide
from rpymostat.decide.hysteresis import Hysteresis
from rpymostat.decide.inputs import zone_inputs
from rpymostat.decide.safety import Limits, review
from rpymostat.decide.state import COOL, FAN, HEAT, Decision, OutputState, ZoneState
from rpymostat.decide.temperature import Sample
from rpymostat.schedule.rules import Kind, Setpoints, Source
from rpymostat.schedule.timeline import Segment
from rpymostat.schedule.zone_settings import ZONE_DEFAULTS

NOW = 1795608000.0
UTC = datetime.UTC
PLUGINS = {"hysteresis": Hysteresis()}


def decide_zone(zone, settings, segment, samples, output_states, now, plugins, **options):
    """One decision, built as the loop builds it: the inputs read once, then decided at ``now``."""
    return decide(zone_inputs(zone, settings, segment, samples, output_states, plugins, **options), now)


def settings(**changes):
    return {"name": "default", **ZONE_DEFAULTS, "sensors": {"s1": 1.0}, **changes}


def segment(heat=21.0, cool=26.0, sensors=None):
    start = datetime.datetime.fromtimestamp(NOW - 600, UTC)
    return Segment(
        start, start + datetime.timedelta(hours=2), Setpoints(heat, cool, sensors), Source(Kind.SCHEDULE, "s", "day")
    )


def outputs(heat_on=False, since=NOW - 3600):
    return {HEAT: OutputState(heat_on, since), COOL: OutputState(False, since)}


def test_cold_room_heats_and_the_fan_follows():
    decision = decide_zone("default", settings(), segment(), {"s1": Sample(19.0, NOW - 5)}, outputs(), NOW, PLUGINS)
    assert decision.outputs == {HEAT: True, COOL: False, FAN: True}
    assert decision.temperature.value == 19.0
    assert "heat target 21 C" in decision.wish.reason
    assert decision.final.adjustments == ()


def test_a_rules_sensor_weighting_wins_over_the_zones():
    samples = {"s1": Sample(19.0, NOW - 5), "s2": Sample(23.0, NOW - 5)}
    decision = decide_zone("default", settings(), segment(sensors={"s2": 1.0}), samples, outputs(), NOW, PLUGINS)
    assert decision.temperature.value == 23.0 and dict(decision.temperature.used) == {"s2": 1.0}
    assert decision.outputs[HEAT] is False


def test_stale_sensor_means_safe_state_with_the_reason():
    decision = decide_zone(
        "default",
        settings(),
        segment(),
        {"s1": Sample(19.0, NOW - 301)},
        outputs(heat_on=True, since=NOW - 900),
        NOW,
        PLUGINS,
        stale_after=300,
    )
    assert decision.outputs[HEAT] is False
    assert decision.temperature.dropped == {"s1": "stale: last seen 301 s ago"}
    assert decision.wish.reason == "no trustworthy temperature"
    assert decision.temperature.reason == "only 0 of 1 sensors usable, 1 needed"


def test_without_a_target_the_zone_is_safe_but_frost_protected():
    warm = decide_zone(
        "default",
        settings(),
        None,
        {"s1": Sample(19.0, NOW - 5)},
        outputs(),
        NOW,
        PLUGINS,
        target_error="the rules schedule plugin failed",
    )
    assert warm.outputs[HEAT] is False and warm.wish.reason == "no target: the rules schedule plugin failed"
    cold = decide_zone(
        "default", settings(), None, {"s1": Sample(3.0, NOW - 5)}, outputs(), NOW, PLUGINS, target_error="broken"
    )
    assert cold.outputs[HEAT] is True
    assert cold.final.adjustments[0].reason == "frost protection: 3 C is below 5 C"


def test_frost_protection_even_when_the_zone_is_off():
    final = review(
        ZoneState("z", "off", 4.0, 21.0, None, {HEAT: OutputState(False, NOW - 3600)}),
        Decision({HEAT: False, COOL: False}, "mode is off"),
        NOW,
        Limits(),
    )
    assert final.outputs[HEAT] is True


class Broken:
    name = "broken"

    def decide(self, state, now):
        raise RuntimeError("division by zero somewhere")


class Wrong:
    def decide(self, state, now):
        return {"heat": True}


def test_a_failing_or_missing_plugin_falls_back_to_hysteresis_and_says_so():
    samples = {"s1": Sample(19.0, NOW - 5)}
    for plugins, expected in (
        ({"broken": Broken()}, "decision plugin 'broken' failed (division by zero somewhere)"),
        ({"broken": Wrong()}, "decision plugin 'broken' failed (decide() returned dict, not a Decision)"),
        ({}, "decision plugin 'broken' is not installed"),
    ):
        decision = decide_zone(
            "default",
            settings(decision={"plugin": "broken", "config": {}}),
            segment(),
            samples,
            outputs(),
            NOW,
            plugins,
        )
        assert decision.wish.reason.startswith(expected)
        assert decision.outputs[HEAT] is True


def test_minimum_off_time_from_the_real_last_switch_survives_a_setpoint_change():
    decision = decide_zone(
        "default", settings(), segment(heat=25.0), {"s1": Sample(19.0, NOW - 5)}, outputs(since=NOW - 100), NOW, PLUGINS
    )
    assert decision.outputs[HEAT] is False
    assert decision.final.adjustments[0].reason == "minimum off time: off for 100 of 300 s"


def test_a_rule_naming_fewer_sensors_than_the_quorum_still_decides():
    samples = {"s1": Sample(19.0, NOW - 5), "s2": Sample(19.5, NOW - 5), "s3": Sample(21.0, NOW - 5)}
    decision = decide_zone(
        "default",
        settings(sensors={"s1": 1.0, "s2": 1.0}, quorum=2),
        segment(sensors={"s3": 1.0}),
        samples,
        outputs(),
        NOW,
        PLUGINS,
    )
    assert decision.temperature.value == 21.0


def test_frost_protection_watches_every_zone_sensor_even_under_a_rules_weighting():
    samples = {"s1": Sample(4.0, NOW - 5), "s2": Sample(None, NOW - 5)}
    decision = decide_zone("default", settings(), segment(sensors={"s2": 1.0}), samples, outputs(), NOW, PLUGINS)
    assert decision.temperature.value is None
    assert decision.outputs[HEAT] is True
    assert decision.final.adjustments[0].reason == "frost protection: a sensor reads 4 C, below 5 C"


def test_each_output_may_have_its_own_minimum_times_and_starts_per_hour():
    heat_pump = settings(safety={"heat": {"min_off_s": 900, "max_cycles_per_hour": 3}})
    decision = decide_zone(
        "default", heat_pump, segment(), {"s1": Sample(19.0, NOW - 5)}, outputs(since=NOW - 600), NOW, PLUGINS
    )
    assert decision.outputs[HEAT] is False
    assert decision.final.adjustments[0].reason == "minimum off time: off for 600 of 900 s"
    starts = {
        HEAT: OutputState(False, NOW - 1000, (NOW - 3000, NOW - 2000, NOW - 1200)),
        COOL: OutputState(False, NOW - 3600),
    }
    capped = decide_zone("default", heat_pump, segment(), {"s1": Sample(19.0, NOW - 5)}, starts, NOW, PLUGINS)
    assert capped.final.adjustments[0].reason == "3 starts in the last hour, at most 3"
    plain = decide_zone("default", settings(), segment(), {"s1": Sample(19.0, NOW - 5)}, starts, NOW, PLUGINS)
    assert plain.outputs[HEAT] is True  # the engine-wide defaults: 5 min off, 6 starts
