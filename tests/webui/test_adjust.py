"""The Adjust page's forms, checked by what the real engine stored afterwards."""

import dataclasses
import datetime
import re
import socket

import pytest

from rpymostat_webui.config import WebuiConfig
from rpymostat_webui.engine import EngineClient, Location
from rpymostat_webui.views import adjust
from tests.webui.conftest import PASSWORD, hold_of, logged_in_browser, text_of


def make_zone(engine_process, zone, mode="heat", **fields):
    body = {"name": zone.title(), "mode": mode, "default_heat_setpoint": 21, **fields}
    status, answer = engine_process.request("PUT", f"/v1/zones/{zone}", body)
    assert status == 201, answer


def error_beside(page, field):
    """The error shown beside ``field`` (the text of its ``id="<field>-error"`` element), or None."""
    found = re.search(rf'id="{field}-error" role="alert">([^<]*)<', page.text)
    return text_of(found.group(1)) if found else None


def instant(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_adjust_index_goes_home(browser):
    answer = browser.get("/adjust/")
    assert answer.status_code == 302
    assert answer.location == "/"


def test_the_page_has_steppers_a_typed_value_durations_hold_and_mode(browser, engine_process):
    make_zone(engine_process, "kitchen")
    page = browser.get("/adjust/kitchen")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Adjust Kitchen" in text
    assert "Heat to − 21.0 °C +" in text
    # A text field: a mouse wheel over a focused number field would change the setpoint.
    assert 'name="heat_setpoint" type="text" inputmode="decimal"' in page.text
    assert 'value="21"' in page.text
    assert "cool_setpoint" not in page.text  # heating only: no cooling target to set
    assert "Until the next schedule change For 1 hour For 2 hours For 4 hours Permanently" in text
    assert 'value="next" checked' in page.text
    assert "No hold: Zone default is in force." in text
    assert 'value="heat" checked' in page.text
    assert 'type="range"' not in page.text


def test_a_typed_value_is_held_until_the_next_schedule_change(browser, engine_process):
    make_zone(engine_process, "bath")
    answer = browser.post("/adjust/bath/hold", {"heat_setpoint": "22.5", "duration": "next"})
    assert answer.status_code == 302
    assert answer.location == "/adjust/bath"
    status, hold = hold_of(engine_process, "bath")
    assert status == 200
    assert hold["heat_setpoint"] == 22.5
    assert hold["until"] == "next_schedule"
    page = text_of(browser.get("/adjust/bath").text)
    assert "Held at 22.5 °C until the next schedule change" in page  # the flash message
    assert "Held at 22.5 °C until the next schedule change. Resume schedule" in page


def test_a_typed_value_is_rounded_to_the_step(browser, engine_process):
    make_zone(engine_process, "shed")
    browser.post("/adjust/shed/hold", {"heat_setpoint": "20,3"})
    assert hold_of(engine_process, "shed")[1]["heat_setpoint"] == 20.5


def test_seventy_fahrenheit_typed_sends_its_celsius(browser, engine_process):
    make_zone(engine_process, "office", default_heat_setpoint=20)
    browser.client.set_cookie("unit", "F")
    page = browser.get("/adjust/office")
    assert "Heat to (°F)" in text_of(page.text)
    assert 'value="68"' in page.text  # 20 °C
    browser.post("/adjust/office/hold", {"heat_setpoint": "70", "duration": "next"})
    assert hold_of(engine_process, "office")[1]["heat_setpoint"] == 21.11
    assert "Held at 70 °F until the next schedule change" in text_of(browser.get("/adjust/office").text)


def test_a_setpoint_left_as_shown_keeps_its_celsius(browser, engine_process):
    # An auto zone at 20 / 24 °C shows 68 / 75 °F; changing only the heating must not move the cooling
    # to 75 °F's 23.89 °C.
    make_zone(engine_process, "den", mode="auto", default_heat_setpoint=20, default_cool_setpoint=24)
    browser.client.set_cookie("unit", "F")
    page = browser.get("/adjust/den")
    assert 'value="68"' in page.text and 'value="75"' in page.text
    browser.post("/adjust/den/hold", {"heat_setpoint": "70", "cool_setpoint": "75", "duration": "next"})
    hold = hold_of(engine_process, "den")[1]
    assert (hold["heat_setpoint"], hold["cool_setpoint"]) == (21.11, 24)


def test_for_two_hours(browser, engine_process):
    make_zone(engine_process, "guest")
    answer = browser.post("/adjust/guest/hold", {"heat_setpoint": "19", "duration": "2"}, follow_redirects=True)
    assert "Held at 19.0 °C for 2 hours" in text_of(answer.text)
    hold = hold_of(engine_process, "guest")[1]
    assert hold["heat_setpoint"] == 19
    assert instant(hold["end"]) - instant(hold["start"]) == datetime.timedelta(hours=2)
    assert re.search(r"Held at 19\.0 °C until \d\d:\d\d\. Resume schedule", text_of(answer.text)) or re.search(
        r"Held at 19\.0 °C until \w{3} \d+ \w{3} \d\d:\d\d\. Resume schedule", text_of(answer.text)
    )


def test_permanently_then_resume_schedule(browser, engine_process):
    make_zone(engine_process, "cellar")
    browser.post("/adjust/cellar/hold", {"heat_setpoint": "16", "duration": "permanent"})
    assert hold_of(engine_process, "cellar")[1]["until"] == "permanent"
    assert "Held at 16.0 °C permanently. Resume schedule" in text_of(browser.get("/adjust/cellar").text)
    answer = browser.post("/adjust/cellar/resume", {"back": "adjust"}, follow_redirects=True)
    assert "Resumed the schedule" in text_of(answer.text)
    assert hold_of(engine_process, "cellar")[0] == 404
    again = browser.post("/adjust/cellar/resume", {"back": "home"}, follow_redirects=True)
    assert "There was no hold: the schedule is in force" in text_of(again.text)


def test_an_out_of_range_value_is_shown_beside_its_field_and_not_stored(browser, engine_process):
    make_zone(engine_process, "attic")
    page = browser.post("/adjust/attic/hold", {"heat_setpoint": "99", "duration": "4"})
    assert page.status_code == 422
    assert 'value="99"' in page.text  # what was typed stays
    assert 'value="4" checked' in page.text
    assert 'aria-invalid="true" aria-describedby="heat_setpoint-error"' in page.text
    assert error_beside(page, "heat_setpoint") == "99.0 °C is above the highest setpoint, 35.0 °C"
    assert hold_of(engine_process, "attic")[0] == 404


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"heat_setpoint": "warm"}, "heat_setpoint", "Type a number of degrees, such as 21.0."),
        ({"heat_setpoint": "inf"}, "heat_setpoint", "Type a number of degrees, such as 21.0."),
        ({"heat_setpoint": "nan"}, "heat_setpoint", "Type a number of degrees, such as 21.0."),
        ({"heat_setpoint": ""}, "heat_setpoint", "Type the temperature to hold."),
        ({"heat_setpoint": "20", "duration": "forever"}, "duration", "Choose how long to hold."),
    ],
)
def test_the_forms_own_checks(browser, engine_process, form, field, message):
    zone = f"larder-{field}-{len(form)}-{form.get('heat_setpoint')}"
    make_zone(engine_process, zone)
    page = browser.post(f"/adjust/{zone}/hold", form)
    assert page.status_code == 422
    assert error_beside(page, field) == message
    assert hold_of(engine_process, zone)[0] == 404


