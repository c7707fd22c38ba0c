"""The plain words of a zone, from hand-written answers shaped like the engine's."""

import datetime
import zoneinfo

import pytest

from rpymostat_webui import zone_view
from rpymostat_webui.units import CELSIUS, FAHRENHEIT

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NOW = datetime.datetime(2026, 12, 2, 15, 0, tzinfo=datetime.UTC)  # 16:00 in Berlin, a Wednesday
ZONE = {"id": "living", "name": "Living room", "mode": "heat", "sensors": {"28-a": 1.0, "28-b": 1.0}}


def state(**changes):
    """A heating zone at 19.2 °C under the schedule "Weekday evening" until 22:30 Berlin time."""
    answer = {
        "zone": "living",
        "decided_at": "2026-12-02T14:59:48.000+00:00",
        "mode": "heat",
        "temperature": {"value": 19.2, "reason": "the reading of 1 sensor", "used": {"28-a": 1.0}, "dropped": {}},
        "target": {
            "start": "2026-12-02T14:00:00+00:00",
            "end": "2026-12-02T21:30:00+00:00",
            "heat_setpoint": 21.0,
            "cool_setpoint": None,
            "sensors": None,
            "source": {"type": "schedule", "id": "abc", "name": "Weekday evening"},
        },
        "next": {
            "start": "2026-12-02T21:30:00+00:00",
            "end": "2026-12-03T05:00:00+00:00",
            "heat_setpoint": 17.0,
            "cool_setpoint": None,
            "sensors": None,
            "source": {"type": "default", "id": None, "name": "zone default"},
        },
        "target_error": None,
        "decision": {
            "plugin": "hysteresis",
            "outputs": {"heat": True, "cool": False},
            "reason": "heat target 21 C: 19.2 C is at or below 20.7 C: heat on",
        },
        "safety": [],
        "outputs": {
            "heat": {
                "address": "pi-boiler/r1",
                "desired": True,
                "on": True,
                "since": "2026-12-02T14:50:00+00:00",
                "safety_off": None,
                "note": None,
            }
        },
    }
    answer.update(changes)
    return answer


def build(answer, hold=None, sensors=None, unit=CELSIUS, zone=ZONE):
    return zone_view.build(zone, answer, hold, sensors or {}, unit, BERLIN, NOW)


def test_a_heating_zone_in_words():
    view = build(state())
    assert view.name == "Living room"
    assert view.temperature_text == "19.2\u202f°C"
    assert view.temperature_reason is None
    assert view.target_text == "21.0\u202f°C"
    assert view.source_text == "Weekday evening until 22:30"
    assert view.activity == "heat"
    assert view.activity_label == "Heating"
    assert view.mode_label == "Mode: heat"
    assert view.reason == "Heating: heat target 21.0\u202f°C: 19.2\u202f°C is at or below 20.7\u202f°C"
    assert view.next_text == "17.0\u202f°C from 22:30"
    assert view.decided_at == "2026-12-02T14:59:48.000+00:00"
    assert view.sensors == ("28-a", "28-b")
    assert view.setpoints == ("heat",)
    assert view.primary == "heat"
    assert view.setpoint("heat") == 21.0
    assert view.flags == ()
    assert view.hold is None


def test_fahrenheit_converts_the_engine_reason_too():
    view = build(state(), unit=FAHRENHEIT)
    assert view.temperature_text == "67\u202f°F"
    assert view.target_text == "70\u202f°F"
    assert view.reason == "Heating: heat target 70\u202f°F: 67\u202f°F is at or below 69\u202f°F"


