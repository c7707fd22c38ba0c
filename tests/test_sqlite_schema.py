"""The SQLite backend's schema versions, upgrades with backups, and failure modes."""

import sqlite3

import pytest
import pytest_twisted

from rpymostat.storage import sqlite_schema
from rpymostat.storage.interface import (
    OutputStateRecord,
    Reading,
    RelayUnitRecord,
    RuleRecord,
    RunRecord,
    RunSample,
    SensorRecord,
    StorageError,
    ZoneRecord,
)
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
    assert connection.execute("PRAGMA user_version").fetchone() == (sqlite_schema.latest_version(),)
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
        with pytest.raises(StorageError, match="zone living is not JSON"):
            await storage.put_zone("living", {"default_heat_setpoint": float("inf")}, 1.0)
        with pytest.raises(StorageError, match="relay unit boiler is not JSON"):
            await storage.put_relay_unit("boiler", {"url": object()}, 1.0)
        with pytest.raises(StorageError, match="output boiler/r1 is not JSON"):
            await storage.put_output_state("boiler/r1", True, 1.0, [float("nan")])
        assert (await storage.zones(), await storage.relay_units(), await storage.output_states()) == ([], [], [])
    finally:
        await storage.close()


# --- version 3 to 4: zones, relay units, output states and runs leave the rules table ---

T0 = 1795608000.0

#: ``(kind, rule_id, zone, document as the version 3 engine wrote it, changed_at)``: one or more of every kind.
V3_RULES = [
    (
        "zone",
        "living",
        "living",
        '{"default_heat_setpoint": 20.5, "outputs": {"heat": "boiler/r1"}, "sensors": {"28-a": 1.0}}',
        T0 + 1.25,
    ),
    ("zone", "attic", "attic", '{"mode": "cool"}', T0 + 2.5),
    (
        "control",
        "boiler",
        "",
        '{"host_id": "boiler", "relays": {"r1": {"state": false, "type": "sim"}}, "url": "http://192.168.1.20:8089"}',
        T0 + 3.125,
    ),
    (
        "output",
        "boiler/r1",
        "",
        '{"on": true, "since": 1795607400.123456, "starts": [1795605000.5, 1795607400.123456]}',
        T0 + 4.0,
    ),
    ("output", "boiler/r2", "", '{"on": false, "since": 1795500000.0, "starts": []}', T0 + 5.0),
    (
        "run",
        "living:heat:1795590000",
        "living",
        '{"ended_at": 1795591000.75, "end_temperature": 21.25, "output": "heat", "samples": [[1795590000.5, 19.5],'
        ' [1795590300.5, null], [1795590600.5, 20.75]], "start_temperature": 19.5, "started_at": 1795590000.0,'
        ' "target": 21.0, "zone": "living"}',
        1795591000.75,
    ),
    (
        "run",
        "living:heat:1795607400",
        "living",
        '{"ended_at": null, "output": "heat", "samples": [[1795607400.5, 19.0]], "start_temperature": 19.0,'
        ' "started_at": 1795607400.123456, "target": 21.0, "zone": "living"}',
        1795607400.5,
    ),
    (
        "run",
        "attic:cool:1795600000",
        "attic",  # open, but its pointer was never written: abandoned
        '{"ended_at": null, "output": "cool", "samples": [[1795600000.0, 27.0], [1795600300.0, 26.5]],'
        ' "start_temperature": 27.0, "started_at": 1795600000.0, "target": null, "zone": "attic"}',
        1795600300.0,
    ),
    ("run.open", "living:heat", "living", '{"run_id": "living:heat:1795607400"}', 1795607400.5),
    ("schedule", "morning", "living", '{"heat_setpoint": 21.5, "name": "morning", "start": "0 6 * * *"}', T0),
    ("override", "party", "default", '{"heat_setpoint": 22.0, "start": "2026-12-31T20:00:00Z"}', T0 + 6.0),
    ("hold", "attic", "attic", '{"heat_setpoint": 15.0, "until": "permanent"}', T0 + 7.0),
]


def v3_database(tmp_path, rules=V3_RULES):
    """A database made by the packaged version 3 schema, holding ``rules`` and one sensor."""
    path = tmp_path / "db.sqlite3"
    connection = sqlite_schema.connect(path, packaged(tmp_path, 3))
    connection.execute(
        "INSERT INTO sensors (sensor_id, host_id, sensor_type, value, last_seen, name, received_at)"
        " VALUES ('28-a', 'h', 'DS18B20', 20.5, 1000.0, 'Hall', 1001.0)"
    )
    connection.executemany("INSERT INTO rules VALUES (?, ?, ?, ?, ?)", rules)
    connection.close()
    return path