def test_missing_csrf_is_refused_and_stores_nothing(browser, engine_process):
    make_zone(engine_process, "pantry")
    answer = browser.client.post("/adjust/pantry/hold", data={"heat_setpoint": "22"})
    assert answer.status_code == 400
    assert hold_of(engine_process, "pantry")[0] == 404
    assert browser.client.post("/adjust/pantry/mode", data={"mode": "off"}).status_code == 400
    assert engine_process.request("GET", "/v1/zones/pantry")[1]["mode"] == "heat"
    browser.post("/adjust/pantry/hold", {"heat_setpoint": "22"})
    assert browser.client.post("/adjust/pantry/resume", data={}).status_code == 400
    assert hold_of(engine_process, "pantry")[0] == 200


def test_cooling_zones_set_their_cool_setpoint(browser, engine_process):
    make_zone(engine_process, "server", mode="cool", default_cool_setpoint=24)
    page = browser.get("/adjust/server")
    assert "Cool to − 24.0 °C +" in text_of(page.text)
    assert 'name="heat_setpoint"' not in page.text
    browser.post("/adjust/server/hold", {"cool_setpoint": "23"})
    hold = hold_of(engine_process, "server")[1]
    assert hold["cool_setpoint"] == 23
    assert hold.get("heat_setpoint") is None


