"""Real responses, not the document's own examples, against the schemas of ``openapi.json``.

Each answer comes from the engine's real resource tree over a real SQLite
file, with the decision loop switching a relay unit on loopback (as in
``tests/control_loop/test_loop.py``).  For each answer: its status code is one the
operation documents, its ``Content-Type`` is the documented one, and its body
validates (jsonschema, Draft 2020-12, ``$ref`` resolved through a referencing
Registry as :mod:`rpymostat.api.validation` does) against the schema the
document gives for that code.
"""

import pytest
import pytest_twisted
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from twisted.internet import reactor
from twisted.internet.task import deferLater

from rpymostat.api.validation import load_openapi
from rpymostat.storage.sqlite import SQLiteStorage
from tests.control_loop.relay_unit import start_unit
from tests.control_loop.test_loop import ZONE, ControlReadsFail, House

DOCUMENT = load_openapi()
URI = "urn:rpymostat:openapi-under-test"
REGISTRY = Registry().with_resource(URI, Resource.from_contents(DOCUMENT, default_specification=DRAFT202012))


def pointer(*parts) -> str:
    """A JSON pointer to ``parts`` (``~`` and ``/`` escaped)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def check(template, method, answer):
    """Assert that ``answer`` (an ApiClient result) is what ``method template`` documents."""
    code, body, response = answer
    operation = DOCUMENT["paths"][template][method]
    where = f"{method.upper()} {template} answered {code}"
    assert str(code) in operation["responses"], f"{where}, which it does not document: {body}"
    content = operation["responses"][str(code)].get("content")
    kinds = response.headers.getRawHeaders(b"content-type", [])
    if content is None:
        assert body == "", where
        return
    assert [kind.decode() for kind in kinds] == [kind for kind in content if kind == "application/json"], where
    schema = {
        "$ref": URI
        + "#"
        + pointer("paths", template, method, "responses", str(code), "content", "application/json", "schema")
    }
    errors = sorted(Draft202012Validator(schema, registry=REGISTRY).iter_errors(body), key=str)
    assert errors == [], f"{where}: {'/'.join(map(str, errors[0].absolute_path))}: {errors[0].message}"


@pytest_twisted.async_yield_fixture
async def house(clock, tmp_path):
    """A house over real SQLite: a registered relay unit, a sensor, the default zone driving it."""
    storage = SQLiteStorage(tmp_path / "engine.sqlite3", reactor)
    await storage.open()
    unit, port, url = await start_unit(reactor, clock, ["r1", "r2"])
    built = House(storage, clock, unit, url)
    await built.loop.load()
    code, _, _ = await built.api.post(
        "/v1/controls/register", unit.registration(url, "unit1", {"r1": {"type": "test", "state": False}})
    )
    assert code == 201
    await built.reading(20.9)
    assert (await built.api.put("/v1/zones/default", ZONE))[0] == 200
    yield built
    await built.client.close()
    await port.stopListening()
    # Rule changes recompute timelines in the background; let them finish before closing.
    await deferLater(reactor, 0.1, lambda: None)
    await storage.close()


async def one_run(house):
    """Heat on while cold, then off once warm: one finished run."""
    house.clock.advance(400)
    await house.reading(19.0)
    await house.tick()
    house.clock.advance(400)
    await house.reading(22.0)
    await house.tick()
    assert house.unit.relays["r1"]["state"] is False


@pytest_twisted.ensureDeferred
async def test_zone_state_of_a_decided_zone(house):
    house.clock.advance(400)
    await house.reading(19.0)
    await house.tick()
    answer = await house.api.get("/v1/zones/default/state")
    assert answer[0] == 200 and answer[1]["outputs"]["heat"]["on"] is True
    check("/v1/zones/{zone}/state", "get", answer)


@pytest_twisted.ensureDeferred
async def test_zone_state_of_a_zone_that_cannot_be_decided_is_a_documented_503(clock):
    unit, port, url = await start_unit(reactor, clock, ["r1"])
    house = House(ControlReadsFail(), clock, unit, url)
    try:
        await house.api.post("/v1/controls/register", unit.registration(url, "unit1", {}))
        await house.reading(20.9)
        assert (await house.api.put("/v1/zones/default", ZONE))[0] == 200
        answer = await house.api.get("/v1/zones/default/state")
        assert answer[0] == 503
        check("/v1/zones/{zone}/state", "get", answer)
    finally:
        await house.client.close()
        await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_runs_with_a_finished_and_an_open_run(house):
    await one_run(house)
    house.clock.advance(400)
    await house.reading(19.0)
    await house.tick()  # a second run, still going
    answer = await house.api.get("/v1/zones/default/runs")
    assert answer[0] == 200 and len(answer[1]["runs"]) == 2
    check("/v1/zones/{zone}/runs", "get", answer)


@pytest_twisted.ensureDeferred
async def test_history_of_a_zone_that_ran(house):
    await one_run(house)
    house.clock.advance(400)
    await house.tick()
    for query in ("zone=default&step=PT15M", "zone=default&step=PT1M", "zone=default&step=P1D"):
        answer = await house.api.get(f"/v1/history?{query}")
        assert answer[0] == 200 and answer[1]["runs"], answer
        check("/v1/history", "get", answer)
    check("/v1/history", "get", await house.api.get("/v1/history?zone=default&step=PT1S"))


@pytest.mark.parametrize(
    "template, path",
    [
        ("/v1/controls", "/v1/controls"),
        ("/v1/zones", "/v1/zones"),
        ("/v1/zones/{zone}", "/v1/zones/default"),
        ("/v1/zones/{zone}/target", "/v1/zones/default/target"),
        ("/v1/sensors", "/v1/sensors"),
        ("/v1/sensors/{sensor_id}", "/v1/sensors/s1"),
        ("/v1/timeline", "/v1/timeline"),
        ("/v1/timeline", "/v1/timeline?zone=default&start=2026-11-26T00:00:00%2B01:00&hours=24"),
        ("/v1/schedules", "/v1/schedules"),
        ("/v1/overrides", "/v1/overrides"),
        ("/v1/zones/{zone}/hold", "/v1/zones/default/hold"),
        ("/v1/status", "/v1/status"),
        ("/v1/plugins", "/v1/plugins"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_listings_of_a_house_with_every_kind_of_record(house, template, path):
    await one_run(house)
    schedule = {
        "name": "evening",
        "start": "0 18 * * *",
        "duration": "PT4H",
        "heat_setpoint": 21.0,
        "sensors": {"s1": 1.0},
    }
    assert (await house.api.post("/v1/schedules", schedule))[0] == 201
    override = {"name": "away", "interval": "2026-12-21/2026-12-28", "heat_setpoint": 12.0}
    assert (await house.api.post("/v1/overrides", override))[0] == 201
    assert (await house.api.post("/v1/zones/default/hold", {"heat_setpoint": 22.0, "duration": "PT2H"}))[0] == 201
    answer = await house.api.get(path)
    assert answer[0] == 200, answer[1]
    check(template, "get", answer)


@pytest_twisted.ensureDeferred
async def test_written_rules_are_answered_as_documented(house):
    schedule = {"name": "evening", "start": "0 18 * * *", "duration": "PT4H", "heat_setpoint": 21.0}
    created = await house.api.post("/v1/schedules", schedule)
    check("/v1/schedules", "post", created)
    rule_id = created[1]["id"]
    check("/v1/schedules/{rule_id}", "get", await house.api.get(f"/v1/schedules/{rule_id}"))
    check(
        "/v1/schedules/{rule_id}",
        "put",
        await house.api.put(f"/v1/schedules/{rule_id}", {**schedule, "heat_setpoint": 20.0}),
    )
    override = await house.api.post("/v1/overrides", {"duration": "PT1H", "heat_setpoint": 12.0})
    check("/v1/overrides", "post", override)
    check(
        "/v1/zones/{zone}/hold",
        "post",
        await house.api.post("/v1/zones/default/hold", {"heat_setpoint": 22.0, "until": "permanent"}),
    )
    check("/v1/zones/{zone}", "put", await house.api.put("/v1/zones/upstairs", {"name": "Upstairs"}))
    check("/v1/sensors/{sensor_id}", "patch", await house.api.patch("/v1/sensors/s1", {"name": "hall"}))
    check("/v1/schedules/{rule_id}", "delete", await house.api.delete(f"/v1/schedules/{rule_id}"))


@pytest_twisted.ensureDeferred
async def test_a_stream_ticket_is_answered_as_documented(house):
    check("/v1/events/ticket", "post", await house.api.post("/v1/events/ticket"))


@pytest.mark.parametrize("zone", ["upstairs", "default"])
@pytest_twisted.ensureDeferred
async def test_a_zone_written_without_a_name_is_answered_as_documented(house, zone):
    check("/v1/zones/{zone}", "put", await house.api.put(f"/v1/zones/{zone}", {}))


@pytest.mark.parametrize(
    "template, method, path, body, code",
    [
        ("/v1/zones/{zone}/state", "get", "/v1/zones/attic/state", None, 404),
        ("/v1/zones/{zone}/runs", "get", "/v1/zones/attic/runs", None, 404),
        ("/v1/zones/{zone}/runs", "get", "/v1/zones/default/runs?limit=0", None, 422),
        ("/v1/zones/{zone}", "get", "/v1/zones/attic", None, 404),
        ("/v1/sensors/{sensor_id}", "get", "/v1/sensors/nope", None, 404),
        ("/v1/schedules/{rule_id}", "get", "/v1/schedules/nope", None, 404),
        ("/v1/timeline", "get", "/v1/timeline?zone=attic", None, 404),
        ("/v1/timeline", "get", "/v1/timeline?hours=-1", None, 422),
        ("/v1/schedules", "post", "/v1/schedules", {"name": "x"}, 422),
        ("/v1/overrides", "post", "/v1/overrides", {"heat_setpoint": 12.0, "duration": "P1M"}, 422),
        ("/v1/zones/{zone}/hold", "post", "/v1/zones/default/hold", {"heat_setpoint": 99}, 422),
        ("/v1/zones/{zone}", "put", "/v1/zones/default", {"quorum": 5}, 422),
        ("/v1/controls/register", "post", "/v1/controls/register", {"host_id": "x"}, 422),
        ("/v1/sensors/update", "put", "/v1/sensors/update", [], 422),
        ("/v1/sensors/{sensor_id}", "patch", "/v1/sensors/s1", {"name": 5}, 422),
        ("/v1/schedules", "post", "/v1/schedules", "{nope", 400),
        ("/v1/events", "get", "/v1/events?topics=zone.decided,nope", None, 422),
    ],
)
@pytest_twisted.ensureDeferred
async def test_error_answers_are_documented(house, template, method, path, body, code):
    raw = body.encode() if isinstance(body, str) else None
    answer = await house.api.request(method.upper(), path, None if raw else body, raw=raw)
    assert answer[0] == code, answer[1]
    assert answer[1]["status"] == "error"
    check(template, method, answer)


@pytest.mark.parametrize(
    "method, path, documented",
    [
        ("post", "/v1/zones", "/v1/zones"),
        ("delete", "/v1/controls", "/v1/controls"),
        ("post", "/v1/zones/default/state", "/v1/zones/{zone}/state"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_a_wrong_method_is_a_json_405_error(house, method, path, documented):
    code, body, response = await house.api.request(method.upper(), path)
    assert method not in DOCUMENT["paths"][documented]
    assert (code, body["status"]) == (405, "error")
    assert response.headers.getRawHeaders(b"content-type") == [b"application/json"]
    schema = {"$ref": URI + "#/components/schemas/Error"}
    assert list(Draft202012Validator(schema, registry=REGISTRY).iter_errors(body)) == []


@pytest_twisted.ensureDeferred
async def test_an_unknown_path_is_a_json_404_error(house):
    code, body, response = await house.api.get("/v1/nothing/here")
    assert (code, body) == (404, {"status": "error", "error": "no such resource: /v1/nothing/here"})
    assert response.headers.getRawHeaders(b"content-type") == [b"application/json"]
    schema = {"$ref": URI + "#/components/schemas/Error"}
    assert list(Draft202012Validator(schema, registry=REGISTRY).iter_errors(body)) == []
