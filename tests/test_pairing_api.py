"""Pairing at the API: a daemon asks, an admin approves, the daemon's own token works, the engine proves itself."""

import hashlib
import hmac
import secrets

import pytest_twisted

from rpymostat.auth.admin import MAX_PENDING_PER_ADDRESS, PAIRING_TTL_S
from tests.auth_engine import Engine, clock, sqlite  # noqa: F401 - fixtures

SECRET = "Xq3bC9vT1nM0pL8sK2rH7dF4gJ6wY5zAbCdEfGhIjKl"


def request_body(host_id="pi-attic", role="sensor", code="K7M2QX", token="rpy_the-daemons-own-token"):
    return {
        "host_id": host_id,
        "role": role,
        "code": code,
        "token_hash": hashlib.sha256(token.encode()).hexdigest(),
        "secret": SECRET,
    }


@pytest_twisted.async_fixture
async def engine(sqlite, clock):  # noqa: F811 - the fixtures imported above
    built = Engine(sqlite, clock)
    await built.make("admin")
    return built


@pytest_twisted.ensureDeferred
async def test_a_daemon_pairs_once_an_admin_approves_its_code_and_then_its_own_token_works(engine):
    token = "rpy_" + secrets.token_urlsafe(32)
    code, waiting, response = await engine.call("POST", "/v1/pair", request_body(token=token))
    assert code == 202 and waiting["status"] == "pending" and waiting["code"] == "K7M2QX"
    assert response.headers.getRawHeaders(b"location") == [f"/v1/pair/{waiting['id']}".encode()]
    update = {"host_id": "pi-attic", "sensors": {"28-a": {"type": "DS18B20", "value": 19.5}}}
    assert (await engine.call("PUT", "/v1/sensors/update", update, token=token))[0] == 401  # not yet

    assert (await engine.call("GET", f"/v1/pair/{waiting['id']}"))[1]["status"] == "pending"
    code, listed, _ = await engine.call("GET", "/v1/pairings", as_="admin")
    assert [(p["code"], p["host_id"], p["role"]) for p in listed["pairings"]] == [("K7M2QX", "pi-attic", "sensor")]
    assert SECRET not in str(listed)

    code, made, _ = await engine.call("POST", "/v1/pairings/k7m2qx/approve", as_="admin")  # typed in lower case
    assert code == 201 and made["name"] == "sensor-pi-attic" and made["paired"] is True
    code, status, _ = await engine.call("GET", f"/v1/pair/{waiting['id']}")
    assert (code, status["status"], status["name"]) == (200, "approved", "sensor-pi-attic")
    assert (await engine.call("PUT", "/v1/sensors/update", update, token=token))[0] == 201
    other = {"host_id": "pi-rogue", "sensors": {"28-b": {"type": "DS18B20", "value": 30.0}}}
    assert (await engine.call("PUT", "/v1/sensors/update", other, token=token))[0] == 403
    assert (await engine.call("GET", "/v1/pairings", as_="admin"))[1] == {"pairings": []}


@pytest_twisted.ensureDeferred
async def test_the_engine_proves_it_holds_the_secret_for_its_own_url_only(engine):
    _, waiting, _ = await engine.call("POST", "/v1/pair", request_body())
    await engine.call("POST", "/v1/pairings/K7M2QX/approve", as_="admin")
    nonce, url = secrets.token_hex(32), "http://192.168.1.2:8088/v1"
    asked = {"name": "sensor-pi-attic", "nonce": nonce, "url": url}
    code, body, _ = await engine.call("POST", "/v1/pair/proof", asked)
    message = b"rpymostat-engine-proof:" + nonce.encode() + b"\n" + url.encode()
    assert (code, body) == (200, {"proof": hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()})
    # A name nobody paired as gets an answer too, one that proves nothing: names cannot be listed.
    code, decoy, _ = await engine.call("POST", "/v1/pair/proof", {**asked, "name": "sensor-pi-nobody"})
    assert code == 200 and decoy["proof"] != body["proof"]
    code, body, _ = await engine.call("POST", "/v1/pair/proof", {**asked, "nonce": "xyz"})
    assert code == 422 and body["error"].startswith("nonce:")


def test_an_engine_proves_only_for_its_own_addresses():
    from rpymostat.api.pairing_api import EngineAddresses

    addresses = EngineAddresses()
    assert addresses.serves("http://192.168.1.66:1/v1")  # not listening yet: a site under test
    addresses.port, addresses.hosts = 8088, frozenset({"192.168.1.2", "fd00::2"})
    assert addresses.serves("http://192.168.1.2:8088/v1")
    assert addresses.serves("http://[fd00::2]:8088/v1") and addresses.serves("http://127.0.0.1:8088/v1")
    assert addresses.serves("http://thermostat.local:8088/v1")  # a DNS name: only its port can be told
    for elsewhere in ("http://192.168.1.66:8088/v1", "http://192.168.1.2:8089/v1", "http://192.168.1.2/v1", "x:y"):
        assert not addresses.serves(elsewhere), elsewhere
    assert not addresses.serves("http://[::1:8088/v1")


