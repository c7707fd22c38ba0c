"""The devices page against a real engine: sensors, relay units, zones, pairing requests."""

import hashlib
import re

import pytest

from rpymostat_webui.config import WebuiConfig
from tests.webui.conftest import PASSWORD, logged_in_browser, text_of

SECRET = "s3cretS3cretS3cretS3cretS3cret-_42"


def report(engine_process, host, readings):
    """Readings from a sensor daemon of ``host``: ``{sensor_id: celsius}``."""
    sensors = {sensor_id: {"type": "DS18B20", "value": value} for sensor_id, value in readings.items()}
    status, answer = engine_process.request("PUT", "/v1/sensors/update", {"host_id": host, "sensors": sensors})
    assert status == 201, answer


def register(engine_process, host, relays):
    body = {"host_id": host, "url": "http://127.0.0.1:9", "relays": relays, "secret": SECRET}
    status, answer = engine_process.request("POST", "/v1/controls/register", body)
    assert status == 201, answer


def zone(engine_process, zone_id):
    return engine_process.request("GET", f"/v1/zones/{zone_id}")


def ask_to_pair(engine_process, host, code, role="sensor"):
    token_hash = hashlib.sha256(code.encode()).hexdigest()  # each its own: the engine refuses a hash in use
    body = {"host_id": host, "role": role, "code": code, "token_hash": token_hash, "secret": SECRET}
    status, answer = engine_process.request("POST", "/v1/pair", body, token="")
    assert status == 202, answer


def test_the_page_shows_sensors_units_and_zones_with_their_real_state(browser, engine_process):
    report(engine_process, "pi-hall", {"28-hall": 20.5})
    register(
        engine_process,
        "pi-boiler",
        {"relay-0": {"type": "sim", "state": True, "alias": "boiler"}, "relay-1": {"type": "sim", "state": False}},
    )
    body = {"name": "Hall", "sensors": {"28-hall": 1}, "outputs": {"heat": "pi-boiler/relay-0"}}
    assert engine_process.request("PUT", "/v1/zones/hall", body)[0] == 201
    page = browser.get("/devices/")
    assert page.status_code == 200
    text = text_of(page.text)
    assert re.search(r"28-hall 20\.5 °C read \d+ s ago DS18B20 28-hall on pi-hall Used by Hall\.", text), text
    assert "pi-boiler At http://127.0.0.1:9 · registered" in text
    # relay-0 drives the hall: what its unit reports now (nothing: nobody answers on port 9), not "On".
    assert re.search(r"boiler \(relay-0\) sim Not known relay unit 'pi-boiler' unreachable: .* Hall \(heating\)", text)
    assert "relay-1 sim Off at registration –" in text
    assert "Hall (hall): 1 sensor, heat" in text
    browser.client.set_cookie("unit", "F")
    assert "69 °F read" in text_of(browser.get("/devices/").text)


def test_rename_a_sensor(browser, engine_process):
    report(engine_process, "pi-den", {"28-den": 19.0})
    response = browser.post("/devices/sensors/28-den/name", {"name": "Den by the door"})
    assert response.status_code == 302
    sensors = {sensor["id"]: sensor for sensor in engine_process.request("GET", "/v1/sensors")[1]["sensors"]}
    assert sensors["28-den"]["name"] == "Den by the door"
    page = browser.get(response.location)
    assert "Sensor 28-den is now called Den by the door." in page.text
    assert 'value="Den by the door"' in page.text
    # An empty name clears it.
    browser.post("/devices/sensors/28-den/name", {"name": " "})
    sensors = {sensor["id"]: sensor for sensor in engine_process.request("GET", "/v1/sensors")[1]["sensors"]}
    assert sensors["28-den"]["name"] is None


def test_a_refused_name_is_shown_beside_its_field_with_the_input_kept(browser, engine_process):
    report(engine_process, "pi-loft", {"28-loft": 17.0})
    long = "L" * 101
    response = browser.post("/devices/sensors/28-loft/name", {"name": long})
    assert response.status_code == 422
    assert f'value="{long}"' in response.text
    assert re.search(r'<p class="error" id="name-\d+-error" role="alert">.* is too long</p>', response.text)
    sensors = {sensor["id"]: sensor for sensor in engine_process.request("GET", "/v1/sensors")[1]["sensors"]}
    assert sensors["28-loft"]["name"] is None
    missing = browser.post("/devices/sensors/28-nowhere/name", {"name": "x"})
    assert missing.status_code == 302
    assert "The engine said no: no sensor with id &#39;28-nowhere&#39;." in browser.get(missing.location).text


