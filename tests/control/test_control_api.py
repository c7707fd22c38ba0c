"""The relay unit's HTTP API: the documented shapes, every error, and no 500 for any input."""

import json
import tempfile
from io import BytesIO

import pytest
import pytest_twisted
import treq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from treq.testing import StubTreq
from twisted.internet import reactor
from twisted.internet.defer import ensureDeferred, succeed
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.task import Clock
from twisted.logger import formatEvent, globalLogPublisher
from twisted.web.iweb import UNKNOWN_LENGTH, IBodyProducer
from twisted.web.server import Site
from zope.interface import implementer

from rpymostat.protocol import MAX_BODY_BYTES
from rpymostat_control.api import RelayApi
from rpymostat_control.config import ControlConfig
from rpymostat_control.lease import Lease
from rpymostat_control.relays.sim import SimRelays
from rpymostat_control.state_file import StateFile
from rpymostat_control.switchboard import Switchboard
from rpymostat_control.unit_secret import UnitSecret

NOW = 1795608000.0
BASE = "http://unit.test"
LEASE = 180.0
#: The secret of the unit's registration, and the header the engine sends it in.
SECRET = "unit-secret_" + "k" * 31
AUTHORIZATION = f"Bearer {SECRET}"
JSON = {"Content-Type": "application/json", "Authorization": AUTHORIZATION}


