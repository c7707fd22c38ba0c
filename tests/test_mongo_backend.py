"""What only the MongoDB backend has: a server that can be absent or die, indexes,
and a write path with or without transactions.

Everything the API relies on is in the contract suite; these tests cover how
the backend fails and recovers, which the other backends cannot express.
"""

import datetime
import time

import pymongo
import pytest
import pytest_twisted
from twisted.internet import reactor
from txmongo.connection import ConnectionPool

from rpymostat.storage import mongo_readings_migration
from rpymostat.storage.interface import (
    Aggregate,
    HistoryEntry,
    OutputStateRecord,
    Reading,
    RelayUnitRecord,
    RunRecord,
    RunSample,
    StorageError,
    ZoneRecord,
)
from rpymostat.storage.mongo import MongoStorage
from rpymostat.storage.mongo_buckets import store_readings
from tests.mongo_server import free_port, running_server

pytestmark = pytest.mark.mongo

T0 = 1795608000.0


def reading(sensor_id, timestamp=T0, sensor_type="DS18B20", value=20.5):
    return Reading(sensor_id=sensor_id, sensor_type=sensor_type, value=value, timestamp=timestamp)


@pytest.fixture
def private_server(tmp_path):
    """A server of this test's own, which the test may kill: (base URI, process)."""
    with running_server(tmp_path) as server:
        yield server


@pytest.fixture
def mongo_client(mongo_url):
    """A blocking pymongo handle on the test's database, to look behind the backend."""
    client = pymongo.MongoClient(mongo_url, serverSelectionTimeoutMS=2000)
    yield client.get_default_database()
    client.close()


def refuse_sensor_type(database, sensor_type):
    """Make the server reject any sensor document of ``sensor_type`` from now on."""
    database.create_collection("sensors", validator={"sensor_type": {"$ne": sensor_type}})


