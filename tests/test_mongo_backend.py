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

from rpymostat.storage.interface import HistoryEntry, Reading, StorageError
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
        for name in ("sensors", "readings")
        for info in mongo_client[name].index_information().values()
        if info.get("unique")
    }
    assert unique_keys == {"sensors": ["sensor_id"], "readings": ["sensor_id", "timestamp"]}


@pytest_twisted.ensureDeferred
async def test_refused_batch_changes_nothing_where_transactions_exist(mongo_url, mongo_client):
    refuse_sensor_type(mongo_client, "broken")
    storage = MongoStorage(mongo_url, reactor)
    await storage.open()
    try:
        with pytest.raises(StorageError):
            await storage.record_readings(
                "h", [reading("28-a"), reading("28-b", sensor_type="broken")]
            )
        stored_history = await storage.history("28-a")
        stored_sensors = await storage.sensors()
    finally:
        await storage.close()
    if storage.transactions:
        assert (stored_history, stored_sensors) == ([], [])
    else:  # A standalone mongod: the history went first, the sensor write stopped.
        assert [entry.sensor_id for entry in stored_history] == ["28-a"]


@pytest_twisted.ensureDeferred
async def test_retry_of_half_written_batch_converges_without_transactions(
    mongo_url, mongo_client
):
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