def test_create_a_zone_with_weighted_sensors_and_outputs(browser, engine_process):
    report(engine_process, "pi-up", {"28-up-a": 20.0, "28-up-b": 21.0, "28-up-c": 22.0})
    register(
        engine_process, "pi-up-relays", {"r0": {"type": "sim", "state": False}, "r1": {"type": "sim", "state": False}}
    )
    form = browser.get("/devices/zones/new")
    assert form.status_code == 200
    assert '<option value="pi-up-relays/r1">pi-up-relays · r1 (off)</option>' in form.text
    browser.client.set_cookie("unit", "F")
    response = browser.post(
        "/devices/zones/new",
        {
            "zone": "upstairs",
            "name": "Upstairs",
            "mode": "auto",
            "use": ["28-up-a", "28-up-b"],
            "sensors.28-up-a": "2",
            "sensors.28-up-b": "0.5",
            "sensors.28-up-c": "3",
            "quorum": "2",
            "default_heat_setpoint": "68",
            "default_cool_setpoint": "77",
            "outputs.heat": "pi-up-relays/r0",
            "outputs.cool": "pi-up-relays/r1",
            "outputs.fan": "",
        },
    )
    assert response.status_code == 302, response.text
    status, stored = zone(engine_process, "upstairs")
    assert status == 200
    assert stored["name"] == "Upstairs" and stored["mode"] == "auto" and stored["quorum"] == 2
    assert stored["sensors"] == {"28-up-a": 2.0, "28-up-b": 0.5}
    assert (stored["default_heat_setpoint"], stored["default_cool_setpoint"]) == (20.0, 25.0)
    assert stored["outputs"] == {"heat": "pi-up-relays/r0", "cool": "pi-up-relays/r1"}
    assert stored["decision"] == {"plugin": "hysteresis", "config": {}}
    edit = browser.get("/devices/zones/upstairs")
    assert 'name="default_heat_setpoint" value="68"' in edit.text
    assert 'name="sensors.28-up-b" type="number"' in edit.text and 'value="0.5"' in edit.text


def test_zone_errors_are_shown_beside_their_fields(browser, engine_process):
    report(engine_process, "pi-cellar", {"28-cellar": 12.0})
    base = {"zone": "cellar", "name": "Cellar", "mode": "heat", "use": ["28-cellar"], "quorum": "1"}
    typo = browser.post("/devices/zones/new", {**base, "sensors.28-cellar": "heavy", "quorum": "one"})
    assert typo.status_code == 422
    assert 'id="sensors-28-cellar-error" role="alert">&#39;heavy&#39; is not a number' in typo.text
    assert 'id="quorum-error" role="alert">needs a whole number of sensors' in typo.text
    assert 'value="heavy"' in typo.text
    hot = browser.post("/devices/zones/new", {**base, "default_heat_setpoint": "40"})
    assert hot.status_code == 422
    assert 'id="default_heat_setpoint-error" role="alert">40.0 is greater than the maximum of 35' in hot.text
    assert 'value="40"' in hot.text
    cold = browser.post("/devices/zones/new", {**base, "default_cool_setpoint": "chilly"})
    assert cold.status_code == 422
    assert 'id="default_cool_setpoint-error" role="alert">Give a number of degrees, such as 21.' in cold.text
    bad_id = browser.post("/devices/zones/new", {**base, "zone": "my cellar"})
    assert bad_id.status_code == 422
    assert "may hold only letters, digits" in text_of(bad_id.text)
    no_id = browser.post("/devices/zones/new", {**base, "zone": ""})
    assert no_id.status_code == 422 and "needs a short id" in no_id.text
    too_many = browser.post("/devices/zones/new", {**base, "quorum": "3"})
    assert too_many.status_code == 422 and 'id="quorum-error"' in too_many.text
    assert zone(engine_process, "cellar")[0] == 404