def test_no_trustworthy_temperature_is_a_dash_and_the_engine_reason():
    answer = state(
        temperature={"value": None, "reason": "no sensors are assigned to this zone", "used": {}, "dropped": {}},
        decision={
            "plugin": "hysteresis",
            "outputs": {"heat": False, "cool": False},
            "reason": "no trustworthy temperature",
        },
        outputs={},
    )
    view = build(answer, zone={"id": "bare", "mode": "heat", "sensors": {}})
    assert view.name == "bare"
    assert view.temperature_text == "–"
    assert view.temperature_reason == "No sensors are assigned to this zone"
    assert view.activity_label == "Idle"
    assert view.reason == "Idle: no trustworthy temperature (no sensors are assigned to this zone)"
    assert view.sensors == ()


def test_dropped_sensors_are_flagged_with_their_names_and_reasons():
    answer = state(
        temperature={
            "value": 19.2,
            "reason": "the reading of 1 sensor",
            "used": {"28-a": 1.0},
            "dropped": {"28-b": "stale: last seen 912 s ago", "28-c": "jumped -21.0 C in 30 s, from 21.5 C"},
        }
    )
    sensors = {"28-b": {"id": "28-b", "name": "Window", "alias": "by the window"}, "28-c": {"alias": "shelf"}}
    view = build(answer, sensors=sensors, unit=FAHRENHEIT)
    assert view.flags == (
        zone_view.SensorFlag("Window", "Stale: last seen 912 s ago"),
        zone_view.SensorFlag("shelf", "Jumped -21.0 °C in 30 s, from 21.5 °C"),  # a difference: stays Celsius
    )
    assert view.sensors == ("28-a", "28-b", "28-c")


def test_a_safety_change_is_the_reason_and_the_relay_state_the_badge():
    answer = state(
        safety=[
            {"output": "heat", "wished": True, "decided": False, "reason": "minimum off time: off for 120 of 300 s"}
        ],
        outputs={
            "heat": {"address": "a/b", "desired": False, "on": False, "since": None, "safety_off": None, "note": None}
        },
    )
    view = build(answer)
    assert view.reason == "Idle: minimum off time: off for 120 of 300 s"
    assert view.activity_label == "Idle"


def test_an_output_asked_on_but_not_reported_waits_for_its_relay_unit():
    outputs = {"heat": {"address": "a/b", "desired": True, "on": None, "since": None, "safety_off": None, "note": None}}
    assert build(state(outputs=outputs)).activity_label == "Waiting for the relay unit"


def test_cooling_reported_by_the_relay():
    answer = state(
        mode="cool",
        target={**state()["target"], "heat_setpoint": None, "cool_setpoint": 24.0},
        decision={
            "plugin": "hysteresis",
            "outputs": {"heat": False, "cool": True},
            "reason": "cool target 24 C: 24.5 C is at or above 24.3 C: cool on",
        },
        outputs={
            "cool": {"address": "a/c", "desired": True, "on": True, "since": None, "safety_off": None, "note": None}
        },
        next=None,
    )
    view = build(answer)
    assert view.activity_label == "Cooling"
    assert view.reason == "Cooling: cool target 24.0\u202f°C: 24.5\u202f°C is at or above 24.3\u202f°C"
    assert view.target_text == "24.0\u202f°C"
    assert view.source_text == "Weekday evening"  # no next change known: no end to tell
    assert view.next_text is None
    assert view.setpoints == ("cool",)


def test_auto_shows_both_setpoints_and_the_running_clause_only():
    answer = state(
        mode="auto",
        target={**state()["target"], "cool_setpoint": 26.0},
        decision={
            "plugin": "hysteresis",
            "outputs": {"heat": True, "cool": False},
            "reason": "heat target 21 C: 19.2 C is at or below 20.7 C: heat on; "
            "cool target 26 C: 19.2 C is at or below 25.7 C: cool off",
        },
    )
    view = build(answer)
    assert view.target_text == "21.0–26.0\u202f°C"
    assert view.reason == "Heating: heat target 21.0\u202f°C: 19.2\u202f°C is at or below 20.7\u202f°C"
    assert view.setpoints == ("heat", "cool")
    assert view.next_text == "17.0\u202f°C from 22:30"


