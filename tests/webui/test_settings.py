"""The settings page against a real engine: plugin settings from its schema, safety limits, tokens, password."""

import re

from rpymostat.protocol.host_id import host_id
from rpymostat_webui.config import WebuiConfig
from rpymostat_webui.household import Household
from tests.webui.conftest import PASSWORD, logged_in_browser, text_of


def make_zone(engine_process, zone_id, **fields):
    status, answer = engine_process.request("PUT", f"/v1/zones/{zone_id}", {"name": zone_id.title(), **fields})
    assert status == 201, answer


def stored(engine_process, zone_id):
    return engine_process.request("GET", f"/v1/zones/{zone_id}")[1]


def test_the_hysteresis_settings_form_comes_from_its_schema_and_saves(browser, engine_process):
    make_zone(engine_process, "kitchen", mode="cool", safety={"cool": {"min_off_s": 300}})
    page = browser.get("/settings/?zone=kitchen")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "How Kitchen decides" in text
    assert "hysteresis: On/off control with a dead band around each setpoint." in text
    assert "Cold tolerance From 0 to 5. Default: 0.3." in text
    assert "Hot tolerance From 0 to 5. Default: 0.3." in text
    assert 'name="config.cold_tolerance" type="number"' in page.text
    response = browser.post(
        "/settings/zones/kitchen/decision",
        {"plugin": "hysteresis", "config.cold_tolerance": "0.6", "config.hot_tolerance": ""},
    )
    assert response.status_code == 302, response.text
    zone = stored(engine_process, "kitchen")
    assert zone["decision"] == {"plugin": "hysteresis", "config": {"cold_tolerance": 0.6}}
    assert zone["mode"] == "cool" and zone["safety"] == {"cool": {"min_off_s": 300}}
    again = browser.get(response.location)
    assert "The hysteresis settings of this zone are saved." in again.text
    assert re.search(r'name="config.cold_tolerance" type="number" inputmode="decimal" value="0.6"', again.text)


def test_a_bad_plugin_setting_is_shown_beside_its_field_and_not_sent(browser, engine_process):
    make_zone(engine_process, "pantry")
    response = browser.post(
        "/settings/zones/pantry/decision",
        {"plugin": "hysteresis", "config.cold_tolerance": "lots", "config.hot_tolerance": "7"},
    )
    assert response.status_code == 422
    assert 'id="config-cold_tolerance-error" role="alert">&#39;lots&#39; is not a number' in response.text
    assert 'id="config-hot_tolerance-error" role="alert">must be at most 5' in response.text
    assert 'value="lots"' in response.text and 'value="7"' in response.text
    assert stored(engine_process, "pantry")["decision"] == {"plugin": "hysteresis", "config": {}}
    unknown = browser.post("/settings/zones/pantry/decision", {"plugin": "nope"})
    assert unknown.status_code == 422
    assert 'id="plugin-error" role="alert">choose one of the installed plugins' in unknown.text
    shown = browser.get("/settings/?zone=pantry&plugin=nope")
    assert "The plugin nope is not installed in the engine." in shown.text
    assert browser.get("/settings/?zone=nowhere").status_code == 404


def test_safety_limits_save_and_a_bad_one_is_refused_beside_its_field(browser, engine_process):
    make_zone(engine_process, "annex", decision={"plugin": "hysteresis", "config": {"hot_tolerance": 1}})
    page = text_of(browser.get("/settings/?zone=annex").text)
    assert "Heating output Min on s Once on, stays on at least this long. From 0 to 3600." in page
    assert (
        "Cooling output" in page and "Max cycles per hour Switched on at most this often an hour. From 1 to 60." in page
    )
    response = browser.post(
        "/settings/zones/annex/safety",
        {"safety.heat.min_on_s": "600", "safety.heat.max_cycles_per_hour": "4", "safety.cool.min_off_s": ""},
    )
    assert response.status_code == 302, response.text
    zone = stored(engine_process, "annex")
    assert zone["safety"] == {"heat": {"min_on_s": 600, "max_cycles_per_hour": 4}}
    assert zone["decision"] == {"plugin": "hysteresis", "config": {"hot_tolerance": 1}}
    assert (
        'name="safety.heat.min_on_s" type="number" inputmode="decimal" value="600"'
        in browser.get(response.location).text
    )
    bad = browser.post(
        "/settings/zones/annex/safety", {"safety.heat.min_on_s": "99999", "safety.cool.max_cycles_per_hour": "2.5"}
    )
    assert bad.status_code == 422
    assert 'id="safety-heat-min_on_s-error" role="alert">must be at most 3600' in bad.text
    assert 'id="safety-cool-max_cycles_per_hour-error" role="alert">&#39;2.5&#39; is not a whole number' in bad.text
    assert 'value="99999"' in bad.text
    assert stored(engine_process, "annex")["safety"] == {"heat": {"min_on_s": 600, "max_cycles_per_hour": 4}}