@pytest_twisted.ensureDeferred
async def test_open_fails_clearly_when_nothing_listens():
    port = free_port()
    storage = MongoStorage(f"mongodb://rpymostat:s3cret@127.0.0.1:{port}/x", reactor, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(StorageError) as raised:
        await storage.open()
    message = str(raised.value)
    assert f"127.0.0.1:{port}" in message
    assert "did not answer within 0.5 s" in message
    assert "s3cret" not in message and "s3cret" not in storage.description
    assert time.monotonic() - started < 5
    assert await storage.ping() is False


@pytest_twisted.ensureDeferred
async def test_open_fails_clearly_on_a_malformed_url():
    storage = MongoStorage("mongodb://127.0.0.1:notaport/x", reactor, timeout=0.5)
    with pytest.raises(StorageError, match="mongodb://127.0.0.1:notaport/x cannot be used"):
        await storage.open()


@pytest_twisted.ensureDeferred
async def test_open_refuses_data_that_breaks_the_unique_keys(mongo_url, mongo_client):
    mongo_client.sensors.insert_many([{"sensor_id": "28-a"}, {"sensor_id": "28-a"}])
    storage = MongoStorage(mongo_url, reactor)
    with pytest.raises(StorageError, match="creating indexes failed"):
        await storage.open()
    assert await storage.ping() is False


@pytest_twisted.ensureDeferred
async def test_ping_is_false_soon_after_the_server_dies(private_server):
    uri, process = private_server
    storage = MongoStorage(f"{uri}/rpymostat", reactor, timeout=1.0, ping_timeout=1.0)
    await storage.open()
    try:
        assert await storage.ping() is True
        process.kill()
        process.wait()
        started = time.monotonic()
        assert await storage.ping() is False
        assert await storage.ping() is False
        assert time.monotonic() - started < 3
        with pytest.raises(StorageError):
            await storage.sensors()
    finally:
        await storage.close()


@pytest_twisted.ensureDeferred
async def test_open_creates_unique_indexes(mongo_url, mongo_client):
    storage = MongoStorage(mongo_url, reactor)
    await storage.open()
    await storage.close()
    collections = ("sensors", "reading_buckets", "quarters", "days", "zone_setpoints", "zone_latest")
    unique_keys = {
        name: [key for key, _ in info["key"]]
        for name in (*collections, "rules", "zones", "relay_units", "output_states", "runs")
        for info in mongo_client[name].index_information().values()
        if info.get("unique")
    }
    assert unique_keys == {
        "sensors": ["sensor_id"],
        "reading_buckets": ["series", "start"],
        "quarters": ["series", "start"],
        "days": ["series", "day"],
        "zone_setpoints": ["zone", "t"],
        "zone_latest": ["zone"],
        "rules": ["kind", "rule_id"],
        "zones": ["name"],
        "relay_units": ["host_id"],
        "output_states": ["address"],
        "runs": ["run_id"],
    }
    assert "readings" not in mongo_client.list_collection_names()
    run_keys = sorted([key for key, _ in info["key"]] for info in mongo_client.runs.index_information().values())
    assert run_keys == [["_id"], ["ended_at"], ["run_id"], ["zone", "ended_at"], ["zone", "started_at"]]


@pytest_twisted.ensureDeferred
async def test_refused_batch_changes_nothing_where_transactions_exist(mongo_url, mongo_client):
    refuse_sensor_type(mongo_client, "broken")
    storage = MongoStorage(mongo_url, reactor)
    await storage.open()
    try:
        with pytest.raises(StorageError):
            await storage.record_readings("h", [reading("28-a"), reading("28-b", sensor_type="broken")])
        stored_history = await storage.history("28-a")
        stored_sensors = await storage.sensors()
    finally:
        await storage.close()
    if storage.transactions:
        assert (stored_history, stored_sensors) == ([], [])
    else:  # A standalone mongod: the history went first, the sensor write stopped.
        assert [entry.sensor_id for entry in stored_history] == ["28-a"]


@pytest_twisted.ensureDeferred
async def test_retry_of_half_written_batch_converges_without_transactions(mongo_url, mongo_client):
    refuse_sensor_type(mongo_client, "broken")
    storage = MongoStorage(mongo_url, reactor, use_transactions=False)
    await storage.open()
    batch = [
        reading("28-a", T0 + 30, value=21.0),
        reading("28-b", T0, sensor_type="broken"),
        reading("28-a", T0, value=19.0),
    ]
    try:
        with pytest.raises(StorageError):
            await storage.record_readings("h", batch)
        mongo_client.command("collMod", "sensors", validator={})
        assert await storage.record_readings("h", batch) == ["28-a", "28-b", "28-a"]
        assert await storage.history("28-a") == [
            HistoryEntry("28-a", T0, 19.0, None),
            HistoryEntry("28-a", T0 + 30, 21.0, None),
        ]
        current = {s.sensor_id: (s.value, s.last_seen) for s in await storage.sensors()}
    finally:
        await storage.close()
    assert current == {"28-a": (21.0, T0 + 30), "28-b": (20.5, T0)}


# --- records an engine before issue 14 kept in the rules collection move to their own ---

#: The rules collection as the older engine left it: every kind it held there, and a user's schedule.
OLD_RULES = [
    {
        "kind": "zone",
        "rule_id": "living",
        "zone": "living",
        "changed_at": T0 + 1.25,
        "document": {"default_heat_setpoint": 20.5, "outputs": {"heat": "boiler/r1"}},
    },
    {
        "kind": "control",
        "rule_id": "boiler",
        "zone": "",
        "changed_at": T0 + 3.125,
        "document": {"host_id": "boiler", "url": "http://192.168.1.20:8089", "relays": {"r1": {"type": "sim"}}},
    },
    {
        "kind": "output",
        "rule_id": "boiler/r1",
        "zone": "",
        "changed_at": T0 + 4.0,
        "document": {"on": True, "since": T0 - 600.125, "starts": [T0 - 3000.5, T0 - 600.125]},
    },
    {
        "kind": "run",
        "rule_id": "living:heat:1",
        "zone": "living",
        "changed_at": T0 - 1000.0,
        "document": {
            "zone": "living",
            "output": "heat",
            "started_at": T0 - 2000.0,
            "ended_at": T0 - 1000.0,
            "start_temperature": 19.5,
            "end_temperature": 21.25,
            "target": 21.0,
            "samples": [[T0 - 2000.0, 19.5], [T0 - 1700.0, None]],
        },
    },
    {
        "kind": "run",
        "rule_id": "living:heat:2",
        "zone": "living",
        "changed_at": T0 - 300.0,
        "document": {
            "zone": "living",
            "output": "heat",
            "started_at": T0 - 600.125,
            "ended_at": None,
            "start_temperature": 19.0,
            "target": 21.0,
            "samples": [[T0 - 600.0, 19.0]],
        },
    },
    {
        "kind": "run",
        "rule_id": "attic:cool:3",
        "zone": "attic",
        "changed_at": T0 - 5000.0,  # abandoned
        "document": {
            "zone": "attic",
            "output": "cool",
            "started_at": T0 - 5300.0,
            "ended_at": None,
            "start_temperature": 27.0,
            "target": None,
            "samples": [[T0 - 5300.0, 27.0]],
        },
    },
    {
        "kind": "run.open",
        "rule_id": "living:heat",
        "zone": "living",
        "changed_at": T0 - 600.0,
        "document": {"run_id": "living:heat:2"},
    },
    {
        "kind": "schedule",
        "rule_id": "morning",
        "zone": "living",
        "changed_at": T0,
        "document": {"name": "morning", "start": "0 6 * * *", "heat_setpoint": 21.5},
    },
]


async def assert_moved_home(storage):
    assert await storage.zones() == [
        ZoneRecord("living", {"default_heat_setpoint": 20.5, "outputs": {"heat": "boiler/r1"}}, T0 + 1.25)
    ]
    assert await storage.relay_units() == [
        RelayUnitRecord(
            "boiler",
            {"host_id": "boiler", "url": "http://192.168.1.20:8089", "relays": {"r1": {"type": "sim"}}},
            T0 + 3.125,
        )
    ]
    assert await storage.output_states() == [
        OutputStateRecord("boiler/r1", True, T0 - 600.125, (T0 - 3000.5, T0 - 600.125))
    ]
    running = RunRecord(
        "living:heat:2", "living", "heat", T0 - 600.125, 19.0, 21.0, samples=(RunSample(T0 - 600.0, 19.0),)
    )
    assert await storage.open_runs() == [running]
    assert await storage.runs("living", 5) == [
        running,
        RunRecord(
            "living:heat:1",
            "living",
            "heat",
            T0 - 2000.0,
            19.5,
            21.0,
            T0 - 1000.0,
            21.25,
            (RunSample(T0 - 2000.0, 19.5), RunSample(T0 - 1700.0, None)),
        ),
    ]
    assert await storage.runs("attic", 5) == [
        RunRecord(
            "attic:cool:3", "attic", "cool", T0 - 5300.0, 27.0, None, T0 - 5000.0, None, (RunSample(T0 - 5300.0, 27.0),)
        )
    ]
    assert [rule.rule_id for rule in await storage.rules("schedule")] == ["morning"]


@pytest_twisted.ensureDeferred
async def test_open_moves_old_records_out_of_rules_once(mongo_url, mongo_client):
    mongo_client.rules.insert_many([dict(rule) for rule in OLD_RULES])
    mongo_client.rules.create_index([("kind", 1), ("zone", 1), ("changed_at", 1)])
    storage = MongoStorage(mongo_url, reactor)
    await storage.open()
    try:
        await assert_moved_home(storage)
        await storage.add_run_sample("living:heat:2", T0 + 0.5, 19.25)
    finally:
        await storage.close()
    assert sorted(mongo_client.rules.distinct("kind")) == ["schedule"]
    assert "kind_1_zone_1_changed_at_1" not in mongo_client.rules.index_information()
    reopened = MongoStorage(mongo_url, reactor)
    await reopened.open()  # nothing left to move: the records stay as they are
    try:
        assert [run.samples[-1] for run in await reopened.open_runs()] == [RunSample(T0 + 0.5, 19.25)]
        assert len(await reopened.runs("living", 5)) == 2
    finally:
        await reopened.close()


@pytest_twisted.ensureDeferred
async def test_a_move_stopped_half_way_is_finished_by_the_next_open(mongo_url, mongo_client):
    """An engine stopped after writing the new homes but before deleting the old documents:
    the next open writes the same homes again and then deletes, leaving one copy of each."""
    mongo_client.rules.insert_many([dict(rule) for rule in OLD_RULES])
    mongo_client.zones.insert_one(
        {
            "name": "living",
            "changed_at": T0 + 1.25,
            "document": {"default_heat_setpoint": 20.5, "outputs": {"heat": "boiler/r1"}},
        }
    )
    mongo_client.runs.insert_one(
        {
            "run_id": "living:heat:1",
            "zone": "living",
            "output": "heat",
            "started_at": T0 - 2000.0,
            "start_temperature": 19.5,
            "target": 21.0,
            "ended_at": T0 - 1000.0,
            "end_temperature": 21.25,
            "samples": [{"at": T0 - 2000.0, "temperature": 19.5}],
        }
    )
    storage = MongoStorage(mongo_url, reactor)
    await storage.open()
    try:
        await assert_moved_home(storage)
    finally:
        await storage.close()
    assert mongo_client.zones.count_documents({}) == 1 and mongo_client.runs.count_documents({}) == 3
    assert mongo_client.rules.count_documents({}) == 1


# --- history: raw readings in hour buckets, rollups set from the buckets' sums ---

#: The local (UTC) day number of T0.
DAY0 = datetime.date(2026, 11, 25).toordinal()


@pytest_twisted.async_yield_fixture
async def opened(mongo_url):
    storage = MongoStorage(mongo_url, reactor)
    await storage.open()
    yield storage
    await storage.close()


@pytest_twisted.ensureDeferred
async def test_readings_are_kept_as_one_bucket_per_series_and_hour(opened, mongo_client):
    await opened.record_readings("h", [reading("28-a", T0 + 1.5, value=20.126)])
    await opened.record_readings(
        "h",
        [
            reading("28-a", T0 + 1.5, value=20.126),  # re-delivered: no write
            Reading("28-a", "DS18B20", None, T0 + 1800.25, extra="crc"),
            reading("28-a", T0 + 3599.9996, value=21.0),  # the next hour's first millisecond
        ],
    )
    buckets = list(mongo_client.reading_buckets.find({}, {"_id": False}).sort("start"))
    assert buckets == [
        {
            "series": "28-a",
            "start": int(T0),
            "version": 1,
            "values": {"1500": 2013, "1800250": None},
            "failures": {"1800250": "crc"},
            "quarters": {"0": {"count": 1, "low": 2013, "high": 2013, "total": 2013}},
        },
        {
            "series": "28-a",
            "start": int(T0) + 3600,
            "version": 0,
            "values": {"0": 2100},
            "failures": {},
            "quarters": {"0": {"count": 1, "low": 2100, "high": 2100, "total": 2100}},
        },
    ]
    assert await opened.history("28-a", start=T0 + 1800.25) == [
        HistoryEntry("28-a", T0 + 1800.25, None, "crc"),
        HistoryEntry("28-a", T0 + 3600, 21.0, None),
    ]


@pytest_twisted.ensureDeferred
async def test_retry_after_the_rollups_failed_counts_each_reading_once(mongo_url, mongo_client):
    """Without a transaction the buckets are written before the rollups; a batch that failed
    between them, sent again, stores nothing twice and brings the rollups up to date."""
    mongo_client.create_collection("quarters", validator={"count": {"$lt": 0}})
    storage = MongoStorage(mongo_url, reactor, use_transactions=False)
    await storage.open()
    batch = [reading("28-a", T0, value=20.0), reading("28-a", T0 + 60, value=22.0)]
    try:
        with pytest.raises(StorageError):
            await storage.record_readings("h", batch)
        assert len(await storage.history("28-a")) == 2
        mongo_client.command("collMod", "quarters", validator={})
        await storage.record_readings("h", batch)
        await storage.record_readings("h", batch)
        quarters = await storage.aggregates(["28-a"], "quarter", T0, T0 + 900, 900)
        days = await storage.aggregates(["28-a"], "day", DAY0, DAY0 + 1, 1)
    finally:
        await storage.close()
    assert quarters == {"28-a": [Aggregate(0, 2, 20.0, 21.0, 22.0)]}
    assert days == {"28-a": [Aggregate(0, 2, 20.0, 21.0, 22.0)]}


@pytest_twisted.ensureDeferred
async def test_a_reading_for_a_pruned_hour_adds_to_its_kept_rollups(opened, mongo_client):
    await opened.record_readings("h", [reading("28-a", T0, value=20.0), reading("28-a", T0 + 60, value=22.0)])
    assert await opened.prune_readings(T0 + 30, 10) == 1  # part of the bucket
    await opened.record_readings("h", [reading("28-a", T0 + 120, value=24.0)])
    assert await opened.prune_readings(T0 + 3600, 10) == 2  # the whole bucket goes
    assert mongo_client.reading_buckets.count_documents({}) == 0
    await opened.record_readings("h", [reading("28-a", T0 + 180, value=18.0)])
    assert await opened.history("28-a") == [HistoryEntry("28-a", T0 + 180, 18.0, None)]
    assert await opened.aggregates(["28-a"], "quarter", T0, T0 + 900, 900) == {
        "28-a": [Aggregate(0, 4, 18.0, 21.0, 24.0)]
    }
    assert await opened.aggregates(["28-a"], "day", DAY0, DAY0 + 1, 1) == {"28-a": [Aggregate(0, 4, 18.0, 21.0, 24.0)]}


@pytest_twisted.ensureDeferred
async def test_pruning_reads_old_buckets_page_by_page(opened):
    await opened.record_readings("h", [reading("28-a", T0 + 3600 * hour, value=20.0) for hour in range(70)])
    await opened.record_readings("h", [reading("28-b", T0 + 3600 * 69 + 1, value=20.0)])
    assert await opened.prune_readings(T0 + 3600 * 69, 66) == 66
    assert await opened.prune_readings(T0 + 3600 * 69, 66) == 3
    assert await opened.prune_readings(T0 + 3600 * 69, 66) == 0
    assert await opened.prune_readings(T0 + 3600 * 69, 0) == 0
    assert [entry.timestamp for entry in await opened.history("28-a")] == [T0 + 3600 * 69]
    assert len(await opened.history("28-b")) == 1


@pytest_twisted.ensureDeferred
async def test_a_backlog_sent_again_is_stored_once(opened):
    backlog = [reading("28-a", T0 + 30 * step, value=20.0 + step % 2) for step in range(100)]
    await opened.record_readings("h", backlog)
    await opened.record_readings("h", [*backlog, reading("28-a", T0 + 3001, value=25.0)])
    assert len(await opened.history("28-a")) == 101
    assert await opened.aggregates(["28-a"], "quarter", T0, T0 + 3600, 3600) == {
        "28-a": [Aggregate(0, 101, 20.0, 20.54, 25.0)]
    }


@pytest.mark.parametrize("use_transactions", [True, False])
@pytest_twisted.ensureDeferred
async def test_new_buckets_and_days_take_only_their_own_series_rollups(mongo_url, use_transactions):
    """One batch making buckets of two series in two hours (and days), each of which had
    rollups before its bucket was pruned: each new bucket starts from its own, and each
    day sums its own series' quarters, with or without a transaction."""
    opened = MongoStorage(mongo_url, reactor, use_transactions=use_transactions)
    await opened.open()
    try:
        await _own_series_rollups(opened)
    finally:
        await opened.close()


async def _own_series_rollups(opened):
    next_day = T0 + 86400
    await opened.record_readings("h", [Reading("28-c", "DS18B20", None, next_day + 7300)])  # no value, no rollup
    await opened.record_readings(
        "h",
        [
            reading("28-a", T0, value=20.0),
            reading("28-b", T0 + 3600, value=10.0),
            reading("28-a", next_day, value=20.0),
            reading("28-b", next_day + 3600, value=10.0),
        ],
    )
    assert await opened.prune_readings(next_day + 7200, 10) == 4
    await opened.record_readings(
        "h",
        [
            reading("28-a", T0 + 3601, value=22.0),
            reading("28-b", T0 + 1, value=12.0),
            Reading("28-b", "DS18B20", None, T0 + 2),
            reading("28-a", next_day + 60, value=24.0),
        ],
    )
    assert await opened.aggregates(["28-a", "28-b"], "quarter", T0, T0 + 7200, 900) == {
        "28-a": [Aggregate(0, 1, 20.0, 20.0, 20.0), Aggregate(4, 1, 22.0, 22.0, 22.0)],
        "28-b": [Aggregate(0, 1, 12.0, 12.0, 12.0), Aggregate(4, 1, 10.0, 10.0, 10.0)],
    }
    assert await opened.aggregates(["28-a", "28-b"], "day", DAY0, DAY0 + 2, 1) == {
        "28-a": [Aggregate(0, 2, 20.0, 21.0, 22.0), Aggregate(1, 2, 20.0, 22.0, 24.0)],
        "28-b": [Aggregate(0, 2, 10.0, 11.0, 12.0), Aggregate(1, 1, 10.0, 10.0, 10.0)],
    }
    assert await opened.history("28-b", end=T0 + 3) == [
        HistoryEntry("28-b", T0 + 1, 12.0),
        HistoryEntry("28-b", T0 + 2, None),
    ]


@pytest_twisted.ensureDeferred
async def test_a_late_zone_state_is_kept_but_not_compared_with(opened):
    """Setpoints older than the newest kept (a clock stepped back) are kept if they differ from
    the newest, which stays what the next state is compared with."""
    await opened.record_zone_state("hall", T0 + 60, 20.0, 21.0, None, "heat")
    await opened.record_zone_state("hall", T0, 19.0, 18.0, None, "heat")
    await opened.record_zone_state("hall", T0 + 120, 20.0, 21.0, None, "heat")
    assert [(entry.timestamp, entry.value) for entry in await opened.history("zone/hall")] == [
        (T0, 19.0),
        (T0 + 60, 20.0),
        (T0 + 120, 20.0),
    ]
    assert [change.at for change in await opened.setpoint_changes("hall", T0, T0 + 600)] == [T0, T0 + 60]


class SomeoneElseWrites:
    """A database whose buckets another client writes between the engine's read and its write."""

    def __init__(self, database, other):
        self._database, self._other = database, other

    def __getitem__(self, name):
        collection, other = self._database[name], self._other
        if name != "reading_buckets":
            return collection

        class Buckets:
            find = collection.find

            async def bulk_write(self, *args, **kwargs):
                other.reading_buckets.update_many({}, {"$inc": {"version": 1}, "$set": {"values.7": 1}})
                return await collection.bulk_write(*args, **kwargs)

        return Buckets()


@pytest_twisted.ensureDeferred
async def test_a_bucket_written_by_someone_else_meanwhile_fails_the_batch(opened, mongo_url, mongo_client):
    await opened.record_readings("h", [reading("28-a", T0, value=20.0)])
    pool = ConnectionPool(mongo_url)
    try:
        meddled = SomeoneElseWrites(pool.get_default_database(), mongo_client)
        with pytest.raises(StorageError, match="written by someone else"):
            await store_readings(meddled, [reading("28-a", T0 + 60, value=22.0)], datetime.UTC)
    finally:
        await pool.disconnect()
    assert [entry.timestamp for entry in await opened.history("28-a")] == [T0, T0 + 0.007]
    assert await opened.aggregates(["28-a"], "quarter", T0, T0 + 900, 900) == {
        "28-a": [Aggregate(0, 1, 20.0, 20.0, 20.0)]
    }


# --- readings an engine before issue 16 kept one document each move into buckets ---

#: The readings collection as the older engine left it.
OLD_READINGS = [
    {"sensor_id": "28-a", "timestamp": T0 + 0.0002, "value": 20.126, "extra": None},
    {"sensor_id": "28-a", "timestamp": T0 + 0.0004, "value": 25.0, "extra": None},  # same millisecond: dropped
    {"sensor_id": "28-a", "timestamp": T0 + 60.0, "value": None, "extra": "crc"},
    {"sensor_id": "28-a", "timestamp": T0 + 900.0, "value": 22.0, "extra": None},
    {"sensor_id": "28-a", "timestamp": T0 + 90000.0, "value": 18.5, "extra": None},
    {"sensor_id": "28-b", "timestamp": T0 + 30.0, "value": 10.0, "extra": None},
    {"sensor_id": "28-b", "timestamp": T0 + 3605.0, "value": 12.0, "extra": None},
    {"sensor_id": "28-b", "timestamp": T0 + 7199.9998, "value": 13.0, "extra": None},  # the next hour's
    {"sensor_id": "28-b", "timestamp": T0 + 7205.0, "value": 14.0, "extra": None},
    {"sensor_id": "28-c", "timestamp": T0 + 5.0, "value": None},  # no value at all
    {"sensor_id": "28-c", "timestamp": T0 + 6.0, "value": None, "extra": None},
]


def insert_old_readings(mongo_client):
    mongo_client.readings.insert_many([dict(old) for old in OLD_READINGS])
    mongo_client.readings.create_index([("sensor_id", 1), ("timestamp", 1)], unique=True)


async def assert_readings_moved(storage):
    assert await storage.history("28-a") == [
        HistoryEntry("28-a", T0, 20.13, None),
        HistoryEntry("28-a", T0 + 60, None, "crc"),
        HistoryEntry("28-a", T0 + 900, 22.0, None),
        HistoryEntry("28-a", T0 + 90000, 18.5, None),
    ]
    assert [(entry.timestamp, entry.value) for entry in await storage.history("28-b")] == [
        (T0 + 30, 10.0),
        (T0 + 3605, 12.0),
        (T0 + 7200, 13.0),
        (T0 + 7205, 14.0),
    ]
    assert await storage.history("28-c") == [HistoryEntry("28-c", T0 + 5, None), HistoryEntry("28-c", T0 + 6, None)]
    assert await storage.aggregates(["28-a", "28-b"], "quarter", T0, T0 + 3600 * 3, 900) == {
        "28-a": [Aggregate(0, 1, 20.13, 20.13, 20.13), Aggregate(1, 1, 22.0, 22.0, 22.0)],
        "28-b": [
            Aggregate(0, 1, 10.0, 10.0, 10.0),
            Aggregate(4, 1, 12.0, 12.0, 12.0),
            Aggregate(8, 2, 13.0, 13.5, 14.0),
        ],
    }
    assert await storage.aggregates(["28-a", "28-b"], "day", DAY0, DAY0 + 2, 1) == {
        "28-a": [Aggregate(0, 2, 20.13, 21.07, 22.0), Aggregate(1, 1, 18.5, 18.5, 18.5)],
        "28-b": [Aggregate(0, 4, 10.0, 12.25, 14.0)],
    }


@pytest_twisted.ensureDeferred
async def test_open_moves_old_readings_into_buckets_once(mongo_url, mongo_client, monkeypatch):
    monkeypatch.setattr(mongo_readings_migration, "WINDOW", 7200)  # several windows, some empty
    insert_old_readings(mongo_client)
    storage = MongoStorage(mongo_url, reactor)
    await storage.open()
    try:
        await assert_readings_moved(storage)
        await storage.record_readings("h", [reading("28-a", T0 + 120, value=21.0)])
        assert await storage.aggregates(["28-a"], "quarter", T0, T0 + 900, 900) == {
            "28-a": [Aggregate(0, 2, 20.13, 20.57, 21.0)]
        }
    finally:
        await storage.close()
    assert "readings" not in mongo_client.list_collection_names()
    reopened = MongoStorage(mongo_url, reactor)
    await reopened.open()  # nothing left to move
    try:
        assert len(await reopened.history("28-a")) == 5
    finally:
        await reopened.close()


@pytest_twisted.ensureDeferred
async def test_a_readings_move_stopped_half_way_is_finished_by_the_next_open(mongo_url, mongo_client):
    """An engine stopped after writing part of the buckets and rollups: the next open writes
    the same documents again (absolute values, never added twice), then drops the old readings."""
    insert_old_readings(mongo_client)
    sums = {"count": 1, "low": 2013, "high": 2013, "total": 2013}
    mongo_client.reading_buckets.insert_one(
        {"series": "28-a", "start": int(T0), "values": {"0": 2013}, "failures": {}, "quarters": {"0": sums}}
    )
    mongo_client.quarters.insert_one({"series": "28-a", "start": int(T0), **sums})
    mongo_client.days.insert_one({"series": "28-b", "day": DAY0, "count": 3, "low": 1000, "high": 1400, "total": 3600})
    storage = MongoStorage(mongo_url, reactor)
    await storage.open()
    try:
        await assert_readings_moved(storage)
    finally:
        await storage.close()
    assert mongo_client.reading_buckets.count_documents({}) == 6
    assert "readings" not in mongo_client.list_collection_names()
