"""The schedule page against a real engine: the week from /v1/timeline, and schedules made, edited and deleted."""

import dataclasses
import re

import pytest

from tests.webui.conftest import logged_in_browser, text_of

SP = " "  # text_of squeezes the narrow no-break space before the unit


def make_zone(engine_process, zone_id):
    body = {"name": zone_id.title(), "default_heat_setpoint": 17.0, "default_cool_setpoint": 26.0}
    status, answer = engine_process.request("PUT", f"/v1/zones/{zone_id}", body)
    assert status in (200, 201), answer


def schedules_named(engine_process, name):
    status, answer = engine_process.request("GET", "/v1/schedules")
    assert status == 200
    return [rule for rule in answer["schedules"] if rule["name"] == name]


def the_schedule(engine_process, name):
    found = schedules_named(engine_process, name)
    assert len(found) == 1, found
    rule = dict(found[0])
    rule.pop("changed_at")
    return rule


def weekday_form(name, zone, **changes):
    form = {
        "name": name,
        "zone": zone,
        "mode": "simple",
        "days": ["1", "2", "3", "4", "5"],
        "start_time": "06:30",
        "end_time": "08:00",
        "heat_setpoint": "21",
        "cool_setpoint": "",
        "priority": "0",
        "enabled": "1",
    }
    form.update(changes)
    return form


def test_a_schedule_made_with_days_and_times_is_cron_underneath(browser, engine_process):
    make_zone(engine_process, "made")
    page = browser.get("/schedule/new?zone=made")
    assert page.status_code == 200
    assert '<input type="time"' not in page.text  # the macro writes type= after id/name/value
    assert 'type="time"' in page.text and 'name="days" value="1"' in page.text
    answer = browser.post("/schedule/new", weekday_form("Weekday mornings", "made"))
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/schedule/?zone=made")
    rule = the_schedule(engine_process, "Weekday mornings")
    rule.pop("id")
    assert rule == {
        "name": "Weekday mornings",
        "zone": "made",
        "start": "30 6 * * 1-5",
        "end": "0 8 * * *",
        "heat_setpoint": 21,
        "priority": 0,
        "enabled": True,
    }
    listed = text_of(browser.get("/schedule/?zone=made").text)
    assert f"Weekday mornings made Mon–Fri 06:30–08:00 21.0{SP}°C Edit Weekday mornings Delete" in listed


def test_the_week_shows_the_schedule_on_its_days_and_hours(browser, engine_process):
    make_zone(engine_process, "weekly")
    assert browser.post("/schedule/new", weekday_form("Morning", "weekly")).status_code == 302
    page = browser.get("/schedule/?zone=weekly&week=2026-12-16")  # a Wednesday: its week from Monday 14th
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Week of Mon 14 Dec (zone weekly, Europe/Berlin time)" in text
    for day in ("Mon 14 Dec", "Tue 15 Dec", "Wed 16 Dec", "Thu 17 Dec", "Fri 18 Dec"):
        assert (
            f"{day} {day[:3]} 00:00–06:30 17.0–26.0{SP}°C (zone default) {day[:3]} 06:30–08:00 21.0{SP}°C (Morning)"
            f" {day[:3]} 08:00–24:00 17.0–26.0{SP}°C (zone default)"
        ) in text
    assert f"Sat 19 Dec Sat 00:00–24:00 17.0–26.0{SP}°C (zone default) Sun 20 Dec" in text
    assert "Sat 06:30" not in text and "Sun 06:30" not in text
    # 06:30 is 27.083 % into the day, 1.5 h is 6.25 % of it
    assert 'class="block heat-high kind-schedule" style="left: 27.083%; width: 6.250%"' in page.text
    assert "week=2026-12-07" in page.text and "week=2026-12-21" in page.text


def test_the_week_draws_an_override_over_the_schedule(browser, engine_process):
    make_zone(engine_process, "drawn")
    assert browser.post("/schedule/new", weekday_form("Early", "drawn")).status_code == 302
    body = {
        "name": "Trip",
        "zone": "drawn",
        "start": "2026-12-15T06:00:00Z",
        "end": "2026-12-15T10:00:00Z",
        "heat_setpoint": 12,
    }
    assert engine_process.request("POST", "/v1/overrides", body)[0] == 201
    text = text_of(browser.get("/schedule/?zone=drawn&week=2026-12-14").text)
    assert (
        f"Tue 15 Dec Tue 00:00–06:30 17.0–26.0{SP}°C (zone default) Tue 06:30–07:00 21.0{SP}°C (Early)"
        f" Tue 07:00–11:00 12.0{SP}°C (override: Trip) Tue 11:00–24:00"
    ) in text