def test_an_engine_refusal_of_a_save_is_readable(tmp_path, engine_process):
    make_zone(engine_process, "guest")
    status, made = engine_process.request("POST", "/v1/tokens", {"name": "settings-read", "role": "read"})
    assert status == 201
    config = WebuiConfig(
        engine_url=engine_process.url, data_dir=tmp_path / "ui", password=PASSWORD, token=made["token"]
    )
    browser = logged_in_browser(config, role="user")
    response = browser.post("/settings/zones/guest/safety", {"safety.heat.min_on_s": "60"})
    assert response.status_code == 403
    assert "The web UI&#39;s engine token may not do this; it needs an admin token" in response.text
    assert 'value="60"' in response.text
    assert stored(engine_process, "guest")["safety"] == {}
    decision = browser.post("/settings/zones/guest/decision", {"plugin": "hysteresis", "config.cold_tolerance": "1"})
    assert decision.status_code == 403
    assert "it needs an admin token" in decision.text and 'value="1"' in decision.text
    assert stored(engine_process, "guest")["decision"]["config"] == {}


def test_a_token_is_shown_once_works_and_stops_working_when_revoked(browser, engine_process):
    response = browser.post("/settings/tokens", {"name": "hall-tablet", "role": "user", "host_id": ""})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert "Copy this token now: it is shown only this once." in response.text
    token = re.search(r'<output id="token">([^<]+)</output>', response.text).group(1)
    assert engine_process.request("GET", "/v1/zones", token=token)[0] == 200
    listed = browser.get("/settings/")
    assert token not in listed.text
    assert "hall-tablet user –" in text_of(listed.text)
    confirm = browser.get("/settings/tokens/hall-tablet/revoke")
    assert "Revoke the token hall-tablet?" in confirm.text
    assert engine_process.request("GET", "/v1/zones", token=token)[0] == 200
    revoked = browser.post("/settings/tokens/hall-tablet/revoke")
    assert revoked.status_code == 302
    assert engine_process.request("GET", "/v1/zones", token=token)[0] == 401
    assert "The token hall-tablet is revoked." in browser.get(revoked.location).text
    again = browser.post("/settings/tokens/hall-tablet/revoke")
    assert "The engine said no: no token" in browser.get(again.location).text


def test_the_web_uis_own_paired_token_is_marked_and_revoking_it_warns(browser, webui_config, engine_process):
    own = host_id(webui_config.data_dir)  # the host id the UI pairs with, as the service finds it
    body = {"host_id": own, "role": "admin", "code": "W3BU2Z", "token_hash": "cd" * 32, "secret": "s" * 32}
    assert engine_process.request("POST", "/v1/pair", body, token="")[0] == 202
    assert engine_process.request("POST", "/v1/pairings/W3BU2Z/approve")[0] == 201
    made = engine_process.request("POST", "/v1/tokens", {"name": "den-tablet", "role": "user"})
    assert made[0] == 201
    page = browser.get("/settings/")
    text = text_of(page.text)
    assert f"admin-{own} (paired) this web UI's own token admin" in text
    assert "den-tablet this web UI" not in text and text.count("this web UI's own token") == 1
    confirm = text_of(browser.get(f"/settings/tokens/admin-{own}/revoke").text)
    assert f"Revoke the token admin-{own}?" in confirm
    assert "This is the web UI's own token. Revoking it stops these pages at once." in confirm
    assert "asks to pair again" in confirm
    other = text_of(browser.get("/settings/tokens/den-tablet/revoke").text)
    assert "Revoke the token den-tablet?" in other and "own token" not in other
    # A token named like it but made by hand is not the UI's paired one.
    engine_process.request("DELETE", f"/v1/tokens/admin-{own}")
    assert engine_process.request("POST", "/v1/tokens", {"name": f"admin-{own}", "role": "read"})[0] == 201
    assert "this web UI's own token" not in browser.get("/settings/").text
    engine_process.request("DELETE", f"/v1/tokens/admin-{own}")


def test_an_id_with_a_question_mark_is_one_path_segment(browser, engine_process):
    """``loft?`` is not ``loft``: unescaped, the engine would read the rest as a query and act on ``loft``."""
    make_zone(engine_process, "loft")
    response = browser.post("/settings/zones/loft%3F/safety", {"safety.heat.min_on_s": "60"})
    assert response.status_code == 404
    assert stored(engine_process, "loft")["safety"] == {}
    decision = browser.post("/settings/zones/loft%3F/decision", {"plugin": "hysteresis", "config.cold_tolerance": "1"})
    assert decision.status_code == 404
    assert stored(engine_process, "loft")["decision"]["config"] == {}
    assert engine_process.request("POST", "/v1/tokens", {"name": "porch", "role": "user"})[0] == 201
    revoked = browser.post("/settings/tokens/porch%3Fx/revoke")
    assert "no token" in browser.get(revoked.location).text
    assert "porch" in [token["name"] for token in engine_process.request("GET", "/v1/tokens")[1]["tokens"]]


