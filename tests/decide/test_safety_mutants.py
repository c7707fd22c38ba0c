"""The edges of the safety layer and of the effective temperature.

Mutation testing (``benchmarks/mutation.sh``) showed these rules were held by no test: each
test here pins one limit exactly where a household meets it (the reading five minutes old,
the frost, overheat and overcool limits themselves, an output held exactly its minimum time,
a start exactly an hour ago) and what the decision says about it.  Every expected value is
worked out by hand from the rule, never taken from the code.
"""

from rpymostat.decide.safety import Limits, review
from rpymostat.decide.state import COOL, HEAT, Adjustment, Decision, OutputState, ZoneState
from rpymostat.decide.temperature import Sample, effective_temperature, is_jump

#: 2026-11-25T12:00:00Z
NOW = 1795608000.0
HOUR = 3600.0


def zone(temperature, heat_on=False, cool_on=False, since=NOW - HOUR, heat_starts=()):
    """A zone in auto mode whose two outputs were last switched at ``since``."""
    return ZoneState(
        "living room",
        "auto",
        temperature,
        21.0,
        24.0,
        {HEAT: OutputState(heat_on, since, heat_starts), COOL: OutputState(cool_on, since)},
    )


def wish(heat, cool, reason="plugin"):
    return Decision({HEAT: heat, COOL: cool}, reason)


# --- effective temperature ---


def test_a_reading_exactly_five_minutes_old_still_counts_and_one_older_does_not():
    # By default a reading is fresh when seen within 300 s: at 300 s it still counts.
    at_limit = effective_temperature({"hall": 1.0}, {"hall": Sample(19.5, NOW - 300)}, NOW)
    assert (at_limit.value, at_limit.dropped) == (19.5, {})
    late = effective_temperature({"hall": 1.0}, {"hall": Sample(19.5, NOW - 301)}, NOW)
    assert late.value is None  # the zone goes to its safe state: never heat on an old number
    assert late.dropped == {"hall": "stale: last seen 301 s ago"}


def test_minus_forty_is_a_reading_and_below_it_a_broken_sensor():
    cold = effective_temperature({"porch": 1.0}, {"porch": Sample(-40.0, NOW)}, NOW)
    assert cold.value == -40.0 and cold.used == {"porch": 1.0}
    broken = effective_temperature({"porch": 1.0}, {"porch": Sample(-40.5, NOW)}, NOW)
    assert broken.value is None
    assert broken.dropped == {"porch": "implausible: -40.5 C"}


def test_a_sensor_with_weight_zero_is_dropped_and_counts_for_no_quorum():
    weighted = effective_temperature(
        {"hall": 1.0, "garage": 0.0}, {"hall": Sample(20.0, NOW), "garage": Sample(2.0, NOW)}, NOW
    )
    assert (weighted.value, weighted.used) == (20.0, {"hall": 1.0})
    assert weighted.dropped == {"garage": "weight is zero"}
    alone = effective_temperature({"garage": 0.0}, {"garage": Sample(2.0, NOW)}, NOW)
    assert alone.value is None and alone.used == {}
    assert alone.reason == "only 0 of 1 sensors usable, 1 needed"


def test_a_sensor_chip_reading_exactly_the_top_of_its_range_is_used():
    # a DHT22 measures -40..80 C: 80.0 is within it, 80.5 is not
    top = effective_temperature({"attic": 1.0}, {"attic": Sample(80.0, NOW, "DHT22")}, NOW)
    assert top.value == 80.0 and top.dropped == {}
    above = effective_temperature({"attic": 1.0}, {"attic": Sample(80.5, NOW, "DHT22")}, NOW)
    assert above.dropped == {"attic": "outside the DHT22's range of -40..80 C: 80.5 C"}


def test_a_jump_of_exactly_twenty_kelvin_in_exactly_a_minute_is_a_fault():
    jumped = Sample(40.0, NOW, "DS18B20", previous=Sample(20.0, NOW - 60))
    result = effective_temperature({"hall": 1.0}, {"hall": jumped}, NOW)
    assert result.value is None
    assert result.dropped == {"hall": "jumped +20.0 C in 60 s, from 20 C: a fault, not the room"}


def test_a_stuck_fault_stays_dropped_however_long_it_lasts():
    # the sensor jumped from 20 C to 45 C ten minutes ago and has read 45 C since: still a fault
    stuck = Sample(45.0, NOW, "DS18B20", previous=Sample(20.0, NOW - 600), suspect=True)
    result = effective_temperature({"hall": 1.0}, {"hall": stuck}, NOW)
    assert result.value is None
    assert result.dropped == {"hall": "jumped +25.0 C in 600 s, from 20 C: a fault, not the room"}
    # the same change over ten minutes, without a jump at its start, is the room
    slow = Sample(45.0, NOW, "DS18B20", previous=Sample(20.0, NOW - 600))
    assert effective_temperature({"hall": 1.0}, {"hall": slow}, NOW).value == 45.0


def test_a_reading_that_is_not_a_number_is_never_called_a_jump():
    trusted = Sample(20.0, NOW - 10)
    assert is_jump(float("inf"), NOW, trusted, False) is False
    assert is_jump(float("nan"), NOW, trusted, False) is False
    assert is_jump(45.0, NOW, Sample(float("inf"), NOW - 10), False) is False


def test_two_sensors_give_their_weighted_mean_to_a_thousandth_of_a_degree():
    # (20.0 * 1 + 21.0 * 2) / 3 = 62 / 3 = 20.666..., shown as 20.667
    mean = effective_temperature(
        {"hall": 1.0, "bedroom": 2.0}, {"hall": Sample(20.0, NOW), "bedroom": Sample(21.0, NOW)}, NOW
    )
    assert mean.value == 20.667
    assert mean.reason == "weighted mean of 2 sensors"


