"""The SQLite backend's schema versions, upgrades with backups, and failure modes."""

import sqlite3

import pytest
import pytest_twisted

from rpymostat.storage import sqlite_schema
from rpymostat.storage.interface import Reading, RuleRecord, SensorRecord, StorageError
from rpymostat.storage.sqlite import SQLiteStorage

V1 = "CREATE TABLE things (id INTEGER PRIMARY KEY, label TEXT);\n"
V2 = "CREATE TABLE things (id INTEGER PRIMARY KEY, label TEXT, colour TEXT);\n"
UPGRADE_TO_V2 = "ALTER TABLE things ADD COLUMN colour TEXT;\n"


def schema_dir(tmp_path, name, files):
    directory = tmp_path / name
    directory.mkdir()
    for file_name, text in files.items():
        (directory / file_name).write_text(text)
    return directory


def test_fresh_database_gets_newest_schema_in_wal_mode(tmp_path):
    path = tmp_path / "sub" / "db.sqlite3"
    connection = sqlite_schema.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone() == (
        sqlite_schema.latest_version(),
    )
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"sensors", "readings"} <= tables
    connection.close()


def test_upgrade_backs_up_then_migrates_keeping_data(tmp_path):
    path = tmp_path / "db.sqlite3"
    old = schema_dir(tmp_path, "old", {"v1.sql": V1})
    new = schema_dir(tmp_path, "new", {"v1.sql": V1, "v2.sql": V2, "upgrade-to-v2.sql": UPGRADE_TO_V2})
    connection = sqlite_schema.connect(path, old)
    connection.execute("INSERT INTO things (label) VALUES ('kept')")
    connection.close()

    connection = sqlite_schema.connect(path, new)
    assert connection.execute("PRAGMA user_version").fetchone() == (2,)
    assert connection.execute("SELECT label, colour FROM things").fetchall() == [("kept", None)]
    connection.close()

    backup = sqlite3.connect(tmp_path / "db.sqlite3.v1.bak")
    assert backup.execute("PRAGMA user_version").fetchone() == (1,)
    assert backup.execute("SELECT label FROM things").fetchall() == [("kept",)]
    backup.close()


def packaged(tmp_path, up_to):
    """A schema directory holding the packaged files up to version ``up_to``."""
    names = [f"v{up_to}.sql"] + [f"upgrade-to-v{v}.sql" for v in range(2, up_to + 1)]
    files = {name: (sqlite_schema.SCHEMA_FILES / name).read_text() for name in names}
    return schema_dir(tmp_path, f"up-to-v{up_to}", files)


def test_packaged_v1_database_upgrades_to_v2_with_rules_table(tmp_path):
    path = tmp_path / "db.sqlite3"
    packaged_v1 = (sqlite_schema.SCHEMA_FILES / "v1.sql").read_text()
    connection = sqlite_schema.connect(path, schema_dir(tmp_path, "v1-only", {"v1.sql": packaged_v1}))
    connection.execute(
        "INSERT INTO sensors (sensor_id, host_id, sensor_type, value, last_seen)"
        " VALUES ('28-a', 'h', 'DS18B20', 20.5, 1.0)"
    )
    connection.execute("INSERT INTO readings (sensor_id, timestamp, value) VALUES ('28-a', 1.0, 20.5)")
    connection.close()

    connection = sqlite_schema.connect(path, packaged(tmp_path, 2))
    assert connection.execute("PRAGMA user_version").fetchone() == (2,)
    assert connection.execute("SELECT sensor_id, value FROM sensors").fetchall() == [("28-a", 20.5)]
    assert connection.execute("SELECT sensor_id, timestamp FROM readings").fetchall() == [("28-a", 1.0)]
    columns = [row[1] for row in connection.execute("PRAGMA table_info(rules)")]
    assert columns == ["kind", "rule_id", "zone", "document", "changed_at"]
    indexes = {row[1] for row in connection.execute("PRAGMA index_list(rules)")}
    assert "rules_by_zone" in indexes
    connection.close()

    backup = sqlite3.connect(tmp_path / "db.sqlite3.v1.bak")
    assert backup.execute("PRAGMA user_version").fetchone() == (1,)
    assert backup.execute("SELECT sensor_id FROM sensors").fetchall() == [("28-a",)]
    backup.close()