def test_editing_a_zone_keeps_its_plugin_and_safety_limits(browser, engine_process):
    body = {
        "name": "Study",
        "safety": {"heat": {"min_on_s": 600}},
        "decision": {"plugin": "hysteresis", "config": {"cold_tolerance": 0.5}},
    }
    assert engine_process.request("PUT", "/v1/zones/study", body)[0] == 201
    response = browser.post(
        "/devices/zones/study",
        {
            "name": "Quiet study",
            "mode": "off",
            "quorum": "1",
            "default_heat_setpoint": "19.5",
            "default_cool_setpoint": "",
        },
    )
    assert response.status_code == 302, response.text
    stored = zone(engine_process, "study")[1]
    assert stored["name"] == "Quiet study" and stored["mode"] == "off"
    assert (stored["default_heat_setpoint"], stored["default_cool_setpoint"]) == (19.5, None)
    assert stored["safety"] == {"heat": {"min_on_s": 600}}
    assert stored["decision"] == {"plugin": "hysteresis", "config": {"cold_tolerance": 0.5}}
    assert browser.get("/devices/zones/nowhere").status_code == 404
    # In °F the setpoints show as whole degrees; one left as shown keeps its exact Celsius value.
    browser.client.set_cookie("unit", "F")
    assert 'name="default_heat_setpoint" value="67"' in browser.get("/devices/zones/study").text
    form = {"name": "Quiet study", "mode": "heat", "quorum": "1"}
    browser.post("/devices/zones/study", {**form, "default_heat_setpoint": "67", "default_cool_setpoint": "80"})
    stored = zone(engine_process, "study")[1]
    assert (stored["default_heat_setpoint"], stored["default_cool_setpoint"]) == (19.5, 26.67)
    browser.post("/devices/zones/study", {**form, "default_heat_setpoint": "66", "default_cool_setpoint": "80"})
    assert zone(engine_process, "study")[1]["default_heat_setpoint"] == 18.89


def test_an_id_with_a_question_mark_or_slash_is_one_path_segment(browser, engine_process):
    """``spare?`` is not ``spare``: unescaped, the engine would read the rest as a query and act on ``spare``."""
    assert engine_process.request("PUT", "/v1/zones/spare", {"name": "Spare"})[0] == 201
    assert browser.get("/devices/zones/spare%3F").status_code == 404
    assert browser.post("/devices/zones/spare%3F/delete").status_code == 404
    assert zone(engine_process, "spare")[0] == 200
    report(engine_process, "pi-q", {"28-q": 18.0})
    renamed = browser.post("/devices/sensors/28-q%3Fx/name", {"name": "Wrong one"})
    assert "no sensor with id &#39;28-q?x&#39;" in browser.get(renamed.location).text
    removed = browser.post("/devices/sensors/28-q%3F/delete")
    assert "no sensor with id &#39;28-q?&#39;" in browser.get(removed.location).text
    sensors = {sensor["id"]: sensor for sensor in engine_process.request("GET", "/v1/sensors")[1]["sensors"]}
    assert sensors["28-q"]["name"] is None
    rejected = browser.post("/devices/pairings/ABC234%3F/reject")
    assert "No request with code ABC234? is waiting any more." in browser.get(rejected.location).text


@pytest.mark.parametrize("typed", ["nan", "inf", "-inf", "NaN"])
def test_a_setpoint_or_weight_that_is_not_a_finite_number_is_refused_beside_its_field(browser, engine_process, typed):
    report(engine_process, "pi-inf", {"28-inf": 18.0})
    base = {"zone": "infinite", "name": "Infinite", "mode": "heat", "use": ["28-inf"], "quorum": "1"}
    for field in ("default_heat_setpoint", "default_cool_setpoint"):
        response = browser.post("/devices/zones/new", {**base, field: typed})
        assert response.status_code == 422, response.text
        assert f'id="{field}-error" role="alert">Give a number of degrees, such as 21.' in response.text
        assert f'value="{typed}"' in response.text
    weight = browser.post("/devices/zones/new", {**base, "sensors.28-inf": typed})
    assert weight.status_code == 422, weight.text
    assert 'id="sensors-28-inf-error" role="alert">must be a number' in weight.text
    browser.client.set_cookie("unit", "F")
    fahrenheit = browser.post("/devices/zones/new", {**base, "default_heat_setpoint": typed})
    assert fahrenheit.status_code == 422 and "Give a number of degrees, such as 70." in fahrenheit.text
    assert zone(engine_process, "infinite")[0] == 404


def test_delete_a_zone_after_confirming(browser, engine_process):
    assert engine_process.request("PUT", "/v1/zones/attic", {"name": "Attic"})[0] == 201
    confirm = browser.get("/devices/zones/attic/delete")
    assert confirm.status_code == 200 and "Delete zone Attic?" in confirm.text
    assert zone(engine_process, "attic")[0] == 200
    response = browser.post("/devices/zones/attic/delete")
    assert response.status_code == 302
    assert zone(engine_process, "attic")[0] == 404
    refused = browser.post("/devices/zones/default/delete")
    assert refused.status_code == 409
    assert "The engine said no: the default zone cannot be deleted." in refused.text