# --- what the decision says ---


def test_the_decision_keeps_the_plugins_reason_and_records_each_change_from_what_to_what():
    hot = review(zone(31.0, heat_on=True), wish(True, False, "heat target 32 C"), NOW)
    assert hot.reason == "heat target 32 C"
    assert hot.adjustments == (Adjustment(HEAT, True, False, "never heat above 30 C (measured 31 C)"),)
    frost = review(zone(3.0), wish(False, False, "mode is off"), NOW)
    assert frost.outputs == {HEAT: True, COOL: False}
    assert frost.adjustments == (Adjustment(HEAT, False, True, "frost protection: 3 C is below 5 C"),)


def test_a_plugin_that_does_not_name_cooling_never_starts_it():
    final = review(zone(26.0), Decision({HEAT: False}, "heating only"), NOW)
    assert final.outputs == {HEAT: False, COOL: False}
    assert final.adjustments == ()


# --- the limits themselves ---


def test_frost_protection_starts_below_five_degrees_not_at_five():
    at_limit = review(zone(5.0), wish(False, False), NOW)
    assert at_limit.outputs == {HEAT: False, COOL: False} and at_limit.adjustments == ()
    without_target = review(zone(5.0), wish(True, False), NOW, no_target="the schedule failed")
    assert without_target.outputs[HEAT] is False
    assert without_target.safety_off[HEAT] == "safe state: no target (the schedule failed)"
    below = review(zone(4.5), wish(False, False), NOW, no_target="the schedule failed")
    assert below.outputs[HEAT] is True
    assert below.adjustments == (Adjustment(HEAT, False, True, "frost protection: 4.5 C is below 5 C"),)


def test_without_a_temperature_frost_protection_starts_when_a_sensor_reads_below_five_degrees():
    sensor_at_limit = ZoneState(
        "hall",
        "heat",
        None,
        21.0,
        None,
        {HEAT: OutputState(False, NOW - HOUR), COOL: OutputState(False, NOW - HOUR)},
        coldest=5.0,
    )
    assert review(sensor_at_limit, wish(True, False), NOW).outputs[HEAT] is False
    sensor_below = ZoneState(
        "hall",
        "heat",
        None,
        21.0,
        None,
        {HEAT: OutputState(False, NOW - HOUR), COOL: OutputState(False, NOW - HOUR)},
        coldest=4.9,
    )
    final = review(sensor_below, wish(False, False), NOW)
    assert final.outputs[HEAT] is True
    assert final.adjustments == (Adjustment(HEAT, False, True, "frost protection: a sensor reads 4.9 C, below 5 C"),)


def test_heating_may_run_at_thirty_degrees_and_cooling_at_fifteen():
    # "never heat above 30 C", "never cool below 15 C": the limits themselves are allowed
    warm = review(zone(30.0, heat_on=True), wish(True, False), NOW)
    assert warm.outputs == {HEAT: True, COOL: False}
    assert (warm.adjustments, warm.safety_off) == ((), {})
    cool = review(zone(15.0), wish(False, True), NOW)
    assert cool.outputs == {HEAT: False, COOL: True}
    assert (cool.adjustments, cool.safety_off) == ((), {})
    limits = Limits()
    assert (limits.max_heat_c, limits.min_cool_c) == (30.0, 15.0)


def test_an_output_may_switch_once_held_exactly_its_minimum_time():
    off_after_five_minutes = review(zone(22.0, heat_on=True, since=NOW - 300), wish(False, False), NOW)
    assert off_after_five_minutes.outputs[HEAT] is False and off_after_five_minutes.adjustments == ()
    on_after_five_minutes = review(zone(19.0, since=NOW - 300), wish(True, False), NOW)
    assert on_after_five_minutes.outputs[HEAT] is True and on_after_five_minutes.adjustments == ()


def test_cooling_keeps_its_minimum_off_time_when_heating_does_not_change():
    final = review(zone(26.0, since=NOW - 60), wish(False, True, "too warm"), NOW)
    assert final.outputs == {HEAT: False, COOL: False}
    assert final.adjustments == (Adjustment(COOL, True, False, "minimum off time: off for 60 of 300 s"),)


def test_a_start_exactly_an_hour_ago_no_longer_counts_against_the_hourly_limit():
    starts = (NOW - 3600, NOW - 3000, NOW - 2400, NOW - 1800, NOW - 1200, NOW - 900)  # 5 in the last hour
    final = review(
        zone(19.0, since=NOW - 400, heat_starts=starts), wish(True, False, "cold"), NOW, Limits(max_cycles_per_hour=6)
    )
    assert final.outputs[HEAT] is True and final.adjustments == ()


# --- heating and cooling never together ---


def test_a_zone_with_only_a_boiler_heats_when_a_confused_plugin_wishes_both():
    state = ZoneState("hall", "auto", 19.0, 21.0, 24.0, {HEAT: OutputState(False, NOW - HOUR)})
    final = review(state, wish(True, True, "confused plugin"), NOW)
    assert final.outputs == {HEAT: True, COOL: False}
    assert final.adjustments == (Adjustment(COOL, True, False, "heating and cooling are never on together"),)


def test_when_both_were_found_on_the_wished_one_keeps_running_and_the_other_goes_off():
    # the relay unit missed an "off": heating keeps running, cooling goes off
    final = review(zone(20.0, heat_on=True, cool_on=True), wish(True, False, "cold"), NOW)
    assert final.outputs == {HEAT: True, COOL: False}
    assert final.adjustments == ()
