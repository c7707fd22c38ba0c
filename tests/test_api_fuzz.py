"""No input makes the sensor API answer 500, and a rejected input stores nothing."""

import json

import fastjsonschema
import pytest
import pytest_twisted
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.defer import ensureDeferred
from twisted.internet.task import Clock

from rpymostat.api.validation import RequestValidator
from rpymostat.testing import FakeStorage
from tests.api_client import ApiClient
from tests.conftest import NOW

json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)

field_values = st.one_of(
    json_values,
    st.floats(min_value=-100, max_value=200),
    st.sampled_from(["2026-11-25T11:59:00Z", "2026-11-25T13:00:00+01:00", "2026-13-01T00:00:00Z", "", "  "]),
)

readings = st.dictionaries(
    st.sampled_from(["type", "value", "alias", "extra", "timestamp", "other"]),
    field_values,
    max_size=6,
)

near_valid = st.fixed_dictionaries(
    {"host_id": st.one_of(st.just("pi"), json_values)},
    optional={
        "sensors": st.dictionaries(st.text(max_size=12), readings, max_size=3) | json_values,
        "extra_key": json_values,
    },
)


def answer(document):
    """PUT ``document`` and return (status, body, storage); StubTreq + FakeStorage finish at once."""
    storage = FakeStorage()
    clock = Clock()
    clock.advance(NOW)
    api = ApiClient(storage, clock)
    raw = json.dumps(document).encode()
    outcome = ensureDeferred(api.put("/v1/sensors/update", raw=raw))
    assert outcome.called
    code, body, _ = outcome.result
    return code, body, storage


def stored_sensors(storage):
    listing = storage.sensors()
    return listing.result


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, near_valid))
def test_any_document_gets_a_clear_answer(document):
    code, body, storage = answer(document)
    assert code in (201, 400, 422), body
    if code == 201:
        assert body["status"] == "created"
        assert sorted(body["ids"]) == sorted(document["sensors"])
    else:
        assert body["status"] == "error" and body["error"]
        assert stored_sensors(storage) == []


VALIDATOR = RequestValidator()


def fast_accepts(schema_name, document):
    try:
        VALIDATOR.fast_validator(schema_name)(document)
        return True
    except fastjsonschema.JsonSchemaValueException:
        return False


@settings(max_examples=500, deadline=None)
@given(st.one_of(json_values, near_valid), st.sampled_from(["SensorUpdate", "SensorPatch"]))
def test_fast_validator_never_accepts_what_the_reference_refuses(document, schema_name):
    reference_accepts = VALIDATOR.reference_validator(schema_name).is_valid(document)
    if fast_accepts(schema_name, document):
        assert reference_accepts, document


def test_fast_and_reference_agree_on_a_valid_update():
    document = {"host_id": "pi", "sensors": {"28-a": {"type": "DS18B20", "value": 20.5}}}
    assert fast_accepts("SensorUpdate", document)
    assert VALIDATOR.reference_validator("SensorUpdate").is_valid(document)


rule_like = st.dictionaries(
    st.sampled_from(
        [
            "name",
            "zone",
            "start",
            "end",
            "duration",
            "interval",
            "until",
            "heat_setpoint",
            "cool_setpoint",
            "sensors",
            "priority",
            "enabled",
            "colour",
        ]
    ),
    st.one_of(
        json_values,
        st.floats(min_value=0, max_value=40),
        st.sampled_from(["0 6 * * *", "PT2H", "next_schedule", "permanent", "default", "up stairs", ""]),
        st.dictionaries(st.sampled_from(["28-a", "", "a/b"]), st.floats(min_value=-1, max_value=200)),
    ),
    max_size=8,
)


@settings(max_examples=400, deadline=None)
@given(rule_like, st.sampled_from(["ScheduleInput", "OverrideInput", "HoldInput"]))
def test_fast_validator_agrees_on_rule_bodies(document, schema_name):
    reference_accepts = VALIDATOR.reference_validator(schema_name).is_valid(document)
    if fast_accepts(schema_name, document):
        assert reference_accepts, document