def test_remove_a_sensor_nobody_uses(browser, engine_process):
    report(engine_process, "pi-shed", {"28-shed": 8.0})
    response = browser.post("/devices/sensors/28-shed/delete")
    assert response.status_code == 302
    ids = {sensor["id"] for sensor in engine_process.request("GET", "/v1/sensors")[1]["sensors"]}
    assert "28-shed" not in ids
    assert "Sensor 28-shed is off the list" in browser.get(response.location).text
    again = browser.post("/devices/sensors/28-shed/delete")
    assert "no sensor with id" in browser.get(again.location).text


def test_approve_a_pairing_request(browser, engine_process):
    ask_to_pair(engine_process, "pi-garage", "K7M2QX")
    page = text_of(browser.get("/devices/").text)
    assert "Code K7M2QX pi-garage asks to pair as a sensor daemon, from 127.0.0.1" in page
    response = browser.post("/devices/pairings/K7M2QX/approve")
    assert response.status_code == 302
    assert engine_process.request("GET", "/v1/pairings")[1]["pairings"] == []
    tokens = {token["name"]: token for token in engine_process.request("GET", "/v1/tokens")[1]["tokens"]}
    assert tokens["sensor-pi-garage"]["host_id"] == "pi-garage"
    assert "Approved K7M2QX: pi-garage may now send as sensor" in browser.get(response.location).text
    gone = browser.post("/devices/pairings/K7M2QX/approve")
    assert "No request with code K7M2QX is waiting any more." in browser.get(gone.location).text


def pending(engine_process):
    return [found["code"] for found in engine_process.request("GET", "/v1/pairings")[1]["pairings"]]


def tokens_of(engine_process):
    return {token["name"]: token for token in engine_process.request("GET", "/v1/tokens")[1]["tokens"]}


def test_each_pairing_request_says_the_role_it_asks_for(browser, engine_process):
    ask_to_pair(engine_process, "pi-boiler-room", "C4NTR2", role="control")
    ask_to_pair(engine_process, "kitchen-tablet", "USR234", role="user")
    page = text_of(browser.get("/devices/").text)
    assert "Code C4NTR2 pi-boiler-room asks to pair as a relay unit, from 127.0.0.1" in page
    assert "Code USR234 kitchen-tablet asks to pair as a web UI or app (user), from 127.0.0.1" in page
    assert "full control" not in page
    response = browser.post("/devices/pairings/USR234/approve", {"role": "user"})
    assert response.status_code == 302
    assert "Approved USR234: kitchen-tablet may now send as user" in browser.get(response.location).text
    assert "USR234" not in pending(engine_process)
    assert tokens_of(engine_process)["user-kitchen-tablet"]["role"] == "user"
    # A GET is the confirm page, for any role; its form approves.
    confirm = browser.get("/devices/pairings/C4NTR2/approve")
    assert confirm.status_code == 200
    assert "Approve pi-boiler-room? Code C4NTR2 Host pi-boiler-room From 127.0.0.1" in text_of(confirm.text)
    assert "Asks to be a relay unit" in text_of(confirm.text)
    assert browser.post("/devices/pairings/C4NTR2/approve", {"role": "control"}).status_code == 302
    assert tokens_of(engine_process)["control-pi-boiler-room"]["host_id"] == "pi-boiler-room"
    gone = browser.get("/devices/pairings/C4NTR2/approve")
    assert gone.status_code == 302
    assert "No request with code C4NTR2 is waiting any more." in browser.get(gone.location).text


