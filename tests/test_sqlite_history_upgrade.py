"""The upgrade to schema version 6: an older engine's readings move into compact series with rollups."""

import datetime
import sqlite3
import zoneinfo

import pytest_twisted

from rpymostat.storage import sqlite_schema
from rpymostat.storage.interface import Aggregate, HistoryEntry, Reading
from rpymostat.storage.sqlite import SQLiteStorage
from tests.test_sqlite_schema import packaged

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")

#: 2026-11-24 23:30 in New York: the next hour is another local day.
LATE = datetime.datetime(2026, 11, 24, 23, 30, tzinfo=NEW_YORK).timestamp()

#: ``(sensor_id, timestamp, value, extra)`` as version 5 kept them.
V5_READINGS = [
    ("28-a", LATE, 18.004, None),
    ("28-a", LATE + 0.0004, None, "crc"),  # the same millisecond: the first one stays, without this reason
    ("28-a", LATE + 60.25, None, "crc"),
    ("28-a", LATE + 3600.5, 20.0, None),
    ("28-a", LATE + 3660.0, 22.0, None),
    ("28-b", LATE + 10.0, -1.25, None),
    ("28-b", LATE + 10.0625, -1.5, None),  # half a millisecond: rounded up, as a new reading is
]


@pytest_twisted.ensureDeferred
async def test_v5_readings_move_into_series_and_rollups_of_local_days(tmp_path):
    from twisted.internet import reactor

    path = tmp_path / "db.sqlite3"
    connection = sqlite_schema.connect(path, packaged(tmp_path, 5))
    connection.executemany("INSERT INTO readings (sensor_id, timestamp, value, extra) VALUES (?, ?, ?, ?)", V5_READINGS)
    connection.close()

    storage = SQLiteStorage(path, reactor, timezone=NEW_YORK)
    await storage.open()
    try:
        second = int(LATE)
        assert await storage.history("28-a") == [
            HistoryEntry("28-a", LATE, 18.0, None),
            HistoryEntry("28-a", LATE + 60.25, None, "crc"),
            HistoryEntry("28-a", LATE + 3600.5, 20.0, None),
            HistoryEntry("28-a", LATE + 3660.0, 22.0, None),
        ]
        assert await storage.history("28-b") == [
            HistoryEntry("28-b", LATE + 10.0, -1.25, None),
            HistoryEntry("28-b", LATE + 10.063, -1.5, None),
        ]
        await storage.record_readings("h", [Reading("28-b", "DS18B20", -1.5, LATE + 10.0625)])  # sent again
        assert len(await storage.history("28-b")) == 2
        first = datetime.date(2026, 11, 24).toordinal()
        assert await storage.aggregates(["28-a", "28-b"], "day", first, first + 2, 1) == {
            "28-a": [Aggregate(0, 1, 18.0, 18.0, 18.0), Aggregate(1, 2, 20.0, 21.0, 22.0)],
            "28-b": [Aggregate(0, 2, -1.5, -1.37, -1.25)],
        }
        start = second // 900 * 900
        assert await storage.aggregates(["28-a"], "quarter", start, start + 7200, 3600) == {
            "28-a": [Aggregate(0, 1, 18.0, 18.0, 18.0), Aggregate(1, 2, 20.0, 21.0, 22.0)],
        }
        # New readings add to the migrated rollups.
        await storage.record_readings("h", [Reading("28-a", "DS18B20", 24.0, LATE + 3700)])
        assert (await storage.aggregates(["28-a"], "day", first + 1, first + 2, 1))["28-a"] == [
            Aggregate(0, 3, 20.0, 22.0, 24.0)
        ]
    finally:
        await storage.close()

    upgraded = sqlite3.connect(path)
    tables = {row[0] for row in upgraded.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "readings_v5" not in tables
    upgraded.close()
    backup = sqlite3.connect(tmp_path / "db.sqlite3.v5.bak")
    assert backup.execute("SELECT count(*) FROM readings").fetchone() == (len(V5_READINGS),)
    backup.close()