def test_editing_keeps_what_the_form_does_not_show(browser, engine_process):
    make_zone(engine_process, "edited")
    sensors = {"28-00000abcdef0": {"type": "DS18B20", "value": 20.0}}
    assert engine_process.request("PUT", "/v1/sensors/update", {"host_id": "pi-edit", "sensors": sensors})[0] == 201
    body = {
        "name": "Evening",
        "zone": "edited",
        "start": "0 18 * * 1-5",
        "end": "0 22 * * *",
        "heat_setpoint": 20.5,
        "sensors": {"28-00000abcdef0": 2.0},
        "priority": 4,
    }
    status, created = engine_process.request("POST", "/v1/schedules", body)
    assert status == 201, created
    page = browser.get(f"/schedule/{created['id']}/edit")
    assert page.status_code == 200
    assert 'value="18:00"' in page.text and 'value="22:00"' in page.text and 'value="20.5"' in page.text
    assert re.search(r'name="days" value="5" checked', page.text) and not re.search(r'value="6" checked', page.text)
    changed = weekday_form(
        "Weekend evening",
        "edited",
        days=["6", "0"],
        start_time="19:15",
        end_time="23:45",
        heat_setpoint="22.5",
        priority="4",
    )
    answer = browser.post(f"/schedule/{created['id']}/edit", changed)
    assert answer.status_code == 302
    rule = the_schedule(engine_process, "Weekend evening")
    assert rule == {
        "id": created["id"],
        "name": "Weekend evening",
        "zone": "edited",
        "start": "15 19 * * 0,6",
        "end": "45 23 * * *",
        "heat_setpoint": 22.5,
        "sensors": {"28-00000abcdef0": 2.0},
        "priority": 4,
        "enabled": True,
    }


def test_deleting_asks_first_then_the_engine_forgets_it(browser, engine_process):
    make_zone(engine_process, "deleted")
    assert browser.post("/schedule/new", weekday_form("Doomed", "deleted")).status_code == 302
    rule_id = the_schedule(engine_process, "Doomed")["id"]
    confirm = browser.get(f"/schedule/{rule_id}/delete")
    assert confirm.status_code == 200
    assert "Delete schedule “Doomed”? Mon–Fri, 06:30–08:00 in zone deleted." in text_of(confirm.text)
    assert schedules_named(engine_process, "Doomed")  # asking is not deleting
    answer = browser.post(f"/schedule/{rule_id}/delete")
    assert answer.status_code == 302
    assert engine_process.request("GET", f"/v1/schedules/{rule_id}")[0] == 404
    assert "Schedule “Doomed” deleted." in text_of(browser.get("/schedule/").text)
    assert browser.get(f"/schedule/{rule_id}/edit").status_code == 404
    assert browser.post(f"/schedule/{rule_id}/delete").status_code == 404


def test_fahrenheit_is_typed_and_shown_but_celsius_is_sent(browser, engine_process):
    make_zone(engine_process, "fahrenheit")
    browser.client.set_cookie("unit", "F")
    form = weekday_form("Warm in F", "fahrenheit", heat_setpoint="70.4", cool_setpoint="78")
    assert browser.post("/schedule/new", form).status_code == 302
    rule = the_schedule(engine_process, "Warm in F")
    assert (rule["heat_setpoint"], rule["cool_setpoint"]) == (21.11, 25.56)  # 70 °F and 78 °F
    listed = text_of(browser.get("/schedule/?zone=fahrenheit").text)
    assert f"Warm in F fahrenheit Mon–Fri 06:30–08:00 70–78{SP}°F" in listed
    edit = browser.get(f"/schedule/{rule['id']}/edit").text
    assert 'value="70"' in edit and 'value="78"' in edit and "Setpoints in °F" in text_of(edit)


def test_advanced_cron_goes_to_the_engine_as_typed_and_comes_back(browser, engine_process):
    make_zone(engine_process, "advanced")
    form = {
        "name": "First of the month",
        "zone": "advanced",
        "mode": "advanced",
        "start": "0 7 1 * *",
        "end": "",
        "duration": "PT3H",
        "heat_setpoint": "19",
        "priority": "0",
        "enabled": "1",
    }
    assert browser.post("/schedule/new", form).status_code == 302
    rule = the_schedule(engine_process, "First of the month")
    assert (rule["start"], rule["duration"], rule.get("end")) == ("0 7 1 * *", "PT3H", None)
    page = browser.get(f"/schedule/{rule['id']}/edit")
    assert 'name="mode" value="advanced" checked' in page.text and "<details open>" in page.text
    assert 'value="0 7 1 * *"' in page.text and 'value="PT3H"' in page.text
    assert "cron 0 7 1 * * for PT3H" in text_of(browser.get("/schedule/?zone=advanced").text)
    form["end"], form["duration"] = "0 9 * * *", ""
    assert browser.post(f"/schedule/{rule['id']}/edit", form).status_code == 302
    again = the_schedule(engine_process, "First of the month")
    assert (again["start"], again["end"], again.get("duration")) == ("0 7 1 * *", "0 9 * * *", None)


