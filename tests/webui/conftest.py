"""Fixtures for the web UI's tests: a real engine process, the app, a logged-in browser.

The UI is a client of the engine's HTTP API only, so its tests talk to a
real ``rpymostat-engine`` on loopback (one per test module, auth on, its
admin token given to the UI as ``RPYMOSTAT_TOKEN`` would be).  Pages run
in-process through Flask's test client, so coverage sees them.
"""

import dataclasses
import html as html_module
import http.server
import re
import threading

import pytest
from twisted.logger import formatEvent, globalLogPublisher

from acceptance.engine_process import EngineProcess
from rpymostat_webui.app import create_app
from rpymostat_webui.config import WebuiConfig

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def engine_process(tmp_path_factory):
    """A real engine on a free loopback port (no mDNS), shared by a module's tests."""
    engine = EngineProcess(tmp_path_factory.mktemp("engine")).start()
    yield engine
    engine.stop()


@pytest.fixture
def webui_config(tmp_path, engine_process):
    """The UI's settings: that engine, its admin token, a provisioned household password."""
    return WebuiConfig(
        engine_url=engine_process.url,
        data_dir=tmp_path / "webui",
        password=PASSWORD,
        token=engine_process.admin_token,
    )


@pytest.fixture
def app(webui_config):
    app = create_app(webui_config)
    app.testing = True
    return app


class Browser:
    """Flask's test client, logged in, sending the CSRF token with every form like a page does."""

    def __init__(self, client):
        self.client = client
        self.csrf = None

    def login(self, password=PASSWORD):
        self.refresh_csrf()  # the login form carries a CSRF token too (no login forgery)
        response = self.post("/login", data={"password": password})
        self.refresh_csrf()
        return response

    def refresh_csrf(self):
        page = self.client.get("/login")  # its form puts the session's token in the session
        with self.client.session_transaction() as session:
            self.csrf = session.get("csrf_token")
        return page

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, data=None, **kwargs):
        """A form POST with the CSRF token added (as every form in the UI carries it)."""
        return self.client.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)


@pytest.fixture
def browser(app):
    """A logged-in browser on the app."""
    client = Browser(app.test_client())
    response = client.login()
    assert response.status_code == 302, response.text
    return client


def logged_in_browser(config, role=None, **app_options) -> Browser:
    """A logged-in browser on a UI made for ``config`` (another token, role or engine client)."""
    app = create_app(config, role=role, **app_options)
    app.testing = True
    client = Browser(app.test_client())
    assert client.login().status_code == 302
    return client


@pytest.fixture
def offline_browser(webui_config):
    """A logged-in browser on a UI whose engine does not answer (nothing listens on port 9)."""
    return logged_in_browser(dataclasses.replace(webui_config, engine_url="http://127.0.0.1:9"))


def hold_of(engine_process, zone):
    """``(status, hold)`` of ``GET /v1/zones/{zone}/hold`` on the real engine (404: no hold)."""
    return engine_process.request("GET", f"/v1/zones/{zone}/hold")


def text_of(html: str) -> str:
    """A page's visible text on one line (tags dropped, entities decoded, whitespace squeezed)."""
    return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", html))).strip()


@pytest.fixture
def logged():
    """What Twisted's loggers logged during the test, as text."""
    events = []
    globalLogPublisher.addObserver(events.append)
    yield lambda: "\n".join(formatEvent(event) for event in events)
    globalLogPublisher.removeObserver(events.append)


@pytest.fixture
def fake_peer():
    """``fake_peer(answer)``: the ``/v1`` URL of a loopback HTTP server that is not an engine.

    ``answer(path)`` gives ``(status, content type, body bytes)`` for each GET,
    for the shapes a real engine never sends (HTML, a missing field).
    """
    servers = []

    def start(answer):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                status, content_type, body = answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        # A short poll: shutdown() waits for it, at every test's end (0.5 s by default).
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