def test_a_request_for_full_control_is_approved_only_after_confirming(browser, engine_process):
    ask_to_pair(engine_process, "stranger", "ADM7N2", role="admin")
    page = browser.get("/devices/")
    text = text_of(page.text)
    assert "Code ADM7N2 stranger asks to pair as a web UI or app with full control (admin), from 127.0.0.1" in text
    assert "Warning: this asks for full control." in text
    assert "relay unit" not in text.split("Code ADM7N2")[1]
    # No one-click approval: a link to the confirm page instead of a form.
    assert '<a class="btn" href="/devices/pairings/ADM7N2/approve">Approve ADM7N2…</a>' in page.text
    assert '<form method="post" action="/devices/pairings/ADM7N2/approve">' not in page.text
    for form in ({}, {"role": "admin"}, {"confirm": "yes", "host_id": "stranger"}, {"confirm": "admin"}):
        plain = browser.post("/devices/pairings/ADM7N2/approve", form)
        assert plain.status_code == 200, form
        assert "Give stranger full control?" in plain.text
        assert pending(engine_process) == ["ADM7N2"], form
        assert "admin-stranger" not in tokens_of(engine_process)
    # A request that says it showed another role is not approved either.
    assert browser.post("/devices/pairings/ADM7N2/approve", {"role": "sensor"}).status_code == 200
    assert pending(engine_process) == ["ADM7N2"]
    confirm = browser.get("/devices/pairings/ADM7N2/approve")
    text = text_of(confirm.text)
    assert "Give stranger full control? Code ADM7N2 Host stranger From 127.0.0.1" in text
    assert "Asks to be a web UI or app with full control (admin)" in text
    assert "Warning: approving grants full control of the thermostat." in text
    assert "make and revoke engine tokens" in text
    assert '<input type="hidden" name="confirm" value="admin">' in confirm.text
    response = browser.post("/devices/pairings/ADM7N2/approve", {"confirm": "admin", "host_id": "stranger"})
    assert response.status_code == 302
    assert pending(engine_process) == []
    assert tokens_of(engine_process)["admin-stranger"]["role"] == "admin"
    assert "Approved ADM7N2: stranger may now send as admin" in browser.get(response.location).text


def test_reject_a_pairing_request(browser, engine_process):
    ask_to_pair(engine_process, "pi-porch", "P3RCH2")
    response = browser.post("/devices/pairings/P3RCH2/reject")
    assert response.status_code == 302
    assert engine_process.request("GET", "/v1/pairings")[1]["pairings"] == []
    tokens = {token["name"] for token in engine_process.request("GET", "/v1/tokens")[1]["tokens"]}
    assert "sensor-pi-porch" not in tokens
    assert "Rejected the request with code P3RCH2." in browser.get(response.location).text
    again = browser.post("/devices/pairings/P3RCH2/reject")
    assert "No request with code P3RCH2 is waiting any more." in browser.get(again.location).text


def test_without_an_admin_token_the_admin_forms_are_absent(webui_config, engine_process):
    ask_to_pair(engine_process, "pi-bath", "B4THRM")
    register(engine_process, "pi-bath-relays", {"r0": {"type": "sim", "state": False}})
    assert (
        engine_process.request("PUT", "/v1/zones/bath", {"name": "Bath", "outputs": {"heat": "pi-bath-relays/r0"}})[0]
        == 201
    )
    browser = logged_in_browser(webui_config, role="user")
    page = browser.get("/devices/").text
    assert "Approving daemons needs an admin token" in page
    assert "B4THRM" not in page and "Remove from the list" not in page
    edit = browser.get("/devices/zones/bath").text
    assert 'name="outputs.heat"' not in edit and "Changing outputs needs an admin token" in edit
    assert "Heating: pi-bath-relays/r0." in text_of(edit)
    assert "Delete zone" not in edit
    saved = browser.post("/devices/zones/bath", {"name": "Bathroom", "mode": "heat", "quorum": "1"})
    assert saved.status_code == 302, saved.text
    stored = zone(engine_process, "bath")[1]
    assert stored["name"] == "Bathroom" and stored["outputs"] == {"heat": "pi-bath-relays/r0"}
    created = browser.post(
        "/devices/zones/new", {"zone": "sauna", "name": "Sauna", "mode": "heat", "outputs.heat": "pi-bath-relays/r0"}
    )
    assert created.status_code == 302, created.text
    assert zone(engine_process, "sauna")[1]["outputs"] == {}
    engine_process.request("DELETE", "/v1/pairings/B4THRM")


