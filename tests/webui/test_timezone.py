"""The house's time zone comes from the engine, is remembered a while, and never breaks a page."""

import http.server
import json
import threading
import zoneinfo

import pytest

from rpymostat_webui import context
from rpymostat_webui.app import create_app
from rpymostat_webui.engine import EngineClient, Location


class _Status(http.server.BaseHTTPRequestHandler):
    answer = {}
    asked = 0

    def do_GET(self):
        type(self).asked += 1
        body = json.dumps(type(self).answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def status_server():
    _Status.answer, _Status.asked = {}, 0
    server = http.server.HTTPServer(("127.0.0.1", 0), _Status)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


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
    _Status.answer = answer
    app = create_app(webui_config, engine=EngineClient(lambda: Location(status_server)))
    with app.test_request_context("/"):
        assert context.timezone() == zoneinfo.ZoneInfo(expected)


def test_the_zone_is_asked_again_only_after_ten_minutes(status_server, webui_config):
    _Status.answer = {"status": True, "timezone": "Europe/Berlin"}
    app = create_app(webui_config, engine=EngineClient(lambda: Location(status_server)))
    now = [5000.0]
    app.extensions["rpymostat"].monotonic = lambda: now[0]
    with app.test_request_context("/"):
        context.timezone()
        _Status.answer = {"status": True, "timezone": "Asia/Tokyo"}
        now[0] += 599
        assert context.timezone() == zoneinfo.ZoneInfo("Europe/Berlin")
        assert _Status.asked == 1
        now[0] += 2
        assert context.timezone() == zoneinfo.ZoneInfo("Asia/Tokyo")
        assert _Status.asked == 2
