"""Tokens and roles at the API: who may do what, over the real site and a real SQLite file."""

import hashlib
import stat

import pytest_twisted

from rpymostat.api.validation import load_openapi
from rpymostat.auth import admin
from rpymostat.auth.policy import CACHE_S
from rpymostat.auth.throttle import LIMIT, WINDOW_S
from tests.auth_engine import Engine, clock, sqlite  # noqa: F401 - fixtures

ZONE = {"mode": "heat"}
SCHEDULE = {"name": "morning", "start": "0 6 * * *", "duration": "PT2H", "heat_setpoint": 21.0}


@pytest_twisted.async_fixture
async def engine(sqlite, clock):  # noqa: F811 - the fixtures imported above
    built = Engine(sqlite, clock)
    for role in ("admin", "user", "read", "sensor", "control"):
        await built.make(role)
    return built


@pytest_twisted.ensureDeferred
async def test_a_stranger_cannot_set_a_zone_and_is_told_how_to_authenticate(engine):
    code, body, response = await engine.call("PUT", "/v1/zones/default", ZONE)
    assert code == 401
    assert body["status"] == "error" and "Authorization: Bearer" in body["error"]
    assert response.headers.getRawHeaders(b"www-authenticate") == [b'Bearer realm="rpymostat"']
    assert await engine.storage.zones() == []
    code, body, _ = await engine.call("PUT", "/v1/zones/default", ZONE, token="rpy_guessed")
    assert (code, body["error"]) == (401, "unknown or revoked token")
    code, _, _ = await engine.call("GET", "/v1/zones/default", headers={"Authorization": ["Basic YWRtaW46YWRtaW4="]})
    assert code == 401
    assert await engine.storage.zones() == []


@pytest_twisted.ensureDeferred
async def test_only_the_home_page_status_and_document_answer_without_a_token(engine):
    for path in ("/", "/v1/status", "/v1/openapi.json"):
        assert (await engine.call("GET", path))[0] == 200, path
    for path in ("/v1/sensors", "/v1/zones", "/v1/controls", "/v1/tokens", "/v1/no-such-thing"):
        assert (await engine.call("GET", path))[0] == 401, path


@pytest_twisted.ensureDeferred
async def test_each_role_does_what_the_table_says_and_no_more(engine):
    expectations = [
        # (role, method, path, body, allowed)
        ("read", "GET", "/v1/zones", None, True),
        ("read", "POST", "/v1/schedules", SCHEDULE, False),
        ("user", "POST", "/v1/schedules", SCHEDULE, True),
        ("user", "PUT", "/v1/zones/default", ZONE, True),
        ("user", "DELETE", "/v1/sensors/hall", None, False),
        ("user", "GET", "/v1/tokens", None, False),
        ("sensor", "GET", "/v1/zones", None, False),
        ("sensor", "POST", "/v1/schedules", SCHEDULE, False),
        ("control", "GET", "/v1/controls", None, False),
        ("control", "PUT", "/v1/sensors/update", {"host_id": "h", "sensors": {"a": {"type": "t", "value": 1}}}, False),
        ("admin", "GET", "/v1/tokens", None, True),
    ]
    for role, method, path, body, allowed in expectations:
        code, answer, _ = await engine.call(method, path, body, as_=role)
        if allowed:
            assert code < 400, (role, method, path, code, answer)
        else:
            assert code == 403, (role, method, path, code, answer)
            assert answer["error"].startswith(f"token {role!r} has the role {role!r}"), answer
    assert [r.rule_id for r in await engine.storage.rules("schedule")].__len__() == 1  # the user's only


@pytest_twisted.ensureDeferred
async def test_a_user_changes_a_zones_mode_but_only_an_admin_its_outputs(engine):
    wired = {**ZONE, "outputs": {"heat": "pi-boiler/relay-0"}}
    code, body, _ = await engine.call("PUT", "/v1/zones/default", wired, as_="user")
    assert code == 403 and "outputs" in body["error"]
    assert await engine.storage.zones() == []
    assert (await engine.call("PUT", "/v1/zones/default", wired, as_="admin"))[0] == 200
    code, body, _ = await engine.call("PUT", "/v1/zones/default", {**wired, "mode": "off"}, as_="user")
    assert code == 200, body
    assert (await engine.storage.zone("default")).document["mode"] == "off"


