"""Relay units register with the engine and are listed."""

import pytest
import pytest_twisted

UNIT = {
    "host_id": "pi-boiler",
    "url": "http://192.168.1.20:8089",
    "relays": {"relay-0": {"type": "sim", "state": False, "alias": "boiler"}},
}


@pytest_twisted.ensureDeferred
async def test_register_then_list_and_register_again_replaces(api):
    code, body, _ = await api.post("/v1/controls/register", UNIT)
    assert (code, body) == (201, {**UNIT, "registered_at": "2026-11-25T12:00:00.000+00:00"})
    moved = {**UNIT, "url": "http://192.168.1.21:8089"}
    await api.post("/v1/controls/register", moved)
    assert (await api.get("/v1/controls"))[1] == {
        "controls": [{**moved, "registered_at": "2026-11-25T12:00:00.000+00:00"}]
    }
    assert [e.topic for e in api.published if e.topic.startswith("control.")] == ["control.registered"] * 2


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
    ],
)
@pytest_twisted.ensureDeferred
async def test_invalid_registration_is_422_and_stores_nothing(api, store, document, message):
    code, body, _ = await api.post("/v1/controls/register", document)
    assert code == 422
    assert body["error"].startswith(message), body["error"]
    assert await store.relay_units() == []
