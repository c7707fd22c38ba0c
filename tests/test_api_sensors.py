"""The sensor routes of API v1, through real HTTP semantics (StubTreq)."""

import pytest
import pytest_twisted

from tests.conftest import NOW

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def update(**sensors):
    return {"host_id": "pi-kitchen", "sensors": sensors or {"28-a": {"type": "DS18B20", "value": 20.5}}}


@pytest_twisted.ensureDeferred
async def test_update_creates_and_lists_sensors(api):
    code, body, _ = await api.put(
        "/v1/sensors/update",
        update(
            **{
                "28-a": {"type": "DS18B20", "value": 20.5, "alias": "window"},
                "28-b": {"type": "DS18B20", "value": None, "extra": "85.0 C reset"},
            }
        ),
    )
    assert (code, body) == (201, {"status": "created", "ids": ["28-a", "28-b"]})
    code, body, _ = await api.get("/v1/sensors")
    assert code == 200
    assert body == {
        "sensors": [
            {
                "id": "28-a",
                "host_id": "pi-kitchen",
                "type": "DS18B20",
                "alias": "window",
                "extra": None,
                "value": 20.5,
                "last_seen": "2026-11-25T12:00:00.000000+00:00",
                "name": None,
            },
            {
                "id": "28-b",
                "host_id": "pi-kitchen",
                "type": "DS18B20",
                "alias": None,
                "extra": "85.0 C reset",
                "value": None,
                "last_seen": "2026-11-25T12:00:00.000000+00:00",
                "name": None,
            },
        ]
    }


@pytest_twisted.ensureDeferred
async def test_update_publishes_event_after_storing(api, store):
    await api.put("/v1/sensors/update", update())
    [event] = api.published
    assert event.topic == "sensor.readings"
    assert event.at == NOW
    assert event.data["host_id"] == "pi-kitchen"
    assert [r.sensor_id for r in event.data["readings"]] == ["28-a"]


@pytest_twisted.ensureDeferred
async def test_buffered_timestamp_is_kept(api, store):
    body = update(**{"28-a": {"type": "DS18B20", "value": 19.0, "timestamp": "2026-11-25T12:55:00+01:00"}})
    code, _, _ = await api.put("/v1/sensors/update", body)
    assert code == 201
    [entry] = await store.history("28-a")
    assert entry.timestamp == NOW - 300


@pytest_twisted.ensureDeferred
async def test_integer_value_is_accepted_as_float(api, store):
    code, _, _ = await api.put("/v1/sensors/update", update(**{"28-a": {"type": "t", "value": 21}}))
    assert code == 201
    assert (await store.sensor("28-a")).value == 21.0