def test_engine_refusals_are_shown_beside_their_field_with_the_input_kept(browser, engine_process):
    make_zone(engine_process, "refused")
    bad_cron = {
        "name": "Bad cron",
        "zone": "refused",
        "mode": "advanced",
        "start": "61 6 * * *",
        "end": "0 8 * * *",
        "heat_setpoint": "20",
    }
    answer = browser.post("/schedule/new", bad_cron)
    assert answer.status_code == 422
    assert re.search(
        r'id="start-error" role="alert">&#39;61 6 \* \* \*&#39; is not a five-field cron expression', answer.text
    )
    assert 'value="61 6 * * *"' in answer.text and 'aria-describedby="start-error"' in answer.text

    too_hot = browser.post("/schedule/new", weekday_form("Too hot", "refused", heat_setpoint="40"))
    assert too_hot.status_code == 422
    refusal = 'id="heat_setpoint-error" role="alert">40.0\u202f°C is above the highest setpoint, 35.0\u202f°C'
    assert refusal in too_hot.text
    assert 'value="40"' in too_hot.text and 'value="Too hot"' in too_hot.text

    nothing = browser.post("/schedule/new", weekday_form("No setpoint", "refused", heat_setpoint=""))
    assert nothing.status_code == 422
    assert '<p class="error" role="alert">give heat_setpoint, cool_setpoint or both</p>' in nothing.text

    no_days = browser.post("/schedule/new", weekday_form("No days", "refused", days=[]))
    assert no_days.status_code == 422
    assert 'id="days-error" role="alert">Tick at least one day.' in no_days.text

    no_zone = browser.post("/schedule/new", weekday_form("Nowhere", "nowhere"))
    assert no_zone.status_code == 422 and "there is no zone &#39;nowhere&#39;" in no_zone.text

    for name in ("Bad cron", "Too hot", "No setpoint", "No days", "Nowhere"):
        assert schedules_named(engine_process, name) == []


def test_a_simple_form_refusal_is_shown_beside_the_time_field(browser, engine_process):
    make_zone(engine_process, "timed")
    status, created = engine_process.request(
        "POST",
        "/v1/schedules",
        {"name": "Timed", "zone": "timed", "start": "0 6 * * *", "end": "0 7 * * *", "heat_setpoint": 20},
    )
    assert status == 201
    answer = browser.post(f"/schedule/{created['id']}/edit", weekday_form("Timed", "timed", start_time="6 o'clock"))
    assert answer.status_code == 422
    assert 'id="start_time-error" role="alert">Give a time of day, such as 06:30.' in answer.text
    assert the_schedule(engine_process, "Timed")["start"] == "0 6 * * *"


def test_without_the_csrf_token_nothing_is_stored(browser, engine_process):
    make_zone(engine_process, "forged")
    answer = browser.client.post("/schedule/new", data=weekday_form("Forged", "forged"))
    assert answer.status_code == 400
    assert schedules_named(engine_process, "Forged") == []


def test_zone_filter_appears_with_several_zones(browser, engine_process):
    make_zone(engine_process, "alpha")
    make_zone(engine_process, "beta")
    assert browser.post("/schedule/new", weekday_form("Alpha rule", "alpha")).status_code == 302
    assert browser.post("/schedule/new", weekday_form("Beta rule", "beta")).status_code == 302
    assert "Schedule “Beta rule” saved." in text_of(browser.get("/schedule/").text)  # the flash, once
    page = browser.get("/schedule/?zone=alpha")
    assert '<select id="zone" name="zone">' in page.text and '<option value="alpha" selected>' in page.text
    text = text_of(page.text)
    assert "Schedules of zone alpha" in text and "Alpha rule" in text and "Beta rule" not in text
    everything = text_of(browser.get("/schedule/?zone=nope").text)
    assert "(zone default," in everything and "Alpha rule" not in everything  # unknown zone: default's week
    unfiltered = text_of(browser.get("/schedule/").text)
    assert "Alpha rule" in unfiltered and "Beta rule" in unfiltered