@pytest_twisted.ensureDeferred
async def test_packaged_v2_database_upgrades_to_v3_keeping_sensors_without_receipt(tmp_path):
    from twisted.internet import reactor

    path = tmp_path / "db.sqlite3"
    connection = sqlite_schema.connect(path, packaged(tmp_path, 2))
    connection.execute(
        "INSERT INTO sensors (sensor_id, host_id, sensor_type, value, last_seen, name)"
        " VALUES ('28-a', 'h', 'DS18B20', 20.5, 1000.0, 'Hall')"
    )
    connection.close()

    storage = SQLiteStorage(path, reactor)
    await storage.open()
    try:
        assert await storage.sensor("28-a") == SensorRecord(
            "28-a", "h", "DS18B20", None, None, 20.5, 1000.0, "Hall", None
        )
        await storage.record_readings("h", [Reading("28-a", "DS18B20", 21.0, 1030.0)], received_at=1031.5)
        current = await storage.sensor("28-a")
        assert (current.value, current.name, current.received_at) == (21.0, "Hall", 1031.5)
    finally:
        await storage.close()
    assert sqlite_schema.latest_version() == 3
    backup = sqlite3.connect(tmp_path / "db.sqlite3.v2.bak")
    assert backup.execute("PRAGMA user_version").fetchone() == (2,)
    assert backup.execute("SELECT sensor_id, name FROM sensors").fetchall() == [("28-a", "Hall")]
    backup.close()


def test_upgraded_and_fresh_v2_schemas_are_the_same(tmp_path):
    packaged_v1 = (sqlite_schema.SCHEMA_FILES / "v1.sql").read_text()
    upgraded = tmp_path / "upgraded.sqlite3"
    v1_only = schema_dir(tmp_path, "v1-only", {"v1.sql": packaged_v1})
    sqlite_schema.connect(upgraded, v1_only).close()
    fresh = sqlite_schema.connect(tmp_path / "fresh.sqlite3")
    upgraded = sqlite_schema.connect(upgraded)
    schema = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"
    assert upgraded.execute(schema).fetchall() == fresh.execute(schema).fetchall()
    fresh.close()
    upgraded.close()


def test_failed_upgrade_changes_nothing(tmp_path):
    path = tmp_path / "db.sqlite3"
    old = schema_dir(tmp_path, "old", {"v1.sql": V1})
    broken = schema_dir(
        tmp_path,
        "broken",
        {"v1.sql": V1, "v2.sql": V2, "upgrade-to-v2.sql": UPGRADE_TO_V2 + "NOT SQL AT ALL;\n"},
    )
    sqlite_schema.connect(path, old).close()
    with pytest.raises(StorageError, match="cannot use SQLite database"):
        sqlite_schema.connect(path, broken)
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone() == (1,)
    columns = [row[1] for row in connection.execute("PRAGMA table_info(things)")]
    assert columns == ["id", "label"]
    connection.close()


def test_database_newer_than_code_is_refused(tmp_path):
    path = tmp_path / "db.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    with pytest.raises(StorageError, match="schema version 99, newer than this RPyMostat"):
        sqlite_schema.connect(path)


def test_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match="cannot use SQLite database"):
        sqlite_schema.connect(path)


@pytest_twisted.ensureDeferred
async def test_open_failure_is_storage_error_and_stops_worker(tmp_path):
    from twisted.internet import reactor

    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"garbage" * 1000)
    storage = SQLiteStorage(path, reactor)
    with pytest.raises(StorageError):
        await storage.open()
    assert not storage._pool.started


@pytest_twisted.ensureDeferred
async def test_failed_write_stores_nothing_of_the_batch(tmp_path):
    from twisted.internet import reactor

    storage = SQLiteStorage(tmp_path / "db.sqlite3", reactor)
    await storage.open()
    try:
        good = Reading("28-a", "DS18B20", 20.0, 1.0)
        broken = Reading("28-b", None, 20.0, 1.0)  # sensor_type is NOT NULL
        with pytest.raises(StorageError, match="SQLite write failed"):
            await storage.record_readings("h", [good, broken])
        assert await storage.sensors() == []
        assert await storage.history("28-a") == []
    finally:
        await storage.close()


@pytest_twisted.ensureDeferred
async def test_broken_database_handle_reports_down_and_reads_fail(tmp_path):
    from twisted.internet import reactor

    storage = SQLiteStorage(tmp_path / "db.sqlite3", reactor)
    await storage.open()
    storage._connection.close()  # what a vanished or failing disk leaves behind
    try:
        assert await storage.ping() is False
        with pytest.raises(StorageError, match="SQLite read failed"):
            await storage.sensors()
    finally:
        storage._connection = None
        await storage.close()


@pytest_twisted.ensureDeferred
async def test_rule_that_is_not_strict_json_is_refused(tmp_path):
    from twisted.internet import reactor

    storage = SQLiteStorage(tmp_path / "db.sqlite3", reactor)
    await storage.open()
    try:
        for document in ({"heat_setpoint": float("nan")}, {"when": object()}):
            with pytest.raises(StorageError, match="rule schedule/r is not JSON"):
                await storage.put_rule(RuleRecord("schedule", "r", "default", document, 1.0))
        assert await storage.rules("schedule") == []
    finally:
        await storage.close()