TIMES = st.sampled_from(
    [
        "2026-12-21",
        "2026-12-21T18:00:00",
        "2026-12-21T18:00:00+01:00",
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "2026-13-45",
        "P1D",
        "PT0S",
        "P99999999D",
        "2026-12-21/2026-12-28",
        "9999-12-31/P1D",
        "P1D/0001-01-01",
        "R5/2026-01-01/P1D",
        "2026-03-29T02:30:00",
        "",
    ]
)

rule_bodies = st.dictionaries(
    st.sampled_from(
        [
            "name",
            "zone",
            "start",
            "end",
            "duration",
            "interval",
            "until",
            "heat_setpoint",
            "cool_setpoint",
            "sensors",
            "priority",
            "enabled",
        ]
    ),
    st.one_of(
        TIMES,
        st.sampled_from(["0 6 * * *", "*/0 * * * *", "0 0 L * *", "next_schedule", "permanent"]),
        st.floats(min_value=4, max_value=36),
        st.integers(-200, 200),
        st.booleans(),
        st.none(),
    ),
    max_size=7,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["/v1/schedules", "/v1/overrides", "/v1/zones/default/hold"]), rule_bodies)
def test_any_rule_body_gets_a_clear_answer(path, document):
    storage = FakeStorage()
    clock = Clock()
    clock.advance(NOW)
    api = ApiClient(storage, clock)
    outcome = ensureDeferred(api.post(path, raw=json.dumps(document).encode()))
    assert outcome.called
    code, body, _ = outcome.result
    assert code in (201, 400, 422), (code, body)
    if code != 201:
        assert body["status"] == "error" and body["error"]
        kind = {"/v1/schedules": "schedule", "/v1/overrides": "override"}.get(path, "hold")
        assert storage.rules(kind).result == []


@settings(max_examples=100, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "zone": st.text(max_size=10),
            "start": TIMES,
            "hours": st.sampled_from(["1", "0", "-1", "nan", "inf", "1e308", "336", "x"]),
        },
    )
)
def test_any_timeline_query_gets_a_clear_answer(query):
    from urllib.parse import urlencode

    storage = FakeStorage()
    clock = Clock()
    clock.advance(NOW)
    api = ApiClient(storage, clock)
    outcome = ensureDeferred(api.get("/v1/timeline?" + urlencode(query)))
    assert outcome.called
    code, body, _ = outcome.result
    assert code in (200, 404, 422), (code, body)


#: A relay unit's secret as its registration must carry it (43 URL-safe characters).
UNIT_SECRET = "fuzz-unit-secret_" + "s" * 26

#: Every route that reads a JSON body, with a body otherwise acceptable there.
JSON_BODY_ROUTES = [
    ("PUT", "/v1/sensors/update", {"host_id": "pi", "sensors": {"28-a": {"type": "t", "value": 20.0}}}),
    ("PATCH", "/v1/sensors/28-a", {"name": "hall"}),
    (
        "POST",
        "/v1/controls/register",
        {
            "host_id": "pi",
            "url": "http://192.168.1.20:8089",
            "relays": {"r": {"type": "sim", "state": False}},
            "secret": UNIT_SECRET,
        },
    ),
    ("PUT", "/v1/zones/default", {"sensors": {}}),
    ("POST", "/v1/schedules", {"name": "x", "start": "0 6 * * *", "duration": "PT1H", "heat_setpoint": 20.0}),
    ("POST", "/v1/overrides", {"start": "2026-11-25T13:00:00Z", "duration": "PT1H", "heat_setpoint": 20.0}),
    ("POST", "/v1/zones/default/hold", {"heat_setpoint": 20.0, "until": "permanent"}),
]


@pytest.mark.parametrize("method, path, document", JSON_BODY_ROUTES)
@pytest.mark.parametrize("where", ["top", "field"])
@pytest_twisted.ensureDeferred
async def test_an_integer_too_long_to_convert_is_400_and_stores_nothing(api, store, method, path, document, where):
    """Python refuses to convert integers of more than 4300 digits (a ValueError that
    once escaped as a 500); the body is answered 400 like any unreadable body."""
    huge = "9" * 5000
    if where == "top":
        raw = huge.encode()
    else:
        text = json.dumps({**document, "extra": 0})
        raw = text.replace('"extra": 0', f'"extra": {huge}').encode()
    code, body, _ = await api.request(method, path, raw=raw)
    assert code in (400, 422), (code, body)
    assert body["status"] == "error" and "4300 digits" in body["error"]
    assert await store.sensors() == []
    assert await store.relay_units() == [] and await store.zones() == []
    for kind in RULE_KINDS:
        assert await store.rules(kind) == [], kind