def test_idle_auto_keeps_every_clause():
    answer = state(
        mode="auto",
        decision={
            "plugin": "hysteresis",
            "outputs": {"heat": False, "cool": False},
            "reason": "heat target 21 C: 21.5 C is at or above 21.3 C: heat off; "
            "cool target 26 C: 21.5 C is at or below 25.7 C: cool off",
        },
        outputs={},
    )
    assert build(answer).reason == (
        "Idle: heat target 21.0\u202f°C: 21.5\u202f°C is at or above 21.3\u202f°C; "
        "cool target 26.0\u202f°C: 21.5\u202f°C is at or below 25.7\u202f°C"
    )


def test_auto_with_one_setpoint_and_off():
    target = {**state()["target"], "heat_setpoint": None, "cool_setpoint": 25.0}
    assert build(state(mode="auto", target=target)).target_text == "25.0\u202f°C"
    off = build(state(mode="off", decision={"plugin": "h", "outputs": {}, "reason": "mode is off"}, outputs={}))
    assert off.target_text == "Off"
    assert off.reason == "Idle: mode is off"
    assert off.setpoints == ("heat",)


def test_a_next_change_without_a_setpoint_for_the_mode():
    following = {**state()["next"], "heat_setpoint": None, "start": "2026-12-05T07:00:00+00:00"}
    assert build(state(next=following)).next_text == "No target from Sat 5 Dec 08:00"


@pytest.mark.parametrize(
    ("hold", "next_change", "ends"),
    [
        ({"until": "permanent"}, True, "permanently"),
        ({"end": "2026-12-05T07:00:00+00:00"}, True, "until Sat 5 Dec 08:00"),
        ({"until": "next_schedule"}, True, "until 22:30"),
        ({"until": "next_schedule"}, False, "until the next schedule change"),
    ],
)
def test_a_hold_says_when_it_ends(hold, next_change, ends):
    target = {**state()["target"], "source": {"type": "hold", "id": "living", "name": "hold"}, "heat_setpoint": 22.5}
    answer = state(target=target, next=state()["next"] if next_change else None)
    view = build(answer, hold={"zone": "living", "heat_setpoint": 22.5, **hold})
    assert view.hold.ends == ends
    assert view.hold.heat_setpoint == 22.5
    assert view.source_text == f"Hold {ends}"


def test_a_hold_in_force_whose_details_are_unknown():
    target = {**state()["target"], "source": {"type": "hold", "id": "living", "name": "hold"}}
    assert build(state(target=target)).source_text == "Hold"


def test_overrides_and_the_zone_default_name_their_source():
    override = {**state()["target"], "source": {"type": "override", "id": "x1", "name": "christmas away"}}
    assert build(state(target=override)).source_text == "Christmas away until 22:30"
    default = {**state()["target"], "source": {"type": "default", "id": None, "name": "zone default"}}
    assert build(state(target=default, next=None)).source_text == "Zone default"
    nameless = {**state()["target"], "source": {"type": "schedule", "id": None, "name": None}}
    assert build(state(target=nameless, next=None)).source_text == "A rule"


def test_no_target_says_the_schedule_error():
    answer = state(target=None, next=None, target_error="schedule plugin 'rules' failed: boom")
    view = build(answer)
    assert view.target_text == "–"
    assert view.source_text == "Schedule plugin 'rules' failed: boom"
    assert build(state(target=None, next=None)).source_text == "No target: the schedule could not be computed"


def test_a_zone_the_engine_could_not_decide_says_why():
    view = zone_view.build(ZONE, None, None, {}, CELSIUS, BERLIN, NOW, error="deciding zone 'living' failed: disk")
    assert view.temperature_text == "–"
    assert view.reason == "Deciding zone 'living' failed: disk"
    assert view.error == "deciding zone 'living' failed: disk"
    assert view.decided_at is None
    assert view.sensors == ("28-a", "28-b")
    assert view.activity_label == "Idle"


