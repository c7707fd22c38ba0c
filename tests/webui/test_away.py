"""The away page against a real engine: overrides with "keep above / below", typed on the engine's clock."""

import dataclasses
import re

from tests.webui.conftest import logged_in_browser, text_of


def make_zone(engine_process, zone_id):
    status, answer = engine_process.request("PUT", f"/v1/zones/{zone_id}", {"name": zone_id.title()})
    assert status in (200, 201), answer


def overrides_named(engine_process, name):
    status, answer = engine_process.request("GET", "/v1/overrides")
    assert status == 200
    return [rule for rule in answer["overrides"] if rule.get("name") == name]


def the_override(engine_process, name):
    found = overrides_named(engine_process, name)
    assert len(found) == 1, found
    rule = dict(found[0])
    rule.pop("changed_at")
    return rule


def away_form(name, zone, **changes):
    form = {
        "name": name,
        "zone": zone,
        "start": "2026-12-20T08:00",
        "end": "2026-12-27T18:00",
        "heat_setpoint": "12",
        "cool_setpoint": "",
    }
    form.update(changes)
    return form


def test_an_away_range_typed_in_berlin_time_lands_as_the_right_utc_instants(browser, engine_process):
    make_zone(engine_process, "holiday")
    page = browser.get("/away/new")
    assert page.status_code == 200 and 'type="datetime-local"' in page.text
    assert "When (the house's clock, Europe/Berlin)" in text_of(page.text)
    answer = browser.post("/away/new", away_form("Christmas", "holiday"))
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/away/")
    rule = the_override(engine_process, "Christmas")
    rule.pop("id")
    assert rule == {
        "name": "Christmas",
        "zone": "holiday",
        "start": "2026-12-20T07:00:00+00:00",  # 08:00 CET
        "end": "2026-12-27T17:00:00+00:00",
        "heat_setpoint": 12,
    }
    listed = text_of(browser.get("/away/").text)
    assert "Christmas holiday Sun 20 Dec 2026 08:00 Sun 27 Dec 2026 18:00 keep above 12.0 °C Edit Christmas" in listed


def test_editing_an_override_and_keep_below(browser, engine_process):
    make_zone(engine_process, "trip")
    assert browser.post("/away/new", away_form("Trip", "trip")).status_code == 302
    rule_id = the_override(engine_process, "Trip")["id"]
    page = browser.get(f"/away/{rule_id}/edit")
    assert page.status_code == 200
    assert (
        'value="2026-12-20T08:00"' in page.text
        and 'value="2026-12-27T18:00"' in page.text
        and 'value="12"' in page.text
    )
    changed = away_form(
        "Summer trip",
        "trip",
        start="2026-07-10T06:30",
        end="2026-07-20T21:00",
        heat_setpoint="15.5",
        cool_setpoint="28",
    )
    assert browser.post(f"/away/{rule_id}/edit", changed).status_code == 302
    assert the_override(engine_process, "Summer trip") == {
        "id": rule_id,
        "name": "Summer trip",
        "zone": "trip",
        "start": "2026-07-10T04:30:00+00:00",  # 06:30 CEST
        "end": "2026-07-20T19:00:00+00:00",
        "heat_setpoint": 15.5,
        "cool_setpoint": 28,
    }
    listed = text_of(browser.get("/away/").text)
    assert "Fri 10 Jul 2026 06:30 Mon 20 Jul 2026 21:00 keep above 15.5 °C, keep below 28.0 °C" in listed


def test_times_in_the_dst_gap_and_the_repeated_hour(browser, engine_process):
    make_zone(engine_process, "dst")
    form = away_form("Spring", "dst", start="2026-03-29T02:30", end="2026-10-25T02:30")
    assert browser.post("/away/new", form).status_code == 302
    rule = the_override(engine_process, "Spring")
    assert (rule["start"], rule["end"]) == ("2026-03-29T01:00:00+00:00", "2026-10-25T00:30:00+00:00")