@pytest_twisted.ensureDeferred
async def test_nothing_is_approved_by_itself_and_a_request_expires(engine):
    _, waiting, _ = await engine.call("POST", "/v1/pair", request_body())
    engine.clock.advance(PAIRING_TTL_S)
    code, body, _ = await engine.call("GET", f"/v1/pair/{waiting['id']}")
    assert code == 404 and "expired" in body["error"]
    assert (await engine.call("GET", "/v1/pairings", as_="admin"))[1] == {"pairings": []}
    code, body, _ = await engine.call("POST", "/v1/pairings/K7M2QX/approve", as_="admin")
    assert code == 404
    assert await engine.storage.token("sensor-pi-attic") is None
    assert (await engine.call("POST", "/v1/pair", request_body()))[0] == 202  # its code is free again


@pytest_twisted.ensureDeferred
async def test_a_code_already_waiting_is_refused_and_a_rejected_request_is_gone(engine):
    assert (await engine.call("POST", "/v1/pair", request_body()))[0] == 202
    code, body, _ = await engine.call("POST", "/v1/pair", request_body(host_id="pi-other"))
    assert code == 409 and "K7M2QX" in body["error"]
    assert (await engine.call("DELETE", "/v1/pairings/K7M2QX", as_="admin"))[0] == 204
    assert (await engine.call("DELETE", "/v1/pairings/K7M2QX", as_="admin"))[0] == 404
    assert await engine.storage.pairings() == []


@pytest_twisted.ensureDeferred
async def test_one_address_cannot_flood_the_admins_list(engine):
    for n in range(MAX_PENDING_PER_ADDRESS):
        code, _, _ = await engine.call("POST", "/v1/pair", request_body(host_id=f"pi-{n}", code=f"AAAAA{n + 2}"))
        assert code == 202
    engine.clock.advance(60)
    code, body, response = await engine.call("POST", "/v1/pair", request_body(host_id="pi-9", code="BBBBBB"))
    assert code == 429 and "too many pairing requests" in body["error"]
    assert response.headers.getRawHeaders(b"retry-after") == [str(int(PAIRING_TTL_S - 60)).encode()]
    assert len(await engine.storage.pairings()) == MAX_PENDING_PER_ADDRESS


@pytest_twisted.ensureDeferred
async def test_a_host_that_pairs_again_replaces_its_old_token(engine):
    await engine.call("POST", "/v1/pair", request_body(token="rpy_first"))
    await engine.call("POST", "/v1/pairings/K7M2QX/approve", as_="admin")
    await engine.call("POST", "/v1/pair", request_body(token="rpy_second", code="ABCDEF"))
    assert (await engine.call("POST", "/v1/pairings/ABCDEF/approve", as_="admin"))[0] == 201
    assert (await engine.storage.token("sensor-pi-attic")).token_hash == hashlib.sha256(b"rpy_second").hexdigest()
    assert (await engine.call("GET", "/v1/controls", token="rpy_first"))[0] == 401


@pytest_twisted.ensureDeferred
async def test_bad_pairing_requests_are_refused_and_store_nothing(engine):
    for field, value in [
        ("role", "read"),  # a role, but none a daemon pairs as
        ("role", "owner"),
        ("code", "K7M2Q0"),
        ("token_hash", "A" * 64),
        ("secret", "short"),
        ("host_id", "a/b"),
    ]:
        code, body, _ = await engine.call("POST", "/v1/pair", {**request_body(), field: value})
        assert code == 422 and body["error"].startswith(f"{field}:"), (field, body)
    code, body, _ = await engine.call("POST", "/v1/pair")  # no body at all
    assert code == 415
    assert await engine.storage.pairings() == []


@pytest_twisted.ensureDeferred
async def test_approving_never_replaces_a_token_that_is_not_that_hosts_own(engine):
    """Found by review: approving deleted any token named ``<role>-<host_id>``, an admin's included."""
    await engine.make("admin", "sensor-pi-attic")  # an admin token that happens to have that name
    await engine.call("POST", "/v1/pair", request_body())
    code, body, _ = await engine.call("POST", "/v1/pairings/K7M2QX/approve", as_="admin")
    assert code == 409 and "not this host's sensor token" in body["error"]
    assert (await engine.storage.token("sensor-pi-attic")).role == "admin"