INVALID = [
    ({"sensors": {"28-a": {"type": "t", "value": 1}}}, "body: 'host_id' is a required property"),
    ({"host_id": "", "sensors": {"28-a": {"type": "t", "value": 1}}}, "host_id:"),
    ({"host_id": 7, "sensors": {"28-a": {"type": "t", "value": 1}}}, "host_id: 7 is not of type 'string'"),
    ({"host_id": "h", "sensors": []}, "sensors: [] is not of type 'object'"),
    ({"host_id": "h", "sensors": {}}, "sensors:"),
    ({"host_id": "h", "sensors": {"": {"type": "t", "value": 1}}}, "sensors:"),
    ({"host_id": "h", "sensors": {"28-a": {"value": 1}}}, "sensors.28-a: 'type' is a required property"),
    ({"host_id": "h", "sensors": {"28-a": {"type": "t"}}}, "sensors.28-a: 'value' is a required property"),
    ({"host_id": "h", "sensors": {"28-a": {"type": "t", "value": "20"}}}, "sensors.28-a.value:"),
    ({"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 130.5}}}, "sensors.28-a.value: 130.5 is greater than the maximum of 130"),
    ({"host_id": "h", "sensors": {"28-a": {"type": "t", "value": -60.1}}}, "sensors.28-a.value: -60.1 is less than the minimum of -60"),
    ({"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 1, "alias": 3}}}, "sensors.28-a.alias: 3 is not of type 'string'"),
    ({"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 1, "extra": ["x"]}}}, "sensors.28-a.extra:"),
    ({"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 1, "colour": "red"}}}, "sensors.28-a: Additional properties are not allowed ('colour' was unexpected)"),
    ({"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 1, "timestamp": "yesterday"}}}, "sensors.28-a.timestamp: 'yesterday' is not an ISO 8601 date and time"),
    ({"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 1, "timestamp": "2026-11-25T12:00:00"}}}, "sensors.28-a.timestamp: '2026-11-25T12:00:00' has no UTC offset"),
    ({"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 1, "timestamp": "2026-11-25T12:05:01Z"}}}, "sensors.28-a.timestamp: '2026-11-25T12:05:01Z' is more than 300 seconds in the future"),
    ({"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 1, "timestamp": "1970-01-01T00:00:10Z"}}}, "sensors.28-a.timestamp: '1970-01-01T00:00:10Z' is before 2000"),
    ({"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 1, "timestamp": 1795608000}}}, "sensors.28-a.timestamp: 1795608000 is not of type 'string'"),
    ({"host_id": "h", "sensors": {"28-a": {"type": "t", "value": [float("nan")]}}}, "sensors.28-a.value.0: must be a finite number"),
    ([1, 2], "body: [1, 2] is not of type 'object'"),
]


@pytest.mark.parametrize("document, message", INVALID)
@pytest_twisted.ensureDeferred
async def test_invalid_update_is_422_naming_field_and_stores_nothing(api, store, document, message):
    code, body, _ = await api.put("/v1/sensors/update", document)
    assert code == 422
    assert body["status"] == "error"
    assert body["error"].startswith(message), body["error"]
    assert await store.sensors() == []
    assert api.published == []


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
@pytest_twisted.ensureDeferred
async def test_non_finite_value_is_422(api, store, literal):
    raw = b'{"host_id": "h", "sensors": {"28-a": {"type": "t", "value": ' + literal + b"}}}"
    code, body, _ = await api.put("/v1/sensors/update", raw=raw)
    assert (code, body["error"]) == (422, "sensors.28-a.value: must be a finite number")
    assert await store.sensors() == []


@pytest_twisted.ensureDeferred
async def test_one_bad_sensor_rejects_the_whole_update(api, store):
    document = update(**{"28-a": {"type": "t", "value": 20.0}, "28-b": {"type": "t", "value": 500}})
    code, _, _ = await api.put("/v1/sensors/update", document)
    assert code == 422
    assert await store.sensors() == []
    assert await store.history("28-a") == []


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"{not json", "request body is not valid JSON"),
        (b"", "request body is empty"),
        (b"\xff\xfe{}", "request body is not UTF-8"),
        (b"[" * 100000 + b"]" * 100000, "request body is nested too deeply"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_unparseable_body_is_400(api, raw, message):
    code, body, _ = await api.put("/v1/sensors/update", raw=raw)
    assert code == 400
    assert body["error"].startswith(message)


@pytest_twisted.ensureDeferred
async def test_body_over_one_mebibyte_is_413(api, store):
    padding = "x" * (1024 * 1024)
    raw = ('{"host_id": "h", "pad": "' + padding + '"}').encode()
    code, body, _ = await api.put("/v1/sensors/update", raw=raw)
    assert (code, body["status"]) == (413, "error")
    assert await store.sensors() == []


@pytest_twisted.ensureDeferred
async def test_storage_down_is_503_and_nothing_claimed(api, store):
    store.available = False
    code, body, _ = await api.put("/v1/sensors/update", update())
    assert code == 503
    assert body["error"].startswith("database unavailable")
    assert api.published == []


@pytest_twisted.ensureDeferred
async def test_get_one_sensor_and_unknown_is_404(api):
    await api.put("/v1/sensors/update", update())
    code, body, _ = await api.get("/v1/sensors/28-a")
    assert (code, body["id"], body["value"]) == (200, "28-a", 20.5)
    code, body, _ = await api.get("/v1/sensors/28-zz")
    assert (code, body) == (404, {"status": "error", "error": "no sensor with id '28-zz'"})


@pytest_twisted.ensureDeferred
async def test_patch_sets_and_clears_name(api):
    await api.put("/v1/sensors/update", update())
    code, body, _ = await api.patch("/v1/sensors/28-a", {"name": "Kitchen"})
    assert (code, body["name"], body["alias"]) == (200, "Kitchen", None)
    assert (await api.get("/v1/sensors/28-a"))[1]["name"] == "Kitchen"
    assert api.published[-1].topic == "sensor.changed"
    code, body, _ = await api.patch("/v1/sensors/28-a", {"name": None})
    assert (code, body["name"]) == (200, None)


@pytest.mark.parametrize(
    "document, message",
    [
        ({}, "body: {} should be non-empty"),
        ({"name": ""}, "name: '' should be non-empty"),
        ({"name": 5}, "name: 5 is not of type 'string', 'null'"),
        ({"name": "x", "alias": "y"}, "body: Additional properties are not allowed"),
        ("Kitchen", "body: 'Kitchen' is not of type 'object'"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_invalid_patch_is_422_and_changes_nothing(api, document, message):
    await api.put("/v1/sensors/update", update())
    code, body, _ = await api.patch("/v1/sensors/28-a", document)
    assert code == 422
    assert body["error"].startswith(message), body["error"]
    assert (await api.get("/v1/sensors/28-a"))[1]["name"] is None


@pytest_twisted.ensureDeferred
async def test_patch_unknown_sensor_is_404(api, store):
    code, body, _ = await api.patch("/v1/sensors/28-zz", {"name": "Ghost"})
    assert (code, body["error"]) == (404, "no sensor with id '28-zz'")
    assert await store.sensors() == []