class Unit:
    """Three sim relays behind a switchboard, a started lease and the API, at NOW."""

    def __init__(self, data_dir, min_on=300.0, min_off=300.0):
        self.clock = Clock()
        self.clock.advance(NOW)
        self.relays = SimRelays(ControlConfig(sim_relays=3))
        self.relays.set("sim-3", True)
        self.switchboard = Switchboard(
            [self.relays],
            self.clock,
            StateFile(data_dir),
            min_on,
            min_off,
            {"sim-3": True},
            monotonic=self.clock.seconds,
        )
        self.expired = []
        self.lease = Lease(self.clock, LEASE, lambda: self.expired.append(self.clock.seconds()))
        self.lease.start()
        self.secret = UnitSecret(SECRET)
        self.secret.for_registration()  # registered: the engine now holds SECRET
        self.resource = RelayApi(self.switchboard, self.lease, "pi-0000abcd", self.secret)
        self.treq = StubTreq(self.resource)

    def call(self, method, path, body=None, raw=None, headers=None, authorization=AUTHORIZATION):
        """``(status, decoded JSON or None, response)``; StubTreq answers at once.

        A body (and any POST) is sent as ``application/json`` unless ``headers`` say otherwise;
        ``authorization`` is the Authorization header (None: none), by default the engine's."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        if headers is None and (data is not None or method in ("POST", "PUT", "PATCH")):
            headers = {"Content-Type": "application/json"}
        if authorization is not None:
            headers = {**(headers or {}), "Authorization": authorization}
        outcome = ensureDeferred(self._call(method, path, data, headers))
        assert outcome.called
        return outcome.result

    async def _call(self, method, path, data, headers):
        response = await self.treq.request(method, BASE + path, data=data, headers=headers)
        content = await response.content()
        return response.code, json.loads(content) if content else None, response

    def states(self):
        """What the readable relays hold (a failing one cannot be read, as on real hardware)."""
        readable = sorted(set(self.relays.relays()) - self.relays.failing)
        return {relay_id: self.relays.get(relay_id) for relay_id in readable}


@pytest.fixture
def logged():
    events = []
    globalLogPublisher.addObserver(events.append)
    yield lambda: "\n".join(formatEvent(event) for event in events)
    globalLogPublisher.removeObserver(events.append)


@pytest.fixture
def unit(tmp_path):
    return Unit(tmp_path)


def test_listing_shows_every_relay_and_the_lease(unit):
    unit.clock.advance(30)
    code, body, response = unit.call("GET", "/v1/relays")
    assert code == 200
    assert response.headers.getRawHeaders(b"content-type") == [b"application/json"]
    assert body["host_id"] == "pi-0000abcd"
    assert body["lease"] == {"seconds": 180.0, "expires_in_s": 150.0}
    assert body["relays"]["sim-3"] == {
        "type": "sim",
        "state": True,
        "alias": None,
        "safe_state": True,
        "since": "2026-11-25T12:00:00.000+00:00",
        "seconds_in_state": 30.0,
        "min_on_s": 300.0,
        "min_off_s": 300.0,
    }
    assert sorted(body["relays"]) == ["sim-1", "sim-2", "sim-3"]
    assert unit.call("GET", "/v1/relays/")[0] == 200


def test_an_expired_lease_shows_null(unit):
    unit.clock.advance(LEASE)
    assert unit.expired == [NOW + LEASE]
    assert unit.call("GET", "/v1/relays")[1]["lease"] == {"seconds": 180.0, "expires_in_s": None}


def test_one_relay(unit):
    code, body, _ = unit.call("GET", "/v1/relays/sim-1")
    assert code == 200
    assert body["relay_id"] == "sim-1" and body["state"] is False and body["safe_state"] is False
    assert unit.call("GET", "/v1/relays/sim%2D1")[1]["relay_id"] == "sim-1"  # percent-encoded


def test_a_command_switches_and_renews_the_lease(unit):
    unit.clock.advance(300)
    assert len(unit.expired) == 1  # the lease ran out before the first command
    code, body, _ = unit.call("POST", "/v1/relays/sim-1", {"state": True})
    assert code == 200
    assert body["relay_id"] == "sim-1" and body["state"] is True and body["changed"] is True
    assert body["since"] == "2026-11-25T12:05:00.000+00:00" and body["seconds_in_state"] == 0.0
    assert unit.relays.get("sim-1") is True
    assert unit.lease.expires_in() == LEASE
    unit.clock.advance(100)
    code, body, _ = unit.call("POST", "/v1/relays/sim-1", {"state": True})
    assert (code, body["changed"], body["seconds_in_state"]) == (200, False, 100.0)
    assert unit.lease.expires_in() == LEASE
    unit.clock.advance(LEASE - 1)
    assert len(unit.expired) == 1
    unit.clock.advance(1)
    assert unit.expired[1] == NOW + 400 + LEASE


def test_a_minimum_time_refuses_with_409_and_still_renews_the_lease(unit):
    unit.clock.advance(42)
    code, body, _ = unit.call("POST", "/v1/relays/sim-1", {"state": True})
    assert code == 409
    assert body["status"] == "error"
    assert body["error"] == "minimum off time: sim-1 has been off for 42 of 300 s"
    assert body["retry_after_s"] == 258.0
    assert body["relay"]["relay_id"] == "sim-1" and body["relay"]["state"] is False
    assert body["relay"]["seconds_in_state"] == 42.0
    assert unit.states()["sim-1"] is False
    assert unit.lease.expires_in() == LEASE


def test_a_safety_off_is_honoured_at_once_inside_the_minimum_on_time(unit, logged):
    """The engine's safety layer (overheat, no trustworthy temperature) must not wait for
    the minimum on time; an ordinary off still does."""
    unit.clock.advance(300)
    assert unit.call("POST", "/v1/relays/sim-1", {"state": True})[0] == 200
    unit.clock.advance(20)
    code, body, _ = unit.call("POST", "/v1/relays/sim-1", {"state": False})
    assert (code, body["error"], body["retry_after_s"]) == (
        409,
        "minimum on time: sim-1 has been on for 20 of 300 s",
        280.0,
    )
    assert unit.states()["sim-1"] is True
    unit.clock.advance(10)
    code, body, _ = unit.call("POST", "/v1/relays/sim-1", {"state": False, "safety": "overheat: 31.5 C"})
    assert code == 200
    assert (body["relay_id"], body["state"], body["changed"], body["seconds_in_state"]) == ("sim-1", False, True, 0.0)
    assert body["since"] == "2026-11-25T12:05:30.000+00:00"
    assert unit.states()["sim-1"] is False
    assert unit.lease.expires_in() == LEASE
    assert (
        "relay sim-1 switched off for safety after 30 s on (minimum on time 300 s notwithstanding): overheat: 31.5 C"
    ) in logged()
    code, body, _ = unit.call("POST", "/v1/relays/sim-1", {"state": False, "safety": "overheat"})
    assert (code, body["changed"]) == (200, False)  # already off: nothing to do


def test_a_safety_command_never_switches_on_within_the_minimum_off_time(unit):
    unit.clock.advance(42)
    before = unit.states()
    code, body, _ = unit.call("POST", "/v1/relays/sim-1", {"state": True, "safety": "frost protection"})
    assert code == 422
    assert body == {
        "status": "error",
        "error": '"safety" only goes with "state": false; switching on respects the minimum off time',
    }
    assert unit.states() == before and unit.lease.expires_in() == LEASE - 42
    code, body, _ = unit.call("POST", "/v1/relays/sim-1", {"state": True})
    assert code == 409  # frost protection waits for the minimum off time like any on


@pytest.mark.parametrize(
    "safety, got",
    [
        ("", "a string of 0 characters"),
        ("  ", "a string of 2 characters"),
        ("x" * 201, "a string of 201 characters"),
        (True, "a boolean"),
        (7, "a number"),
        (None, "null"),
        ({"why": "overheat"}, "an object"),
        (["overheat"], "an array"),
    ],
)
def test_a_safety_reason_must_be_a_short_non_empty_string(unit, safety, got):
    unit.call("POST", "/v1/relays/sim-3", {"state": True})  # found on: safe state, held by min_on
    before = unit.states()
    code, body, _ = unit.call("POST", "/v1/relays/sim-3", {"state": False, "safety": safety})
    assert code == 422
    assert body == {
        "status": "error",
        "error": f'"safety" must be the reason for a safety off, a string of 1 to 200 characters, got {got}',
    }
    assert unit.states() == before and unit.states()["sim-3"] is True
    assert unit.call("POST", "/v1/relays/sim-3", {"state": False, "safety": "x" * 200})[0] == 200


def test_a_backend_raising_anything_is_503_not_500(unit):
    def broken(relay_id, on):
        raise OSError(5, "Input/output error")

    unit.clock.advance(300)
    unit.relays.set = broken
    code, body, _ = unit.call("POST", "/v1/relays/sim-1", {"state": True})
    assert (code, body) == (503, {"status": "error", "error": "relay sim-1 failed: OSError(5, 'Input/output error')"})
    assert unit.lease.expires_in() == LEASE


def test_a_hardware_fault_is_503_and_renews_the_lease(unit):
    unit.clock.advance(300)
    unit.relays.failing.add("sim-2")
    code, body, _ = unit.call("POST", "/v1/relays/sim-2", {"state": True})
    assert code == 503
    assert body == {"status": "error", "error": "relay sim-2 failed: sim-2: simulated fault"}
    assert unit.lease.expires_in() == LEASE


REJECTED = [
    ("GET", "/", None, None, 404, "no such resource: /; relays are at /v1/relays"),
    ("GET", "/v1", None, None, 404, "no such resource: /v1; relays are at /v1/relays"),
    ("GET", "/v1/relays/sim-9", None, None, 404, "no such resource: /v1/relays/sim-9"),
    ("POST", "/v1/relays/sim-9", {"state": True}, None, 404, "no such resource"),
    ("GET", "/v1/relays/sim-1/state", None, None, 404, "no such resource"),
    ("GET", "/v1/relays/%ff", None, None, 404, "no such resource"),
    ("GET", "/v1/relays//", None, None, 404, "no such resource"),
    ("POST", "/v1/relays", {"state": True}, None, 405, "method POST not allowed here; allowed: GET, HEAD"),
    ("PUT", "/v1/relays/sim-1", {"state": True}, None, 405, "method PUT not allowed here; allowed: GET, HEAD, POST"),
    ("POST", "/v1/relays/sim-1", None, b"", 400, "request body is empty"),
    ("POST", "/v1/relays/sim-1", None, b"{state: true}", 400, "request body is not valid JSON"),
    ("POST", "/v1/relays/sim-1", None, b'{"state": \xff}', 400, "request body is not UTF-8"),
    ("POST", "/v1/relays/sim-1", None, b"[" * 100000, 400, "nested too deeply"),
    ("POST", "/v1/relays/sim-1", None, b"1" * 5000, 400, "request body has an integer longer than 4300 digits"),
    ("POST", "/v1/relays/sim-1", None, b'{"state": ' + b"1" * 5000 + b"}", 400, "longer than 4300 digits"),
    ("POST", "/v1/relays/sim-1", [True], None, 422, 'expected an object {"state": true|false}, got an array'),
    (
        "POST",
        "/v1/relays/sim-1",
        {"state": True, "for_s": 60},
        None,
        422,
        'unexpected field(s) "for_s"; a command has only "state"',
    ),
    ("POST", "/v1/relays/sim-1", {}, None, 422, 'missing field "state": true (on) or false (off)'),
    ("POST", "/v1/relays/sim-1", {"state": 1}, None, 422, '"state" must be true or false, got a number'),
    ("POST", "/v1/relays/sim-1", {"state": "on"}, None, 422, "got a string"),
    ("POST", "/v1/relays/sim-1", {"state": None}, None, 422, "got null"),
    ("POST", "/v1/relays/sim-1", None, b'{"state": NaN}', 422, "got a number"),
]


@pytest.mark.parametrize(
    "method, path, body, raw, code, message",
    REJECTED,
    ids=lambda value: value[:20] if isinstance(value, (str, bytes)) else None,
)
def test_rejected_requests_change_nothing(tmp_path, method, path, body, raw, code, message):
    unit = Unit(tmp_path, min_on=0, min_off=0)
    unit.clock.advance(10)
    before = unit.states()
    answered, document, response = unit.call(method, path, body, raw)
    assert answered == code
    assert document["status"] == "error" and message in document["error"]
    assert unit.states() == before
    assert unit.lease.expires_in() == LEASE - 10
    if code == 405:
        allowed = document["error"].rsplit("allowed: ", 1)[1]
        assert response.headers.getRawHeaders(b"allow") == [allowed.encode()]


def test_a_declared_length_over_the_limit_is_413(unit):
    code, body, _ = unit.call("POST", "/v1/relays/sim-1", raw=b"x" * (MAX_BODY_BYTES + 1))
    assert code == 413 and body["error"] == f"request body over {MAX_BODY_BYTES} bytes"


def test_head_answers_headers_only(unit):
    code, body, response = unit.call("HEAD", "/v1/relays/sim-1")
    assert (code, body) == (200, None)
    assert int(response.headers.getRawHeaders(b"content-length")[0]) > 100


@implementer(IBodyProducer)
class Chunked:
    """A body of unknown length, so it travels chunked with no Content-Length."""

    length = UNKNOWN_LENGTH

    def __init__(self, data):
        self.data = data

    def startProducing(self, consumer):
        consumer.write(self.data)
        return succeed(None)

    def pauseProducing(self):
        pass

    def resumeProducing(self):
        pass

    def stopProducing(self):
        pass


@pytest_twisted.ensureDeferred
async def test_over_real_http_including_an_oversized_chunked_body(tmp_path):
    unit = Unit(tmp_path, min_on=0, min_off=0)
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(unit.resource))
    url = f"http://127.0.0.1:{port.getHost().port}/v1/relays/sim-1"
    try:
        response = await treq.post(url, data=Chunked(b'{"state": true}'), headers=JSON)
        assert (response.code, (await response.json())["changed"]) == (200, True)
        response = await treq.post(url, data=Chunked(b" " * MAX_BODY_BYTES + b"{}"), headers=JSON)
        assert response.code == 413
        assert (await response.json())["error"] == f"request body over {MAX_BODY_BYTES} bytes"
        response = await treq.post(url, data=BytesIO(b'{"state": false}'), headers=JSON)
        assert (response.code, (await response.json())["state"]) == (200, False)
    finally:
        await port.stopListening()


# Any method, path and body: a clear answer, never a 500, and a rejection changes nothing.

json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
near_valid = st.dictionaries(st.sampled_from(["state", "State", "safety", "extra", ""]), json_values, max_size=3)
bodies = st.one_of(
    json_values.map(lambda value: json.dumps(value).encode()),
    near_valid.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=40),
    st.sampled_from([b'{"state": true}', b'{"state": false}', b'{"state": true, "state": 1}']),
)
paths = st.one_of(
    st.sampled_from(
        [
            "/v1/relays",
            "/v1/relays/",
            "/v1/relays/sim-1",
            "/v1/relays/sim-2",
            "/v1/relays/sim-3",
            "/v1/relays/sim-9",
            "/",
            "/v1",
            "/v1/relays/sim-1/x",
            "/v1/relays/%ff",
            "/v1/relays/sim%2d1",
            "/v1/relays/%00",
        ]
    ),
    st.text(st.characters(codec="ascii", exclude_characters="?#%"), max_size=20).map(
        lambda text: "/v1/relays/" + text.replace(" ", "").replace("\\", "")
    ),
)
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(methods, paths, bodies)
def test_any_request_gets_a_clear_answer(method, path, body):
    with tempfile.TemporaryDirectory() as data_dir:
        unit = Unit(data_dir, min_on=0, min_off=0)
        unit.relays.failing.add("sim-2")
        unit.clock.advance(10)
        before = unit.states()
        code, document, _ = unit.call(method, path, raw=body)
    assert code in (200, 400, 404, 405, 413, 422, 503), (code, document)
    if method == "HEAD":
        return
    if code >= 400:
        assert document["status"] == "error" and document["error"], document
    if code in (400, 404, 405, 413, 422):
        assert unit.states() == before
        assert unit.lease.expires_in() == LEASE - 10
    if code in (200, 503) and method == "POST":
        assert unit.lease.expires_in() == LEASE


commands = st.fixed_dictionaries(
    {"state": st.booleans()},
    optional={"safety": st.one_of(st.text(max_size=5), st.none(), st.integers(), st.just("overheat"))},
).map(lambda value: json.dumps(value).encode())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(["sim-1", "sim-2", "sim-3"]), st.one_of(commands, bodies)), min_size=1, max_size=6
    ),
    st.floats(0, 400),
)
def test_with_minimum_times_no_command_breaks_them_except_a_safety_off(sequence, elapsed):
    """Commands inside a 300 s minimum time: a switch happens only when it is allowed."""
    with tempfile.TemporaryDirectory() as data_dir:
        unit = Unit(data_dir, min_on=300.0, min_off=300.0)
        unit.clock.advance(elapsed)
        for relay_id, body in sequence:
            before = unit.states()
            held_for = unit.switchboard.document(relay_id)["seconds_in_state"]
            code, document, _ = unit.call("POST", f"/v1/relays/{relay_id}", raw=body)
            assert code in (200, 400, 409, 413, 422), (code, document)
            after = unit.states()
            if code != 200:
                assert after == before and document["status"] == "error"
                continue
            if after[relay_id] != before[relay_id]:
                command = json.loads(body)
                minimum = 300.0
                if before[relay_id]:  # switched off: early only for a safety off with its reason
                    assert held_for >= minimum or (isinstance(command.get("safety"), str) and command["safety"].strip())
                else:  # switched on: never early
                    assert held_for >= minimum
            unit.clock.advance(7)
