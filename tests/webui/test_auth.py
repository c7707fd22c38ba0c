"""Logging in, the first-visit setup, CSRF on every form, pacing, logout and the unit choice."""

import dataclasses
import re

import pytest

from rpymostat_webui.app import create_app
from tests.webui.conftest import PASSWORD, Browser, text_of


def form_token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def fresh_app(webui_config):
    """A UI with no password configured: the first visit must set one."""
    app = create_app(dataclasses.replace(webui_config, password=None))
    app.testing = True
    return app


def test_every_page_sends_a_stranger_to_the_login_page_and_back_after(app):
    client = app.test_client()
    answer = client.get("/history/?period=week")
    assert answer.status_code == 302
    assert answer.location == "/login?next=/history/?period%3Dweek"
    page = client.get(answer.location).text
    answer = client.post(answer.location, data={"password": PASSWORD, "csrf_token": form_token(page)})
    assert answer.status_code == 302
    assert answer.location == "/history/?period=week"


def test_a_stranger_s_form_post_is_refused_without_a_redirect(app):
    client = app.test_client()
    assert client.post("/unit", data={"unit": "F"}).status_code == 401


def test_a_wrong_password_is_said_plainly_and_logs_nobody_in(app):
    client = Browser(app.test_client())
    client.refresh_csrf()
    answer = client.post("/login", data={"password": "not it"})
    assert answer.status_code == 401
    assert "That is not the household password." in text_of(answer.text)
    assert client.get("/").status_code == 302


def test_login_is_refused_without_the_form_s_csrf_token(app):
    client = app.test_client()
    client.get("/login")
    answer = client.post("/login", data={"password": PASSWORD})
    assert answer.status_code == 400
    assert "reload the page" in text_of(answer.text)
    assert client.get("/").status_code == 302


def test_after_ten_wrong_passwords_in_a_minute_even_the_right_one_waits(app):
    client = Browser(app.test_client())
    client.refresh_csrf()
    for _ in range(10):
        assert client.post("/login", data={"password": "guess"}).status_code == 401
    answer = client.post("/login", data={"password": PASSWORD})
    assert answer.status_code == 429
    assert re.search(r"try again in \d+ s", answer.text)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_after_login_only_a_path_on_this_site_is_followed(app, target):
    client = Browser(app.test_client())
    client.refresh_csrf()
    answer = client.post(f"/login?next={target}", data={"password": PASSWORD})
    assert answer.status_code == 302
    assert answer.location == "/"


def test_the_first_visit_sets_the_password_with_the_logged_code(fresh_app, webui_config):
    client = fresh_app.test_client()
    assert client.get("/").location.startswith("/login")
    assert client.get("/login").location == "/setup"
    page = client.get("/setup")
    code_file = webui_config.data_dir / "webui-setup-code"
    assert str(code_file) in text_of(page.text)
    code = code_file.read_text().strip()
    answer = client.post(
        "/setup",
        data={"csrf_token": form_token(page.text), "code": code, "password": "our house 1", "repeated": "our house 1"},
    )
    assert answer.status_code == 302 and answer.location == "/"
    assert "The household password is set." in client.get("/").text  # logged in at once
    assert not code_file.exists()
    assert client.get("/setup").location == "/login"  # nobody can set it a second time
    stranger = Browser(fresh_app.test_client())
    stranger.refresh_csrf()
    assert stranger.post("/login", data={"password": "our house 1"}).status_code == 302


def test_a_wrong_setup_code_sets_nothing(fresh_app, webui_config):
    client = fresh_app.test_client()
    page = client.get("/setup")
    answer = client.post(
        "/setup",
        data={
            "csrf_token": form_token(page.text),
            "code": "AAAAAAAA",
            "password": "our house 1",
            "repeated": "our house 1",
        },
    )
    assert answer.status_code == 422
    assert "not the setup code" in text_of(answer.text)
    assert not (webui_config.data_dir / "webui-password").exists()


def test_wrong_setup_codes_are_paced_like_passwords(fresh_app):
    client = fresh_app.test_client()
    token = form_token(client.get("/setup").text)
    for _ in range(10):
        client.post("/setup", data={"csrf_token": token, "code": "AAAAAAAA", "password": "x" * 9, "repeated": "x" * 9})
    answer = client.post("/setup", data={"csrf_token": token, "code": "AAAAAAAA"})
    assert answer.status_code == 429