def test_saving_unchanged_in_fahrenheit_keeps_the_stored_celsius(browser, engine_process):
    make_zone(engine_process, "keepf")
    status, created = engine_process.request(
        "POST",
        "/v1/schedules",
        {"name": "Kept", "zone": "keepf", "start": "30 6 * * 1-5", "end": "0 8 * * *", "heat_setpoint": 18.0,
         "cool_setpoint": 26.0},
    )  # fmt: skip
    assert status == 201, created
    browser.client.set_cookie("unit", "F")
    edit = browser.get(f"/schedule/{created['id']}/edit").text
    assert 'value="64"' in edit and 'value="79"' in edit  # 18 °C and 26 °C as whole °F
    form = weekday_form("Kept", "keepf", heat_setpoint="64", cool_setpoint="79", priority="2")
    assert browser.post(f"/schedule/{created['id']}/edit", form).status_code == 302
    rule = the_schedule(engine_process, "Kept")
    assert (rule["heat_setpoint"], rule["cool_setpoint"], rule["priority"]) == (18.0, 26.0, 2)  # not 17.78, 26.11
    form["heat_setpoint"] = "65"
    assert browser.post(f"/schedule/{created['id']}/edit", form).status_code == 302
    assert the_schedule(engine_process, "Kept")["heat_setpoint"] == 18.33  # changed: 65 °F


def test_a_fahrenheit_refusal_reads_like_the_adjust_page(browser, engine_process):
    make_zone(engine_process, "hotf")
    browser.client.set_cookie("unit", "F")
    answer = browser.post("/schedule/new", weekday_form("Too hot F", "hotf", heat_setpoint="200"))
    assert answer.status_code == 422
    assert 'id="heat_setpoint-error" role="alert">200\u202f°F is above the highest setpoint, 95\u202f°F' in answer.text
    assert schedules_named(engine_process, "Too hot F") == []


def test_an_id_is_one_path_segment_so_it_cannot_reach_another_schedule(browser, engine_process):
    make_zone(engine_process, "escaped")
    assert browser.post("/schedule/new", weekday_form("Escaped", "escaped")).status_code == 302
    rule_id = the_schedule(engine_process, "Escaped")["id"]
    for url in (f"/schedule/{rule_id}%3Fx/edit", f"/schedule/{rule_id}%3Fx/delete", f"/schedule/{rule_id}%23x/delete"):
        assert browser.get(url).status_code == 404, url
        assert browser.post(url, weekday_form("Hijacked", "escaped")).status_code == 404, url
    assert the_schedule(engine_process, "Escaped")["id"] == rule_id  # neither deleted nor renamed
    assert schedules_named(engine_process, "Hijacked") == []


@pytest.mark.parametrize("week", ["0001-01-01", "9999-12-31", "2000-01-01", "2099-12-28", "junk"])
def test_a_week_outside_2000_to_2099_is_a_plain_400_naming_the_field(browser, week):
    answer = browser.get(f"/schedule/?week={week}")
    assert answer.status_code == 400
    assert "week: must be a date from 2000-01-03 to 2099-12-27, like 2026-12-14" in text_of(answer.text)
    assert "Traceback" not in answer.text


def test_the_first_and_last_weeks_have_no_link_beyond_them(browser):
    first = browser.get("/schedule/?week=2000-01-05")
    assert first.status_code == 200
    assert "Week of Mon 3 Jan" in text_of(first.text)
    assert "Previous week" not in first.text and "week=2000-01-10" in first.text
    last = browser.get("/schedule/?week=2099-12-27")
    assert last.status_code == 200
    assert "Week of Mon 21 Dec" in text_of(last.text)
    assert "Next week" not in last.text and "week=2099-12-14" in last.text


def test_an_unreachable_engine_is_a_503_page(offline_browser):
    for answer in (
        offline_browser.get("/schedule/"),
        offline_browser.get("/schedule/new"),
        offline_browser.post("/schedule/new", weekday_form("Offline", "default")),
    ):
        assert answer.status_code == 503
        assert "Cannot reach the thermostat engine" in text_of(answer.text)


def test_an_engine_refusal_other_than_422_is_an_error_page(webui_config, engine_process):
    reader = logged_in_browser(
        dataclasses.replace(webui_config, token=engine_process.make_token("read", "schedule-reader"))
    )
    answer = reader.post("/schedule/new", weekday_form("Read only", "default"))
    assert answer.status_code == 502
    assert "may not do this" in text_of(answer.text)
    assert schedules_named(engine_process, "Read only") == []
    sensor = logged_in_browser(
        dataclasses.replace(webui_config, token=engine_process.make_token("sensor", "schedule-sensor", "pi-schedule"))
    )
    assert sensor.get("/schedule/0123/edit").status_code == 502