# --- zones, relay unit registrations and sensor names: no 5xx, a refusal stores nothing ---

#: Every kind of rule the engine keeps.
RULE_KINDS = ("schedule", "override", "hold")


async def stored_records(storage):
    """Every record ``storage`` keeps besides sensors and their readings, through its interface:
    zones, relay units, rules, output states, open runs and every zone's runs."""
    zones = await storage.zones()
    named = sorted({"default"} | {zone.name for zone in zones})
    return (
        zones,
        await storage.relay_units(),
        [await storage.rules(kind) for kind in RULE_KINDS],
        await storage.output_states(),
        await storage.open_runs(),
        [await storage.runs(name, 10**6) for name in named],
    )


def storage_contents(storage):
    """Everything ``storage`` (a FakeStorage, which answers at once) holds, through its interface."""
    sensors = storage.sensors().result
    return (
        sensors,
        [storage.history(sensor.sensor_id).result for sensor in sensors],
        ensureDeferred(stored_records(storage)).result,
    )


_ENGINES = {}


def shared_engine(name):
    """One engine per test, built once: building one compiles every schema, which would
    take most of each example's time.  Its state may change from example to example, as a
    real engine's does; every check compares storage just before and after one request."""
    if name not in _ENGINES:
        _ENGINES[name] = engine_with_a_sensor_and_a_unit()
    return _ENGINES[name]


def engine_with_a_sensor_and_a_unit():
    """An engine over FakeStorage with sensor ``28-a``, a registered unit and a zone ``upstairs``."""
    storage = FakeStorage()
    clock = Clock()
    clock.advance(NOW)
    api = ApiClient(storage, clock)
    for method, path, document in (
        ("PUT", "/v1/sensors/update", {"host_id": "pi", "sensors": {"28-a": {"type": "t", "value": 20.0}}}),
        (
            "POST",
            "/v1/controls/register",
            {
                "host_id": "boiler",
                "url": "http://192.168.1.20:8089",
                "relays": {"r1": {"type": "sim", "state": False}},
                "secret": UNIT_SECRET,
            },
        ),
        ("PUT", "/v1/zones/upstairs", {"outputs": {"heat": "boiler/r1"}, "sensors": {"28-a": 1.0}}),
    ):
        outcome = ensureDeferred(api.request(method, path, document))
        assert outcome.called and outcome.result[0] in (200, 201), outcome.result
    return api, storage


def send(api, method, path, raw):
    outcome = ensureDeferred(api.request(method, path, raw=raw))
    assert outcome.called
    return outcome.result


def assert_refusal_stored_nothing(code, body, before, after, accepted):
    """No 5xx; an accepted answer is one of ``accepted``; anything else changed nothing."""
    assert code < 500, (code, body)
    if code in accepted:
        return
    assert 400 <= code < 500 and body["status"] == "error" and body["error"], (code, body)
    assert after == before


zone_names = st.one_of(
    st.sampled_from(["default", "upstairs", "attic", "a.b_c-d", "", "x" * 65, "up stairs", "ä", "a%2Fb", "..", "."]),
    st.text(max_size=12),
)