def test_logging_out_ends_the_session(browser):
    assert browser.get("/healthz").status_code == 200
    assert browser.post("/logout").location == "/login"
    assert browser.get("/").status_code == 302


def test_the_unit_is_remembered_by_the_browser_and_sends_it_back(browser):
    answer = browser.post("/unit", data={"unit": "F", "next": "/schedule/"})
    assert answer.status_code == 302 and answer.location == "/schedule/"
    (cookie,) = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("unit=")]
    assert cookie.startswith("unit=F;") and "HttpOnly" in cookie and "Max-Age=31536000" in cookie
    kelvin = browser.post("/unit", data={"unit": "kelvin"}).headers.getlist("Set-Cookie")
    assert not [c for c in kelvin if c.startswith("unit=")]


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(app):
    client = Browser(app.test_client())
    client.refresh_csrf()
    plain = client.post("/login", data={"password": PASSWORD}).headers["Set-Cookie"]
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    secure = Browser(app.test_client())
    page = secure.client.get("/login", base_url="https://thermostat.local")
    answer = secure.client.post(
        "/login", data={"password": PASSWORD, "csrf_token": form_token(page.text)}, base_url="https://thermostat.local"
    )
    assert "Secure" in answer.headers["Set-Cookie"]


@pytest.mark.parametrize(("setting", "secure"), [("always", True), ("never", False)])
def test_cookie_security_can_be_forced(webui_config, setting, secure):
    app = create_app(dataclasses.replace(webui_config, secure_cookies=setting))
    client = app.test_client()
    page = client.get("/login", base_url="https://thermostat.local")
    assert ("Secure" in page.headers["Set-Cookie"]) is secure


def test_the_household_password_can_be_changed_when_it_is_not_provisioned(fresh_app, webui_config):
    household = fresh_app.extensions["rpymostat"].household
    household.set_up(household.setup_code(), "first password", "first password")
    client = Browser(fresh_app.test_client())
    client.login("first password")
    wrong = client.post("/password", data={"current": "nope", "password": "second pass", "repeated": "second pass"})
    assert wrong.location == "/settings/"
    short = client.post("/password", data={"current": "first password", "password": "short", "repeated": "short"})
    assert short.location == "/settings/"
    assert household.check("first password")
    client.post("/password", data={"current": "first password", "password": "second pass", "repeated": "second pass"})
    assert household.check("second pass") and not household.check("first password")


def test_a_provisioned_password_is_not_changed_from_the_ui(browser, app):
    browser.post("/password", data={"current": PASSWORD, "password": "second pass", "repeated": "second pass"})
    assert app.extensions["rpymostat"].household.check(PASSWORD)


def test_changing_the_password_ends_every_other_session(fresh_app):
    household = fresh_app.extensions["rpymostat"].household
    household.set_up(household.setup_code(), "first password", "first password")
    phone, laptop = Browser(fresh_app.test_client()), Browser(fresh_app.test_client())
    phone.login("first password")
    laptop.login("first password")
    assert phone.get("/").status_code == 200 and laptop.get("/").status_code == 200
    laptop.post("/password", data={"current": "first password", "password": "second pass", "repeated": "second pass"})
    assert laptop.get("/").status_code == 200  # the one who changed it stays in
    answer = phone.get("/")
    assert answer.status_code == 302 and answer.location.startswith("/login")


def test_a_session_survives_a_restart_with_the_same_provisioned_password(webui_config):
    first = create_app(webui_config)
    browser = Browser(first.test_client())
    browser.login()
    cookie = browser.client.get_cookie("rpymostat_session").value
    again = create_app(webui_config).test_client()  # the same data dir, so the same session key
    again.set_cookie("rpymostat_session", cookie)
    assert again.get("/").status_code == 200
    changed = create_app(dataclasses.replace(webui_config, password="a new provisioned one")).test_client()
    changed.set_cookie("rpymostat_session", cookie)
    assert changed.get("/").status_code == 302


def test_a_script_s_fetch_is_told_401_not_sent_to_the_login_page(app):
    answer = app.test_client().get("/zones/default/card", headers={"X-Fragment": "card"})
    assert answer.status_code == 401
