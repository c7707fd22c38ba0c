"""The web UI daemon's service tree over real loopback HTTP, against a real engine process.

Pages are fetched with treq from the port the service listens on, as a
browser would (cookies, the login form's CSRF token), so the WSGI
container, its thread pool and the ``Root`` routing are the ones that
ship.  Pairing runs against the engine's real API; only its clock is sped
up (:class:`FastClock`), so a 3 s poll takes a tenth of a second.
"""

import re
import time
from http.cookiejar import CookieJar

import pytest
import pytest_twisted
import treq
from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.error import CannotListenError, ConnectionRefusedError
from twisted.internet.task import deferLater
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.resource import Resource
from twisted.web.server import Site

from rpymostat_webui.config import WebuiConfig
from rpymostat_webui.service import CREDENTIALS_FILE, WebuiService, make_service
from tests.webui.conftest import PASSWORD, text_of

#: Seconds a test waits for something before it fails (it never hangs).
WAIT_S = 10.0


class FastClock:
    """The reactor's time, running ``factor`` times faster (for pairing's polls and vetting's retries)."""

    def __init__(self, factor=30.0):
        self.factor = factor
        self._start = reactor.seconds()

    def seconds(self):
        return self._start + (reactor.seconds() - self._start) * self.factor

    def callLater(self, delay, function, *args, **kwargs):
        return reactor.callLater(delay / self.factor, function, *args, **kwargs)


async def until(predicate, what, timeout=WAIT_S):
    """Poll ``predicate()`` (may return a Deferred) every 20 ms until true; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if hasattr(value, "addCallback"):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await deferLater(reactor, 0.02, lambda: None)


def ui_config(tmp_path, engine_url, **settings):
    """The UI on a free loopback port, with the household password provisioned."""
    options = dict(engine_url=engine_url, host="127.0.0.1", port=0, data_dir=tmp_path / "webui", password=PASSWORD)
    return WebuiConfig(**{**options, **settings})


class Browser:
    """A browser over real HTTP: keeps its cookies, sends the CSRF token a page gave it."""

    def __init__(self, base):
        self.base = base
        self.pool = HTTPConnectionPool(reactor, persistent=False)
        self.http = HTTPClient(Agent(reactor, pool=self.pool), cookiejar=CookieJar())
        self.csrf = None

    async def get(self, path, **kwargs):
        response = await self.http.get(self.base + path, allow_redirects=False, timeout=WAIT_S, **kwargs)
        return response, await response.text()

    async def post(self, path, data=None, headers=None):
        response = await self.http.post(
            self.base + path, data=data or {}, headers=headers, allow_redirects=False, timeout=WAIT_S
        )
        return response, await response.text()

    async def login(self, password=PASSWORD):
        _, page = await self.get("/login")
        [token] = re.findall(r'name="csrf_token" value="([^"]+)"', page)
        response, _ = await self.post("/login", {"csrf_token": token, "password": password})
        assert response.code == 302, response.code
        response, page = await self.get(response.headers.getRawHeaders("Location")[0])  # home (or 503)
        found = re.findall(r'<body[^>]* data-csrf="([^"]+)"', page)
        assert len(found) == 1, (response.code, page)
        self.csrf = found[0]
        return response

    async def ticket(self):
        """A stream ticket, as a page's script asks for one."""
        response = await self.http.post(
            self.base + "/live/ticket", headers={"X-CSRF-Token": self.csrf}, timeout=WAIT_S, allow_redirects=False
        )
        assert response.code == 200, (response.code, await response.text())
        return (await response.json())["ticket"]


class Running:
    """A started :class:`WebuiService`: ``base`` is its URL; stopped when the ``async with`` ends."""

    def __init__(self, config, clock=None, before_start=None):
        self.service = WebuiService(config, reactor, clock=clock)
        if before_start is not None:
            before_start(self.service)

    async def __aenter__(self):
        self.service.startService()
        port = await self.service.when_ready()
        self.base = f"http://127.0.0.1:{port.getHost().port}"
        return self

    async def __aexit__(self, *exc):
        await self.service.stopService()

    def browser(self):
        return Browser(self.base)