def test_auto_sends_both_and_the_engines_rule_shows_beside_heat(browser, engine_process):
    make_zone(engine_process, "studio", mode="auto", default_cool_setpoint=26)
    page = browser.get("/adjust/studio")
    assert 'name="heat_setpoint"' in page.text and 'name="cool_setpoint"' in page.text
    refused = browser.post("/adjust/studio/hold", {"heat_setpoint": "25.5", "cool_setpoint": "26"})
    assert refused.status_code == 422
    expected = "The heating target must be at least 1.0 °C below the cooling target, 26.0 °C"
    assert error_beside(refused, "heat_setpoint") == expected
    assert hold_of(engine_process, "studio")[0] == 404
    answer = browser.post("/adjust/studio/hold", {"heat_setpoint": "20", "cool_setpoint": "25"}, follow_redirects=True)
    assert "Held at 20.0 °C heating and 25.0 °C cooling until the next schedule change" in text_of(answer.text)
    assert "Held at 20.0 °C heating and 25.0 °C cooling until the next schedule change. Resume" in text_of(answer.text)
    hold = hold_of(engine_process, "studio")[1]
    assert (hold["heat_setpoint"], hold["cool_setpoint"]) == (20, 25)


def test_plus_for_cooling_in_auto_keeps_the_heating_target(browser, engine_process):
    make_zone(engine_process, "gym", mode="auto", default_cool_setpoint=26)
    browser.post("/adjust/gym/nudge", {"steps": "-1", "which": "cool", "back": "adjust"})
    hold = hold_of(engine_process, "gym")[1]
    assert (hold["heat_setpoint"], hold["cool_setpoint"]) == (21, 25.5)


def test_a_nudge_keeps_a_permanent_hold_permanent(browser, engine_process):
    make_zone(engine_process, "hobby")
    browser.post("/adjust/hobby/hold", {"heat_setpoint": "20", "duration": "permanent"})
    answer = browser.post("/adjust/hobby/nudge", {"steps": "1", "which": "bogus"}, follow_redirects=True)
    assert "Held at 20.5 °C permanently" in text_of(answer.text)
    hold = hold_of(engine_process, "hobby")[1]
    assert (hold["heat_setpoint"], hold["until"]) == (20.5, "permanent")


def test_a_nudge_keeps_a_timed_holds_end(browser, engine_process):
    make_zone(engine_process, "library")
    browser.post("/adjust/library/hold", {"heat_setpoint": "20", "duration": "4"})
    first = hold_of(engine_process, "library")[1]
    answer = browser.post("/adjust/library/nudge", {"steps": "-1"}, follow_redirects=True)
    assert re.search(r"Held at 19\.5 °C until (\w{3} \d+ \w{3} )?\d\d:\d\d", text_of(answer.text))
    second = hold_of(engine_process, "library")[1]
    assert second["heat_setpoint"] == 19.5
    assert abs((instant(second["end"]) - instant(first["end"])).total_seconds()) < 2


def test_a_nudge_refused_on_adjust_is_shown_beside_the_field(browser, engine_process):
    make_zone(engine_process, "oven", default_heat_setpoint=5, default_cool_setpoint=26)
    page = browser.post("/adjust/oven/nudge", {"steps": "-1", "back": "adjust"})
    assert page.status_code == 422
    assert error_beside(page, "heat_setpoint") == "4.5 °C is below the lowest setpoint, 5.0 °C"
    assert hold_of(engine_process, "oven")[0] == 404


def test_mode_changes_only_the_mode(browser, engine_process):
    reading = {"host_id": "pi-annex", "sensors": {"28-annex": {"type": "DS18B20", "value": 20.5}}}
    assert engine_process.request("PUT", "/v1/sensors/update", reading)[0] == 201
    make_zone(
        engine_process,
        "annex",
        sensors={"28-annex": 2.0},
        quorum=1,
        default_cool_setpoint=25,
        decision={"plugin": "hysteresis", "config": {"cold_tolerance": 0.5}},
    )
    before = engine_process.request("GET", "/v1/zones/annex")[1]
    answer = browser.post("/adjust/annex/mode", {"mode": "auto", "back": "adjust"})
    assert answer.status_code == 302
    assert answer.location == "/adjust/annex"
    after = engine_process.request("GET", "/v1/zones/annex")[1]
    assert after["mode"] == "auto"
    for field in ("name", "sensors", "quorum", "default_heat_setpoint", "default_cool_setpoint", "decision", "outputs"):
        assert after[field] == before[field], field
    page = browser.get("/adjust/annex")
    assert "Annex: mode set to auto" in text_of(page.text)
    assert 'value="auto" checked' in page.text