def test_an_empty_decision_is_not_a_crash():
    view = build(state(decision={}, safety=None, outputs=None, temperature={}, decided_at=None))
    assert view.reason == "Idle: no decision yet"
    assert view.temperature_text == "–"
    assert view.temperature_reason == "No temperature"


def test_times():
    assert zone_view.moment_words(None, BERLIN, NOW) == "–"
    assert zone_view.moment_words("not a time", BERLIN, NOW) == "–"
    assert zone_view.moment_words("2026-12-02T20:00:00", BERLIN, NOW) == "21:00"  # naive: taken as UTC


@pytest.mark.parametrize(
    ("detail", "unit", "words"),
    [
        ("99 is greater than the maximum of 35", CELSIUS, "99.0\u202f°C is above the highest setpoint, 35.0\u202f°C"),
        (
            "93.33 is greater than the maximum of 35",
            FAHRENHEIT,
            "200\u202f°F is above the highest setpoint, 95\u202f°F",
        ),
        ("4 is less than the minimum of 5", CELSIUS, "4.0\u202f°C is below the lowest setpoint, 5.0\u202f°C"),
        (
            "25.5 must be at least 1.0 below cool_setpoint 26.0",
            CELSIUS,
            "The heating target must be at least 1.0\u202f°C below the cooling target, 26.0\u202f°C",
        ),
        (
            "21.11 must be at least 1.0 below cool_setpoint 21.67",
            FAHRENHEIT,
            "The heating target must be at least 1.8\u202f°F below the cooling target, 71\u202f°F",
        ),
        ("sensors: no sensor has this id", CELSIUS, "Sensors: no sensor has this id"),
    ],
)
def test_setpoint_errors_in_the_browsers_unit(detail, unit, words):
    assert zone_view.setpoint_error(detail, unit) == words


@pytest.mark.parametrize(
    ("choice", "words"),
    [
        ("next", "until the next schedule change"),
        ("permanent", "permanently"),
        ("1", "for 1 hour"),
        ("4", "for 4 hours"),
    ],
)
def test_duration_words(choice, words):
    assert zone_view.duration_words(choice) == words


def test_a_foreign_plugin_reason_passes_unchanged():
    answer = state(decision={"plugin": "pid", "outputs": {"heat": True}, "reason": "duty 40 %"})
    assert build(answer).reason == "Heating: duty 40 %"


def test_an_override_in_force_says_when_it_ends_and_names_itself_on_its_button():
    target = {**state()["target"], "source": {"type": "override", "id": "r7", "name": "ski week"}}
    stored = {"id": "r7", "name": "Ski week", "zone": "living", "end": "2026-12-05T07:00:00+00:00"}
    view = zone_view.build(ZONE, state(target=target), None, {}, CELSIUS, BERLIN, NOW, override=stored)
    assert view.override == zone_view.OverrideView("r7", "Ski week", "until Sat 5 Dec 08:00")
    assert view.override.end_label == "End \u201cSki week\u201d now"
    assert view.source_text == "Ski week until Sat 5 Dec 08:00"
    untimed = zone_view.build(
        ZONE, state(target=target, next=None), None, {}, CELSIUS, BERLIN, NOW, override={"until": "next_schedule"}
    )
    assert untimed.override.ends == "until the next schedule change"
    assert untimed.override.name == "ski week"  # the override itself had no name: the target's source names it
    gone = build(state(target={**target, "end": None, "source": {"type": "override", "id": "r8", "name": None}}))
    assert gone.override.ends == "at a time the engine did not say"
    assert gone.override.end_label == "End this override now"
    assert gone.source_text == "Override at a time the engine did not say"
    assert build(state()).override is None


def test_a_zone_as_the_engine_takes_it_back():
    stored = {"id": "living", "changed_at": "2026-12-02T14:00:00Z", "name": "Living", "mode": "heat"}
    assert zone_view.zone_input(stored) == {"name": "Living", "mode": "heat"}