def test_a_token_the_engine_refuses_gives_a_readable_message(tmp_path, engine_process):
    status, made = engine_process.request("POST", "/v1/tokens", {"name": "devices-user", "role": "user"})
    assert status == 201
    config = WebuiConfig(
        engine_url=engine_process.url, data_dir=tmp_path / "ui", password=PASSWORD, token=made["token"]
    )
    browser = logged_in_browser(config)  # the UI believes it is an admin; the engine knows better
    ask_to_pair(engine_process, "pi-yard", "Y4RD22")
    page = browser.get("/devices/")
    assert page.status_code == 502 and "may not do this" in page.text
    refused = browser.post("/devices/pairings/Y4RD22/approve")
    assert refused.status_code == 302
    assert (
        "The web UI&#39;s engine token may not do this; it needs an admin token" in browser.get(refused.location).text
    )
    response = browser.post(
        "/devices/zones/new", {"zone": "yard", "name": "Yard", "mode": "heat", "quorum": "1", "outputs.heat": "pi-x/r0"}
    )
    assert response.status_code == 403
    assert "The web UI&#39;s engine token may not do this; it needs an admin token" in response.text
    assert 'value="Yard"' in response.text
    assert zone(engine_process, "yard")[0] == 404
    assert engine_process.request("GET", "/v1/pairings")[1]["pairings"][0]["code"] == "Y4RD22"
    sensor_token = engine_process.request("POST", "/v1/tokens", {"name": "devices-sensor", "role": "sensor"})[1]
    config = WebuiConfig(
        engine_url=engine_process.url, data_dir=tmp_path / "s", password=PASSWORD, token=sensor_token["token"]
    )
    page = logged_in_browser(config).get("/devices/zones/default")
    assert page.status_code == 502 and "may not do this" in page.text
    engine_process.request("DELETE", "/v1/pairings/Y4RD22")


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(browser, engine_process):
    report(engine_process, "pi-csrf", {"28-csrf": 20.0})
    response = browser.client.post("/devices/sensors/28-csrf/name", data={"name": "forged"})
    assert response.status_code == 400
    sensors = {sensor["id"]: sensor for sensor in engine_process.request("GET", "/v1/sensors")[1]["sensors"]}
    assert sensors["28-csrf"]["name"] is None
    forged_zone = browser.client.post("/devices/zones/new", data={"zone": "forged", "name": "Forged"})
    assert forged_zone.status_code == 400
    assert zone(engine_process, "forged")[0] == 404


@pytest.mark.parametrize("url", ["/devices/", "/devices/zones/new", "/devices/zones/default"])
def test_engine_unreachable_is_a_503_page(tmp_path, url):
    config = WebuiConfig(engine_url="http://127.0.0.1:9", data_dir=tmp_path / "ui", password=PASSWORD, token="x")
    browser = logged_in_browser(config)
    response = browser.get(url)
    assert response.status_code == 503
    assert "Cannot reach the thermostat engine" in response.text
    posted = browser.post("/devices/sensors/28-x/name", {"name": "x"})
    assert posted.status_code == 503


def test_a_relay_shows_what_its_unit_reports_now_not_its_registration(browser, engine_process):
    register(
        engine_process, "pi-loft-relays", {"r0": {"type": "sim", "state": True}, "r1": {"type": "sim", "state": True}}
    )
    body = {"name": "Loft", "mode": "off", "outputs": {"heat": "pi-loft-relays/r0"}}
    assert engine_process.request("PUT", "/v1/zones/loft", body)[0] == 201
    outputs = engine_process.request("GET", "/v1/zones/loft/state")[1]["outputs"]
    assert outputs["heat"]["address"] == "pi-loft-relays/r0"
    page = text_of(browser.get("/devices/").text)
    loft = page.split("pi-loft-relays", 1)[1]
    wired, unwired = loft.split("r1 sim", 1)
    # r0 drives the loft: its state is the zone's report (the unit at port 9 never answered), not "On".
    if outputs["heat"]["on"] is None:
        assert "Not known" in wired and "at registration" not in wired
    else:
        assert ("On" if outputs["heat"]["on"] else "Off") in wired
    if outputs["heat"]["note"]:
        assert outputs["heat"]["note"] in wired
    # r1 drives nothing: only its registered state is known, and the page says so.
    assert unwired.strip().startswith("On at registration")


def test_saving_a_zone_untouched_keeps_a_setpoint_off_the_half_degree_grid(browser, engine_process):
    # 21.3 °C (set through the API) is shown as 21.3, as on the cards, and saved back as 21.3, not 21.5.
    body = {"name": "Study", "mode": "heat", "default_heat_setpoint": 21.3}
    assert engine_process.request("PUT", "/v1/zones/reading-room", body)[0] == 201
    page = browser.get("/devices/zones/reading-room")
    assert 'name="default_heat_setpoint" value="21.3"' in page.text
    saved = browser.post(
        "/devices/zones/reading-room",
        {"name": "Study room", "mode": "heat", "quorum": "1", "default_heat_setpoint": "21.3"},
    )
    assert saved.status_code == 302, saved.text
    assert zone(engine_process, "reading-room")[1]["default_heat_setpoint"] == 21.3
