"""Failures are pages in plain words with the banner, never a traceback."""

import dataclasses
import datetime

import pytest
from flask import abort

from rpymostat_webui import context, templating
from rpymostat_webui.app import create_app
from rpymostat_webui.engine import EngineError
from tests.webui.conftest import Browser, text_of


def with_test_routes(app):
    """Routes that fail in each way a real page can, added before the first request."""

    def engine_says(status):
        raise EngineError(status, "zone kitchen is still used by rule breakfast")

    def crash():
        raise RuntimeError("a bug with a secret path /home/x in it")

    def local_times():
        when = "2026-07-01T20:30:00Z"
        return f"{templating.clock(when)}|{templating.when(when)}|{templating.clock(None)}|{templating.when('junk')}"

    app.add_url_rule("/test/engine/<int:status>", "engine_says", engine_says)
    app.add_url_rule("/test/crash", "crash", crash)
    app.add_url_rule("/test/missing", "missing", lambda: abort(404))
    app.add_url_rule("/test/times", "times", local_times)
    app.add_url_rule("/test/ticket", "ticket", lambda: context.engine().post("/events/ticket"), methods=["GET", "POST"])
    return app


@pytest.fixture
def browser_of():
    def make(config):
        app = with_test_routes(create_app(config))
        client = Browser(app.test_client())
        assert client.login().status_code == 302
        return client

    return make


def test_an_unreachable_engine_is_a_503_page_with_the_banner_and_a_retry(browser_of, webui_config):
    browser = browser_of(dataclasses.replace(webui_config, engine_url="http://127.0.0.1:9"))
    answer = browser.get("/test/ticket")
    assert answer.status_code == 503
    text = text_of(answer.text)
    assert (
        "Cannot reach the thermostat engine: cannot reach the engine at http://127.0.0.1:9/v1: connection refused"
        in text
    )
    assert '<meta http-equiv="refresh" content="10; url=/test/ticket">' in answer.text
    assert "Traceback" not in answer.text


def test_a_refused_ui_token_is_explained(browser_of, webui_config):
    browser = browser_of(dataclasses.replace(webui_config, token="rpy_revoked_long_ago"))
    answer = browser.get("/test/ticket")
    assert answer.status_code == 502
    assert "The engine refused the web UI's token" in text_of(answer.text)


@pytest.mark.parametrize(
    ("status", "shown", "title"),
    [(403, 502, "Not allowed"), (409, 409, "The engine said no"), (500, 502, "The engine said no")],
)
def test_engine_errors_show_the_engine_s_words(browser_of, webui_config, status, shown, title):
    answer = browser_of(webui_config).get(f"/test/engine/{status}")
    assert answer.status_code == shown
    text = text_of(answer.text)
    assert title in text
    assert "zone kitchen is still used by rule breakfast" in text


def test_a_bug_is_a_500_page_that_leaks_nothing(browser_of, webui_config):
    answer = browser_of(webui_config).get("/test/crash")
    assert answer.status_code == 500
    assert "Something went wrong on the web UI's side" in text_of(answer.text)
    assert "secret path" not in answer.text and "Traceback" not in answer.text


def test_a_missing_page_is_a_404_page(browser_of, webui_config):
    answer = browser_of(webui_config).get("/test/missing")
    assert answer.status_code == 404
    assert "Not Found" in text_of(answer.text)


def test_times_are_shown_in_the_house_s_time_zone(browser_of, webui_config):
    # The engine runs in Europe/Berlin (summer time in July: UTC+2).
    assert browser_of(webui_config).get("/test/times").text == "22:30|Wed 1 Jul 22:30|–|–"


def test_ages_are_said_in_the_unit_that_fits():
    now = datetime.datetime(2026, 12, 2, 12, 0, tzinfo=datetime.UTC)
    assert templating.ago("2026-12-02T11:59:48Z", now) == "12 s ago"
    assert templating.ago("2026-12-02T11:55:00+00:00", now) == "5 min ago"
    assert templating.ago("2026-12-02T09:00:00Z", now) == "3 h ago"
    assert templating.ago("2026-11-29T12:00:00Z", now) == "3 days ago"
    assert templating.ago("2026-12-02T12:00:05Z", now) == "0 s ago"  # a clock a little ahead
    assert templating.ago(None, now) == "never"
    assert templating.ago("yesterday", now) == "never"
    assert templating.ago("2026-12-02T11:59:00", now) == "60 s ago"  # no offset: UTC, not a crash


def test_a_password_file_is_the_household_password(webui_config, tmp_path):
    secret = tmp_path / "password"
    secret.write_text("from a docker secret\n")
    app = create_app(dataclasses.replace(webui_config, password=None, password_file=secret))
    assert app.extensions["rpymostat"].household.check("from a docker secret")


def test_a_logged_in_page_gets_a_read_only_stream_ticket(browser, engine_process):
    answer = browser.client.post("/live/ticket", headers={"X-CSRF-Token": browser.csrf})
    assert answer.status_code == 200
    assert answer.json["ticket"].startswith("rpyt_") and answer.json["expires"].startswith("20")
    assert browser.client.post("/live/ticket").status_code == 400  # no CSRF header: refused


def test_temperatures_follow_the_browser_s_unit(app):
    with app.test_request_context("/", headers={"Cookie": "unit=F"}):
        assert templating.temperature(21.5) == "71\u202f°F"
        assert templating.degrees(21.5) == "71"
        assert templating.temperature(None) == "–"
        assert context.is_admin()


def test_an_instant_without_an_offset_is_taken_as_utc(app):
    with app.test_request_context("/"):
        assert templating.clock("2026-12-02T12:00:00") == "13:00"  # Berlin, winter


@pytest.mark.parametrize(
    ("referrer", "retry"),
    [("http://localhost/kiosk/?zone=hall", "/kiosk/?zone=hall"), ("https://evil.example/x", "/"), (None, "/")],
)
def test_after_a_form_the_retry_goes_back_to_the_page_not_to_the_form_s_url(browser_of, webui_config, referrer, retry):
    browser = browser_of(dataclasses.replace(webui_config, engine_url="http://127.0.0.1:9"))
    headers = {"Referer": referrer} if referrer else {}
    answer = browser.post("/test/ticket", headers=headers)
    assert answer.status_code == 503
    assert f'<meta http-equiv="refresh" content="10; url={retry}">' in answer.text
    assert "may not have been stored" in text_of(answer.text)
