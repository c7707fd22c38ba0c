"""What only the MongoDB backend has: a server that can be absent or die, indexes,
and a write path with or without transactions.

Everything the API relies on is in the contract suite; these tests cover how
the backend fails and recovers, which the other backends cannot express.
"""

import time

import pymongo
import pytest
import pytest_twisted
from twisted.internet import reactor

from rpymostat.storage.interface import (
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
    unique_keys = {
        name: [key for key, _ in info["key"]]
        for name in ("sensors", "readings", "rules", "zones", "relay_units", "output_states", "runs")
        for info in mongo_client[name].index_information().values()
        if info.get("unique")
    }
    assert unique_keys == {
        "sensors": ["sensor_id"],
        "readings": ["sensor_id", "timestamp"],
        "rules": ["kind", "rule_id"],
        "zones": ["name"],
        "relay_units": ["host_id"],
        "output_states": ["address"],
        "runs": ["run_id"],
    }
    run_keys = sorted([key for key, _ in info["key"]] for info in mongo_client.runs.index_information().values())
    assert run_keys == [["_id"], ["ended_at"], ["run_id"], ["zone", "started_at"]]


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
