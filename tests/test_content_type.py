"""Item 12: a body is read only when it says it is JSON, on the engine and on a relay unit.

A web page a person in the house opens can make their browser POST a form
(``application/x-www-form-urlencoded``, ``multipart/form-data``) or a
``text/plain`` fetch to any address on the LAN without a CORS preflight; an
``application/json`` request needs one, which neither server answers.  So
everything else is a 415 JSON error that stores nothing and switches nothing,
even when the body itself is perfectly good JSON.
"""

import json

import pytest
import pytest_twisted
from treq.testing import StubTreq
from twisted.internet import reactor
from twisted.internet.defer import ensureDeferred
from twisted.internet.task import Clock

from rpymostat.api.validation import load_openapi
from rpymostat.storage.sqlite import SQLiteStorage
from rpymostat_control.api import RelayApi
from rpymostat_control.config import ControlConfig
from rpymostat_control.lease import Lease
from rpymostat_control.relays.sim import SimRelays
from rpymostat_control.state_file import StateFile
from rpymostat_control.switchboard import Switchboard
from rpymostat_control.unit_secret import UnitSecret
from tests.api_client import ApiClient
from tests.conftest import NOW
from tests.test_api_fuzz import stored_records

#: What a cross-site page can send without a preflight, and a client that forgot the header.
REFUSED_TYPES = [
    ("text/plain", "'text/plain'"),
    ("text/plain;charset=UTF-8", "'text/plain;charset=UTF-8'"),
    ("application/x-www-form-urlencoded", "'application/x-www-form-urlencoded'"),
    ("multipart/form-data; boundary=----x", "'multipart/form-data; boundary=----x'"),
    (None, "none"),
]

SENSOR_UPDATE = {"host_id": "pi", "sensors": {"28-a": {"type": "DS18B20", "value": 20.5}}}
SCHEDULE = {"name": "x", "start": "0 6 * * *", "duration": "PT1H", "heat_setpoint": 20.0}
OVERRIDE = {"start": "2026-11-25T13:00:00Z", "duration": "PT1H", "heat_setpoint": 20.0}

#: Every operation of the engine with a request body, with a body it accepts.
#: ``{schedule}`` and ``{override}`` are filled in with rules made beforehand.
BODIES = {
    ("put", "/v1/sensors/update"): ("/v1/sensors/update", SENSOR_UPDATE),
    ("patch", "/v1/sensors/{sensor_id}"): ("/v1/sensors/28-a", {"name": "hall"}),
    ("post", "/v1/schedules"): ("/v1/schedules", SCHEDULE),
    ("put", "/v1/schedules/{rule_id}"): ("/v1/schedules/{schedule}", {**SCHEDULE, "heat_setpoint": 21.0}),
    ("post", "/v1/overrides"): ("/v1/overrides", OVERRIDE),
    ("put", "/v1/overrides/{rule_id}"): ("/v1/overrides/{override}", {**OVERRIDE, "heat_setpoint": 21.0}),
    ("post", "/v1/zones/{zone}/hold"): ("/v1/zones/default/hold", {"heat_setpoint": 20.0, "until": "permanent"}),
    ("put", "/v1/zones/{zone}"): ("/v1/zones/upstairs", {"sensors": {}}),
    ("post", "/v1/tokens"): ("/v1/tokens", {"name": "wall", "role": "read"}),
    ("post", "/v1/pair"): (
        "/v1/pair",
        {"host_id": "pi", "role": "sensor", "code": "K7M2QX", "token_hash": "a" * 64, "secret": "s" * 43},
    ),
    ("post", "/v1/pair/proof"): (
        "/v1/pair/proof",
        {"name": "sensor-pi", "nonce": "ab" * 16, "url": "http://127.0.0.1:8088/v1"},
    ),
    ("post", "/v1/controls/register"): (
        "/v1/controls/register",
        {
            "host_id": "pi",
            "url": "http://192.168.1.20:8089",
            "relays": {"r": {"type": "sim", "state": False}},
            "secret": "content-type-test-secret_" + "c" * 18,
        },
    ),
}

#: A well-formed form part, as a browser sends it (a malformed multipart body never
#: reaches our code: twisted.web answers it 400 itself).
MULTIPART_BODY = b'------x\r\nContent-Disposition: form-data; name="state"\r\n\r\ntrue\r\n------x--\r\n'


def raw_body(content_type, document):
    """``document`` as JSON, or as a form part when ``content_type`` is multipart."""
    if content_type and content_type.startswith("multipart/"):
        return MULTIPART_BODY
    return json.dumps(document).encode()


