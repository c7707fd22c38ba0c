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
                "last_seen": "2026-11-25T12:00:00.000+00:00",
                "name": None,
            },
            {
                "id": "28-b",
                "host_id": "pi-kitchen",
                "type": "DS18B20",
                "alias": None,
                "extra": "85.0 C reset",
                "value": None,
                "last_seen": "2026-11-25T12:00:00.000+00:00",
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
    (
        {"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 130.5}}},
        "sensors.28-a.value: 130.5 is greater than the maximum of 130",
    ),
    (
        {"host_id": "h", "sensors": {"28-a": {"type": "t", "value": -60.1}}},
        "sensors.28-a.value: -60.1 is less than the minimum of -60",
    ),
    (
        {"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 1, "alias": 3}}},
        "sensors.28-a.alias: 3 is not of type 'string'",
    ),
    ({"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 1, "extra": ["x"]}}}, "sensors.28-a.extra:"),
    (
        {"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 1, "colour": "red"}}},
        "sensors.28-a: Additional properties are not allowed ('colour' was unexpected)",
    ),
    (
        {"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 1, "timestamp": "yesterday"}}},
        "sensors.28-a.timestamp: 'yesterday' is not an ISO 8601 date and time",
    ),
    (
        {"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 1, "timestamp": "2026-11-25T12:00:00"}}},
        "sensors.28-a.timestamp: '2026-11-25T12:00:00' has no UTC offset",
    ),
    (
        {"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 1, "timestamp": "1970-01-01T00:00:10Z"}}},
        "sensors.28-a.timestamp: '1970-01-01T00:00:10Z' is before 2000",
    ),
    (
        {"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 1, "timestamp": 1795608000}}},
        "sensors.28-a.timestamp: 1795608000 is not of type 'string'",
    ),
    (
        {"host_id": "h", "sensors": {"28-a": {"type": "t", "value": [float("nan")]}}},
        "sensors.28-a.value.0: must be a finite number",
    ),
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
async def test_one_bad_sensor_costs_only_its_own_reading(api, store):
    """Item 7: a thermocouple at 131 C used to get the host's whole batch refused, every cycle."""
    document = update(**{"28-a": {"type": "t", "value": 20.0}, "28-b": {"type": "t", "value": 131.0}})
    code, body, _ = await api.put("/v1/sensors/update", document)
    assert (code, body) == (
        201,
        {
            "status": "created",
            "ids": ["28-a"],
            "refused": {"28-b": "sensors.28-b.value: 131.0 is greater than the maximum of 130"},
        },
    )
    assert [s.sensor_id for s in await store.sensors()] == ["28-a"]
    assert [e.value for e in await store.history("28-a")] == [20.0]
    assert await store.history("28-b") == []
    [event] = api.published
    assert [r.sensor_id for r in event.data["readings"]] == ["28-a"]


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


ENVELOPE_PROBLEMS = {"body", "host_id", "sensors"}


@pytest.mark.parametrize("document, message", INVALID)
@pytest_twisted.ensureDeferred
async def test_refused_readings_are_named_per_sensor_envelope_problems_are_not(api, document, message):
    code, body, _ = await api.put("/v1/sensors/update", document)
    assert code == 422
    if message.split(":")[0] in ENVELOPE_PROBLEMS:
        assert "refused" not in body
    else:
        assert body["refused"] == {"28-a": body["error"]}


def ts(seconds_from_now):
    """A reading timestamp relative to NOW (2026-11-25T12:00:00Z), in UTC."""
    import datetime

    moment = datetime.datetime.fromtimestamp(NOW + seconds_from_now, datetime.UTC)
    return moment.isoformat().replace("+00:00", "Z")


@pytest_twisted.ensureDeferred
async def test_a_clock_running_ahead_is_moved_back_whole_adjusted_and_logged_once(api, store, clock):
    """Item 4: a host 412 s ahead used to have every batch refused (and dropped by its daemon).

    Every reading of the host shares its clock, so the whole update moves back
    412 s: the newest lands at the time received, the others keep their spacing.
    """
    from twisted.logger import formatEvent, globalLogPublisher

    logged = []
    globalLogPublisher.addObserver(logged.append)
    try:
        document = {
            "host_id": "pi-fast",
            "sensors": {
                "28-a": {"type": "t", "value": 20.0, "timestamp": "2026-11-25T12:06:52Z"},
                "28-b": {"type": "t", "value": 19.0, "timestamp": "2026-11-25T12:04:00Z"},
            },
        }
        code, body, _ = await api.put("/v1/sensors/update", document)
        assert (code, body) == (
            201,
            {
                "status": "created",
                "ids": ["28-a", "28-b"],
                "adjusted": {
                    "28-a": "the sending host's clock runs 412 s ahead (newest timestamp 2026-11-25T12:06:52Z);"
                    " stored 412 s earlier, keeping the readings' spacing",
                    "28-b": "the sending host's clock runs 412 s ahead (newest timestamp 2026-11-25T12:06:52Z);"
                    " stored 412 s earlier, keeping the readings' spacing",
                },
            },
        )
        current = await store.sensor("28-a")
        assert (current.value, current.last_seen, current.received_at) == (20.0, NOW, NOW)
        assert (await store.sensor("28-b")).last_seen == NOW - 172  # 12:04:00 on a clock 412 s ahead
        clock.advance(30)
        document["sensors"]["28-a"]["timestamp"] = "2026-11-25T12:07:22Z"
        assert (await api.put("/v1/sensors/update", document))[0] == 201
        clock.advance(300)
        document["sensors"]["28-a"]["timestamp"] = "2026-11-25T12:12:22Z"
        assert (await api.put("/v1/sensors/update", document))[0] == 201
    finally:
        globalLogPublisher.removeObserver(logged.append)
    warnings = [formatEvent(e) for e in logged if "clock runs" in e.get("log_format", "")]
    assert warnings == [
        "host pi-fast's clock runs 412 s ahead: its readings are stored 412 s earlier; set its clock (NTP)",
        "host pi-fast's clock runs 412 s ahead: its readings are stored 412 s earlier; set its clock (NTP)",
    ]
    assert [(e.timestamp, e.value) for e in await store.history("28-a")] == [
        (NOW, 20.0),
        (NOW + 30, 20.0),
        (NOW + 330, 20.0),
    ]


@pytest_twisted.ensureDeferred
async def test_a_reading_before_2000_is_refused_alone(api, store):
    document = update(
        **{
            "28-a": {"type": "t", "value": 20.0},
            "28-b": {"type": "t", "value": 19.0, "timestamp": "1970-01-01T00:00:10Z"},
        }
    )
    code, body, _ = await api.put("/v1/sensors/update", document)
    assert (code, body["ids"], body["refused"]) == (
        201,
        ["28-a"],
        {"28-b": "sensors.28-b.timestamp: '1970-01-01T00:00:10Z' is before 2000; check the sending host's clock"},
    )
    assert await store.sensor("28-b") is None


@pytest_twisted.ensureDeferred
async def test_received_at_is_the_engines_clock_and_the_event_carries_it(api, store, clock):
    document = update(**{"28-a": {"type": "t", "value": 20.0, "timestamp": ts(-90)}})
    clock.advance(2.5)
    assert (await api.put("/v1/sensors/update", document))[0] == 201
    current = await store.sensor("28-a")
    assert (current.last_seen, current.received_at) == (NOW - 90, NOW + 2.5)
    [event] = api.published
    assert (event.topic, event.data["received_at"], event.data["host_id"]) == (
        "sensor.readings",
        NOW + 2.5,
        "pi-kitchen",
    )


@pytest_twisted.ensureDeferred
async def test_several_readings_of_a_sensor_in_one_update(api, store):
    document = update(
        **{
            "28-a": [
                {"type": "t", "value": 20.5, "timestamp": ts(-60)},
                {"type": "t", "value": 21.0, "timestamp": ts(-30)},
                {"type": "t", "value": 19.0, "timestamp": ts(-90)},
            ],
            "28-b": {"type": "t", "value": 18.0},
        }
    )
    code, body, _ = await api.put("/v1/sensors/update", document)
    assert (code, body) == (201, {"status": "created", "ids": ["28-a", "28-b"]})
    current = await store.sensor("28-a")
    assert (current.value, current.last_seen) == (21.0, NOW - 30)
    assert [(e.timestamp, e.value) for e in await store.history("28-a")] == [
        (NOW - 90, 19.0),
        (NOW - 60, 20.5),
        (NOW - 30, 21.0),
    ]


@pytest_twisted.ensureDeferred
async def test_bad_readings_in_an_array_are_refused_by_index_the_rest_stored(api, store):
    document = update(
        **{
            "28-a": [
                {"type": "t", "value": 20.5, "timestamp": ts(-60)},
                {"type": "t", "value": 131.0, "timestamp": ts(-30)},
                {"type": "t", "value": 20.0, "timestamp": "2026-11-25T12:00:00"},
            ],
            "28-b": [],
            "28-c": "20.5",
        }
    )
    code, body, _ = await api.put("/v1/sensors/update", document)
    assert (code, body["ids"]) == (201, ["28-a"])
    assert body["refused"] == {
        "28-a": "sensors.28-a.1.value: 131.0 is greater than the maximum of 130;"
        " sensors.28-a.2.timestamp: '2026-11-25T12:00:00' has no UTC offset (add Z or +01:00)",
        "28-b": "sensors.28-b: [] should be non-empty",
        "28-c": "sensors.28-c: '20.5' is not of type 'object'",
    }
    assert [(e.timestamp, e.value) for e in await store.history("28-a")] == [(NOW - 60, 20.5)]


@pytest_twisted.ensureDeferred
async def test_a_bad_timestamp_in_an_otherwise_valid_array_is_refused_alone(api, store):
    document = update(
        **{
            "28-a": [
                {"type": "t", "value": 20.5, "timestamp": ts(-60)},
                {"type": "t", "value": 20.0, "timestamp": "1999-12-31T23:59:59Z"},
            ]
        }
    )
    code, body, _ = await api.put("/v1/sensors/update", document)
    assert (code, body["ids"], body["refused"]) == (
        201,
        ["28-a"],
        {"28-a": "sensors.28-a.1.timestamp: '1999-12-31T23:59:59Z' is before 2000; check the sending host's clock"},
    )


@pytest_twisted.ensureDeferred
async def test_every_reading_refused_is_422_with_refused_and_stores_nothing(api, store):
    document = update(**{"28-a": {"type": "t", "value": 131.0}, "28-b": {"type": "t", "value": float("nan")}})
    raw = '{"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 131.0}, "28-b": {"type": "t", "value": NaN}}}'
    code, body, _ = await api.put("/v1/sensors/update", raw=raw.encode())
    assert (code, body) == (
        422,
        {
            "status": "error",
            "error": "sensors.28-a.value: 131.0 is greater than the maximum of 130;"
            " sensors.28-b.value: must be a finite number",
            "refused": {
                "28-a": "sensors.28-a.value: 131.0 is greater than the maximum of 130",
                "28-b": "sensors.28-b.value: must be a finite number",
            },
        },
    )
    assert await store.sensors() == [] and api.published == []
    del document


@pytest.mark.parametrize(
    "sensors",
    [
        {"28-a": [{"type": "t", "value": 20.0, "timestamp": ts(-i)} for i in range(1001)]},
        {f"28-{i}": [{"type": "t", "value": 20.0, "timestamp": ts(-j)} for j in range(101)] for i in range(10)},
        {f"28-{i}": [{"type": "t", "value": 20.0, "timestamp": ts(-j)} for j in range(100)] for i in range(10)}
        | {"28-x": {"type": "t", "value": 500.0}},
    ],
)
@pytest_twisted.ensureDeferred
async def test_more_than_1000_readings_is_413_and_stores_nothing(api, store, sensors):
    code, body, _ = await api.put("/v1/sensors/update", {"host_id": "h", "sensors": sensors})
    assert code == 413
    assert body["error"].startswith("sensors: ") and "more than 1000" in body["error"]
    assert await store.sensors() == []


@pytest_twisted.ensureDeferred
async def test_exactly_1000_readings_are_taken(api, store):
    sensors = {f"28-{i}": [{"type": "t", "value": 20.0, "timestamp": ts(-j)} for j in range(100)] for i in range(10)}
    code, body, _ = await api.put("/v1/sensors/update", {"host_id": "h", "sensors": sensors})
    assert (code, len(body["ids"])) == (201, 10)
    assert len(await store.history("28-3")) == 100


@pytest.mark.parametrize(
    "document, message",
    [
        (
            {"host_id": "h", "sensors": {"x\n": {"type": "t", "value": 1}}},
            "sensors: 'x\\n' must not contain slashes or white space",
        ),
        (
            {"host_id": "h\n", "sensors": {"28-a": {"type": "t", "value": 1}}},
            "host_id: 'h\\n' must not contain slashes or white space",
        ),
        (  # "..", like ".", cannot be a path segment: no HTTP client can address /v1/sensors/..
            {"host_id": "h", "sensors": {"..": {"type": "t", "value": 1}}},
            "sensors: '..' must not contain slashes or white space, nor be '.' or '..'",
        ),
        (
            {"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 1}}, "colour": "red"},
            "body: Additional properties are not allowed",
        ),
        (
            {"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 999}}, "x": 1},
            "body: Additional properties are not allowed",
        ),
    ],
)
@pytest_twisted.ensureDeferred
async def test_envelope_problems_refuse_everything(api, store, document, message):
    code, body, _ = await api.put("/v1/sensors/update", document)
    assert (code, "refused" in body) == (422, False)
    assert body["error"].startswith(message), body["error"]
    assert await store.sensors() == []


@pytest_twisted.ensureDeferred
async def test_trailing_newline_in_zone_name_and_output_address_is_422(api, store):
    """Item 10: Python's ``$`` matched before a final newline, so ``"x\n"`` passed ``^...$``."""
    schedule = {"name": "Night", "start": "0 22 * * *", "duration": "PT8H", "heat_setpoint": 17.0, "zone": "default\n"}
    code, body, _ = await api.post("/v1/schedules", schedule)
    assert (code, body["status"]) == (422, "error"), body
    assert body["error"].startswith("zone: 'default\\n'"), body["error"]
    assert await store.rules("schedule") == []
    code, body, _ = await api.put("/v1/zones/upstairs%0A", {"outputs": {"heat": "u/r1"}})
    assert (code, body["status"]) in {(404, "error"), (422, "error")}, body
    code, body, _ = await api.put("/v1/zones/upstairs", {"outputs": {"heat": "u/r1\n"}})
    assert (code, body["status"]) == (422, "error"), body
    assert body["error"].startswith("outputs.heat:")
    assert (await api.get("/v1/zones"))[1]["zones"][0]["name"] == "default"
    assert len((await api.get("/v1/zones"))[1]["zones"]) == 1


@pytest_twisted.ensureDeferred
async def test_delete_sensor_keeps_history_and_publishes(api, store):
    await api.put(
        "/v1/sensors/update", update(**{"28-a": {"type": "t", "value": 20.0}, "28-b": {"type": "t", "value": 19.0}})
    )
    code, body, response = await api.delete("/v1/sensors/28-a")
    assert (code, body) == (204, "")
    assert api.published[-1].topic == "sensor.deleted"
    assert api.published[-1].data == {"sensor_id": "28-a"}
    assert (await api.get("/v1/sensors/28-a"))[0] == 404
    assert [s["id"] for s in (await api.get("/v1/sensors"))[1]["sensors"]] == ["28-b"]
    assert [e.value for e in await store.history("28-a")] == [20.0]
    code, body, _ = await api.delete("/v1/sensors/28-a")
    assert (code, body) == (404, {"status": "error", "error": "no sensor with id '28-a'"})


@pytest_twisted.ensureDeferred
async def test_a_sensor_in_use_cannot_be_deleted(api, store):
    await api.put("/v1/sensors/update", update(**{"28-a": {"type": "t", "value": 20.0}}))
    assert (await api.put("/v1/zones/upstairs", {"sensors": {"28-a": 1}}))[0] == 201
    schedule = {
        "name": "Night",
        "start": "0 22 * * *",
        "duration": "PT8H",
        "heat_setpoint": 17.0,
        "sensors": {"28-a": 1.0},
    }
    code, created, _ = await api.post("/v1/schedules", schedule)
    assert code == 201
    published = len(api.published)
    code, body, _ = await api.delete("/v1/sensors/28-a")
    assert (code, body) == (
        409,
        {
            "status": "error",
            "error": (
                f"sensor '28-a' is still used by zone 'upstairs', schedule {created['id']!r}; remove it there first"
            ),
        },
    )
    assert (await store.sensor("28-a")).value == 20.0
    assert len(api.published) == published


@pytest_twisted.ensureDeferred
async def test_delete_with_storage_down_is_503(api, store):
    await api.put("/v1/sensors/update", update())
    store.available = False
    code, body, _ = await api.delete("/v1/sensors/28-a")
    assert (code, body["status"]) == (503, "error")
    store.available = True
    assert await store.sensor("28-a") is not None


def test_host_clocks_forget_hosts_not_seen_ahead_lately():
    from rpymostat.api.sensors_api import HostClocks

    clocks = HostClocks(every=300.0, remember=900.0)
    for number in range(2000):
        clocks.found(f"made-up-{number}", 600.0, 1000.0 + number)
    assert len(clocks._ahead) <= 900 and len(clocks._warned) <= 300
    assert clocks.ahead("made-up-1999", 2999.0) == 600.0 and clocks.ahead("made-up-0", 2999.0) is None


@pytest_twisted.ensureDeferred
async def test_a_backlog_from_a_clock_ahead_keeps_its_spacing_and_never_overtakes_newer_readings(api, store):
    """A host 3600 s ahead, back after an outage: its newest reading first, then its backlog."""
    newest = {"28-a": {"type": "t", "value": 21.0, "timestamp": ts(3600)}}
    assert (await api.put("/v1/sensors/update", {"host_id": "pi-fast", "sensors": newest}))[0] == 201
    backlog = [
        {"type": "t", "value": 12.0 + minute, "timestamp": ts(3600 - 60 * (10 - minute))} for minute in range(10)
    ]  # ten minutes before the newest, stamped an hour ahead
    code, body, _ = await api.put("/v1/sensors/update", {"host_id": "pi-fast", "sensors": {"28-a": backlog}})
    assert code == 201, body
    history = [(entry.timestamp, entry.value) for entry in await store.history("28-a")]
    assert history == [(NOW - 60 * (10 - minute), 12.0 + minute) for minute in range(10)] + [(NOW, 21.0)]
    assert (await store.sensor("28-a")).value == 21.0  # the newest stays the current value


@pytest_twisted.ensureDeferred
async def test_a_clock_so_far_ahead_that_moving_back_would_leave_the_calendar_is_refused_not_stored(api, store):
    """Found by schemathesis: one reading stamped in the year 9999 moved an older one of the same
    update back before the year 1, which then made every listing of sensors fail."""
    sensors = {
        "28-a": {"type": "t", "value": 21.0, "timestamp": "9999-12-31T23:59:59+00:00"},
        "28-b": {"type": "t", "value": 19.0, "timestamp": "2001-01-01T00:00:00+00:00"},
    }
    code, body, _ = await api.put("/v1/sensors/update", {"host_id": "pi-broken", "sensors": sensors})
    assert code == 201, body
    assert body["ids"] == ["28-a"]
    assert body["refused"]["28-b"].startswith("sensors.28-b.timestamp: '2001-01-01T00:00:00+00:00' moved back")
    assert await store.sensor("28-b") is None
    assert (await store.sensor("28-a")).last_seen == NOW
    code, listed, _ = await api.get("/v1/sensors")
    assert code == 200 and [s["id"] for s in listed["sensors"]] == ["28-a"]
    # Remembered as that far ahead, the host's next ordinary reading is refused too, not stored in year -7000.
    later = {"28-c": {"type": "t", "value": 20.0, "timestamp": ts(400)}}
    code, body, _ = await api.put("/v1/sensors/update", {"host_id": "pi-broken", "sensors": later})
    assert code == 422 and "lies before 2000" in body["error"]
    assert await store.sensor("28-c") is None