zone_bodies = st.one_of(
    json_values,
    st.dictionaries(
        st.sampled_from(
            [
                "name",
                "mode",
                "sensors",
                "quorum",
                "default_heat_setpoint",
                "default_cool_setpoint",
                "outputs",
                "decision",
                "safety",
                "colour",
            ]
        ),
        st.one_of(
            json_values,
            st.sampled_from(
                ["heat", "cool", "auto", "off", "Upstairs", "", "hysteresis", "boiler/r1", "boiler/r2", "x/y\n"]
            ),
            st.floats(min_value=0, max_value=40),
            st.integers(-2, 200),
            st.dictionaries(st.sampled_from(["28-a", "28-b", ""]), st.floats(min_value=-1, max_value=200)),
            st.dictionaries(
                st.sampled_from(["heat", "cool", "fan", "boil"]),
                st.sampled_from(["boiler/r1", "boiler/r2", "other/r1", "nope", "a/b/c", 5]),
            ),
            st.fixed_dictionaries(
                {"plugin": st.sampled_from(["hysteresis", "nope", 3])},
                optional={
                    "config": json_values
                    | st.dictionaries(
                        st.sampled_from(["cold_tolerance", "hot_tolerance", "x"]), st.floats(min_value=-5, max_value=50)
                    )
                },
            ),
            st.dictionaries(st.sampled_from(["heat", "cool", "min_on_s", "max_cycles_per_hour"]), json_values),
        ),
        max_size=8,
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zone_names, zone_bodies)
def test_any_zone_body_gets_a_clear_answer_and_a_refusal_stores_nothing(name, document):
    from urllib.parse import quote

    api, storage = shared_engine("zones")
    before = storage_contents(storage)
    code, body, _ = send(api, "PUT", "/v1/zones/" + quote(name, safe=""), json.dumps(document).encode())
    assert_refusal_stored_nothing(code, body, before, storage_contents(storage), accepted=(200, 201))
    if code in (200, 201):
        assert body["id"] == name
        stored = storage.zone(name).result
        assert stored is not None and stored.document["default_heat_setpoint"] == body["default_heat_setpoint"]


registrations = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "host_id": st.one_of(st.sampled_from(["boiler", "pi-2", "", "a b", "x" * 200]), json_values),
            "url": st.one_of(
                st.sampled_from(
                    [
                        "http://192.168.1.20:8089",
                        "https://u.local",
                        "ftp://x",
                        "http://",
                        "http://a b",
                        "http://x\n",
                        "x" * 3000,
                    ]
                ),
                json_values,
            ),
            "relays": st.one_of(
                json_values,
                st.dictionaries(
                    st.sampled_from(["r1", "r2", "", "a/b", "x" * 300]),
                    st.one_of(
                        json_values,
                        st.fixed_dictionaries(
                            {
                                "type": st.sampled_from(["sim", "", 5]),
                                "state": st.sampled_from([True, False, None, "on"]),
                            },
                            optional={"alias": st.one_of(st.none(), st.text(max_size=5), st.integers())},
                        ),
                    ),
                    max_size=3,
                ),
            ),
            "secret": st.one_of(
                st.sampled_from([UNIT_SECRET, "x" * 31, "x" * 256, "x" * 257, "a b" * 20, "é" * 40, ""]),
                json_values,
            ),
            "extra": json_values,
        },
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registrations)
def test_any_registration_gets_a_clear_answer_and_a_refusal_stores_nothing(document):
    api, storage = shared_engine("controls")
    before = storage_contents(storage)
    code, body, _ = send(api, "POST", "/v1/controls/register", json.dumps(document).encode())
    assert_refusal_stored_nothing(code, body, before, storage_contents(storage), accepted=(201,))


sensor_ids = st.one_of(st.sampled_from(["28-a", "28-b", "", "a%2Fb", "x" * 300]), st.text(max_size=10))
sensor_patches = st.one_of(
    json_values,
    st.dictionaries(
        st.sampled_from(["name", "alias", "value"]),
        st.one_of(json_values, st.sampled_from(["hall", "", " ", "x" * 101, None])),
        max_size=3,
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sensor_ids, sensor_patches)
def test_any_sensor_patch_gets_a_clear_answer_and_a_refusal_stores_nothing(sensor_id, document):
    from urllib.parse import quote

    api, storage = shared_engine("sensors")
    before = storage_contents(storage)
    code, body, _ = send(api, "PATCH", "/v1/sensors/" + quote(sensor_id, safe=""), json.dumps(document).encode())
    assert_refusal_stored_nothing(code, body, before, storage_contents(storage), accepted=(200,))
    if code == 200:
        assert storage.sensor(sensor_id).result.name == document["name"]