def test_every_operation_with_a_body_is_covered_and_documents_415():
    document = load_openapi()
    with_body = {
        (method, path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    }
    assert with_body == set(BODIES)
    for method, path in with_body:
        assert "415" in document["paths"][path][method]["responses"], (method, path)


@pytest_twisted.async_yield_fixture
async def engine(tmp_path):
    """The engine's resource tree over a real SQLite file, with a sensor, a schedule and an override."""
    storage = SQLiteStorage(tmp_path / "engine.sqlite3", reactor)
    await storage.open()
    clock = Clock()
    clock.advance(NOW)
    api = ApiClient(storage, clock)
    assert (await api.put("/v1/sensors/update", SENSOR_UPDATE))[0] == 201
    api.ids = {
        "schedule": (await api.post("/v1/schedules", SCHEDULE))[1]["id"],
        "override": (await api.post("/v1/overrides", OVERRIDE))[1]["id"],
    }
    api.storage = storage
    yield api
    await storage.close()


async def snapshot(storage):
    """Everything the engine stores, through the storage interface."""
    sensors = await storage.sensors()
    return (
        sensors,
        [await storage.history(sensor.sensor_id) for sensor in sensors],
        await stored_records(storage),
        await storage.tokens(),
        await storage.pairings(),
    )


def target(engine, method, path):
    where, body = BODIES[(method, path)]
    return method.upper(), where.format(**engine.ids), body


@pytest.mark.parametrize("content_type, shown", REFUSED_TYPES)
@pytest.mark.parametrize("method, path", sorted(BODIES))
@pytest_twisted.ensureDeferred
async def test_the_engine_refuses_a_body_not_sent_as_json_and_stores_nothing(engine, method, path, content_type, shown):
    verb, where, body = target(engine, method, path)
    before = await snapshot(engine.storage)
    headers = {"Content-Type": [] if content_type is None else [content_type]}
    code, answer, response = await engine.request(verb, where, raw=raw_body(content_type, body), headers=headers)
    assert (code, answer) == (
        415,
        {
            "status": "error",
            "error": f"Content-Type must be application/json, got {shown}",
        },
    )
    assert response.headers.getRawHeaders(b"content-type") == [b"application/json"]
    assert await snapshot(engine.storage) == before


@pytest_twisted.ensureDeferred
async def test_the_engine_refuses_a_form_post_of_a_hold(engine):
    """What an HTML form on another site would send."""
    code, answer, _ = await engine.request(
        "POST",
        "/v1/zones/default/hold",
        raw=b"heat_setpoint=30&until=permanent",
        headers={"Content-Type": ["application/x-www-form-urlencoded"]},
    )
    assert code == 415 and answer["status"] == "error"
    assert await engine.storage.rules("hold") == []


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "APPLICATION/JSON"])
@pytest.mark.parametrize("method, path", sorted(BODIES))
@pytest_twisted.ensureDeferred
async def test_the_engine_reads_json_with_parameters_in_any_case(engine, method, path, content_type):
    verb, where, body = target(engine, method, path)
    code, answer, _ = await engine.request(verb, where, body, headers={"Content-Type": [content_type]})
    assert 200 <= code < 300, answer  # read and understood


# --- the relay unit ---


class Unit:
    """Two sim relays, both off, behind a switchboard, a started lease and the unit's API."""

    def __init__(self, data_dir):
        self.clock = Clock()
        self.clock.advance(NOW)
        self.relays = SimRelays(ControlConfig(sim_relays=2))
        self.switchboard = Switchboard(
            [self.relays],
            self.clock,
            StateFile(data_dir),
            0.0,
            0.0,
            {},
            monotonic=self.clock.seconds,
        )
        self.lease = Lease(self.clock, 180.0, lambda: None)
        self.lease.start()
        secret = UnitSecret()
        self.authorization = f"Bearer {secret.for_registration()}"  # as the engine it registered with
        self.treq = StubTreq(RelayApi(self.switchboard, self.lease, "pi-0000abcd", secret))

    def post(self, path, raw, content_type):
        headers = {
            "Content-Type": [] if content_type is None else [content_type],
            "Authorization": [self.authorization],
        }
        outcome = ensureDeferred(self._post(path, raw, headers))
        assert outcome.called
        return outcome.result

    async def _post(self, path, raw, headers):
        response = await self.treq.request("POST", "http://unit.test" + path, data=raw, headers=headers)
        content = await response.content()
        return response.code, json.loads(content), response


@pytest.fixture
def unit(tmp_path):
    return Unit(tmp_path)


@pytest.mark.parametrize("content_type, shown", REFUSED_TYPES)
def test_the_relay_unit_refuses_a_command_not_sent_as_json_and_switches_nothing(unit, content_type, shown):
    unit.clock.advance(60)
    code, answer, response = unit.post("/v1/relays/sim-1", raw_body(content_type, {"state": True}), content_type)
    assert (code, answer) == (
        415,
        {
            "status": "error",
            "error": f"Content-Type must be application/json, got {shown}",
        },
    )
    assert response.headers.getRawHeaders(b"content-type") == [b"application/json"]
    assert (unit.relays.get("sim-1"), unit.relays.get("sim-2")) == (False, False)
    assert unit.lease.expires_in() == 120.0  # a refused request does not renew the lease


def test_the_relay_unit_refuses_a_form_post(unit):
    code, answer, _ = unit.post("/v1/relays/sim-1", b"state=true", "application/x-www-form-urlencoded")
    assert code == 415 and answer["status"] == "error"
    assert unit.relays.get("sim-1") is False


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/Json"])
def test_the_relay_unit_switches_on_a_command_sent_as_json(unit, content_type):
    unit.clock.advance(60)
    code, answer, _ = unit.post("/v1/relays/sim-1", b'{"state": true}', content_type)
    assert (code, answer["state"], answer["changed"]) == (200, True, True)
    assert unit.relays.get("sim-1") is True
    assert unit.lease.expires_in() == 180.0