@pytest_twisted.ensureDeferred
async def test_serves_health_login_and_pages_with_a_token_given_by_hand(tmp_path, engine_process, logged):
    assert engine_process.request("PUT", "/v1/zones/svc-parlour", {"name": "Parlour of the service test"})[0] == 201
    config = ui_config(tmp_path, engine_process.url, token=engine_process.admin_token)
    async with Running(config) as ui:
        location = ui.service.location()
        assert (location.url, location.token) == (f"{engine_process.url}/v1", engine_process.admin_token)
        browser = ui.browser()
        response, body = await browser.get("/healthz")
        assert (response.code, body.strip()) == (200, '{"status":"ok"}')
        response, _ = await browser.get("/")
        assert response.code == 302
        assert response.headers.getRawHeaders("Location") == ["/login?next=/"]
        response, page = await browser.post("/login", {"password": PASSWORD})  # no CSRF token: refused
        assert response.code == 400 and "reload the page" in text_of(page)
        await browser.login()
        response, page = await browser.get("/")
        assert response.code == 200
        assert "Parlour of the service test" in text_of(page)  # from the engine itself
        response, _ = await browser.get("/static/css/site.css")
        assert response.code == 200
    port = ui.base.rsplit(":", 1)[1]
    assert f"web UI on http://127.0.0.1:{port}/" in logged()
    assert "web UI stopped" in logged()
    assert "no household password yet" not in logged()
    with pytest.raises(ConnectionRefusedError):
        await treq.get(ui.base + "/healthz", timeout=2)  # stopped: nothing listens any more


@pytest_twisted.ensureDeferred
async def test_a_failing_page_is_a_500_page_without_traceback(tmp_path, engine_process, logged):
    def add_failing_page(service):
        def broken():
            raise RuntimeError("secret internals 0xdeadbeef")

        service.app.add_url_rule("/broken", "broken", broken)

    config = ui_config(tmp_path, engine_process.url, token=engine_process.admin_token)
    async with Running(config, before_start=add_failing_page) as ui:
        browser = ui.browser()
        await browser.login()
        response, page = await browser.get("/broken")
    assert response.code == 500
    assert "Something went wrong on the web UI's side" in text_of(page)
    assert "Traceback" not in page and "0xdeadbeef" not in page and "RuntimeError" not in page
    assert "web UI page failed" in logged()  # but the log has it


def test_location_names_what_is_missing_before_the_engine_is_known(tmp_path):
    closed = "http://127.0.0.1:9"
    service = WebuiService(ui_config(tmp_path, closed, token="rpy_given-by-hand"), reactor)
    location = service.location()  # not started: the fixed engine is not in use yet
    assert location.url is None and location.token is None
    assert location.reason == "looking for the engine at http://127.0.0.1:9"
    assert service.finder is None

    browsing = WebuiService(ui_config(tmp_path / "b", None), reactor)
    assert browsing.finder is not None and browsing.finder in list(browsing)
    assert browsing.location().reason == "looking for the engine at the network (mDNS)"


@pytest_twisted.ensureDeferred
async def test_an_engine_that_does_not_answer_is_the_unavailable_page(tmp_path):
    config = ui_config(tmp_path, "http://127.0.0.1:9", token="rpy_given-by-hand")
    async with Running(config) as ui:
        # A token given by hand is not checked against the engine: its URL is used at once.
        assert ui.service.location().url == "http://127.0.0.1:9/v1"
        browser = ui.browser()
        await browser.login()
        response, page = await browser.get("/")
    assert response.code == 503
    assert "Cannot reach the thermostat engine: cannot reach the engine at http://127.0.0.1:9/v1" in text_of(page)


@pytest_twisted.ensureDeferred
async def test_pairs_as_admin_then_pages_work_and_a_revoked_token_pairs_again(tmp_path, engine_process, logged):
    config = ui_config(tmp_path, engine_process.url)  # no token: it pairs
    async with Running(config, clock=FastClock()) as ui:
        service = ui.service
        assert service.location().reason == "asking the engine to pair with this web UI"
        await until(lambda: service.link.pairing.code is not None, "a pairing code")
        code = service.link.pairing.code
        location = service.location()
        assert (location.url, location.token) == (None, None)
        assert location.reason == f"waiting for an admin to approve this web UI: rpymostat-engine pair approve {code}"

        browser = ui.browser()
        await browser.login()
        response, page = await browser.get("/")
        assert response.code == 503
        assert f"rpymostat-engine pair approve {code}" in text_of(page)

        status, waiting = engine_process.request("GET", "/v1/pairings")
        [request] = [p for p in waiting["pairings"] if p["code"] == code]
        assert (request["role"], request["host_id"]) == ("admin", service.host_id)
        status, approved = engine_process.request("POST", f"/v1/pairings/{code}/approve")
        assert status == 201, approved

        await until(lambda: service.location().token is not None, "the approved token")
        location = service.location()
        assert location.url == f"{engine_process.url}/v1"
        name = service.link.credentials.name
        assert name == f"admin-{service.host_id}"
        assert (tmp_path / "webui" / CREDENTIALS_FILE).exists()
        assert engine_process.request("PUT", "/v1/zones/svc-paired", {"name": "Seen by the paired UI"})[0] == 201
        response, page = await browser.get("/")
        assert response.code == 200 and "Seen by the paired UI" in text_of(page)

        # Revoked on the engine: the next page gets 401, and the UI forgets the token and pairs again.
        status, _ = engine_process.request("DELETE", f"/v1/tokens/{name}")
        assert status == 204
        response, page = await browser.get("/")
        assert response.code == 502
        assert "The engine refused the web UI's token" in text_of(page)
        await until(lambda: service.link.credentials is None, "the refused token forgotten")
        await until(lambda: service.link.pairing is not None and service.link.pairing.code, "a new pairing code")
        assert service.link.pairing.code != code
        assert not (tmp_path / "webui" / CREDENTIALS_FILE).exists()
    assert f"the engine refused this host's token {name} (401)" in logged()