def test_an_empty_end_is_until_the_schedule_changes_and_fahrenheit_is_sent_as_celsius(browser, engine_process):
    make_zone(engine_process, "brief")
    browser.client.set_cookie("unit", "F")
    assert (
        browser.post(
            "/away/new", away_form("Errand", "brief", end="", heat_setpoint="54", cool_setpoint="85")
        ).status_code
        == 302
    )
    rule = the_override(engine_process, "Errand")
    assert (rule["until"], rule.get("end"), rule["heat_setpoint"], rule["cool_setpoint"]) == (
        "next_schedule",
        None,
        12.22,
        29.44,
    )
    listed = text_of(browser.get("/away/").text)
    assert "Errand brief Sun 20 Dec 2026 08:00 the schedule's next change keep above 54 °F, keep below 85 °F" in listed
    edit = browser.get(f"/away/{rule['id']}/edit").text
    assert 'name="end" value=""' in edit and 'value="54"' in edit and 'value="85"' in edit


def test_deleting_an_override_asks_first(browser, engine_process):
    make_zone(engine_process, "gone")
    assert browser.post("/away/new", away_form("Gone", "gone")).status_code == 302
    rule_id = the_override(engine_process, "Gone")["id"]
    confirm = browser.get(f"/away/{rule_id}/delete")
    assert "Delete override “Gone”? From Sun 20 Dec 2026 08:00 until Sun 27 Dec 2026 18:00 in zone gone." in text_of(
        confirm.text
    )
    assert overrides_named(engine_process, "Gone")
    assert browser.post(f"/away/{rule_id}/delete").status_code == 302
    assert engine_process.request("GET", f"/v1/overrides/{rule_id}")[0] == 404
    assert browser.get(f"/away/{rule_id}/edit").status_code == 404


def test_states_in_the_list(browser, engine_process):
    make_zone(engine_process, "states")
    bodies = [
        {
            "name": "Long ago",
            "zone": "states",
            "start": "2020-01-01T00:00:00Z",
            "end": "2020-01-02T00:00:00Z",
            "heat_setpoint": 12,
        },
        {
            "name": "Right now",
            "zone": "states",
            "start": "2020-01-01T00:00:00Z",
            "end": "2099-01-02T00:00:00Z",
            "heat_setpoint": 12,
        },
    ]
    for body in bodies:
        assert engine_process.request("POST", "/v1/overrides", body)[0] == 201
    listed = text_of(browser.get("/away/").text)
    assert "Long ago ended states" in listed and "Right now in force states" in listed


def test_end_before_start_is_shown_beside_the_end_with_the_input_kept(browser, engine_process):
    make_zone(engine_process, "backwards")
    answer = browser.post(
        "/away/new", away_form("Backwards", "backwards", start="2026-12-21T08:00", end="2026-12-20T08:00")
    )
    assert answer.status_code == 422
    assert re.search(
        r'id="end-error" role="alert">2026-12-20T07:00:00\+00:00 is not after start 2026-12-21T07:00:00\+00:00',
        answer.text,
    )
    assert 'value="2026-12-21T08:00"' in answer.text and 'value="2026-12-20T08:00"' in answer.text
    assert 'value="Backwards"' in answer.text
    nothing = browser.post("/away/new", away_form("No setpoint", "backwards", heat_setpoint=""))
    assert nothing.status_code == 422
    assert '<p class="error" role="alert">give heat_setpoint, cool_setpoint or both</p>' in nothing.text
    garbled = browser.post("/away/new", away_form("Garbled", "backwards", start="next week"))
    assert garbled.status_code == 422
    assert 'id="start-error" role="alert">Give a date and time, such as 2026-12-21 08:00.' in garbled.text
    browser.client.set_cookie("unit", "F")
    hot = browser.post("/away/new", away_form("Hot", "backwards", heat_setpoint="104"))
    assert hot.status_code == 422
    assert 'id="heat_setpoint-error" role="alert">104\u202f°F is above the highest setpoint, 95\u202f°F' in hot.text
    cold = browser.post("/away/new", away_form("Cold", "backwards", heat_setpoint="freezing"))
    assert cold.status_code == 422 and 'id="heat_setpoint-error"' in cold.text
    for name in ("Backwards", "No setpoint", "Garbled", "Hot", "Cold"):
        assert overrides_named(engine_process, name) == []


def test_without_the_csrf_token_nothing_is_stored(browser, engine_process):
    make_zone(engine_process, "forged")
    answer = browser.client.post("/away/new", data=away_form("Forged", "forged"))
    assert answer.status_code == 400
    assert overrides_named(engine_process, "Forged") == []