@pytest_twisted.ensureDeferred
async def test_packaged_v3_database_upgrades_to_v5_moving_every_record_home(tmp_path):
    from twisted.internet import reactor

    path = v3_database(tmp_path)
    storage = SQLiteStorage(path, reactor)
    await storage.open()
    try:
        assert await storage.zones() == [
            ZoneRecord("attic", {"mode": "cool"}, T0 + 2.5),
            ZoneRecord(
                "living",
                {"default_heat_setpoint": 20.5, "outputs": {"heat": "boiler/r1"}, "sensors": {"28-a": 1.0}},
                T0 + 1.25,
            ),
        ]
        assert await storage.relay_units() == [
            RelayUnitRecord(
                "boiler",
                {
                    "host_id": "boiler",
                    "relays": {"r1": {"state": False, "type": "sim"}},
                    "url": "http://192.168.1.20:8089",
                },
                T0 + 3.125,
            )
        ]
        assert await storage.output_states() == [
            OutputStateRecord("boiler/r1", True, 1795607400.123456, (1795605000.5, 1795607400.123456)),
            OutputStateRecord("boiler/r2", False, 1795500000.0, ()),
        ]
        still_running = RunRecord(
            "living:heat:1795607400",
            "living",
            "heat",
            1795607400.123456,
            19.0,
            21.0,
            samples=(RunSample(1795607400.5, 19.0),),
        )
        assert await storage.open_runs() == [still_running]
        assert await storage.runs("living", 10) == [
            still_running,
            RunRecord(
                "living:heat:1795590000",
                "living",
                "heat",
                1795590000.0,
                19.5,
                21.0,
                1795591000.75,
                21.25,
                (RunSample(1795590000.5, 19.5), RunSample(1795590300.5, None), RunSample(1795590600.5, 20.75)),
            ),
        ]
        assert await storage.runs("attic", 10) == [
            RunRecord(
                "attic:cool:1795600000",
                "attic",
                "cool",
                1795600000.0,
                27.0,
                None,
                1795600300.0,
                None,
                (RunSample(1795600000.0, 27.0), RunSample(1795600300.0, 26.5)),
            )
        ]
        assert [r.rule_id for r in await storage.rules("schedule")] == ["morning"]
        assert (await storage.rule("override", "party")).document["heat_setpoint"] == 22.0
        assert (await storage.rule("hold", "attic")).changed_at == T0 + 7.0
        assert (await storage.sensor("28-a")).name == "Hall"
        assert await storage.add_run_sample("living:heat:1795607400", 1795607700.5, 19.5) is True
        assert (await storage.open_runs())[0].samples[-1] == RunSample(1795607700.5, 19.5)
    finally:
        await storage.close()

    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone() == (6,)
    assert connection.execute("SELECT count(*) FROM tokens").fetchone() == (0,)  # v5 on top of v4
    assert connection.execute("SELECT kind, rule_id FROM rules ORDER BY kind").fetchall() == [
        ("hold", "attic"),
        ("override", "party"),
        ("schedule", "morning"),
    ]
    indexes = {row[1] for row in connection.execute("PRAGMA index_list(rules)")}
    assert "rules_by_change" not in indexes and "rules_by_zone" in indexes
    connection.close()
    backup = sqlite3.connect(tmp_path / "db.sqlite3.v3.bak")
    assert backup.execute("PRAGMA user_version").fetchone() == (3,)
    assert backup.execute(
        "SELECT kind, rule_id, zone, document, changed_at FROM rules ORDER BY kind, rule_id"
    ).fetchall() == sorted(V3_RULES, key=lambda row: (row[0], row[1]))
    backup.close()


def test_v6_is_the_newest_schema_and_the_upgrade_reads_queries_through_indexes(tmp_path):
    assert sqlite_schema.latest_version() == 6
    connection = sqlite_schema.connect(tmp_path / "db.sqlite3")
    plans = {
        "open": "SELECT run_id FROM runs WHERE ended_at IS NULL ORDER BY run_id",
        "latest": "SELECT run_id FROM runs WHERE zone = 'hall' ORDER BY started_at DESC, run_id DESC LIMIT 3",
        "samples": "SELECT at FROM run_samples WHERE run_id = 'x' ORDER BY rowid",
        "raw": "SELECT t, value FROM readings WHERE series = 1 AND t >= 0 AND t < 86400 ORDER BY t",
        "days": "SELECT day, count FROM days WHERE series = 1 AND day >= 1 AND day < 366",
    }
    details = {
        name: " ".join(row[3] for row in connection.execute("EXPLAIN QUERY PLAN " + query))
        for name, query in plans.items()
    }
    connection.close()
    assert "USING COVERING INDEX open_runs" in details["open"] or "USING INDEX open_runs" in details["open"]
    assert "runs_by_start" in details["latest"] and "TEMP B-TREE" not in details["latest"]
    assert "run_samples_by_run" in details["samples"] and "TEMP B-TREE" not in details["samples"]
    for series in ("raw", "days"):
        assert (
            "USING PRIMARY KEY (series=? AND t>? AND t<?)".replace("t", "day" if series == "days" else "t")
            in (details[series])
        ), details[series]


def test_a_v3_database_the_upgrade_cannot_read_is_left_as_it_was(tmp_path):
    broken = V3_RULES + [("run", "hall:heat:1", "hall", "{not json", T0)]
    path = v3_database(tmp_path, broken)
    with pytest.raises(StorageError, match="cannot use SQLite database"):
        sqlite_schema.connect(path)
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone() == (3,)
    assert connection.execute("SELECT count(*) FROM rules").fetchone() == (len(broken),)
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"sensors", "readings", "rules"}
    connection.close()


def test_a_fresh_database_and_an_upgraded_v4_one_have_the_same_schema(tmp_path):
    fresh = sqlite_schema.connect(tmp_path / "fresh.sqlite3")
    old = sqlite3.connect(tmp_path / "old.sqlite3")
    old.executescript((sqlite_schema.SCHEMA_FILES / "v4.sql").read_text() + "PRAGMA user_version=4;")
    old.close()
    upgraded = sqlite_schema.connect(tmp_path / "old.sqlite3")
    query = "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"
    assert upgraded.execute(query).fetchall() == fresh.execute(query).fetchall()
    assert (tmp_path / "old.sqlite3.v4.bak").exists()
    fresh.close()
    upgraded.close()
