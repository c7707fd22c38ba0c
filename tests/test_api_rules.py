"""Schedules, overrides, holds, targets and timelines through the HTTP API (StubTreq)."""

from zoneinfo import ZoneInfo

import pytest
import pytest_twisted

from tests.api_client import ApiClient

MORNING = {"name": "Weekday mornings", "start": "30 6 * * 1-5", "duration": "PT2H", "heat_setpoint": 21.0}


@pytest.fixture
def api(store, clock):
    return ApiClient(store, clock, zone_info=ZoneInfo("Europe/Berlin"))


def changes(api):
    return [(e.data["kind"], e.data["zone"]) for e in api.published if e.topic == "rule.changed"]


@pytest_twisted.ensureDeferred
async def test_schedule_lifecycle(api):
    code, created, response = await api.post("/v1/schedules", MORNING)
    assert code == 201
    rule_id = created["id"]
    assert response.headers.getRawHeaders(b"location") == [f"/v1/schedules/{rule_id}".encode()]
    assert created == {
        **MORNING,
        "id": rule_id,
        "zone": "default",
        "priority": 0,
        "enabled": True,
        "changed_at": "2026-11-25T12:00:00.000+00:00",
    }
    assert (await api.get("/v1/schedules"))[1] == {"schedules": [created]}
    assert (await api.get(f"/v1/schedules/{rule_id}"))[1] == created
    replaced = {**MORNING, "heat_setpoint": 20.0, "enabled": False}
    code, body, _ = await api.request("PUT", f"/v1/schedules/{rule_id}", replaced)
    assert (code, body["heat_setpoint"], body["enabled"], body["id"]) == (200, 20.0, False, rule_id)
    assert (await api.delete(f"/v1/schedules/{rule_id}"))[0] == 204
    assert (await api.get(f"/v1/schedules/{rule_id}"))[:2] == (
        404,
        {"status": "error", "error": f"no schedule with id '{rule_id}'"},
    )
    assert (await api.delete(f"/v1/schedules/{rule_id}"))[0] == 404
    assert changes(api) == [("schedule", "default")] * 3


BAD_SCHEDULES = [
    ({**MORNING, "start": "61 6 * * *"}, "start: '61 6 * * *' is not a five-field cron expression"),
    ({**MORNING, "start": "0 0 30 2 *"}, "start: '0 0 30 2 *' is not a five-field cron expression that ever matches"),
    ({**MORNING, "end": "0 9 * * *"}, "body: give exactly one of end, duration"),
    ({k: v for k, v in MORNING.items() if k != "duration"}, "body: give exactly one of end, duration"),
    ({**MORNING, "duration": "P1M"}, "duration: 'P1M' uses months or years"),
    ({**MORNING, "duration": "two hours"}, "duration: 'two hours' is not an ISO 8601 duration"),
    ({**MORNING, "duration": "PT0S"}, "duration: 'PT0S' is not longer than zero"),
    ({**MORNING, "heat_setpoint": 36}, "heat_setpoint: 36 is greater than the maximum of 35"),
    ({**MORNING, "heat_setpoint": 4.5}, "heat_setpoint: 4.5 is less than the minimum of 5"),
    ({**MORNING, "heat_setpoint": None}, "body: give heat_setpoint, cool_setpoint or both"),
    (
        {**MORNING, "heat_setpoint": 22.0, "cool_setpoint": 22.5},
        "heat_setpoint: 22.0 must be at least 1.0 below cool_setpoint 22.5",
    ),
    ({**MORNING, "zone": "attic"}, "zone: there is no zone 'attic'"),
    ({**MORNING, "zone": "attic room"}, "zone: 'attic room' may hold only letters"),
    ({**MORNING, "sensors": {"28-nowhere": 1.0}}, "sensors.28-nowhere: no sensor has this id"),
    ({**MORNING, "sensors": {"28-nowhere": 0}}, "sensors.28-nowhere: 0 is less than or equal to the minimum of 0"),
    ({**MORNING, "colour": "blue"}, "body: Additional properties are not allowed ('colour' was unexpected)"),
    ({**MORNING, "priority": 1.5}, "priority: 1.5 is not of type 'integer'"),
    ({k: v for k, v in MORNING.items() if k != "name"}, "body: 'name' is a required property"),
]


