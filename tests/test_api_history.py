"""``GET /v1/history``: ranges, steps, sources, zones, CSV and every way to ask wrongly."""

import json
import zoneinfo

import pytest
import pytest_twisted
from treq.testing import StubTreq

from rpymostat.api.history_api import HistoryApi
from rpymostat.storage.interface import Reading, RunRecord
from rpymostat.testing import FakeStorage
from tests.conftest import NOW

LONDON = zoneinfo.ZoneInfo("Europe/London")


@pytest.fixture
def history(clock):
    storage = FakeStorage(timezone=LONDON)
    return storage, StubTreq(HistoryApi(storage, clock, LONDON, raw_days=90).app.resource())


async def get(treq, query, headers=None):
    response = await treq.get("http://engine.test/?" + query, headers=headers or {})
    body = await response.content()
    kind = response.headers.getRawHeaders(b"content-type", [b""])[0]
    return response.code, (json.loads(body) if kind == b"application/json" else body.decode()), response


async def feed(storage, *pairs, sensor="28-a"):
    await storage.record_readings("h", [Reading(sensor, "DS18B20", value, NOW + at) for at, value in pairs])


@pytest_twisted.ensureDeferred
async def test_a_sensor_at_one_minute_steps_from_raw_readings(history):
    storage, treq = history
    await feed(storage, (-3600, 20.0), (-3570, 20.5), (-3540, 21.5), (-100, 30.0))
    code, body, _ = await get(treq, "sensor=28-a&start=2026-11-25T11:00:00Z&end=2026-11-25T11:03:00Z&step=PT1M")
    assert code == 200
    assert body == {
        "start": "2026-11-25T11:00:00.000+00:00",
        "end": "2026-11-25T11:03:00.000+00:00",
        "step": "PT1M",
        "source": "raw",
        "timezone": "Europe/London",
        "at": ["2026-11-25T11:00:00.000+00:00", "2026-11-25T11:01:00.000+00:00", "2026-11-25T11:02:00.000+00:00"],
        "series": [
            {
                "sensor": "28-a",
                "count": [2, 1, 0],
                "min": [20.0, 21.5, None],
                "mean": [20.25, 21.5, None],
                "max": [20.5, 21.5, None],
            }
        ],
    }


@pytest_twisted.ensureDeferred
async def test_a_zone_has_its_temperature_sensors_setpoints_and_runs(history):
    storage, treq = history
    await storage.put_zone("hall", {"sensors": {"28-b": 1.0, "28-a": 2.0}}, NOW - 7200)
    await feed(storage, (-1800, 19.0), (-1200, 19.5))
    await feed(storage, (-1800, 18.0), sensor="28-b")
    await storage.record_zone_state("hall", NOW - 1790, 18.5, 20.0, None, "heat")
    await storage.record_zone_state("hall", NOW - 1000, 19.25, 21.0, None, "heat")
    await storage.start_run(RunRecord("r1", "hall", "heat", NOW - 1700, 18.5, 20.0, ended_at=NOW - 1500))
    await storage.start_run(RunRecord("r2", "hall", "heat", NOW - 1450, 18.9, 20.0, ended_at=NOW - 1100))
    await storage.start_run(RunRecord("r3", "hall", "heat", NOW - 120, 19.0, 21.0))
    code, body, _ = await get(treq, "zone=hall&start=2026-11-25T11:30:00&end=2026-11-25T12:00:00&step=PT15M")
    assert code == 200
    assert (body["source"], body["zone"], body["start"]) == ("quarter", "hall", "2026-11-25T11:30:00.000+00:00")
    assert body["at"] == ["2026-11-25T11:30:00.000+00:00", "2026-11-25T11:45:00.000+00:00"]
    assert body["series"] == [
        {"zone": "hall", "count": [2, 0], "min": [18.5, None], "mean": [18.88, None], "max": [19.25, None]},
        {"sensor": "28-a", "count": [2, 0], "min": [19.0, None], "mean": [19.25, None], "max": [19.5, None]},
        {"sensor": "28-b", "count": [1, 0], "min": [18.0, None], "mean": [18.0, None], "max": [18.0, None]},
    ]
    assert body["setpoints"] == [
        {"at": "2026-11-25T11:30:10.000+00:00", "heat": 20.0, "cool": None, "mode": "heat"},
        {"at": "2026-11-25T11:43:20.000+00:00", "heat": 21.0, "cool": None, "mode": "heat"},
    ]
    # Two runs 50 s apart are one band at a 15-minute step; the last still runs.
    assert body["runs"] == [
        {"output": "heat", "start": "2026-11-25T11:31:40.000+00:00", "end": "2026-11-25T11:41:40.000+00:00"},
        {"output": "heat", "start": "2026-11-25T11:58:00.000+00:00", "end": None},
    ]


