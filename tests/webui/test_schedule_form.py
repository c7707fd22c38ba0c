"""Days and times ⇄ the engine's cron rules, with hand-written expectations."""

import pytest

from rpymostat_webui import schedule_form
from rpymostat_webui.schedule_form import FormProblem
from rpymostat_webui.units import CELSIUS, FAHRENHEIT


@pytest.mark.parametrize(
    ("days", "field"),
    [
        ({1, 2, 3, 4, 5}, "1-5"),
        ({0, 6}, "0,6"),
        ({1, 3, 5}, "1,3,5"),
        ({1, 2}, "1,2"),
        ({0, 1, 2, 3, 4, 5, 6}, "*"),
        ({0, 1, 2, 4}, "0-2,4"),
        ({3}, "3"),
    ],
)
def test_days_field(days, field):
    assert schedule_form.days_field(days) == field


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("1-5", {1, 2, 3, 4, 5}),
        ("0,6", {0, 6}),
        ("6,7", {0, 6}),
        ("*", {0, 1, 2, 3, 4, 5, 6}),
        ("1-7", {0, 1, 2, 3, 4, 5, 6}),
        ("0-2,4", {0, 1, 2, 4}),
        ("5-1", None),
        ("mon-fri", None),
        ("1-5/2", None),
        ("", None),
    ],
)
def test_parse_days(field, days):
    assert schedule_form.parse_days(field) == (None if days is None else frozenset(days))


@pytest.mark.parametrize(
    ("days", "words"),
    [
        ({1, 2, 3, 4, 5}, "Mon–Fri"),
        ({0, 6}, "Sat, Sun"),
        ({0, 1, 2, 3, 4, 5, 6}, "Every day"),
        ({1, 3, 4, 5}, "Mon, Wed–Fri"),
        ({6, 0, 1}, "Mon, Sat, Sun"),
        ({5, 6, 0}, "Fri–Sun"),
    ],
)
def test_describe_days(days, words):
    assert schedule_form.describe_days(days) == words


def test_the_form_writes_start_and_a_daily_end_cron():
    values = {
        "mode": "simple",
        "name": " Weekday mornings ",
        "zone": "default",
        "days": ["1", "2", "3", "4", "5"],
        "start_time": "06:30",
        "end_time": "08:00",
        "heat_setpoint": "21",
        "cool_setpoint": "",
        "priority": "0",
        "enabled": True,
    }
    assert schedule_form.body_of(values, CELSIUS) == {
        "name": "Weekday mornings",
        "zone": "default",
        "start": "30 6 * * 1-5",
        "end": "0 8 * * *",
        "heat_setpoint": 21.0,
        "priority": 0,
        "enabled": True,
    }


def test_a_night_rule_and_seconds_and_fahrenheit():
    values = {
        "days": ["6", "0", "junk", "9"],
        "start_time": "22:15:00",
        "end_time": "6:05",
        "heat_setpoint": "64.4",
        "cool_setpoint": "80",
    }
    assert schedule_form.body_of(values, FAHRENHEIT) == {
        "name": "",
        "zone": "default",
        "start": "15 22 * * 0,6",
        "end": "5 6 * * *",
        "heat_setpoint": 17.78,  # 64.4 °F typed is 64 °F: (64 - 32) * 5 / 9
        "cool_setpoint": 26.67,  # 80 °F
        "priority": 0,
        "enabled": False,
    }


def test_setpoints_left_as_shown_in_fahrenheit_keep_their_stored_celsius():
    stored = {"heat_setpoint": 18.0, "cool_setpoint": 26.0}
    values = {"days": ["1"], "start_time": "06:30", "end_time": "08:00", "heat_setpoint": "64", "cool_setpoint": "79"}
    body = schedule_form.body_of(values, FAHRENHEIT, stored)
    assert (body["heat_setpoint"], body["cool_setpoint"]) == (18.0, 26.0)  # not 17.78 and 26.11
    values["heat_setpoint"] = "65"  # changed: sent as typed
    assert schedule_form.body_of(values, FAHRENHEIT, stored)["heat_setpoint"] == 18.33
    assert schedule_form.body_of(values, FAHRENHEIT)["cool_setpoint"] == 26.11  # a new rule: as typed