def test_a_sensor_token_for_one_host(browser, engine_process):
    response = browser.post("/settings/tokens", {"name": "attic-sensor", "role": "sensor", "host_id": "pi-attic"})
    assert response.status_code == 201
    assert "Token (sensor, for pi-attic)" in text_of(response.text)
    tokens = {token["name"]: token for token in engine_process.request("GET", "/v1/tokens")[1]["tokens"]}
    assert (tokens["attic-sensor"]["role"], tokens["attic-sensor"]["host_id"]) == ("sensor", "pi-attic")


def test_refused_tokens_are_shown_beside_the_name(browser, engine_process):
    spaced = browser.post("/settings/tokens", {"name": "my tablet", "role": "user"})
    assert spaced.status_code == 422
    assert 'id="name-error" role="alert">&#39;my tablet&#39; must not contain slashes or white space' in spaced.text
    assert 'value="my tablet"' in spaced.text
    taken = browser.post("/settings/tokens", {"name": "admin", "role": "read", "zone": "default"})
    assert taken.status_code == 409
    assert 'id="name-error" role="alert">a token named &#39;admin&#39; exists' in taken.text
    assert '<option value="read" selected>' in taken.text
    names = [token["name"] for token in engine_process.request("GET", "/v1/tokens")[1]["tokens"]]
    assert "my tablet" not in names and names.count("admin") == 1


def test_without_an_admin_token_the_token_forms_are_absent(webui_config):
    browser = logged_in_browser(webui_config, role="user")
    page = browser.get("/settings/")
    assert page.status_code == 200
    assert "Managing tokens needs an admin token" in page.text
    assert "Create token" not in page.text and "/revoke" not in page.text
    assert "Save safety limits" in page.text


def test_the_password_card_only_when_the_password_is_not_provisioned(browser, tmp_path, engine_process):
    assert "Change the household password" not in browser.get("/settings/").text
    data_dir = tmp_path / "own"
    Household(data_dir).change(PASSWORD, PASSWORD)
    config = WebuiConfig(engine_url=engine_process.url, data_dir=data_dir, token=engine_process.admin_token)
    own = logged_in_browser(config)
    page = own.get("/settings/")
    assert "Change the household password" in page.text
    assert 'action="/password"' in page.text
    changed = own.post(
        "/password", {"current": PASSWORD, "password": "a new long password", "repeated": "a new long password"}
    )
    assert changed.status_code == 302
    assert "The household password is changed" in own.get(changed.location).text
    assert Household(data_dir).check("a new long password")


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(browser, engine_process):
    make_zone(engine_process, "forged")
    response = browser.client.post("/settings/zones/forged/safety", data={"safety.heat.min_on_s": "60"})
    assert response.status_code == 400
    assert stored(engine_process, "forged")["safety"] == {}
    token = browser.client.post("/settings/tokens", data={"name": "forged", "role": "admin"})
    assert token.status_code == 400
    assert "forged" not in [found["name"] for found in engine_process.request("GET", "/v1/tokens")[1]["tokens"]]


def test_engine_unreachable_is_a_503_page(tmp_path):
    config = WebuiConfig(engine_url="http://127.0.0.1:9", data_dir=tmp_path / "ui", password=PASSWORD, token="x")
    browser = logged_in_browser(config)
    assert browser.get("/settings/").status_code == 503
    response = browser.post("/settings/tokens", {"name": "x", "role": "user"})
    assert response.status_code == 503
    assert "Cannot reach the thermostat engine" in response.text


def test_every_kind_of_field_renders_as_a_labelled_control(app):
    """A plugin the UI never saw (tests.webui.test_schema_form.SCHEMA) still gets a usable form."""
    from rpymostat_webui import schema_form
    from tests.webui.test_schema_form import SCHEMA

    fields = schema_form.fields(SCHEMA)
    values = {"config.boost": "true", "config.mode": '"comfort"', "config.points": "[1]", "config.label": "hall"}
    errors = {"config.steps": "'x' is not a whole number"}
    source = '{% from "_schema_fields.html" import schema_fields %}{{ schema_fields(fields, values, errors) }}'
    with app.test_request_context():
        html = app.jinja_env.from_string(source).render(fields=fields, values=values, errors=errors)
        empty = app.jinja_env.from_string(source).render(fields=[], values={}, errors={})
    text = text_of(html)
    assert "Dead band (needed)" in text and "From 0 to 5. Default: 0.3." in text
    assert '<option value="">Not set (default: no)</option>' in html
    assert '<option value="true" selected>Yes</option>' in html
    assert '<option value="&#34;comfort&#34;" selected>comfort</option>' in html
    assert '<option value="">Not set</option>' not in html.split('name="config.mode"')[1].split("</select>")[0]
    assert 'name="config.label" type="text" value="hall"' in html
    assert '<textarea id="f-config-points" name="config.points" rows="3" spellcheck="false"' in html
    assert ">[1]</textarea>" in html
    assert '<fieldset class="schema-group">\n  <legend>Tuning</legend>' in html
    assert 'name="config.steps" type="number" inputmode="decimal" value=""\n    step="1"' in html
    assert 'aria-describedby="config-steps-hint config-steps-error" aria-invalid="true"' in html
    assert 'id="config-steps-error" role="alert">&#39;x&#39; is not a whole number' in html
    assert "This plugin has no settings." in empty