@pytest_twisted.ensureDeferred
async def test_auto_picks_a_step_giving_at_most_a_thousand_points(history):
    storage, treq = history
    await feed(storage, (-60, 20.0))
    code, day, _ = await get(treq, "sensor=28-a")  # the last day
    assert (code, day["step"], day["source"], day["end"]) == (200, "PT5M", "raw", "2026-11-25T12:00:00.000+00:00")
    code, year, _ = await get(treq, "sensor=28-a&start=2025-11-25&end=2026-11-26&step=auto")
    assert (code, year["step"], year["source"]) == (200, "PT12H", "quarter")  # 732 points
    code, years, _ = await get(treq, "sensor=28-a&start=2025-01-01&end=2026-11-26&step=auto")
    assert (code, years["step"], years["source"]) == (200, "P1D", "day")
    points = years["series"][0]
    assert (years["at"][-1], points["count"][-1], points["mean"][-1]) == ("2026-11-25T00:00:00.000+00:00", 1, 20.0)
    assert sum(points["count"]) == 1 and len(years["at"]) == 694
    code, old, _ = await get(treq, "sensor=28-a&start=2026-01-01T00:00&end=2026-01-02T00:00")
    assert (code, old["step"], old["source"]) == (200, "PT15M", "quarter")  # raw readings are gone by then


@pytest_twisted.ensureDeferred
async def test_days_are_the_engines_local_days(clock):
    new_york = zoneinfo.ZoneInfo("America/New_York")
    storage = FakeStorage(timezone=new_york)
    treq = StubTreq(HistoryApi(storage, clock, new_york, raw_days=90).app.resource())
    await feed(storage, (-9 * 3600, 18.0), (-3 * 3600, 22.0))  # 22:00 the day before and 04:00, New York time
    code, body, _ = await get(treq, "sensor=28-a&start=2026-11-24&end=2026-11-25T12:00&step=P1D")
    assert code == 200
    assert (body["start"], body["end"]) == ("2026-11-24T05:00:00.000+00:00", "2026-11-26T05:00:00.000+00:00")
    assert body["at"] == ["2026-11-24T05:00:00.000+00:00", "2026-11-25T05:00:00.000+00:00"]
    assert body["series"][0]["mean"] == [18.0, 22.0]


@pytest_twisted.ensureDeferred
async def test_csv_holds_the_same_rows(history):
    storage, treq = history
    await storage.put_zone("hall", {"sensors": {"28-a": 1.0}}, NOW - 7200)
    await feed(storage, (-1800, 19.0))
    await storage.record_zone_state("hall", NOW - 1790, 18.5, 20.0, 25.0, "auto")
    await storage.start_run(RunRecord("r1", "hall", "heat", NOW - 1700, 18.5, 20.0, ended_at=NOW - 1500))
    query = "zone=hall&start=2026-11-25T11:30:00Z&end=2026-11-25T11:45:00Z&step=PT15M"
    expected = (
        "record,name,at,end,count,min,mean,max,heat,cool,mode\r\n"
        "reading,zone hall,2026-11-25T11:30:00.000+00:00,,1,18.5,18.5,18.5,,,\r\n"
        "reading,28-a,2026-11-25T11:30:00.000+00:00,,1,19.0,19.0,19.0,,,\r\n"
        "setpoints,,2026-11-25T11:30:10.000+00:00,,,,,,20.0,25.0,auto\r\n"
        "run,heat,2026-11-25T11:31:40.000+00:00,2026-11-25T11:35:00.000+00:00,,,,,,,\r\n"
    )
    code, text, response = await get(treq, query, headers={"Accept": "text/csv"})
    assert (code, text) == (200, expected)
    assert response.headers.getRawHeaders(b"content-type") == [b"text/csv; charset=utf-8"]
    assert response.headers.getRawHeaders(b"content-disposition") == [b'attachment; filename="history-hall.csv"']
    code, text, _ = await get(treq, query + "&format=csv")
    assert (code, text) == (200, expected)
    code, body, _ = await get(treq, query + "&format=json", headers={"Accept": "text/csv"})
    assert code == 200 and body["zone"] == "hall"


