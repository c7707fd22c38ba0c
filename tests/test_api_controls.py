"""Relay units register with the engine and are listed."""

import json

import pytest
import pytest_twisted

SECRET = "Xq3bC9vT1nM0pL8sK2rH7dF4gJ6wY5zA-_0123456789"
UNIT = {
    "host_id": "pi-boiler",
    "url": "http://192.168.1.20:8089",
    "relays": {"relay-0": {"type": "sim", "state": False, "alias": "boiler"}},
    "secret": SECRET,
}


def shown(registration):
    """A registration as the API shows it: everything but the secret."""
    return {key: value for key, value in registration.items() if key != "secret"}


@pytest_twisted.ensureDeferred
async def test_register_then_list_and_register_again_replaces(api):
    code, body, _ = await api.post("/v1/controls/register", UNIT)
    assert (code, body) == (201, {**shown(UNIT), "registered_at": "2026-11-25T12:00:00.000+00:00"})
    moved = {**UNIT, "url": "http://192.168.1.21:8089"}
    await api.post("/v1/controls/register", moved)
    assert (await api.get("/v1/controls"))[1] == {
        "controls": [{**shown(moved), "registered_at": "2026-11-25T12:00:00.000+00:00"}]
    }
    assert [e.topic for e in api.published if e.topic.startswith("control.")] == ["control.registered"] * 2


@pytest_twisted.ensureDeferred
async def test_the_secret_is_stored_for_the_engine_and_never_shown(api, store):
    """The secret lets whoever holds it switch the unit's relays: the engine keeps it to
    command the unit, and neither the registration's answer nor the listing gives it away."""
    code, body, _ = await api.post("/v1/controls/register", UNIT)
    assert code == 201 and "secret" not in body
    code, listing, _ = await api.get("/v1/controls")
    assert code == 200 and [set(control) for control in listing["controls"]] == [
        {"host_id", "url", "relays", "registered_at"}
    ]
    for answer in (body, listing):
        assert SECRET not in json.dumps(answer)
    assert (await store.relay_unit("pi-boiler")).registration["secret"] == SECRET


@pytest.mark.parametrize(
    "document, message",
    [
        ({**UNIT, "url": "ftp://x.example"}, "url: 'ftp://x.example' must be an http:// or https:// URL"),
        ({**UNIT, "relays": {"a/b": {"type": "sim", "state": True}}}, "relays: 'a/b' must not contain slashes"),
        ({**UNIT, "relays": {"r": {"type": "sim", "state": "on"}}}, "relays.r.state: 'on' is not of type 'boolean'"),
        ({k: v for k, v in UNIT.items() if k != "host_id"}, "body: 'host_id' is a required property"),
        ({**UNIT, "host_id": "pi/boiler"}, "host_id: 'pi/boiler' must not contain slashes or white space"),
        ({**UNIT, "url": "http://[zz"}, "url: 'http://[zz' is not a usable URL (Invalid IPv6 URL)"),
        ({**UNIT, "url": "http://pi:99999"}, "url: 'http://pi:99999' is not a usable URL"),
        ({**UNIT, "url": "http://:8089"}, "url: 'http://:8089' names no host"),
        (shown(UNIT), "body: 'secret' is a required property"),
        # A refused secret is never echoed back.
        ({**UNIT, "secret": "x" * 31}, "secret: is not valid here (minLength check failed; the value is not shown)"),
        ({**UNIT, "secret": "x" * 257}, "secret: is not valid here (maxLength check failed"),
        ({**UNIT, "secret": "a secret with spaces, 32 characters or more"}, "secret: is not valid here (pattern"),
        ({**UNIT, "secret": 5}, "secret: is not valid here (type check failed"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_invalid_registration_is_422_and_stores_nothing(api, store, document, message):
    code, body, _ = await api.post("/v1/controls/register", document)
    assert code == 422
    assert body["error"].startswith(message), body["error"]
    assert await store.relay_units() == []