def test_celsius_is_rounded_to_half_degrees_and_a_comma_is_a_point():
    body = schedule_form.body_of(
        {"days": ["3"], "start_time": "07:00", "end_time": "07:00", "heat_setpoint": "20,3"}, CELSIUS
    )
    assert body["heat_setpoint"] == 20.5
    assert body["start"] == "0 7 * * 3" and body["end"] == "0 7 * * *"


def test_advanced_passes_raw_cron_through():
    values = {
        "mode": "advanced",
        "name": "First",
        "start": " 0 7 1 * * ",
        "end": "",
        "duration": "P1D",
        "heat_setpoint": "19",
        "priority": "-5",
        "enabled": "1",
    }
    assert schedule_form.body_of(values, CELSIUS) == {
        "name": "First",
        "zone": "default",
        "start": "0 7 1 * *",
        "duration": "P1D",
        "heat_setpoint": 19.0,
        "priority": -5,
        "enabled": True,
    }
    both = schedule_form.body_of({"mode": "advanced", "start": "x", "end": "0 8 * * *", "duration": "PT1H"}, CELSIUS)
    assert both["end"] == "0 8 * * *" and both["duration"] == "PT1H"  # the engine says "give exactly one"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"days": [], "start_time": "06:30", "end_time": "08:00"}, "days"),
        ({"days": ["1"], "start_time": "", "end_time": "08:00"}, "start_time"),
        ({"days": ["1"], "start_time": "24:00", "end_time": "08:00"}, "start_time"),
        ({"days": ["1"], "start_time": "06:30", "end_time": "8 am"}, "end_time"),
        ({"days": ["1"], "start_time": "06:30", "end_time": "08:00", "heat_setpoint": "warm"}, "heat_setpoint"),
        ({"days": ["1"], "start_time": "06:30", "end_time": "08:00", "cool_setpoint": "nan"}, "cool_setpoint"),
        ({"days": ["1"], "start_time": "06:30", "end_time": "08:00", "heat_setpoint": "inf"}, "heat_setpoint"),
        ({"days": ["1"], "start_time": "06:30", "end_time": "08:00", "priority": "high"}, "priority"),
    ],
)
def test_what_cannot_become_a_rule_names_its_field(values, field):
    with pytest.raises(FormProblem) as problem:
        schedule_form.body_of(values, CELSIUS)
    assert problem.value.field == field
    assert problem.value.message


def test_fahrenheit_hint_in_the_number_problem():
    with pytest.raises(FormProblem, match="such as 70"):
        schedule_form.setpoint("hot", FAHRENHEIT, "heat_setpoint")


@pytest.mark.parametrize(
    ("rule", "simple"),
    [
        ({"start": "30 6 * * 1-5", "end": "0 8 * * *"}, ({1, 2, 3, 4, 5}, "06:30", "08:00")),
        ({"start": "30 6 * * 1-5", "duration": "PT2H"}, ({1, 2, 3, 4, 5}, "06:30", "08:30")),
        ({"start": "0 22 * * 0,6", "duration": "PT8H30M"}, ({0, 6}, "22:00", "06:30")),
        ({"start": "0 7 * * *", "duration": "PT90M"}, ({0, 1, 2, 3, 4, 5, 6}, "07:00", "08:30")),
        ({"start": "5 0 * * 7", "end": "59 23 * * *"}, ({0}, "00:05", "23:59")),
        ({"start": "0 7 1 * *", "end": "0 8 * * *"}, None),  # a day of the month
        ({"start": "0 7 * * mon", "end": "0 8 * * *"}, None),  # names
        ({"start": "*/15 7 * * *", "end": "0 8 * * *"}, None),  # steps
        ({"start": "0 7 * * 1-5", "end": "0 8 * * 1-5"}, None),  # an end on some days only
        ({"start": "0 7 * * 1-5", "duration": "P1D"}, None),  # a day or more
        ({"start": "0 7 * * 1-5", "duration": "PT24H"}, None),
        ({"start": "0 7 * * 1-5", "duration": "PT0M"}, None),
        ({"start": "0 7 * * 5-1", "duration": "PT1H"}, None),
        ({"start": "0 7 * * 1-5"}, None),
        ({}, None),
    ],
)
def test_which_rules_the_simple_form_can_show(rule, simple):
    found = schedule_form.simple_of(rule)
    if simple is None:
        assert found is None
    else:
        assert found == {"days": frozenset(simple[0]), "start_time": simple[1], "end_time": simple[2]}


