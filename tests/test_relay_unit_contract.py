"""The relay unit protocol of docs/control.rst ("The protocol"), one suite for every implementation.

Each implementation listens on 127.0.0.1 and is only talked to over HTTP:

``control-daemon``
    ``rpymostat-control``'s own service tree, in this process on the real
    reactor, with two simulated relays; ``sim-2``'s safe state is on, so it is
    switched on at start and its minimum on time holds it there.
``engine-test-fake``
    tests/control_loop/relay_unit.py, the unit the engine's loop tests talk to.
    Like the daemon here it has a minimum on time of 300 s and none off, so
    a relay can be switched on and is then held there.
``stdlib-unit``
    acceptance/third_party_relay.py, a unit written from the docs with the
    standard library, in a subprocess.
``RPYMOSTAT_RELAY_UNIT_URL``
    Your own unit, when that variable holds its base URL (``http://host:port``,
    without ``/v1``) and ``RPYMOSTAT_RELAY_UNIT_SECRET`` the secret of its
    latest registration; this parametrization exists only then.  The suite
    switches its relays: wire nothing to them, and give it short minimum times
    (5 s, say; zero skips the ``409`` tests).  ``python -m
    tests.test_relay_unit_contract PORT`` is a stand-in engine that accepts
    registrations and prints their secrets: point your unit at it.

A unit obeys only the engine it registered with: every request carries
``Authorization: Bearer <secret>``, the secret of the unit's registration,
which the built-in units send to a stand-in engine here
(:class:`RegistrationCatcher`); the ``401`` tests send none or a wrong one.

Every test reads the unit's state before acting, so one running unit can serve
them all.  The ``409`` tests need minimum times: each implementation declares
whether it has them (:attr:`Unit.min_times`), a test checks that against the
``min_on_s`` and ``min_off_s`` it reports, and those tests are skipped, saying
so, where it has none.  Every answer is checked on the way (:meth:`Unit.call`):
never a 500, and every error in the documented shape.
"""

import contextlib
import dataclasses
import datetime
import http.client
import http.server
import importlib.util
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread

from rpymostat_control.config import ControlConfig
from rpymostat_control.service import make_service
from tests.control_loop.relay_unit import start_unit

REPO = Path(__file__).resolve().parent.parent
STDLIB_UNIT = REPO / "acceptance" / "third_party_relay.py"
UNIT_URL_VARIABLE = "RPYMOSTAT_RELAY_UNIT_URL"
UNIT_SECRET_VARIABLE = "RPYMOSTAT_RELAY_UNIT_SECRET"
#: What a unit's 401 says in ``WWW-Authenticate``.
CHALLENGE = 'Bearer realm="rpymostat-control"'
#: Send the unit's own secret (the default of :meth:`Unit.call`).
SECRET = object()
MAX_BODY_BYTES = 1024 * 1024
#: At least the minimum times, as docs/control.rst requires of a unit.
LEASE_S = 360.0
MIN_ON_S = 300.0
#: Slack for times measured across a few HTTP exchanges.
SLACK_S = 2.0

RELAY_FIELDS = {"type", "state", "alias", "safe_state", "since", "seconds_in_state", "min_on_s", "min_off_s"}


@dataclasses.dataclass
class Answer:
    code: int
    headers: http.client.HTTPMessage
    #: The HTTP version of the answer: 11 for HTTP/1.1.
    version: int
    #: The decoded JSON body; None for HEAD.
    document: object