@pytest_twisted.ensureDeferred
async def test_a_revoked_token_given_by_hand_is_only_logged(tmp_path, engine_process, logged):
    status, made = engine_process.request("POST", "/v1/tokens", {"name": "webui-by-hand", "role": "admin"})
    assert status == 201, made
    async with Running(ui_config(tmp_path, engine_process.url, token=made["token"])) as ui:
        browser = ui.browser()
        await browser.login()
        response, _ = await browser.get("/")
        assert response.code == 200
        assert engine_process.request("DELETE", "/v1/tokens/webui-by-hand")[0] == 204
        response, page = await browser.get("/")
        assert response.code == 502
        assert "The engine refused the web UI's token" in text_of(page)
        refused = "the engine refused the token given in RPYMOSTAT_TOKEN or RPYMOSTAT_TOKEN_FILE (401)"
        await until(lambda: refused in logged(), "the refusal logged")
        # The admin's token to replace: the UI keeps it and does not pair by itself.
        assert ui.service.location().token == made["token"]
        assert ui.service.link.pairing is None


@pytest_twisted.ensureDeferred
async def test_paired_credentials_are_kept_and_the_engine_must_prove_itself(tmp_path, engine_process, logged):
    config = ui_config(tmp_path, engine_process.url)
    async with Running(config, clock=FastClock()) as ui:
        await until(lambda: ui.service.link.pairing and ui.service.link.pairing.code, "a pairing code")
        status, _ = engine_process.request("POST", f"/v1/pairings/{ui.service.link.pairing.code}/approve")
        assert status == 201
        await until(lambda: ui.service.location().token is not None, "the approved token")
        token = ui.service.location().token

    # Restarted: the stored token is used once the engine proved it is the one paired with.
    async with Running(config, clock=FastClock()) as ui:
        await until(lambda: ui.service.location().url is not None, "the engine vetted")
        assert ui.service.location().token == token
        browser = ui.browser()
        await browser.login()
        response, _ = await browser.get("/")
        assert response.code == 200

    # The same credentials and an engine that does not answer: no URL, and the reason says where it looks.
    elsewhere = ui_config(tmp_path, "http://127.0.0.1:9")
    async with Running(elsewhere, clock=FastClock()) as ui:
        asked = "cannot ask the engine at http://127.0.0.1:9/v1 to prove itself"
        await until(lambda: asked in logged(), "the proof asked for")
        location = ui.service.location()
        assert (location.url, location.token) == (None, None)
        assert location.reason == "looking for the engine at http://127.0.0.1:9"


@pytest_twisted.ensureDeferred
async def test_without_a_password_the_setup_code_is_logged_and_localhost_shown(tmp_path, logged):
    config = WebuiConfig(engine_url="http://127.0.0.1:9", host="0.0.0.0", port=0, data_dir=tmp_path, token="rpy_x")
    service = make_service(config, reactor)
    service.startService()
    try:
        port = (await service.when_ready()).getHost().port
        code = (tmp_path / "webui-setup-code").read_text().strip()
        response = await treq.get(f"http://127.0.0.1:{port}/", allow_redirects=False, timeout=WAIT_S)
        assert response.headers.getRawHeaders("Location") == ["/login?next=/"]
        response = await treq.get(f"http://127.0.0.1:{port}/login", allow_redirects=False, timeout=WAIT_S)
        assert response.headers.getRawHeaders("Location") == ["/setup"]
    finally:
        await service.stopService()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{8}", code)
    assert f"web UI on http://localhost:{port}/" in logged()
    assert (
        f"no household password yet: open http://localhost:{port}/setup and enter the setup code {code}"
        f" (also in {tmp_path / 'webui-setup-code'}, readable by this user only)"
    ) in logged()


@pytest_twisted.ensureDeferred
async def test_a_port_in_use_fails_readiness_and_stops_cleanly(tmp_path, logged):
    taken = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(Resource()))
    try:
        config = ui_config(tmp_path, "http://127.0.0.1:9", token="rpy_x", port=taken.getHost().port)
        service = WebuiService(config, reactor)
        service.startService()
        with pytest.raises(CannotListenError, match="Address already in use"):
            await service.when_ready()
        assert service.port is None
        await service.stopService()
    finally:
        await taken.stopListening()
    assert "web UI stopped" in logged()
    assert "web UI on" not in logged()