@pytest_twisted.ensureDeferred
async def test_a_sensor_token_binds_to_its_first_host_and_sends_for_no_other(engine):
    def update(host_id, value):
        return {"host_id": host_id, "sensors": {f"{host_id}-t": {"type": "DS18B20", "value": value}}}

    assert (await engine.call("PUT", "/v1/sensors/update", update("pi-attic", 19.0), as_="sensor"))[0] == 201
    code, body, _ = await engine.call("PUT", "/v1/sensors/update", update("pi-rogue", 35.0), as_="sensor")
    assert code == 403 and "belongs to host 'pi-attic'" in body["error"]
    assert await engine.storage.sensor("pi-rogue-t") is None
    assert (await engine.storage.token("sensor")).host_id == "pi-attic"
    assert (await engine.call("PUT", "/v1/sensors/update", update("pi-attic", 19.5), as_="sensor"))[0] == 201


@pytest_twisted.ensureDeferred
async def test_a_control_token_made_for_one_host_registers_that_unit_only(engine):
    await engine.make("control", "boiler", host_id="pi-boiler")

    def registration(host_id):
        relays = {"r1": {"type": "test", "state": False}}
        return {"host_id": host_id, "url": "http://127.0.0.1:8089", "relays": relays, "secret": "s" * 43}

    code, body, _ = await engine.call("POST", "/v1/controls/register", registration("pi-other"), as_="boiler")
    assert code == 403 and "belongs to host 'pi-boiler'" in body["error"]
    assert await engine.storage.relay_units() == []
    assert (await engine.call("POST", "/v1/controls/register", registration("pi-boiler"), as_="boiler"))[0] == 201


@pytest_twisted.ensureDeferred
async def test_a_token_revoked_through_the_api_stops_at_once_and_by_the_command_within_seconds(engine):
    assert (await engine.call("GET", "/v1/zones", as_="read"))[0] == 200
    assert (await engine.call("DELETE", "/v1/tokens/read", as_="admin"))[0] == 204
    assert (await engine.call("GET", "/v1/zones", as_="read"))[0] == 401
    assert (await engine.call("GET", "/v1/zones", as_="user"))[0] == 200  # cached now
    await admin.revoke_token(engine.storage, "user")  # as `rpymostat-engine token revoke` does, elsewhere
    engine.clock.advance(CACHE_S)
    assert (await engine.call("GET", "/v1/zones", as_="user"))[0] == 401


@pytest_twisted.ensureDeferred
async def test_guessing_is_slowed_down_but_the_household_is_not_locked_out(engine):
    assert (await engine.call("GET", "/v1/zones", as_="user"))[0] == 200
    for attempt in range(LIMIT):
        assert (await engine.call("GET", "/v1/zones", token=f"rpy_guess{attempt}"))[0] == 401
    code, body, response = await engine.call("GET", "/v1/zones", token="rpy_one-more")
    assert code == 429 and body["status"] == "error"
    assert response.headers.getRawHeaders(b"retry-after") == [str(int(WINDOW_S)).encode()]
    assert (await engine.call("GET", "/v1/zones"))[0] == 429
    engine.clock.advance(CACHE_S + 1)  # its cached record is old: it is known good all the same
    assert (await engine.call("GET", "/v1/zones", as_="user"))[0] == 200
    engine.clock.advance(WINDOW_S)
    assert (await engine.call("GET", "/v1/zones", token="rpy_guess-again"))[0] == 401


@pytest_twisted.ensureDeferred
async def test_tokens_are_shown_once_and_listed_without_secrets(engine):
    code, made, _ = await engine.call(
        "POST", "/v1/tokens", {"name": "attic", "role": "sensor", "host_id": "pi-attic"}, as_="admin"
    )
    assert code == 201 and made["token"].startswith("rpy_") and len(made["token"]) >= 43
    assert (await engine.storage.token("attic")).token_hash == hashlib.sha256(made["token"].encode()).hexdigest()
    code, listed, _ = await engine.call("GET", "/v1/tokens", as_="admin")
    attic = next(t for t in listed["tokens"] if t["name"] == "attic")
    assert attic == {**{k: v for k, v in made.items() if k != "token"}, "host_id": "pi-attic", "paired": False}
    assert made["token"] not in str(listed)
    code, body, _ = await engine.call("POST", "/v1/tokens", {"name": "attic", "role": "read"}, as_="admin")
    assert code == 409
    code, body, _ = await engine.call("POST", "/v1/tokens", {"name": "x", "role": "owner"}, as_="admin")
    assert code == 422 and body["error"].startswith("role:")
    code, body, _ = await engine.call("POST", "/v1/tokens", {"name": "x", "role": "user", "host_id": "pi"}, as_="admin")
    assert code == 422 and body["error"].startswith("host_id:")
    assert (await engine.call("DELETE", "/v1/tokens/nobody", as_="admin"))[0] == 404
    assert await engine.storage.token("x") is None