@dataclasses.dataclass
class Unit:
    name: str
    url: str
    #: Whether the unit has minimum on or off times over zero, which the 409 tests need.
    min_times: bool
    #: The secret of the unit's latest registration, which opens its API.
    secret: str

    async def call(
        self, method, path, body=None, raw=None, chunked=False, content_type="application/json", authorization=SECRET
    ) -> Answer:
        """Send a request (``body`` as JSON, or ``raw`` bytes; ``chunked`` without a
        Content-Length; a POST's ``content_type`` None sends none) and check what every
        answer must be.  ``authorization`` is the Authorization header, None for none;
        by default ``Bearer`` and the unit's secret."""
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": content_type} if content_type and (data is not None or method == "POST") else {}
        if authorization is SECRET:
            authorization = f"Bearer {self.secret}"
        if authorization is not None:
            headers["Authorization"] = authorization
        answer = await deferToThread(self._exchange, method, path, data, chunked, headers)
        check_answer(method, answer)
        return answer

    def _exchange(self, method, path, data, chunked, headers):
        parts = urlsplit(self.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            if chunked:
                data = iter([data[i : i + 65536] for i in range(0, len(data), 65536)])
            connection.request(method, parts.path.rstrip("/") + path, body=data, headers=headers)
            response = connection.getresponse()
            content = response.read()
            return Answer(
                response.status, response.headers, response.version, json.loads(content) if method != "HEAD" else None
            )
        finally:
            connection.close()

    async def listing(self) -> dict:
        answer = await self.call("GET", "/v1/relays")
        assert answer.code == 200, answer.document
        return answer.document

    async def states(self) -> dict:
        return {relay_id: doc["state"] for relay_id, doc in (await self.listing())["relays"].items()}

    async def relay(self, relay_id) -> dict:
        answer = await self.call("GET", relay_path(relay_id))
        assert answer.code == 200, answer.document
        return answer.document

    async def command(self, relay_id, state, safety=None) -> Answer:
        body = {"state": state} if safety is None else {"state": state, "safety": safety}
        return await self.call("POST", relay_path(relay_id), body)


def relay_path(relay_id):
    return "/v1/relays/" + quote(relay_id, safe="")


def check_answer(method, answer):
    assert answer.code != 500, answer.document
    if answer.code == 401:
        assert answer.headers.get_all("WWW-Authenticate") == [CHALLENGE], answer.headers.items()
    if method == "HEAD" or answer.code < 400:
        return
    error = answer.document
    assert error["status"] == "error" and isinstance(error["error"], str) and error["error"], error
    assert set(error) == ({"status", "error", "retry_after_s", "relay"} if answer.code == 409 else {"status", "error"})


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_relay(doc, relay_id=None, changed=False):
    """A relay document as documented; with ``relay_id`` as one relay's answer carries it
    (``changed`` too when it answers a command)."""
    fields = RELAY_FIELDS | ({"relay_id"} if relay_id is not None else set()) | ({"changed"} if changed else set())
    assert set(doc) == fields, doc
    if relay_id is not None:
        assert doc["relay_id"] == relay_id
    assert isinstance(doc["type"], str) and doc["type"]
    assert isinstance(doc["state"], bool) and isinstance(doc["safe_state"], bool)
    assert doc["alias"] is None or isinstance(doc["alias"], str)
    since = datetime.datetime.fromisoformat(doc["since"])
    assert since.utcoffset() == datetime.timedelta(0), doc["since"]
    for field in ("seconds_in_state", "min_on_s", "min_off_s"):
        assert is_number(doc[field]) and doc[field] >= 0, (field, doc[field])
    return doc


def minimum(doc, state=None):
    """The minimum time ``doc``'s relay must stay in ``state`` (default: its state) once in it."""
    return doc["min_on_s"] if (doc["state"] if state is None else state) else doc["min_off_s"]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RegistrationCatcher(http.server.ThreadingHTTPServer):
    """A stand-in engine on 127.0.0.1: it accepts every registration (201) and keeps the
    latest of each host, whose secret opens the unit's API; ``verbose`` prints each.

    ``python -m tests.test_relay_unit_contract PORT`` runs one on every address,
    verbose, for a unit of your own (docs/control.rst, "Checking a unit")."""

    verbose = False

    def __init__(self, port=0, host="127.0.0.1"):
        super().__init__((host, port), _CatcherHandler)
        self.registrations = {}
        self.url = f"http://{host}:{self.server_address[1]}"

    def forget(self, host_id):
        self.registrations.pop(host_id, None)

    def secret_of(self, host_id, timeout=10.0):
        """The secret of ``host_id``'s latest registration, waiting for one to arrive."""
        deadline = time.monotonic() + timeout
        while host_id not in self.registrations:
            assert time.monotonic() < deadline, f"{host_id} did not register within {timeout} s"
            time.sleep(0.02)
        return self.registrations[host_id]["secret"]


class _CatcherHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        document = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        if self.path == "/v1/controls/register":
            self.server.registrations[document["host_id"]] = document
            if self.server.verbose:
                print(f"{document['host_id']} at {document['url']}: secret {document['secret']}", flush=True)
        body = b"{}"
        self.send_response(201 if self.path == "/v1/controls/register" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def catcher():
    server = RegistrationCatcher()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# The implementations.


@contextlib.asynccontextmanager
async def control_daemon(request, tmp_path):
    catcher = request.getfixturevalue("catcher")
    config = ControlConfig(
        token="rpy_given-by-hand",  # pairing has tests of its own
        engine_url=catcher.url,
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path / "control",
        relays=("sim",),
        sim_relays=2,
        lease=LEASE_S,
        min_on=MIN_ON_S,
        min_off=0.0,
        safe_states={"sim-2": True},
    )
    service = make_service(config, reactor)
    catcher.forget(service.host_id)  # the registration of an earlier test's daemon on this host
    service.startService()
    port = await service.when_ready()
    try:
        secret = await deferToThread(catcher.secret_of, service.host_id)
        yield Unit("control-daemon", f"http://127.0.0.1:{port.getHost().port}", min_times=True, secret=secret)
    finally:
        await service.stopService()


@contextlib.asynccontextmanager
async def engine_test_fake(request, tmp_path):
    fake, port, url = await start_unit(reactor, reactor, ["r1", "r2"], min_on=MIN_ON_S, lease=LEASE_S)
    try:
        yield Unit("engine-test-fake", url, min_times=True, secret=fake.secret)
    finally:
        await port.stopListening()


@contextlib.asynccontextmanager
async def stdlib_unit(request, tmp_path):
    yield request.getfixturevalue("stdlib_unit_process")


@contextlib.asynccontextmanager
async def your_unit(request, tmp_path):
    url = os.environ[UNIT_URL_VARIABLE].rstrip("/")
    secret = os.environ.get(UNIT_SECRET_VARIABLE)
    if not secret:
        pytest.fail(f"set {UNIT_SECRET_VARIABLE} to the secret of the unit's latest registration (see the docstring)")
    unit = Unit(UNIT_URL_VARIABLE, url, min_times=False, secret=secret)
    relays = (await unit.listing())["relays"].values()
    unit.min_times = any(doc["min_on_s"] > 0 or doc["min_off_s"] > 0 for doc in relays)
    yield unit


IMPLEMENTATIONS = {"control-daemon": control_daemon, "engine-test-fake": engine_test_fake, "stdlib-unit": stdlib_unit}
if os.environ.get(UNIT_URL_VARIABLE):
    IMPLEMENTATIONS[UNIT_URL_VARIABLE] = your_unit


@pytest.fixture(scope="module")
def stdlib_unit_process(tmp_path_factory, catcher):
    """acceptance/third_party_relay.py, registered with the stand-in engine."""
    port = free_port()
    catcher.forget("stdlib-unit")
    log_path = tmp_path_factory.mktemp("stdlib-unit") / "unit.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                str(STDLIB_UNIT),
                catcher.url,
                str(port),
                "stdlib-unit",
                str(LEASE_S),
                "boiler",
                "pump",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while "stdlib-unit" not in catcher.registrations:  # it registers once it listens
        assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.05)
    secret = catcher.secret_of("stdlib-unit")
    request = urllib.request.Request(url + "/v1/relays", headers={"Authorization": f"Bearer {secret}"})
    urllib.request.urlopen(request, timeout=5).close()
    yield Unit("stdlib-unit", url, min_times=False, secret=secret)
    process.terminate()
    process.wait(10)


@pytest_twisted.async_yield_fixture(params=list(IMPLEMENTATIONS))
async def unit(request, tmp_path):
    async with IMPLEMENTATIONS[request.param](request, tmp_path) as built:
        yield built


def needs_min_times(unit):
    if not unit.min_times:
        pytest.skip(f"{unit.name} has no minimum times (it reports min_on_s and min_off_s 0)")


async def sleep(seconds):
    await deferLater(reactor, seconds, lambda: None)


async def switchable_relay(unit):
    """``(relay_id, doc)`` of a relay that no minimum time holds now (waiting a little if need be)."""
    for _ in range(2):
        relays = (await unit.listing())["relays"]
        left = {relay_id: minimum(doc) - doc["seconds_in_state"] for relay_id, doc in relays.items()}
        relay_id = min(left, key=left.get)
        if left[relay_id] <= 0:
            return relay_id, relays[relay_id]
        if left[relay_id] > 10:
            break
        await sleep(left[relay_id] + 0.1)
    pytest.fail(
        f"every relay of {unit.name} is held by a minimum time for {left[relay_id]:.0f} s more;"
        " give the unit minimum times of a few seconds for this suite"
    )


# The listing and single relays.


@pytest_twisted.ensureDeferred
async def test_answers_are_uncached_json_over_http_1_1(unit):
    relay_id, doc = min((await unit.listing())["relays"].items())
    one = relay_path(relay_id)
    for method, path, body in (
        ("GET", "/v1/relays", None),
        ("HEAD", "/v1/relays", None),
        ("GET", one, None),
        ("POST", one, {"state": doc["state"]}),
        ("POST", one, {"state": "on"}),
        ("GET", "/v1/nothing", None),
        ("PUT", one, None),
    ):
        answer = await unit.call(method, path, body)
        assert answer.version == 11, (method, path, answer.version)
        assert answer.headers.get_content_type() == "application/json", (method, path, answer.headers.items())
        assert "no-store" in answer.headers.get("Cache-Control", ""), (method, path, answer.headers.items())


@pytest_twisted.ensureDeferred
async def test_the_listing_has_the_host_the_lease_and_every_relay(unit):
    listing = await unit.listing()
    assert set(listing) == {"host_id", "lease", "relays"}
    assert isinstance(listing["host_id"], str) and listing["host_id"]
    lease = listing["lease"]
    assert set(lease) == {"seconds", "expires_in_s"}
    assert is_number(lease["seconds"]) and lease["seconds"] > 0
    assert lease["expires_in_s"] is None or (
        is_number(lease["expires_in_s"]) and 0 <= lease["expires_in_s"] <= lease["seconds"]
    )
    assert isinstance(listing["relays"], dict) and listing["relays"]
    for relay_id, doc in listing["relays"].items():
        assert isinstance(relay_id, str) and relay_id and "/" not in relay_id
        assert not any(character.isspace() for character in relay_id)
        check_relay(doc)


@pytest_twisted.ensureDeferred
async def test_one_relay_is_its_listed_document_with_its_id(unit):
    listing = (await unit.listing())["relays"]
    for relay_id, listed in listing.items():
        doc = check_relay(await unit.relay(relay_id), relay_id)
        assert {key: doc[key] for key in RELAY_FIELDS - {"seconds_in_state"}} == {
            key: listed[key] for key in RELAY_FIELDS - {"seconds_in_state"}
        }
        assert doc["seconds_in_state"] >= listed["seconds_in_state"]


@pytest_twisted.ensureDeferred
async def test_a_relay_id_in_the_path_is_percent_decoded(unit):
    relay_id = min((await unit.listing())["relays"])
    encoded = "".join(f"%{byte:02X}" for byte in relay_id.encode("utf-8"))
    answer = await unit.call("GET", "/v1/relays/" + encoded)
    assert answer.code == 200 and answer.document["relay_id"] == relay_id


@pytest_twisted.ensureDeferred
async def test_head_answers_like_get_without_a_body(unit):
    relay_id = min((await unit.listing())["relays"])
    for path in ("/v1/relays", relay_path(relay_id)):
        answer = await unit.call("HEAD", path)
        assert answer.code == 200 and int(answer.headers["Content-Length"]) > 0


@pytest_twisted.ensureDeferred
async def test_seconds_in_state_counts_up(unit):
    before = (await unit.listing())["relays"]
    await sleep(0.3)
    after = (await unit.listing())["relays"]
    for relay_id, doc in after.items():
        if doc["since"] == before[relay_id]["since"]:  # not switched meanwhile
            assert 0.2 <= doc["seconds_in_state"] - before[relay_id]["seconds_in_state"] < SLACK_S


# Commands.


@pytest_twisted.ensureDeferred
async def test_a_command_for_the_state_a_relay_is_in_changes_nothing(unit):
    for relay_id, before in (await unit.listing())["relays"].items():
        answer = await unit.command(relay_id, before["state"])  # even if a minimum time holds it
        assert answer.code == 200, answer.document
        doc = check_relay(answer.document, relay_id, changed=True)
        assert doc["changed"] is False
        assert (doc["state"], doc["since"]) == (before["state"], before["since"])
        assert doc["seconds_in_state"] >= before["seconds_in_state"]


@pytest_twisted.ensureDeferred
async def test_a_command_switches_a_relay_and_says_so(unit):
    relay_id, before = await switchable_relay(unit)
    wanted = not before["state"]
    answer = await unit.command(relay_id, wanted)
    assert answer.code == 200, answer.document
    doc = check_relay(answer.document, relay_id, changed=True)
    assert doc["changed"] is True and doc["state"] is wanted
    assert doc["seconds_in_state"] < SLACK_S
    assert datetime.datetime.fromisoformat(doc["since"]) >= datetime.datetime.fromisoformat(before["since"])
    listed = (await unit.listing())["relays"][relay_id]
    assert (listed["state"], listed["since"]) == (wanted, doc["since"])


@pytest_twisted.ensureDeferred
async def test_a_chunked_command_is_read_like_any_other(unit):
    relay_id, before = min((await unit.listing())["relays"].items())
    answer = await unit.call(
        "POST", relay_path(relay_id), raw=json.dumps({"state": before["state"]}).encode(), chunked=True
    )
    assert answer.code == 200 and answer.document["changed"] is False


@pytest_twisted.ensureDeferred
async def test_an_accepted_command_renews_the_lease(unit):
    listing = await unit.listing()
    relay_id, before = min(listing["relays"].items())
    await sleep(0.3)
    assert (await unit.command(relay_id, before["state"])).code == 200
    lease = (await unit.listing())["lease"]
    assert lease["expires_in_s"] is not None and lease["expires_in_s"] > lease["seconds"] - SLACK_S
    if listing["lease"]["expires_in_s"] is not None:  # without the renewal it would be 0.3 s less
        assert lease["expires_in_s"] > listing["lease"]["expires_in_s"] - 0.1


@pytest_twisted.ensureDeferred
async def test_rejected_requests_neither_change_anything_nor_renew_the_lease(unit):
    relay_id, before = min((await unit.listing())["relays"].items())
    assert (await unit.command(relay_id, before["state"])).code == 200
    renewed = await unit.listing()
    await sleep(0.5)
    for body, code in (([True], 422), ({"state": "on"}, 422), ({"state": not before["state"], "x": 1}, 422)):
        assert (await unit.call("POST", relay_path(relay_id), body)).code == code
    assert (await unit.call("POST", relay_path(relay_id), raw=b"{state: true}")).code == 400
    assert (await unit.call("POST", relay_path("no-such-relay"), {"state": True})).code == 404
    after = await unit.listing()
    assert {r: doc["state"] for r, doc in after["relays"].items()} == {
        r: doc["state"] for r, doc in renewed["relays"].items()
    }
    assert after["lease"]["expires_in_s"] <= renewed["lease"]["expires_in_s"] - 0.4


# Errors: the documented code and shape, and nothing changed.

TOO_LARGE = b" " * MAX_BODY_BYTES + b'{"state": true}'

REJECTED = {
    "root": ("GET", "/", None, None, 404),
    "v1": ("GET", "/v1", None, None, 404),
    "below a relay": ("GET", "/v1/relays/{relay}/state", None, None, 404),
    "unknown relay": ("GET", "/v1/relays/no-such-relay", None, None, 404),
    "not UTF-8 relay id": ("GET", "/v1/relays/%ff", None, None, 404),
    "command for an unknown relay": ("POST", "/v1/relays/no-such-relay", {"state": True}, None, 404),
    "POST the listing": ("POST", "/v1/relays", {"state": True}, None, 405),
    "PUT a relay": ("PUT", "/v1/relays/{relay}", {"state": True}, None, 405),
    "DELETE a relay": ("DELETE", "/v1/relays/{relay}", None, None, 405),
    "empty body": ("POST", "/v1/relays/{relay}", None, b"", 400),
    "not JSON": ("POST", "/v1/relays/{relay}", None, b"{state: true}", 400),
    "not UTF-8": ("POST", "/v1/relays/{relay}", None, b'{"state": \xff}', 400),
    "unfinished nesting": ("POST", "/v1/relays/{relay}", None, b"[" * 100000, 400),
    "a 5000-digit integer": ("POST", "/v1/relays/{relay}", None, b'{"state": ' + b"1" * 5000 + b"}", 400),
    "an array": ("POST", "/v1/relays/{relay}", [True], None, 422),
    "a string": ("POST", "/v1/relays/{relay}", None, b'"on"', 422),
    "an extra key": ("POST", "/v1/relays/{relay}", {"state": True, "for_s": 60}, None, 422),
    "no state": ("POST", "/v1/relays/{relay}", {}, None, 422),
    "state 1": ("POST", "/v1/relays/{relay}", {"state": 1}, None, 422),
    "state on": ("POST", "/v1/relays/{relay}", {"state": "on"}, None, 422),
    "state null": ("POST", "/v1/relays/{relay}", {"state": None}, None, 422),
    "state NaN": ("POST", "/v1/relays/{relay}", None, b'{"state": NaN}', 422),
    "safety with state true": ("POST", "/v1/relays/{relay}", {"state": True, "safety": "frost"}, None, 422),
    "safety empty": ("POST", "/v1/relays/{relay}", {"state": False, "safety": ""}, None, 422),
    "safety a number": ("POST", "/v1/relays/{relay}", {"state": False, "safety": 1}, None, 422),
    "safety null": ("POST", "/v1/relays/{relay}", {"state": False, "safety": None}, None, 422),
    "safety over 200 characters": ("POST", "/v1/relays/{relay}", {"state": False, "safety": "x" * 201}, None, 422),
    "safety and another key": ("POST", "/v1/relays/{relay}", {"state": False, "safety": "overheat", "x": 1}, None, 422),
    "over 1 MiB": ("POST", "/v1/relays/{relay}", None, TOO_LARGE, 413),
    "over 1 MiB chunked": ("POST", "/v1/relays/{relay}", None, TOO_LARGE, 413, "chunked"),
}
ALLOWED = {"/v1/relays": {"GET", "HEAD"}, "/v1/relays/{relay}": {"GET", "HEAD", "POST"}}


@pytest.mark.parametrize("case", list(REJECTED))
@pytest_twisted.ensureDeferred
async def test_a_rejected_request_has_its_documented_code_and_changes_nothing(unit, case):
    method, path, body, raw, code, *chunked = REJECTED[case]
    before = await unit.states()
    relay_id = min(before)
    answer = await unit.call(
        method, path.replace("{relay}", quote(relay_id, safe="")), body, raw, chunked=bool(chunked)
    )
    assert answer.code == code, answer.document
    if code == 405:
        allowed = {method.strip() for method in answer.headers["Allow"].split(",")}
        assert allowed == ALLOWED[path]
    assert await unit.states() == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
@pytest_twisted.ensureDeferred
async def test_a_command_not_sent_as_application_json_is_415_and_changes_nothing(unit, content_type):
    """A web page in the house can make a browser send these to the unit without a preflight."""
    before = await unit.listing()
    relay_id, doc = min(before["relays"].items())
    for state in (doc["state"], not doc["state"]):
        answer = await unit.call("POST", relay_path(relay_id), {"state": state}, content_type=content_type)
        assert answer.code == 415, answer.document
    after = await unit.listing()
    assert {r: d["state"] for r, d in after["relays"].items()} == {r: d["state"] for r, d in before["relays"].items()}
    answer = await unit.call(
        "POST", relay_path(relay_id), {"state": doc["state"]}, content_type="Application/JSON; charset=utf-8"
    )
    assert answer.code == 200, answer.document


# Only the engine the unit registered with: the secret of the registration, or 401.

UNAUTHORIZED = {
    "the listing": ("GET", "/v1/relays", None),
    "HEAD the listing": ("HEAD", "/v1/relays", None),
    "a relay": ("GET", "/v1/relays/{relay}", None),
    "a command": ("POST", "/v1/relays/{relay}", {"state": "{other}"}),
    "a safety off": ("POST", "/v1/relays/{relay}", {"state": False, "safety": "overheat"}),
    "an unknown path": ("GET", "/v1/nothing", None),
    "a method the path lacks": ("PUT", "/v1/relays/{relay}", {"state": True}),
    "a malformed command": ("POST", "/v1/relays/{relay}", [True]),
}
WRONG_AUTHORIZATION = {
    "none": None,
    "another secret": "Bearer {other}",
    "the secret and more": "Bearer {secret}x",
    "the secret without its scheme": "{secret}",
    "the secret as Basic": "Basic {secret}",
    "the scheme alone": "Bearer",
}


def wrong_authorization(unit, case):
    template = WRONG_AUTHORIZATION[case]
    if template is None:
        return None
    return template.format(secret=unit.secret, other="x" * max(43, len(unit.secret)))


@pytest.mark.parametrize("case", list(UNAUTHORIZED))
@pytest_twisted.ensureDeferred
async def test_without_the_secret_every_request_is_401_before_routing_and_changes_nothing(unit, case):
    method, path, body = UNAUTHORIZED[case]
    relay_id, doc = min((await unit.listing())["relays"].items())
    assert (await unit.command(relay_id, doc["state"])).code == 200  # renews the lease
    renewed = await unit.listing()
    await sleep(0.3)
    if isinstance(body, dict) and body["state"] == "{other}":
        body = {"state": not doc["state"]}
    answer = await unit.call(method, path.replace("{relay}", quote(relay_id, safe="")), body, authorization=None)
    assert answer.code == 401, answer.document
    after = await unit.listing()
    assert {r: d["state"] for r, d in after["relays"].items()} == {r: d["state"] for r, d in renewed["relays"].items()}
    assert after["lease"]["expires_in_s"] <= renewed["lease"]["expires_in_s"] - 0.2  # not renewed


@pytest.mark.parametrize("case", list(WRONG_AUTHORIZATION))
@pytest_twisted.ensureDeferred
async def test_a_wrong_secret_is_401_on_the_listing_a_relay_and_a_command(unit, case):
    authorization = wrong_authorization(unit, case)
    relay_id, doc = min((await unit.listing())["relays"].items())
    for method, path, body in (
        ("GET", "/v1/relays", None),
        ("GET", relay_path(relay_id), None),
        ("POST", relay_path(relay_id), {"state": not doc["state"]}),
    ):
        answer = await unit.call(method, path, body, authorization=authorization)
        assert answer.code == 401, (method, path, answer.document)
    assert (await unit.relay(relay_id))["state"] is doc["state"]


@pytest_twisted.ensureDeferred
async def test_the_scheme_is_matched_without_regard_to_case(unit):
    for scheme in ("bearer", "BEARER"):
        answer = await unit.call("GET", "/v1/relays", authorization=f"{scheme} {unit.secret}")
        assert answer.code == 200, (scheme, answer.document)


@pytest_twisted.ensureDeferred
async def test_a_command_with_a_wrong_secret_leaves_an_off_relay_off(unit):
    relay_id, doc = await switchable_relay(unit)
    if doc["state"]:
        if minimum(doc, False) > SLACK_S:
            pytest.skip(f"switching {relay_id} off would hold it off; the test above covers refusals")
        assert (await unit.command(relay_id, False)).code == 200
    for case in WRONG_AUTHORIZATION:
        answer = await unit.call(
            "POST", relay_path(relay_id), {"state": True}, authorization=wrong_authorization(unit, case)
        )
        assert answer.code == 401, (case, answer.document)
    relay = await unit.relay(relay_id)  # read with the right secret
    assert relay["state"] is False


# Minimum times.


@pytest_twisted.ensureDeferred
async def test_the_declared_minimum_times_are_those_the_unit_reports(unit):
    relays = (await unit.listing())["relays"].values()
    assert any(doc["min_on_s"] > 0 or doc["min_off_s"] > 0 for doc in relays) is unit.min_times


async def held_relay(unit):
    """``(relay_id, doc)`` of a relay a minimum time holds for a while yet: one found so,
    or one switched just now into a state with a minimum time."""
    relays = (await unit.listing())["relays"]
    for relay_id, doc in sorted(relays.items()):
        if doc["seconds_in_state"] < minimum(doc) - SLACK_S:
            return relay_id, doc
    for relay_id, doc in sorted(relays.items()):
        if doc["seconds_in_state"] >= minimum(doc) and minimum(doc, not doc["state"]) > SLACK_S:
            answer = await unit.command(relay_id, not doc["state"])
            assert answer.code == 200, answer.document
            return relay_id, answer.document
    pytest.fail(f"no relay of {unit.name} can be brought under a minimum time now")


@pytest_twisted.ensureDeferred
async def test_a_switch_a_minimum_time_forbids_is_409_with_the_time_left_and_renews_the_lease(unit):
    needs_min_times(unit)
    relay_id, before = await held_relay(unit)
    lease_before = (await unit.listing())["lease"]["expires_in_s"]
    await sleep(0.3)
    answer = await unit.command(relay_id, not before["state"])
    assert answer.code == 409, answer.document
    refusal = answer.document
    held = minimum(before)
    assert refusal["error"].startswith(f"minimum {'on' if before['state'] else 'off'} time"), refusal["error"]
    assert is_number(refusal["retry_after_s"]) and 0 < refusal["retry_after_s"] <= held
    relay = check_relay(refusal["relay"], relay_id)
    assert (relay["state"], relay["since"]) == (before["state"], before["since"])
    assert abs(refusal["retry_after_s"] + relay["seconds_in_state"] - held) < SLACK_S
    after = await unit.listing()
    assert after["relays"][relay_id]["state"] is before["state"]
    if lease_before is not None:  # 0.3 s later it would be lease_before - 0.3 without the renewal
        assert after["lease"]["expires_in_s"] > lease_before - 0.1
    assert after["lease"]["expires_in_s"] > after["lease"]["seconds"] - SLACK_S


# Safety offs.


async def on_and_held(unit):
    """``(relay_id, doc)`` of a relay that is on with its minimum on time left, or None when
    the unit has no minimum on time (or no relay can be switched on now)."""
    relays = (await unit.listing())["relays"]
    for relay_id, doc in sorted(relays.items()):
        if doc["state"] and doc["seconds_in_state"] < doc["min_on_s"] - SLACK_S:
            return relay_id, doc
    for relay_id, doc in sorted(relays.items()):
        if not doc["state"] and doc["seconds_in_state"] >= doc["min_off_s"] and doc["min_on_s"] > SLACK_S:
            answer = await unit.command(relay_id, True)
            assert answer.code == 200, answer.document
            return relay_id, answer.document
    return None


@pytest_twisted.ensureDeferred
async def test_a_safety_off_inside_the_minimum_on_time_switches_at_once(unit):
    needs_min_times(unit)
    held = await on_and_held(unit)
    if held is None:
        pytest.skip(f"{unit.name} has no minimum on time to override")
    relay_id, before = held
    answer = await unit.command(relay_id, False)
    assert answer.code == 409, answer.document  # an ordinary off waits
    assert answer.document["error"].startswith("minimum on time"), answer.document
    await sleep(0.3)
    answer = await unit.command(relay_id, False, safety="overheat: 31.5 C at the boiler")
    assert answer.code == 200, answer.document
    doc = check_relay(answer.document, relay_id, changed=True)
    assert (doc["state"], doc["changed"]) == (False, True) and doc["seconds_in_state"] < SLACK_S
    listing = await unit.listing()
    assert listing["relays"][relay_id]["state"] is False
    assert listing["lease"]["expires_in_s"] > listing["lease"]["seconds"] - SLACK_S


@pytest_twisted.ensureDeferred
async def test_a_safety_off_is_an_off_like_any_other_where_no_minimum_time_holds(unit):
    relay_id, before = await switchable_relay(unit)
    if not before["state"]:
        if minimum(before, True) > SLACK_S:
            pytest.skip(f"switching {relay_id} on would hold it on; the test above covers that")
        assert (await unit.command(relay_id, True)).code == 200
    answer = await unit.call("POST", relay_path(relay_id), {"safety": "no trustworthy temperature", "state": False})
    assert answer.code == 200, answer.document
    assert check_relay(answer.document, relay_id, changed=True)["state"] is False
    again = await unit.command(relay_id, False, safety="no trustworthy temperature")
    assert (again.code, again.document["changed"]) == (200, False)


# Pointing the suite at your own unit.


def test_the_variable_alone_adds_your_unit(monkeypatch):
    def implementations():
        spec = importlib.util.spec_from_file_location("contract_copy", __file__)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return list(module.IMPLEMENTATIONS)

    monkeypatch.delenv(UNIT_URL_VARIABLE, raising=False)
    assert implementations() == ["control-daemon", "engine-test-fake", "stdlib-unit"]
    monkeypatch.setenv(UNIT_URL_VARIABLE, "http://192.0.2.1:8089")
    assert implementations()[-1] == UNIT_URL_VARIABLE


def test_the_suite_runs_against_a_unit_named_by_its_url(stdlib_unit_process):
    """What a third-party author runs (docs/control.rst), here against the standard-library unit."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", UNIT_URL_VARIABLE, __file__],
        cwd=REPO,
        env={
            **os.environ,
            UNIT_URL_VARIABLE: stdlib_unit_process.url,
            UNIT_SECRET_VARIABLE: stdlib_unit_process.secret,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    summary = run.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary


if __name__ == "__main__":  # a stand-in engine for your unit: prints the secret of each registration
    catcher = RegistrationCatcher(int(sys.argv[1]) if len(sys.argv) > 1 else 8088, host="0.0.0.0")
    catcher.verbose = True
    print(f"a stand-in engine on port {catcher.server_address[1]}: register your unit here; Ctrl-C stops", flush=True)
    catcher.serve_forever()
