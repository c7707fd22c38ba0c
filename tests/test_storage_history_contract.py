"""The history contract: raw series, rollups, pruning, zone changes and run intervals, on every backend."""

import datetime
import zoneinfo

import pytest_twisted

from rpymostat.storage.interface import (
    Aggregate,
    HistoryEntry,
    Reading,
    RunInterval,
    RunRecord,
    SetpointChange,
)
from tests.conftest import make_storage

#: 2026-11-25T12:00:00Z, the start of a 15-minute rollup.
T0 = 1795608000
SENSOR = "28-0000075565ad"


def reading(value, timestamp, sensor_id=SENSOR, extra=None):
    return Reading(sensor_id=sensor_id, sensor_type="DS18B20", value=value, timestamp=timestamp, extra=extra)


async def feed(storage, *pairs, sensor_id=SENSOR):
    await storage.record_readings("h", [reading(value, T0 + offset, sensor_id) for offset, value in pairs])


@pytest_twisted.ensureDeferred
async def test_quarter_rollups_hold_count_min_mean_max(storage):
    await feed(storage, (0, 20.0), (60, 21.5), (899, 19.25), (900, 22.0))
    await storage.record_readings("h", [reading(None, T0 + 120, extra="crc")])
    quarters = await storage.aggregates([SENSOR], "quarter", T0, T0 + 1800, 900)
    assert quarters == {
        SENSOR: [Aggregate(0, 3, 19.25, 20.25, 21.5), Aggregate(1, 1, 22.0, 22.0, 22.0)],
    }
    half_hours = await storage.aggregates([SENSOR], "quarter", T0, T0 + 1800, 1800)
    assert half_hours == {SENSOR: [Aggregate(0, 4, 19.25, 20.69, 22.0)]}


@pytest_twisted.ensureDeferred
async def test_raw_aggregates_group_by_step_from_the_start(storage):
    await feed(storage, (0, 20.0), (30, 20.5), (60, 21.5), (899, 19.25), (900, 22.0))
    minutes = await storage.aggregates([SENSOR], "raw", T0, T0 + 900, 60)
    assert minutes == {SENSOR: [Aggregate(0, 2, 20.0, 20.25, 20.5), Aggregate(1, 1, 21.5, 21.5, 21.5),
                                Aggregate(14, 1, 19.25, 19.25, 19.25)]}  # fmt: skip
    shifted = await storage.aggregates([SENSOR], "raw", T0 + 30, T0 + 91, 60)
    assert shifted == {SENSOR: [Aggregate(0, 2, 20.5, 21.0, 21.5)]}


@pytest_twisted.ensureDeferred
async def test_values_are_kept_in_hundredths_and_milliseconds(storage):
    await storage.record_readings("h", [reading(20.126, T0 + 5.9004), reading(-0.004, T0 + 7.2)])
    assert await storage.history(SENSOR) == [
        HistoryEntry(SENSOR, T0 + 5.9, 20.13, None),
        HistoryEntry(SENSOR, T0 + 7.2, 0.0, None),
    ]
    assert await storage.history(SENSOR, start=T0 + 5.901, end=T0 + 7.5) == [HistoryEntry(SENSOR, T0 + 7.2, 0.0, None)]


@pytest_twisted.ensureDeferred
async def test_redelivered_reading_is_counted_once(storage):
    await feed(storage, (0, 20.0))
    await feed(storage, (0, 20.0), (60, 22.0))
    await storage.record_readings("h", [reading(25.0, T0 + 0.0002)])  # same millisecond: the first kept stays
    assert await storage.aggregates([SENSOR], "quarter", T0, T0 + 900, 900) == {
        SENSOR: [Aggregate(0, 2, 20.0, 21.0, 22.0)]
    }
    assert [entry.value for entry in await storage.history(SENSOR)] == [20.0, 22.0]


@pytest_twisted.ensureDeferred
async def test_series_are_apart_and_unknown_ones_empty(storage):
    await feed(storage, (0, 20.0))
    await feed(storage, (0, 10.0), sensor_id="28-b")
    found = await storage.aggregates([SENSOR, "28-b", "28-never"], "raw", T0, T0 + 60, 60)
    assert found == {
        SENSOR: [Aggregate(0, 1, 20.0, 20.0, 20.0)],
        "28-b": [Aggregate(0, 1, 10.0, 10.0, 10.0)],
        "28-never": [],
    }


@pytest_twisted.ensureDeferred
async def test_daily_rollups_count_the_engines_local_days(backend_name, request, tmp_path):
    from twisted.internet import reactor

    storage = make_storage(backend_name, request, tmp_path, reactor, timezone=zoneinfo.ZoneInfo("America/New_York"))
    await storage.open()
    try:
        late = datetime.datetime(2026, 11, 24, 23, 30, tzinfo=zoneinfo.ZoneInfo("America/New_York")).timestamp()
        await storage.record_readings(
            "h", [reading(18.0, late), reading(20.0, late + 3600), reading(22.0, late + 7200)]
        )
        first = datetime.date(2026, 11, 24).toordinal()
        days = await storage.aggregates([SENSOR], "day", first, first + 2, 1)
        assert days == {SENSOR: [Aggregate(0, 1, 18.0, 18.0, 18.0), Aggregate(1, 2, 20.0, 21.0, 22.0)]}
        both = await storage.aggregates([SENSOR], "day", first, first + 2, 2)
        assert both == {SENSOR: [Aggregate(0, 3, 18.0, 20.0, 22.0)]}
    finally:
        await storage.close()