def test_an_unknown_mode_is_shown_beside_the_field(browser, engine_process):
    make_zone(engine_process, "barn")
    page = browser.post("/adjust/barn/mode", {"mode": "boost"})
    assert page.status_code == 422
    assert error_beside(page, "mode") == "Choose heat, cool, auto or off."
    assert engine_process.request("GET", "/v1/zones/barn")[1]["mode"] == "heat"


def test_an_unknown_zone_is_the_engines_404(browser):
    page = browser.get("/adjust/nowhere")
    assert page.status_code == 404
    assert "no zone" in page.text


def test_engine_unreachable_is_a_503_page(offline_browser):
    client = offline_browser
    for answer in (client.get("/adjust/default"), client.post("/adjust/default/hold", {"heat_setpoint": "20"})):
        assert answer.status_code == 503
        assert "Cannot reach the thermostat engine" in answer.text


def test_a_nudge_when_a_timed_hold_is_about_to_end_holds_until_the_next_change(browser, engine_process):
    make_zone(engine_process, "porch")
    assert engine_process.request("POST", "/v1/zones/porch/hold", {"heat_setpoint": 20, "duration": "PT30S"})[0] == 201
    browser.post("/adjust/porch/nudge", {"steps": "1"})
    hold = hold_of(engine_process, "porch")[1]
    assert (hold["heat_setpoint"], hold["until"]) == (20.5, "next_schedule")


def test_a_nudge_without_a_target_for_the_mode_starts_from_the_zone_default(browser, engine_process):
    make_zone(engine_process, "utility", default_heat_setpoint=19)
    assert engine_process.request("POST", "/v1/zones/utility/hold", {"cool_setpoint": 25})[0] == 201
    browser.post("/adjust/utility/nudge", {"steps": "1"})
    assert hold_of(engine_process, "utility")[1]["heat_setpoint"] == 19.5


def test_a_read_only_token_is_not_allowed_to_change_anything(webui_config, engine_process):
    make_zone(engine_process, "museum")
    config = dataclasses.replace(webui_config, token=engine_process.make_token("read", "museum-viewer"))
    client = logged_in_browser(config, role="read")
    assert client.get("/adjust/museum").status_code == 200
    for url, form in (
        ("/adjust/museum/hold", {"heat_setpoint": "20"}),
        ("/adjust/museum/nudge", {"steps": "1"}),
        ("/adjust/museum/resume", {}),
        ("/adjust/museum/mode", {"mode": "off"}),
    ):
        answer = client.post(url, form)
        assert answer.status_code == 502, url
        assert "may not do this" in answer.text
    assert hold_of(engine_process, "museum")[0] == 404
    assert engine_process.request("GET", "/v1/zones/museum")[1]["mode"] == "heat"


@pytest.mark.parametrize("form", [{}, {"steps": ""}, {"steps": "2"}, {"steps": "+1"}, {"steps": "-2"}])
def test_a_nudge_without_its_buttons_steps_changes_nothing(browser, engine_process, form):
    """A form sent without the pressed button (a script's form.submit()) must not become a +."""
    zone = f"closet{len(form)}{form.get('steps', 'x').replace('+', 'p').replace('-', 'm')}"
    make_zone(engine_process, zone)
    for headers in ({}, {"X-Fragment": "kiosk"}):
        answer = browser.post(f"/adjust/{zone}/nudge", {**form, "back": "kiosk"}, headers=headers)
        assert answer.status_code == 400
        assert "nothing was changed" in answer.text
    assert hold_of(engine_process, zone)[0] == 404


def test_ids_with_a_question_mark_or_slash_address_only_their_own_zone(browser, engine_process):
    """``spare?`` used to be sent raw: ``DELETE /v1/zones/spare?/hold`` deleted the zone ``spare``."""
    make_zone(engine_process, "spare")
    make_zone(engine_process, "hold")
    assert engine_process.request("POST", "/v1/zones/spare/hold", {"heat_setpoint": 18})[0] == 201
    for url, form in (
        ("/adjust/spare%3F/resume", {}),
        ("/adjust/spare%3F/nudge", {"steps": "1"}),
        ("/adjust/spare%3F/hold", {"heat_setpoint": "25"}),
        ("/adjust/spare%3F/mode", {"mode": "off"}),
        ("/adjust/spare%3Fx/overrides/r%3F/end", {}),
        ("/adjust/spare%2Fhold/resume", {}),
        ("/adjust/%2E/resume", {}),  # urllib3 would send DELETE /v1/zones/hold
        ("/adjust/%2E%2E/resume", {}),
        ("/adjust/spare/overrides/%2E/end", {}),
    ):
        answer = browser.post(url, {**form, "back": "adjust"}, follow_redirects=True)
        assert answer.status_code in (200, 404), url
        assert "Resumed the schedule" not in answer.text, url
    for url in ("/adjust/spare%3F", "/zones/spare%3F/card", "/kiosk/?zone=spare%3F", "/kiosk/?zone=spare/hold"):
        assert browser.get(url).status_code == 404, url
    zone = engine_process.request("GET", "/v1/zones/spare")
    assert zone[0] == 200 and zone[1]["mode"] == "heat"
    assert engine_process.request("GET", "/v1/zones/hold")[0] == 200
    assert hold_of(engine_process, "spare")[1]["heat_setpoint"] == 18