async def paired_web_ui(engine, role, token, host_id="webui-den", code="WEBUXY"):
    """Pair a web UI as ``role`` (approved by the admin); the approval's answer."""
    code_, waiting, _ = await engine.call("POST", "/v1/pair", request_body(host_id, role, code, token))
    assert code_ == 202, waiting
    code_, listed, _ = await engine.call("GET", "/v1/pairings", as_="admin")
    assert [(p["code"], p["host_id"], p["role"]) for p in listed["pairings"]] == [(code, host_id, role)]
    code_, made, _ = await engine.call("POST", f"/v1/pairings/{code}/approve", as_="admin")
    assert code_ == 201, made
    status = (await engine.call("GET", f"/v1/pair/{waiting['id']}"))[1]
    assert (status["status"], status["name"]) == ("approved", f"{role}-{host_id}")
    return made


@pytest_twisted.ensureDeferred
async def test_a_web_ui_paired_as_admin_gets_an_admin_token_bound_to_no_host(engine):
    token = "rpy_" + secrets.token_urlsafe(32)
    made = await paired_web_ui(engine, "admin", token)
    assert made == {
        "name": "admin-webui-den",
        "role": "admin",
        "host_id": None,
        "created_at": made["created_at"],
        "paired": True,
    }
    # Admin things: tokens, pairing, a zone's outputs.
    assert (await engine.call("GET", "/v1/tokens", token=token))[0] == 200
    assert (await engine.call("GET", "/v1/pairings", token=token))[0] == 200
    wired = {"mode": "heat", "outputs": {"heat": "pi-boiler/relay-0"}}
    assert (await engine.call("PUT", "/v1/zones/default", wired, token=token))[0] == 200
    # Bound to no host: it answers for any host_id, and stays unbound.
    for host_id in ("pi-attic", "pi-cellar"):
        update = {"host_id": host_id, "sensors": {f"{host_id}-t": {"type": "DS18B20", "value": 19.5}}}
        assert (await engine.call("PUT", "/v1/sensors/update", update, token=token))[0] == 201, host_id
    assert (await engine.storage.token("admin-webui-den")).host_id is None
    # The engine proves itself to it as to any paired daemon.
    nonce, url = secrets.token_hex(32), "http://192.168.1.2:8088/v1"
    asked = {"name": "admin-webui-den", "nonce": nonce, "url": url}
    message = b"rpymostat-engine-proof:" + nonce.encode() + b"\n" + url.encode()
    proof = hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    assert (await engine.call("POST", "/v1/pair/proof", asked))[1] == {"proof": proof}


@pytest_twisted.ensureDeferred
async def test_a_web_ui_paired_as_user_gets_a_user_token_refused_what_only_an_admin_may(engine):
    token = "rpy_" + secrets.token_urlsafe(32)
    made = await paired_web_ui(engine, "user", token)
    assert (made["name"], made["role"], made["host_id"], made["paired"]) == ("user-webui-den", "user", None, True)
    assert (await engine.call("GET", "/v1/zones", token=token))[0] == 200
    assert (await engine.call("PUT", "/v1/zones/default", {"mode": "heat"}, token=token))[0] == 200
    for method, path, body in [
        ("GET", "/v1/tokens", None),
        ("GET", "/v1/pairings", None),
        ("POST", "/v1/pairings/ABCDEF/approve", None),
        ("DELETE", "/v1/zones/default", None),
        ("PUT", "/v1/zones/default", {"mode": "heat", "outputs": {"heat": "pi-boiler/relay-0"}}),
    ]:
        code, body, _ = await engine.call(method, path, body, token=token)
        assert code == 403, (method, path, code, body)
    assert (await engine.storage.token("user-webui-den")).host_id is None


@pytest_twisted.ensureDeferred
async def test_a_web_ui_that_pairs_again_replaces_only_its_own_paired_token(engine):
    await paired_web_ui(engine, "admin", "rpy_first")
    await paired_web_ui(engine, "admin", "rpy_second", code="ABCDEF")
    assert (await engine.storage.token("admin-webui-den")).token_hash == hashlib.sha256(b"rpy_second").hexdigest()
    assert (await engine.call("GET", "/v1/tokens", token="rpy_first"))[0] == 401
    assert (await engine.call("GET", "/v1/tokens", token="rpy_second"))[0] == 200
    # A token made by hand under that name says nothing about that host: it is kept.
    await engine.make("user", "user-webui-den")
    await engine.call("POST", "/v1/pair", request_body("webui-den", "user", "GHJKMN", "rpy_third"))
    code, body, _ = await engine.call("POST", "/v1/pairings/GHJKMN/approve", as_="admin")
    assert code == 409 and "not this host's user token" in body["error"]
    assert (await engine.storage.token("user-webui-den")).peer_secret is None
