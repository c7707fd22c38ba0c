"""The house's time zone comes from the engine, is remembered a while, and never breaks a page."""

import json
import zoneinfo

import pytest

from rpymostat_webui import context
from rpymostat_webui.app import create_app
from rpymostat_webui.engine import EngineClient, Location


@pytest.fixture
def status_server(fake_peer):
    """A peer whose ``/v1/status`` answers ``answered["status"]`` and counts the questions."""
    answered = {"status": {}, "asked": 0}

    def answer(path):
        answered["asked"] += 1
        return 200, "application/json", json.dumps(answered["status"]).encode()

    return fake_peer(answer), answered


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"status": True, "timezone": "America/Chicago"}, "America/Chicago"),
        ({"status": True}, "UTC"),
        ({"status": True, "timezone": "Mars/Olympus_Mons"}, "UTC"),
        ({"status": True, "timezone": "../../etc/passwd"}, "UTC"),
    ],
)
def test_the_engine_s_zone_or_utc(status_server, webui_config, answer, expected):
    url, answered = status_server
    answered["status"] = answer
    app = create_app(webui_config, engine=EngineClient(lambda: Location(url)))
    with app.test_request_context("/"):
        assert context.timezone() == zoneinfo.ZoneInfo(expected)


def test_the_zone_is_asked_again_only_after_ten_minutes(status_server, webui_config):
    url, answered = status_server
    answered["status"] = {"status": True, "timezone": "Europe/Berlin"}
    app = create_app(webui_config, engine=EngineClient(lambda: Location(url)))
    now = [5000.0]
    app.extensions["rpymostat"].monotonic = lambda: now[0]
    with app.test_request_context("/"):
        context.timezone()
        answered["status"] = {"status": True, "timezone": "Asia/Tokyo"}
        now[0] += 599
        assert context.timezone() == zoneinfo.ZoneInfo("Europe/Berlin")
        assert answered["asked"] == 1
        now[0] += 2
        assert context.timezone() == zoneinfo.ZoneInfo("Asia/Tokyo")
        assert answered["asked"] == 2