@pytest_twisted.ensureDeferred
async def test_while_the_database_is_down_a_token_seen_before_still_reads_what_needs_no_database(engine):
    assert (await engine.call("GET", "/v1/plugins", as_="user"))[0] == 200
    await engine.storage.close()
    engine.clock.advance(CACHE_S * 10)
    assert (await engine.call("GET", "/v1/plugins", as_="user"))[0] == 200
    code, body, _ = await engine.call("GET", "/v1/plugins", token="rpy_never-seen")
    assert code == 503 and body["error"].startswith("database unavailable:")  # not a 500, not a 401


@pytest_twisted.ensureDeferred
async def test_the_first_start_writes_an_admin_token_readable_by_its_owner_only(sqlite, clock, tmp_path):  # noqa: F811
    path = await admin.first_admin_token(sqlite, clock.seconds(), tmp_path / "data")
    assert path == tmp_path / "data" / "admin-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = path.read_text().strip()
    assert (await sqlite.token("admin")).token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert await admin.first_admin_token(sqlite, clock.seconds(), tmp_path / "data") is None
    assert path.read_text().strip() == token  # never overwritten
    engine = Engine(sqlite, clock)
    assert (await engine.call("GET", "/v1/tokens", token=token))[0] == 200


def test_every_operation_but_the_open_ones_names_its_roles_and_its_refusals():
    document = load_openapi()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        **document["components"]["securitySchemes"]["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
    }
    open_ones = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            if operation.get("security") == []:
                open_ones.append(f"{method.upper()} {path}")
                continue
            assert operation["x-roles"], (method, path)
            assert {"401", "403", "429"} <= set(operation["responses"]), (method, path)
    assert sorted(open_ones) == [
        "GET /",
        "GET /v1/openapi.json",
        "GET /v1/pair/{pair_id}",
        "GET /v1/status",
        "POST /v1/pair",
        "POST /v1/pair/proof",
    ]


@pytest_twisted.ensureDeferred
async def test_the_last_admin_token_cannot_be_revoked_so_nobody_is_locked_out(engine):
    code, body, _ = await engine.call("DELETE", "/v1/tokens/admin", as_="admin")
    assert code == 409 and "last admin token" in body["error"]
    await engine.make("admin", "second-admin")
    assert (await engine.call("DELETE", "/v1/tokens/admin", as_="second-admin"))[0] == 204
    assert (await engine.call("GET", "/v1/tokens", as_="admin"))[0] == 401


@pytest_twisted.ensureDeferred
async def test_an_encoded_letter_in_a_path_opens_nothing_more_than_the_path_itself(engine):
    """Found by review: ``POST /v1/%74okens`` with a read token made an admin token."""
    code, _, _ = await engine.call("POST", "/v1/%74okens", {"name": "evil", "role": "admin"}, as_="read")
    assert code == 403
    assert await engine.storage.token("evil") is None
    update = {"host_id": "anyone", "sensors": {"28-x": {"type": "DS18B20", "value": 35.0}}}
    assert (await engine.call("PUT", "/v1/sensors/%75pdate", update, as_="user"))[0] == 403
    assert await engine.storage.sensor("28-x") is None
    assert (await engine.call("GET", "/v1/tokens%2F", as_="read"))[0] == 403


@pytest_twisted.ensureDeferred
async def test_a_sensor_hosts_token_cannot_report_a_sensor_of_another_host(engine):
    """Found by review: a token bound to pi-attic overwrote the hall's sensor with 30 C."""
    await engine.make("sensor", "hall-pi", host_id="pi-hall")
    await engine.make("sensor", "attic-pi", host_id="pi-attic")
    hall = {"host_id": "pi-hall", "sensors": {"28-hall": {"type": "DS18B20", "value": 19.5}}}
    assert (await engine.call("PUT", "/v1/sensors/update", hall, as_="hall-pi"))[0] == 201
    forged = {
        "host_id": "pi-attic",
        "sensors": {
            "28-hall": {"type": "DS18B20", "value": 30.0},
            "28-attic": {"type": "DS18B20", "value": 12.0},
        },
    }
    code, body, _ = await engine.call("PUT", "/v1/sensors/update", forged, as_="attic-pi")
    assert code == 201 and body["ids"] == ["28-attic"]
    assert body["refused"]["28-hall"].startswith("sensors.28-hall: belongs to host 'pi-hall'")
    stored = await engine.storage.sensor("28-hall")
    assert (stored.host_id, stored.value) == ("pi-hall", 19.5)
    only_forged = {"host_id": "pi-attic", "sensors": {"28-hall": {"type": "DS18B20", "value": 30.0}}}
    assert (await engine.call("PUT", "/v1/sensors/update", only_forged, as_="attic-pi"))[0] == 422
    moved = {"host_id": "pi-attic", "sensors": {"28-hall": {"type": "DS18B20", "value": 20.0}}}
    assert (await engine.call("PUT", "/v1/sensors/update", moved, as_="admin"))[0] == 201  # an admin may move it