@pytest.mark.parametrize(
    ("query", "code", "error"),
    [
        ("sensor=28-a&zone=hall", 422, "zone: give either ?sensor=ID or ?zone=NAME"),
        ("", 422, "zone: give either ?sensor=ID or ?zone=NAME"),
        ("sensor=28-a&start=2026-11-25T12:00&end=2026-11-25T11:00", 422, "end: must be after start"),
        ("sensor=28-a&start=yesterday", 422, "start: 'yesterday' is not an ISO 8601 date and time"),
        (
            "sensor=28-a&start=2026-11-25T10:00+01:00",
            422,
            "start: '2026-11-25T10:00 01:00' is not an ISO 8601 date and"
            " time (in a URL, write '+' as %2B, or give the time in UTC with Z)",
        ),
        ("sensor=28-a&end=1999-01-01", 422, "end: '1999-01-01' is not between the years 2000 and 2099"),
        ("sensor=28-a&start=2001-01-01&end=2026-01-01", 422, "end: a history range may cover at most 3660 days"),
        ("sensor=28-a&step=P1M", 422, "step: 'P1M' uses months or years, whose length varies; use days or weeks"),
        ("sensor=28-a&step=soon", 422, "step: 'soon' is not an ISO 8601 duration such as PT2H or P1D, or auto"),
        ("sensor=28-a&step=PT0.5S", 422, "step: 'PT0.5S' is not a whole number of seconds"),
        ("sensor=28-a&step=PT10S", 422, "step: PT10S over this range gives 8640 points, more than 2000"),
        ("sensor=28-a&start=2026-01-01&end=2026-01-02&step=PT5M", 422, "step: raw readings are kept 90 days"),
        ("sensor=28-a&colour=red", 422, "colour: not a field of this query"),
        ("sensor=28-a&sensor=28-b", 422, "sensor: give it once"),
        ("sensor=", 422, "sensor: must not be empty"),
        ("sensor=28-a&format=xml", 422, "format: must be json or csv"),
        ("sensor=28-nowhere", 404, "no sensor '28-nowhere' and no history of one"),
        ("sensor=zone%2Fhall", 422, "sensor: a sensor id holds no '/'"),
        ("zone=attic", 404, "no zone 'attic'"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_bad_questions_are_refused_naming_the_field(history, query, code, error):
    storage, treq = history
    await feed(storage, (-60, 20.0))
    answered, body, _ = await get(treq, query)
    assert answered == code
    assert body["status"] == "error" and body["error"].startswith(error), body["error"]


@pytest_twisted.ensureDeferred
async def test_a_deleted_sensor_keeps_its_history(history):
    storage, treq = history
    await feed(storage, (-60, 20.0))
    await storage.delete_sensor("28-a")
    code, body, _ = await get(treq, "sensor=28-a&step=PT1H")
    assert code == 200 and body["series"][0]["mean"][-1] == 20.0 and sum(body["series"][0]["count"]) == 1


@pytest_twisted.ensureDeferred
async def test_a_csv_of_an_odd_sensor_id_is_safe_to_download_and_open(history):
    storage, treq = history
    await feed(storage, (-60, 20.0), sensor='=cmd"x')
    code, text, response = await get(treq, "sensor=%3Dcmd%22x&step=PT1H&format=csv")
    assert code == 200
    assert response.headers.getRawHeaders(b"content-disposition") == [b'attachment; filename="history-_cmd_x.csv"']
    assert text.splitlines()[1].startswith("""reading,"'=cmd""x",""")  # text, not a formula


@pytest_twisted.ensureDeferred
async def test_setpoints_are_thinned_to_one_a_step_when_they_change_more_often(history):
    storage, treq = history
    await storage.put_zone("hall", {}, NOW - 7200)
    for minute in range(120):  # a new heat setpoint every minute for two hours
        await storage.record_zone_state("hall", NOW - 7200 + 60 * minute, None, 18.0 + minute / 100, None, "heat")
    code, body, _ = await get(treq, "zone=hall&start=2026-11-25T10:00Z&end=2026-11-25T12:00Z&step=PT1H")
    assert code == 200
    assert body["setpoints"] == [
        {"at": "2026-11-25T10:00:00.000+00:00", "heat": 18.0, "cool": None, "mode": "heat"},
        {"at": "2026-11-25T11:00:00.000+00:00", "heat": 18.6, "cool": None, "mode": "heat"},
    ]
