"""The home page and the card fragment against a real engine."""

import dataclasses
import datetime
import json
from zoneinfo import ZoneInfo

import pytest

from rpymostat_webui import context
from rpymostat_webui.app import create_app
from rpymostat_webui.engine import EngineError
from rpymostat_webui.views import home
from tests.webui.conftest import Browser, hold_of, text_of

BERLIN = ZoneInfo("Europe/Berlin")


def make_zone(engine_process, zone, sensors=None, readings=None, **fields):
    """A zone with ``sensors`` (weights) whose ``readings`` ({id: value}) were just sent."""
    if readings:
        update = {sensor: {"type": "DS18B20", "value": value} for sensor, value in readings.items()}
        status, answer = engine_process.request(
            "PUT", "/v1/sensors/update", {"host_id": f"pi-{zone}", "sensors": update}
        )
        assert status == 201, answer
    body = {"name": fields.pop("name", zone.title()), "mode": "heat", "sensors": sensors or {}, **fields}
    status, answer = engine_process.request("PUT", f"/v1/zones/{zone}", body)
    assert status == 201, answer


def test_home_shows_each_zone_with_its_temperature_target_reason_and_age(browser, engine_process):
    make_zone(
        engine_process,
        "lounge",
        sensors={"28-lounge-a": 1},
        readings={"28-lounge-a": 19.2},
        name="Lounge",
        default_heat_setpoint=21,
    )
    page = browser.get("/")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Lounge 19.2 °C Target 21.0 °C · Zone default" in text
    assert "Heating: heat target 21.0 °C: 19.2 °C is at or below 20.7 °C" in text
    assert "Idle Mode: heat" in text  # no relay unit reports heating: the badge says what really runs
    assert "updated 0 s ago" in text or "updated 1 s ago" in text
    assert 'href="/adjust/lounge"' in page.text
    assert 'data-live-zone="lounge"' in page.text
    assert 'data-live-sensors="28-lounge-a"' in page.text
    assert 'src="/static/js/live.js"' in page.text


def test_a_zone_without_sensors_shows_a_dash_and_the_engines_reason(browser):
    text = text_of(browser.get("/").text)
    assert "Default – No sensors are assigned to this zone" in text or "default – No sensors are assigned" in text
    assert "Idle: no trustworthy temperature (no sensors are assigned to this zone)" in text


def test_a_dropped_sensor_is_flagged_with_its_reason(browser, engine_process):
    make_zone(
        engine_process,
        "study",
        sensors={"28-study-a": 1, "28-study-b": 1},
        readings={"28-study-a": 20.0, "28-study-b": None},
    )
    text = text_of(browser.get("/").text)
    assert "Sensor not used 28-study-b: No value in its last reading" in text
    assert "Study 20.0 °C" in text


def test_the_rule_in_force_and_when_it_ends(browser, engine_process):
    make_zone(engine_process, "hall", default_heat_setpoint=18)
    now = datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)
    end = now + datetime.timedelta(hours=2)
    body = {"name": "Party", "zone": "hall", "start": now.isoformat(), "end": end.isoformat(), "heat_setpoint": 22}
    assert engine_process.request("POST", "/v1/overrides", body)[0] == 201
    local_end, local_now = end.astimezone(BERLIN), now.astimezone(BERLIN)
    ends = local_end.strftime("%H:%M" if local_end.date() == local_now.date() else "%a %-d %b %H:%M")
    page = browser.get("/zones/hall/card")
    text = text_of(page.text)
    assert f"Target 22.0 °C · Party until {ends}" in text
    assert f"Next: 18.0 °C from {ends}" in text
    assert not page.text.lstrip().startswith("<!doctype")  # the card alone, for live updates


def test_the_card_fragment_in_the_kiosks_layout_and_unknown_ones(browser):
    page = browser.get("/zones/default/card?variant=kiosk")
    assert page.status_code == 200
    assert 'data-live-src="/zones/default/card?variant=kiosk"' in page.text
    assert "data-kiosk-post" in page.text
    assert browser.get("/zones/default/card?variant=poster").status_code == 404
    missing = browser.get("/zones/attic/card")
    assert missing.status_code == 404
    assert "no zone 'attic'" in text_of(missing.text).replace("&#39;", "'")


def test_plus_on_home_holds_half_a_degree_higher_and_says_so(browser, engine_process):
    make_zone(engine_process, "den", default_heat_setpoint=21)
    answer = browser.post("/adjust/den/nudge", {"steps": "1", "which": "heat", "back": "home"})
    assert answer.status_code == 302
    assert answer.location == "/"
    status, hold = hold_of(engine_process, "den")
    assert status == 200
    assert hold["heat_setpoint"] == 21.5
    assert hold["until"] == "next_schedule"
    assert "Held at 21.5 °C until the next schedule change" in text_of(browser.get("/").text)


def test_minus_on_home(browser, engine_process):
    make_zone(engine_process, "nook", default_heat_setpoint=21)
    browser.post("/adjust/nook/nudge", {"steps": "-1", "back": "home"})
    assert hold_of(engine_process, "nook")[1]["heat_setpoint"] == 20.5


def test_plus_in_fahrenheit_moves_a_whole_degree(browser, engine_process):
    make_zone(engine_process, "loft", default_heat_setpoint=21)
    browser.client.set_cookie("unit", "F")
    assert "70 °F" in text_of(browser.get("/").text)  # 21 °C is 69.8 °F, shown on the whole-degree grid
    browser.post("/adjust/loft/nudge", {"steps": "1", "which": "heat", "back": "home"})
    assert hold_of(engine_process, "loft")[1]["heat_setpoint"] == 21.67  # 71 °F
    assert "Held at 71 °F until the next schedule change" in text_of(browser.get("/").text)