def make_override(engine_process, zone, name, hours=2, heat=23):
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    body = {"name": name, "zone": zone, "start": now.isoformat(), "duration": f"PT{hours}H", "heat_setpoint": heat}
    status, answer = engine_process.request("POST", "/v1/overrides", body)
    assert status == 201, answer
    return answer["id"]


def test_an_override_in_force_says_when_it_ends_and_can_be_ended(browser, engine_process):
    make_zone(engine_process, "chalet")
    rule = make_override(engine_process, "chalet", "Ski week")
    page = browser.get("/adjust/chalet")
    text = text_of(page.text)
    assert re.search(r"No hold; the override “Ski week” is in force until (\w{3} \d+ \w{3} )?\d\d:\d\d\.", text)
    assert "End “Ski week” now" in text
    assert f'action="/adjust/chalet/overrides/{rule}/end"' in page.text
    answer = browser.post(f"/adjust/chalet/overrides/{rule}/end", {"back": "adjust", "name": "Ski week"})
    assert answer.status_code == 302
    assert answer.location == "/adjust/chalet"
    assert engine_process.request("GET", f"/v1/overrides/{rule}")[0] == 404
    text = text_of(browser.get("/adjust/chalet").text)
    assert "Ended “Ski week”: the schedule is in force" in text
    assert "No hold: Zone default is in force." in text
    again = browser.post(f"/adjust/chalet/overrides/{rule}/end", {"back": "home"}, follow_redirects=True)
    assert "The override had already ended" in text_of(again.text)


def test_ending_an_override_needs_the_csrf_token(browser, engine_process):
    make_zone(engine_process, "lodge")
    rule = make_override(engine_process, "lodge", "Guests")
    assert browser.client.post(f"/adjust/lodge/overrides/{rule}/end", data={}).status_code == 400
    assert engine_process.request("GET", f"/v1/overrides/{rule}")[0] == 200


def test_a_step_stored_but_not_read_back_says_it_was_set(app):
    """The hold is stored; reading the zone back fails: the kiosk hears "set", never "not changed"."""
    with app.test_request_context("/adjust/gone/nudge", method="POST", headers={"X-Fragment": "kiosk"}):
        answer = adjust.done("gone-meanwhile", "Held at 21.5 °C until the next schedule change")
    assert answer.status_code == 202
    assert answer.get_data(as_text=True) == "Held at 21.5 °C until the next schedule change; the view will refresh"


def engine_that_never_answers(tmp_path):
    """A web UI whose engine accepts connections and never answers (0.5 s timeout)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    config = WebuiConfig(engine_url=url, data_dir=tmp_path / "webui", password=PASSWORD, token="x")
    engine = EngineClient(lambda: Location(url, token="x"), timeout=0.5)
    return listener, logged_in_browser(config, engine=engine)


def test_the_kiosk_hears_in_words_when_the_engine_does_not_answer(offline_browser, tmp_path):
    client = offline_browser
    answer = client.post("/adjust/default/resume", {"back": "kiosk"}, headers={"X-Fragment": "kiosk"})
    assert (answer.status_code, answer.mimetype) == (503, "text/plain")
    assert answer.text == "Not changed: the engine did not answer; try again"
    page = client.post("/adjust/default/resume", {"back": "kiosk"})  # without the script: the 503 page
    assert page.status_code == 503 and "Cannot reach the thermostat engine" in page.text
    listener, slow = engine_that_never_answers(tmp_path / "slow")
    with listener:
        answer = slow.post("/adjust/default/resume", {"back": "kiosk"}, headers={"X-Fragment": "kiosk"})
    assert answer.status_code == 504
    assert answer.text == "Maybe not changed: the engine did not answer in time; see the target"