def test_describe_for_the_list():
    assert schedule_form.describe({"start": "30 6 * * 1-5", "end": "0 8 * * *"}) == ("Mon–Fri", "06:30–08:00")
    assert schedule_form.describe({"start": "0 7 1 * *", "end": "0 8 * * *"}) == ("cron 0 7 1 * *", "until 0 8 * * *")
    assert schedule_form.describe({"start": "0 7 1 * *", "duration": "P1D"}) == ("cron 0 7 1 * *", "for P1D")


def test_form_values_of_a_simple_rule_in_fahrenheit():
    rule = {
        "id": "x",
        "name": "Evenings",
        "zone": "up",
        "start": "0 18 * * 0,6",
        "end": "30 22 * * *",
        "heat_setpoint": 21.11,
        "cool_setpoint": None,
        "priority": 3,
        "enabled": False,
    }
    assert schedule_form.form_values(rule, FAHRENHEIT) == {
        "mode": "simple",
        "name": "Evenings",
        "zone": "up",
        "heat_setpoint": "70",
        "cool_setpoint": "",
        "start": "0 18 * * 0,6",
        "end": "30 22 * * *",
        "duration": "",
        "priority": "3",
        "enabled": False,
        "days": ["6", "0"],
        "start_time": "18:00",
        "end_time": "22:30",
    }


def test_form_values_of_an_advanced_rule_and_of_a_new_one():
    rule = {
        "name": "Firsts",
        "zone": "default",
        "start": "0 7 1 * *",
        "duration": "P1D",
        "heat_setpoint": 19.5,
        "priority": 0,
        "enabled": True,
    }
    values = schedule_form.form_values(rule, CELSIUS)
    assert values["mode"] == "advanced"
    assert (values["start"], values["end"], values["duration"], values["heat_setpoint"]) == (
        "0 7 1 * *",
        "",
        "P1D",
        "19.5",
    )
    assert values["days"] == [] and "start_time" not in values
    assert schedule_form.form_values(None, CELSIUS, "up") == {
        "mode": "simple",
        "zone": "up",
        "days": [],
        "enabled": True,
        "priority": "0",
    }


@pytest.mark.parametrize(
    ("engine_field", "mode", "form_field"),
    [
        ("start", "simple", "start_time"),
        ("end", "simple", "end_time"),
        ("duration", "simple", "end_time"),
        ("body", "simple", ""),
        ("heat_setpoint", "simple", "heat_setpoint"),
        ("start", "advanced", "start"),
        ("duration", "advanced", "duration"),
        ("body", "advanced", ""),
        (None, "simple", ""),
    ],
)
def test_engine_fields_shown_beside_form_fields(engine_field, mode, form_field):
    assert schedule_form.form_field(engine_field, mode) == form_field


def test_setpoint_refusals_are_in_the_adjust_page_words_and_the_browser_unit():
    detail = "93.33 is greater than the maximum of 35"
    assert (
        schedule_form.refusal("heat_setpoint", detail, FAHRENHEIT)
        == "200\u202f°F is above the highest setpoint, 95\u202f°F"
    )
    assert (
        schedule_form.refusal("cool_setpoint", "40.0 is greater than the maximum of 35", CELSIUS)
        == "40.0\u202f°C is above the highest setpoint, 35.0\u202f°C"
    )
    assert (
        schedule_form.refusal("heat_setpoint", "2.0 is less than the minimum of 5", CELSIUS)
        == "2.0\u202f°C is below the lowest setpoint, 5.0\u202f°C"
    )
    assert schedule_form.refusal("name", "'' should be non-empty", FAHRENHEIT) == "'' should be non-empty"