def test_a_form_without_csrf_is_refused_and_stores_nothing(browser, engine_process):
    make_zone(engine_process, "porch", default_heat_setpoint=21)
    answer = browser.client.post("/adjust/porch/nudge", data={"steps": "1", "back": "home"})
    assert answer.status_code == 400
    assert hold_of(engine_process, "porch")[0] == 404


def test_a_nudge_past_the_limit_is_flashed_on_home(browser, engine_process):
    make_zone(engine_process, "sauna", default_heat_setpoint=35, default_cool_setpoint=None)
    answer = browser.post("/adjust/sauna/nudge", {"steps": "1", "back": "home"}, follow_redirects=True)
    assert answer.status_code == 200
    assert "Sauna: 35.5 °C is above the highest setpoint, 35.0 °C" in text_of(answer.text)
    assert hold_of(engine_process, "sauna")[0] == 404


def test_engine_unreachable_is_a_503_page_with_the_banner(offline_browser):
    for url in ("/", "/zones/default/card"):
        page = offline_browser.get(url)
        assert page.status_code == 503
        assert 'id="banner"' in page.text
        assert "Cannot reach the thermostat engine" in page.text
        assert "Traceback" not in page.text


def test_a_zone_the_engine_cannot_decide_is_a_card_saying_why(app):
    """A zone gone between the list and its state (the engine's 404, like its 503 for an undecidable one)."""
    with app.test_request_context("/"):
        engine = context.engine()
        view = home.view_of(engine, {"id": "ghost", "name": "Ghost", "mode": "heat"}, {}, datetime.UTC)
        html, status = home.render_card(view)
        with pytest.raises(EngineError) as refused:
            home.ask(engine, "/zones/ghost/state", (503,))
    assert status == 200
    assert "Ghost – Target – No zone 'ghost'" in text_of(html).replace("&#39;", "'")
    assert 'class="card zone-card home stale"' in html
    assert "data-updated-at" not in html
    assert "/adjust/ghost/nudge" not in html  # nothing to step from
    assert refused.value.status == 404


def test_auto_has_a_heating_and_a_cooling_stepper_and_cool_mode_the_cooling_one(browser, engine_process):
    make_zone(engine_process, "atrium", mode="auto", default_heat_setpoint=20, default_cool_setpoint=25)
    make_zone(engine_process, "cellar2", mode="cool", default_cool_setpoint=24)
    text = text_of(browser.get("/").text)
    assert "Heat to − 20.0 °C + Cool to − 25.0 °C +" in text
    assert "Cellar2 – No sensors are assigned to this zone Target 24.0 °C · Zone default − 24.0 °C +" in text
    browser.post("/adjust/atrium/nudge", {"steps": "1", "which": "cool", "back": "home"})
    hold = hold_of(engine_process, "atrium")[1]
    assert (hold["heat_setpoint"], hold["cool_setpoint"]) == (20, 25.5)
    browser.post("/adjust/cellar2/nudge", {"steps": "-1", "which": "cool", "back": "home"})
    assert hold_of(engine_process, "cellar2")[1]["cool_setpoint"] == 23.5


def test_a_hold_or_an_override_on_home_says_when_it_ends_and_can_be_ended_there(browser, engine_process):
    make_zone(engine_process, "terrace", default_heat_setpoint=18)
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    body = {"name": "Ski week", "zone": "terrace", "start": now.isoformat(), "duration": "PT3H", "heat_setpoint": 12}
    status, override = engine_process.request("POST", "/v1/overrides", body)
    assert status == 201
    card = browser.get("/zones/terrace/card")
    assert "Target 12.0 °C · Ski week until" in text_of(card.text)
    assert "End “Ski week” now" in text_of(card.text)
    answer = browser.post(f"/adjust/terrace/overrides/{override['id']}/end", {"back": "home", "name": "Ski week"})
    assert answer.location == "/"
    assert engine_process.request("GET", f"/v1/overrides/{override['id']}")[0] == 404
    assert "Ended “Ski week”: the schedule is in force" in text_of(browser.get("/").text)
    browser.post("/adjust/terrace/nudge", {"steps": "1", "back": "home"})
    card = text_of(browser.get("/zones/terrace/card").text)
    assert "Target 18.5 °C · Hold until the next schedule change" in card
    assert "Resume schedule" in card
    answer = browser.post("/adjust/terrace/resume", {"back": "home"})
    assert answer.location == "/"
    assert hold_of(engine_process, "terrace")[0] == 404


def test_a_zone_id_no_http_client_can_address_is_a_card_that_says_so(webui_config, fake_peer):
    # Kept by an older engine, before it refused "." and ".." as zone ids.
    old = {"id": "..", "name": "Old attic", "mode": "heat", "sensors": {}, "quorum": 1, "outputs": {}}
    answers = {
        "/v1/status": {"status": True, "timezone": "UTC", "dependencies": {"database": True}},
        "/v1/zones": {"zones": [old]},
        "/v1/sensors": {"sensors": []},
    }
    url = fake_peer(lambda path: (200, "application/json", json.dumps(answers[path.split("?")[0]]).encode()))
    app = create_app(dataclasses.replace(webui_config, engine_url=url.removesuffix("/v1")))
    client = Browser(app.test_client())
    client.login()
    page = client.get("/")
    assert page.status_code == 200
    assert "The zone id '..' cannot be asked for over HTTP; give the zone a new id" in text_of(page.text)