@pytest.mark.parametrize("document, message", BAD_SCHEDULES)
@pytest_twisted.ensureDeferred
async def test_invalid_schedule_is_422_naming_the_field_and_stores_nothing(api, store, document, message):
    code, body, _ = await api.post("/v1/schedules", document)
    assert code == 422
    assert body["error"].startswith(message), body["error"]
    assert await store.rules("schedule") == []
    assert changes(api) == []


@pytest_twisted.ensureDeferred
async def test_put_of_unknown_schedule_is_404(api, store):
    assert (await api.request("PUT", "/v1/schedules/nope", MORNING))[0] == 404
    assert await store.rules("schedule") == []


@pytest_twisted.ensureDeferred
async def test_schedule_with_known_sensor_weights(api):
    await api.put("/v1/sensors/update", {"host_id": "h", "sensors": {"28-a": {"type": "t", "value": 20.0}}})
    code, body, _ = await api.post("/v1/schedules", {**MORNING, "sensors": {"28-a": 2.0}})
    assert (code, body["sensors"]) == (201, {"28-a": 2.0})


@pytest.mark.parametrize(
    "document, start, end",
    [
        ({"interval": "2026-12-21/2026-12-28"}, "2026-12-20T23:00:00+00:00", "2026-12-27T23:00:00+00:00"),
        ({"interval": "2026-12-21T18:00:00+01:00/P2D"}, "2026-12-21T17:00:00+00:00", "2026-12-23T17:00:00+00:00"),
        ({"interval": "P1D/2026-12-28T10:00:00Z"}, "2026-12-27T10:00:00+00:00", "2026-12-28T10:00:00+00:00"),
        (
            {"start": "2026-12-24T15:00:00", "end": "2026-12-24T23:30:00"},
            "2026-12-24T14:00:00+00:00",
            "2026-12-24T22:30:00+00:00",
        ),
        ({"duration": "PT3H"}, "2026-11-25T12:00:00+00:00", "2026-11-25T15:00:00+00:00"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_override_times_are_stored_as_instants(api, document, start, end):
    code, body, _ = await api.post("/v1/overrides", {"name": "away", "heat_setpoint": 12.0, **document})
    assert code == 201, body
    assert (body["start"], body["end"], body["zone"]) == (start, end, "default")


@pytest.mark.parametrize(
    "document, message",
    [
        (
            {"start": "2026-12-24T15:00:00Z", "end": "2026-12-24T15:00:00Z"},
            "end: 2026-12-24T15:00:00+00:00 is not after start",
        ),
        ({"duration": "PT1H", "until": "next_schedule"}, "body: give exactly one of end, duration, interval, until"),
        ({"interval": "next week"}, "interval: 'next week' is not an ISO 8601 interval"),
        (
            {"interval": "2026-12-21/2026-12-28", "start": "2026-12-20T00:00:00Z"},
            "start: give the start inside interval",
        ),
        ({"end": "Christmas"}, "end: 'Christmas' is not an ISO 8601 date and time"),
        ({"until": "forever"}, "until: 'next_schedule' was expected"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_invalid_override_is_422(api, store, document, message):
    code, body, _ = await api.post("/v1/overrides", {"heat_setpoint": 12.0, **document})
    assert code == 422
    assert body["error"].startswith(message), body["error"]
    assert await store.rules("override") == []


@pytest_twisted.ensureDeferred
async def test_hold_then_resume(api):
    code, hold, _ = await api.post("/v1/zones/default/hold", {"heat_setpoint": 22.5, "duration": "PT3H"})
    assert (code, hold["start"], hold["end"], hold["heat_setpoint"]) == (
        201,
        "2026-11-25T12:00:00+00:00",
        "2026-11-25T15:00:00+00:00",
        22.5,
    )
    code, target, _ = await api.get("/v1/zones/default/target")
    assert code == 200
    assert target["timezone"] == "Europe/Berlin"
    assert (target["now"]["source"]["type"], target["now"]["heat_setpoint"], target["now"]["end"]) == (
        "hold",
        22.5,
        "2026-11-25T15:00:00+00:00",
    )
    assert (target["next"]["source"]["type"], target["next"]["heat_setpoint"]) == ("default", 18.0)
    assert (await api.get("/v1/zones/default/hold"))[1] == hold
    assert (await api.delete("/v1/zones/default/hold"))[0] == 204
    assert (await api.get("/v1/zones/default/target"))[1]["now"]["source"]["type"] == "default"
    assert (await api.delete("/v1/zones/default/hold"))[:2] == (
        404,
        {"status": "error", "error": "zone 'default' has no hold"},
    )
    assert changes(api) == [("hold", "default")] * 2


@pytest_twisted.ensureDeferred
async def test_hold_until_next_schedule_change_is_the_default(api):
    await api.post(
        "/v1/schedules", {"name": "evening", "start": "0 18 * * *", "end": "0 22 * * *", "heat_setpoint": 21.0}
    )
    code, hold, _ = await api.post("/v1/zones/default/hold", {"heat_setpoint": 23.0})
    assert (code, hold["until"]) == (201, "next_schedule")
    target = (await api.get("/v1/zones/default/target"))[1]
    assert target["now"]["end"] == "2026-11-25T17:00:00+00:00"  # 18:00 in Berlin
    assert target["next"]["source"]["name"] == "evening"


@pytest.mark.parametrize(
    "path, body, code, message",
    [
        ("/v1/zones/attic/hold", {"heat_setpoint": 20.0}, 404, "no zone 'attic'"),
        (
            "/v1/zones/default/hold",
            {"heat_setpoint": 20.0, "until": "permanent", "duration": "PT1H"},
            422,
            "body: give until or duration, not both",
        ),
        ("/v1/zones/default/hold", {}, 422, "body: give heat_setpoint, cool_setpoint or both"),
        (
            "/v1/zones/default/hold",
            {"heat_setpoint": 20.0, "until": "tomorrow"},
            422,
            "until: 'tomorrow' is not one of",
        ),
    ],
)
@pytest_twisted.ensureDeferred
async def test_bad_hold(api, store, path, body, code, message):
    answer, error, _ = await api.post(path, body)
    assert answer == code
    assert error["error"].startswith(message), error["error"]
    assert await store.rules("hold") == []


@pytest_twisted.ensureDeferred
async def test_timeline_of_a_window(api):
    await api.post(
        "/v1/schedules", {"name": "evening", "start": "0 18 * * *", "duration": "PT4H", "heat_setpoint": 21.0}
    )
    code, body, _ = await api.get("/v1/timeline?zone=default&start=2026-11-26T00:00:00%2B01:00&hours=24")
    assert code == 200
    assert code == 200
    assert body["zone"] == "default" and body["timezone"] == "Europe/Berlin"
    assert [(s["start"], s["end"], s["source"]["type"], s["heat_setpoint"]) for s in body["segments"]] == [
        ("2026-11-25T23:00:00+00:00", "2026-11-26T17:00:00+00:00", "default", 18.0),
        ("2026-11-26T17:00:00+00:00", "2026-11-26T21:00:00+00:00", "schedule", 21.0),
        ("2026-11-26T21:00:00+00:00", "2026-11-26T23:00:00+00:00", "default", 18.0),
    ]


@pytest_twisted.ensureDeferred
async def test_timeline_defaults_to_now_and_48_hours(api):
    body = (await api.get("/v1/timeline"))[1]
    assert body["segments"] == [
        {
            "start": "2026-11-25T12:00:00+00:00",
            "end": "2026-11-27T12:00:00+00:00",
            "heat_setpoint": 18.0,
            "cool_setpoint": 26.0,
            "sensors": None,
            "source": {"type": "default", "id": None, "name": "zone default"},
        }
    ]


@pytest.mark.parametrize(
    "query, code, message",
    [
        ("?hours=0", 422, "hours: must be a number above 0 and at most 336"),
        ("?hours=337", 422, "hours: must be a number above 0 and at most 336"),
        ("?hours=many", 422, "hours: must be a number above 0 and at most 336"),
        ("?start=soon", 422, "start: 'soon' is not an ISO 8601 date and time"),
        ("?zone=attic", 404, "no zone 'attic'"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_bad_timeline_query(api, query, code, message):
    answer, body, _ = await api.get("/v1/timeline" + query)
    assert answer == code
    assert body["error"].startswith(message), body["error"]


@pytest_twisted.ensureDeferred
async def test_target_of_unknown_zone_is_404(api):
    assert (await api.get("/v1/zones/attic/target"))[:2] == (404, {"status": "error", "error": "no zone 'attic'"})


@pytest_twisted.ensureDeferred
async def test_override_lifecycle(api):
    code, created, _ = await api.post("/v1/overrides", {"name": "party", "duration": "PT5H", "heat_setpoint": 22.0})
    assert code == 201
    path = f"/v1/overrides/{created['id']}"
    assert (await api.get("/v1/overrides"))[1] == {"overrides": [created]}
    assert (await api.get(path))[1] == created
    code, replaced, _ = await api.request(
        "PUT", path, {"name": "party", "until": "next_schedule", "heat_setpoint": 22.0}
    )
    assert (code, replaced["until"], "end" in replaced) == (200, "next_schedule", False)
    assert (await api.delete(path))[0] == 204
    assert (await api.get(path))[0] == 404


@pytest.mark.parametrize(
    "path, document, message",
    [
        ("/v1/schedules", {**MORNING, "duration": "P99999999D"}, "duration: 'P99999999D' is longer than 366 days"),
        (
            "/v1/zones/default/hold",
            {"heat_setpoint": 20.0, "duration": "P367D"},
            "duration: 'P367D' is longer than 366 days",
        ),
        (
            "/v1/overrides",
            {"start": "2099-12-31T23:59:59Z", "duration": "P300D", "heat_setpoint": 12.0},
            "duration: 'P300D' would end after 2099",
        ),
        (
            "/v1/overrides",
            {"start": "0001-01-01T00:00:00Z", "end": "0001-01-01T01:00:00Z", "heat_setpoint": 12.0},
            "start: '0001-01-01T00:00:00Z' is not between the years 2000 and 2099",
        ),
        (
            "/v1/overrides",
            {"interval": "2026-12-21/2199-01-01", "heat_setpoint": 12.0},
            "interval: '2026-12-21/2199-01-01' is not between the years 2000 and 2099",
        ),
        (
            "/v1/overrides",
            {"interval": "9999-12-31/P1D", "heat_setpoint": 12.0},
            "interval: '9999-12-31/P1D' is not an ISO 8601 interval",
        ),
    ],
)
@pytest_twisted.ensureDeferred
async def test_times_and_durations_that_would_leave_the_calendar_are_refused(api, store, path, document, message):
    code, body, _ = await api.post(path, document)
    assert code == 422
    assert body["error"].startswith(message), body["error"]
    assert await store.rules("schedule") == await store.rules("override") == await store.rules("hold") == []


@pytest.mark.parametrize(
    "query, message",
    [
        (
            "start=9999-12-31T23:00:00Z&hours=336",
            "start: '9999-12-31T23:00:00Z' is not between the years 2000 and 2099",
        ),
        ("start=0001-01-01T00:00:00Z&hours=1", "start: '0001-01-01T00:00:00Z' is not between the years 2000 and 2099"),
        ("start=2099-12-31T00:00:00Z&hours=48", "start: the window must end before the year 2100"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_timeline_windows_outside_the_calendar_are_refused(api, query, message):
    assert (await api.get("/v1/timeline?" + query))[:2] == (422, {"status": "error", "error": message})


@pytest_twisted.ensureDeferred
async def test_a_failing_schedule_plugin_answers_503_with_the_reason(store, clock):
    from rpymostat.schedule.cache import TimelineCache
    from rpymostat.schedule.rules_plugin import RulesSchedule

    class Broken(RulesSchedule):
        def timeline(self, zone, default, begin, end):
            raise RuntimeError("boom")

    timelines = TimelineCache(Broken(store, ZoneInfo("UTC")), store, clock)
    code, body, _ = await ApiClient(store, clock, timelines=timelines).get("/v1/zones/default/target")
    assert code == 503
    assert body["error"] == "timeline unavailable: the rules schedule plugin failed for zone 'default': boom"


# --- ISO 8601 durations across the autumn DST change in Berlin (25 October 2026, 25 hours) ---

#: 2026-10-24T10:00:00Z, Saturday noon in Berlin, the day before clocks fall back.
BEFORE_AUTUMN_CHANGE = 1792836000.0


@pytest.fixture
def autumn_api(store):
    from twisted.internet.task import Clock

    clock = Clock()
    clock.advance(BEFORE_AUTUMN_CHANGE)
    return ApiClient(store, clock, zone_info=ZoneInfo("Europe/Berlin"))


@pytest_twisted.ensureDeferred
async def test_a_one_day_schedule_covers_all_25_hours_of_the_autumn_change(autumn_api):
    schedule = {"name": "all day", "start": "0 0 * * *", "duration": "P1D", "heat_setpoint": 21.0}
    assert (await autumn_api.post("/v1/schedules", schedule))[0] == 201
    code, body, _ = await autumn_api.get("/v1/timeline?zone=default&start=2026-10-25T00:00:00%2B02:00&hours=25")
    assert code == 200
    assert [(s["start"], s["end"], s["source"]["type"]) for s in body["segments"]] == [
        ("2026-10-24T22:00:00+00:00", "2026-10-25T23:00:00+00:00", "schedule"),
    ]


@pytest.mark.parametrize(
    "document, start, end",
    [
        ({"interval": "2026-10-25T00:00/PT24H"}, "2026-10-24T22:00:00+00:00", "2026-10-25T22:00:00+00:00"),
        ({"interval": "2026-10-25T00:00:00+02:00/P1D"}, "2026-10-24T22:00:00+00:00", "2026-10-25T23:00:00+00:00"),
        ({"interval": "P1D/2026-10-26"}, "2026-10-24T22:00:00+00:00", "2026-10-25T23:00:00+00:00"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_override_intervals_count_days_on_the_wall_clock_and_hours_exactly(autumn_api, document, start, end):
    code, body, _ = await autumn_api.post("/v1/overrides", {"name": "away", "heat_setpoint": 12.0, **document})
    assert (code, body["start"], body["end"]) == (201, start, end)


@pytest_twisted.ensureDeferred
async def test_a_hold_for_a_day_lasts_until_the_same_wall_time_tomorrow(autumn_api):
    code, hold, _ = await autumn_api.post("/v1/zones/default/hold", {"heat_setpoint": 22.0, "duration": "P1D"})
    assert (code, hold["start"], hold["end"]) == (201, "2026-10-24T10:00:00+00:00", "2026-10-25T11:00:00+00:00")


@pytest_twisted.ensureDeferred
async def test_a_hold_for_hours_lasts_that_many_real_hours(autumn_api):
    code, hold, _ = await autumn_api.post("/v1/zones/default/hold", {"heat_setpoint": 22.0, "duration": "PT24H"})
    assert (code, hold["start"], hold["end"]) == (201, "2026-10-24T10:00:00+00:00", "2026-10-25T10:00:00+00:00")


@pytest_twisted.ensureDeferred
async def test_an_override_for_a_day_lasts_until_the_same_wall_time_tomorrow(autumn_api):
    code, body, _ = await autumn_api.post("/v1/overrides", {"heat_setpoint": 12.0, "duration": "P1D"})
    assert (code, body["start"], body["end"]) == (201, "2026-10-24T10:00:00+00:00", "2026-10-25T11:00:00+00:00")


@pytest_twisted.ensureDeferred
async def test_an_empty_zone_in_the_timeline_query_is_a_422_not_the_default(api):
    code, body, _ = await api.get("/v1/timeline?zone=")
    assert (code, body["error"]) == (422, "zone: must not be empty; leave it out for the default zone")