def test_saving_unchanged_in_fahrenheit_keeps_the_stored_celsius(browser, engine_process):
    make_zone(engine_process, "keptf")
    body = {
        "name": "Kept",
        "zone": "keptf",
        "start": "2026-12-20T07:00:00Z",
        "end": "2026-12-27T17:00:00Z",
        "heat_setpoint": 12.0,
        "cool_setpoint": 26.0,
    }
    status, created = engine_process.request("POST", "/v1/overrides", body)
    assert status == 201, created
    browser.client.set_cookie("unit", "F")
    edit = browser.get(f"/away/{created['id']}/edit").text
    assert 'value="54"' in edit and 'value="79"' in edit  # 12 °C and 26 °C as whole °F
    form = away_form("Kept longer", "keptf", end="2026-12-28T18:00", heat_setpoint="54", cool_setpoint="79")
    assert browser.post(f"/away/{created['id']}/edit", form).status_code == 302
    rule = the_override(engine_process, "Kept longer")
    assert (rule["heat_setpoint"], rule["cool_setpoint"], rule["end"]) == (12.0, 26.0, "2026-12-28T17:00:00+00:00")
    form["heat_setpoint"] = "55"
    assert browser.post(f"/away/{created['id']}/edit", form).status_code == 302
    assert the_override(engine_process, "Kept longer")["heat_setpoint"] == 12.78  # changed: 55 °F


def test_an_id_is_one_path_segment_so_it_cannot_reach_another_override(browser, engine_process):
    make_zone(engine_process, "escaped")
    assert browser.post("/away/new", away_form("Escaped", "escaped")).status_code == 302
    rule_id = the_override(engine_process, "Escaped")["id"]
    for url in (f"/away/{rule_id}%3Fx/edit", f"/away/{rule_id}%3Fx/delete", f"/away/{rule_id}%23x/delete"):
        assert browser.get(url).status_code == 404, url
        assert browser.post(url, away_form("Hijacked", "escaped")).status_code == 404, url
    assert the_override(engine_process, "Escaped")["id"] == rule_id  # neither deleted nor renamed
    assert overrides_named(engine_process, "Hijacked") == []


def test_an_unreachable_engine_is_a_503_page(offline_browser):
    for answer in (
        offline_browser.get("/away/"),
        offline_browser.get("/away/new"),
        offline_browser.post("/away/new", away_form("Offline", "default")),
    ):
        assert answer.status_code == 503
        assert "Cannot reach the thermostat engine" in text_of(answer.text)


def test_editing_keeps_the_rule_sensors(browser, engine_process):
    make_zone(engine_process, "sensed")
    sensors = {"28-00000abcdef1": {"type": "DS18B20", "value": 20.0}}
    assert engine_process.request("PUT", "/v1/sensors/update", {"host_id": "pi-away", "sensors": sensors})[0] == 201
    body = {
        "name": "Sensed",
        "zone": "sensed",
        "start": "2026-12-20T07:00:00Z",
        "end": "2026-12-21T07:00:00Z",
        "heat_setpoint": 14,
        "sensors": {"28-00000abcdef1": 1.0},
    }
    status, created = engine_process.request("POST", "/v1/overrides", body)
    assert status == 201, created
    assert (
        browser.post(f"/away/{created['id']}/edit", away_form("Sensed", "sensed", heat_setpoint="15")).status_code
        == 302
    )
    rule = the_override(engine_process, "Sensed")
    assert (rule["sensors"], rule["heat_setpoint"], rule["start"]) == (
        {"28-00000abcdef1": 1.0},
        15,
        "2026-12-20T07:00:00+00:00",
    )


def test_an_engine_refusal_other_than_422_is_an_error_page(webui_config, engine_process):
    reader = logged_in_browser(
        dataclasses.replace(webui_config, token=engine_process.make_token("read", "away-reader"))
    )
    answer = reader.post("/away/new", away_form("Read only", "default"))
    assert answer.status_code == 502 and "may not do this" in text_of(answer.text)
    assert overrides_named(engine_process, "Read only") == []
    sensor = logged_in_browser(
        dataclasses.replace(webui_config, token=engine_process.make_token("sensor", "away-sensor", "pi-away2"))
    )
    assert sensor.get("/away/0123/edit").status_code == 502
