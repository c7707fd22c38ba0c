"""Zones and plugins through the HTTP API."""

import pytest
import pytest_twisted

UPSTAIRS = {
    "name": "Upstairs",
    "mode": "heat",
    "default_heat_setpoint": 17.0,
    "outputs": {"heat": "pi-boiler/relay-1"},
    "decision": {"plugin": "hysteresis", "config": {"cold_tolerance": 0.5}},
}


@pytest_twisted.ensureDeferred
async def test_the_default_zone_always_exists(api):
    code, body, _ = await api.get("/v1/zones")
    assert code == 200
    assert body == {
        "zones": [
            {
                "id": "default",
                "name": "default",
                "mode": "heat",
                "sensors": {},
                "quorum": 1,
                "default_heat_setpoint": 18.0,
                "default_cool_setpoint": 26.0,
                "outputs": {},
                "decision": {"plugin": "hysteresis", "config": {}},
                "safety": {},
                "changed_at": None,
            }
        ]
    }
    assert (await api.delete("/v1/zones/default"))[:2] == (
        409,
        {"status": "error", "error": "the default zone cannot be deleted"},
    )


@pytest_twisted.ensureDeferred
async def test_zone_lifecycle_and_its_defaults_drive_the_timeline(api):
    code, zone, _ = await api.request("PUT", "/v1/zones/upstairs", UPSTAIRS)
    assert code == 201
    assert (zone["id"], zone["quorum"], zone["default_cool_setpoint"], zone["changed_at"]) == (
        "upstairs",
        1,
        26.0,
        "2026-11-25T12:00:00.000+00:00",
    )
    target = (await api.get("/v1/zones/upstairs/target"))[1]
    assert target["now"]["heat_setpoint"] == 17.0
    code, replaced, _ = await api.request("PUT", "/v1/zones/upstairs", {**UPSTAIRS, "default_heat_setpoint": 16.0})
    assert (code, replaced["default_heat_setpoint"]) == (200, 16.0)
    assert (await api.get("/v1/zones/upstairs/target"))[1]["now"]["heat_setpoint"] == 16.0
    assert [z["id"] for z in (await api.get("/v1/zones"))[1]["zones"]] == ["default", "upstairs"]

    await api.post(
        "/v1/schedules",
        {"name": "x", "zone": "upstairs", "start": "0 6 * * *", "duration": "PT1H", "heat_setpoint": 20.0},
    )
    assert (await api.delete("/v1/zones/upstairs"))[:2] == (
        409,
        {"status": "error", "error": "zone 'upstairs' still has 1 rules; delete or move them first"},
    )
    schedule_id = (await api.get("/v1/schedules"))[1]["schedules"][0]["id"]
    await api.delete(f"/v1/schedules/{schedule_id}")
    assert (await api.delete("/v1/zones/upstairs"))[0] == 204
    assert (await api.get("/v1/zones/upstairs"))[:2] == (404, {"status": "error", "error": "no zone 'upstairs'"})
    assert (await api.delete("/v1/zones/upstairs"))[0] == 404


@pytest.mark.parametrize(
    "path, document, message",
    [
        ("/v1/zones/upstairs", {**UPSTAIRS, "mode": "boost"}, "mode: 'boost' is not one of"),
        (
            "/v1/zones/upstairs",
            {**UPSTAIRS, "default_cool_setpoint": 17.5},
            "default_heat_setpoint: 17.0 must be at least 1.0 below",
        ),
        ("/v1/zones/upstairs", {**UPSTAIRS, "sensors": {"28-nowhere": 1}}, "sensors.28-nowhere: no sensor has this id"),
        ("/v1/zones/upstairs", {**UPSTAIRS, "quorum": 2}, "quorum: 2 is more than the zone's sensors"),
        (
            "/v1/zones/upstairs",
            {**UPSTAIRS, "outputs": {"heat": "relay-1"}},
            "outputs.heat: 'relay-1' must be host_id/relay_id",
        ),
        (
            "/v1/zones/upstairs",
            {**UPSTAIRS, "outputs": {"steam": "a/b"}},
            "outputs: Additional properties are not allowed",
        ),
        (
            "/v1/zones/upstairs",
            {**UPSTAIRS, "decision": {"plugin": "pid"}},
            "decision.plugin: no decision plugin 'pid'; installed: hysteresis",
        ),
        (
            "/v1/zones/upstairs",
            {**UPSTAIRS, "decision": {"plugin": "hysteresis", "config": {"cold_tolerance": 9}}},
            "decision.config.cold_tolerance: 9 is greater than the maximum of 5",
        ),
        (
            "/v1/zones/upstairs",
            {**UPSTAIRS, "decision": {"plugin": "hysteresis", "config": {"gain": 1}}},
            "decision.config: Additional properties are not allowed",
        ),
        ("/v1/zones/up%20stairs", UPSTAIRS, "zone: 'up stairs' may hold only letters"),
        ("/v1/zones/%2E%2E", UPSTAIRS, "zone: '..' may hold only letters, digits, '.', '_' and '-', and is not"),
        ("/v1/zones/%2E", UPSTAIRS, "zone: '.' may hold only letters"),
        (
            "/v1/zones/upstairs",
            {**UPSTAIRS, "outputs": {"heat": "u/r1", "cool": "u/r1"}},
            "outputs.heat: u/r1 is already this zone's cool output",
        ),
        (
            "/v1/zones/upstairs",
            {**UPSTAIRS, "safety": {"heat": {"min_on_s": 7200}}},
            "safety.heat.min_on_s: 7200 is greater than the maximum of 3600",
        ),
        ("/v1/zones/upstairs", {**UPSTAIRS, "safety": {"fan": {}}}, "safety: Additional properties are not allowed"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_invalid_zone_is_422_and_stores_nothing(api, store, path, document, message):
    code, body, _ = await api.request("PUT", path, document)
    assert code == 422
    assert body["error"].startswith(message), body["error"]
    assert await store.zones() == []


@pytest_twisted.ensureDeferred
async def test_plugins_are_listed_with_their_schemas(api):
    code, body, _ = await api.get("/v1/plugins")
    assert code == 200
    assert [p["name"] for p in body["schedule"]] == ["rules"]
    [hysteresis] = body["decision"]
    assert hysteresis["name"] == "hysteresis"
    assert hysteresis["config_schema"]["properties"]["cold_tolerance"]["default"] == 0.3


@pytest_twisted.ensureDeferred
async def test_a_relay_drives_one_zone_only(api, store):
    await api.put("/v1/sensors/update", {"host_id": "h", "sensors": {"28-up": {"type": "t", "value": 20.0}}})
    assert (await api.put("/v1/zones/upstairs", {"sensors": {"28-up": 1}, "outputs": {"heat": "u/r1"}}))[0] == 201
    code, body, _ = await api.put("/v1/zones/cellar", {"outputs": {"cool": "u/r1"}})
    assert (code, body["error"]) == (422, "outputs.cool: u/r1 is already the heat output of zone 'upstairs'")
    assert [zone.name for zone in await store.zones()] == ["upstairs"]
    assert (await api.put("/v1/zones/upstairs", {"sensors": {"28-up": 1}, "outputs": {"cool": "u/r1"}}))[0] == 200