@pytest_twisted.ensureDeferred
async def test_pruning_removes_old_raw_readings_in_small_steps_and_keeps_rollups(storage):
    await feed(storage, (0, 20.0), (60, 21.0), (120, 22.0), (180, 23.0))
    await feed(storage, (30, 10.0), sensor_id="28-b")
    await storage.record_readings("h", [reading(None, T0 + 90, extra="crc")])
    assert await storage.prune_readings(T0 + 150, 2) == 2
    assert await storage.prune_readings(T0 + 150, 2) == 2
    assert await storage.prune_readings(T0 + 150, 2) == 1
    assert await storage.prune_readings(T0 + 150, 2) == 0
    assert await storage.history(SENSOR) == [HistoryEntry(SENSOR, T0 + 180.0, 23.0, None)]
    assert await storage.history("28-b") == []
    assert await storage.aggregates([SENSOR], "quarter", T0, T0 + 900, 900) == {
        SENSOR: [Aggregate(0, 4, 20.0, 21.5, 23.0)]
    }


@pytest_twisted.ensureDeferred
async def test_zone_temperature_is_a_series_and_setpoints_are_kept_as_changes(storage):
    await storage.record_zone_state("hall", T0, 19.5, 21.0, 25.0, "auto")
    await storage.record_zone_state("hall", T0 + 30, None, 21.0, 25.0, "auto")  # not sampled, nothing changed
    await storage.record_zone_state("hall", T0 + 60, 19.5, 21.0, 25.0, "auto")  # the same temperature
    await storage.record_zone_state("hall", T0 + 90, 19.75, 18.0, None, "heat")
    await storage.record_zone_state("attic", T0 + 90, 15.0, 16.0, None, "heat")
    assert await storage.history("zone/hall") == [
        HistoryEntry("zone/hall", float(T0), 19.5, None),
        HistoryEntry("zone/hall", T0 + 60.0, 19.5, None),
        HistoryEntry("zone/hall", T0 + 90.0, 19.75, None),
    ]
    assert await storage.setpoint_changes("hall", T0, T0 + 3600) == [
        SetpointChange(float(T0), 21.0, 25.0, "auto"),
        SetpointChange(T0 + 90.0, 18.0, None, "heat"),
    ]
    assert await storage.aggregates(["zone/hall"], "quarter", T0, T0 + 900, 900) == {
        "zone/hall": [Aggregate(0, 3, 19.5, 19.58, 19.75)]
    }


@pytest_twisted.ensureDeferred
async def test_setpoints_in_effect_at_the_start_come_first(storage):
    await storage.record_zone_state("hall", T0, 19.0, 20.0, None, "heat")
    await storage.record_zone_state("hall", T0 + 600, 19.0, 17.0, None, "heat")
    await storage.record_zone_state("hall", T0 + 1200, 19.0, 21.0, None, "heat")
    assert await storage.setpoint_changes("hall", T0 + 700, T0 + 1200) == [
        SetpointChange(T0 + 600.0, 17.0, None, "heat")
    ]
    assert await storage.setpoint_changes("hall", T0 - 100, T0 + 600) == [SetpointChange(float(T0), 20.0, None, "heat")]
    assert await storage.setpoint_changes("cellar", T0, T0 + 600) == []


def run(run_id, zone, started_at, ended_at=None, output="heat"):
    return RunRecord(run_id, zone, output, started_at, 19.0, 21.0, ended_at=ended_at, end_temperature=None)


@pytest_twisted.ensureDeferred
async def test_run_intervals_are_the_runs_overlapping_the_range(storage):
    await storage.start_run(run("a", "hall", T0 - 600.0, T0 - 300.0))  # before
    await storage.start_run(run("b", "hall", T0 - 100.0, T0 + 100.0))  # across the start
    await storage.start_run(run("c", "hall", T0 + 200.0, None, output="cool"))  # still running
    await storage.start_run(run("d", "hall", T0 + 3600.0, T0 + 3700.0))  # at the end: outside
    await storage.start_run(run("e", "attic", T0 + 10.0, T0 + 20.0))
    assert await storage.run_intervals("hall", T0, T0 + 3600) == [
        RunInterval("heat", T0 - 100.0, T0 + 100.0),
        RunInterval("cool", T0 + 200.0, None),
    ]


@pytest_twisted.ensureDeferred
async def test_runs_page_by_start_time(storage):
    for number in range(5):
        await storage.start_run(run(f"r{number}", "hall", T0 + 100.0 * number, T0 + 100.0 * number + 50))
    window = await storage.runs("hall", 10, start=T0 + 100, end=T0 + 400)
    assert [r.run_id for r in window] == ["r3", "r2", "r1"]
    assert [r.run_id for r in await storage.runs("hall", 2, end=T0 + 400)] == ["r3", "r2"]
    assert [r.run_id for r in await storage.runs("hall", 2, start=T0 + 300)] == ["r4", "r3"]
