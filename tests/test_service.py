"""The engine's service tree over real loopback HTTP and a real SQLite file."""

import dataclasses
import json

import pytest
import pytest_twisted
import treq
from twisted.internet import reactor

from rpymostat.config import EngineConfig
from rpymostat.discovery import AdvertiseService
from rpymostat.service import EngineService, make_service
from rpymostat.storage import open_storage
from rpymostat.storage.interface import StorageError
from rpymostat.storage.mongo import MongoStorage
from rpymostat.storage.sqlite import SQLiteStorage

JSON = {"Content-Type": "application/json"}


def admin(config):
    """The headers of the admin token the engine wrote at its first start."""
    token = (config.data_dir / "admin-token").read_text().strip()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def config(tmp_path):
    return EngineConfig(api_host="127.0.0.1", api_port=0, data_dir=tmp_path / "data", advertise=False)


def test_embedded_sqlite_is_the_default(config):
    storage = open_storage(config, reactor)
    assert isinstance(storage, SQLiteStorage)
    assert storage.path == config.data_dir / "rpymostat.sqlite3"


def test_db_url_selects_mongodb(config):
    mongo = dataclasses.replace(config, db="mongodb://127.0.0.1:1/rpymostat")
    assert isinstance(make_service(mongo, reactor).storage, MongoStorage)


@pytest_twisted.ensureDeferred
async def test_serves_http_on_loopback_and_stops_cleanly(config):
    service = make_service(config, reactor)
    service.startService()
    port = await service.when_ready()
    url = f"http://127.0.0.1:{port.getHost().port}"
    try:
        body = {"host_id": "h", "sensors": {"28-a": {"type": "DS18B20", "value": 20.25}}}
        response = await treq.put(url + "/v1/sensors/update", json.dumps(body).encode(), headers=JSON)
        assert response.code == 401  # a fresh engine refuses strangers
        await response.content()
        headers = {**JSON, **admin(config)}
        response = await treq.put(url + "/v1/sensors/update", json.dumps(body).encode(), headers=headers)
        assert response.code == 201
        await response.content()
        response = await treq.get(url + "/v1/sensors/28-a", headers=headers)
        assert (await response.json())["value"] == 20.25
        zone = {"sensors": {"28-a": 1.0}, "default_heat_setpoint": 21.0}
        response = await treq.put(url + "/v1/zones/default", json.dumps(zone).encode(), headers=headers)
        assert response.code == 200, await response.text()
        state = await (await treq.get(url + "/v1/zones/default/state", headers=headers)).json()
        assert state["decision"]["reason"] == "heat target 21 C: 20.25 C is at or below 20.7 C: heat on"
    finally:
        await service.stopService()
    assert service.port is None
    assert not (await service.storage.ping())


@pytest_twisted.ensureDeferred
async def test_storage_failure_fails_readiness_and_stop_is_safe(config):
    config.data_dir.mkdir(parents=True)
    config.sqlite_path.write_bytes(b"not a database" * 100)
    service = EngineService(config, reactor)
    service.startService()
    with pytest.raises(StorageError):
        await service.when_ready()
    await service.stopService()
    assert service.port is None


@pytest_twisted.ensureDeferred
async def test_advertises_only_after_listening(config):
    advertising = dataclasses.replace(config, advertise=True, mdns_interfaces=("127.0.0.1",))
    service = make_service(advertising, reactor)
    service.startService()
    port = await service.when_ready()
    try:
        [advertiser] = [child for child in service if isinstance(child, AdvertiseService)]
        assert advertiser.port == port.getHost().port
        assert advertiser.running
        assert await advertiser.when_advertised()
    finally:
        await service.stopService()
    assert not advertiser.running


@pytest_twisted.ensureDeferred
async def test_declared_oversized_body_is_413_over_real_http(config):
    service = make_service(config, reactor)
    service.startService()
    port = await service.when_ready()
    try:
        url = f"http://127.0.0.1:{port.getHost().port}/v1/sensors/update"
        response = await treq.put(url, b"x" * (2 * 1024 * 1024), headers={**JSON, **admin(config)})
        assert response.code == 413
        assert (await response.json())["status"] == "error"
    finally:
        await service.stopService()


@pytest_twisted.ensureDeferred
async def test_with_auth_off_anyone_may_write_and_every_start_says_so(config):
    from twisted.logger import globalLogPublisher

    events = []
    globalLogPublisher.addObserver(events.append)
    service = make_service(dataclasses.replace(config, auth=False), reactor)
    service.startService()
    try:
        port = await service.when_ready()
        url = f"http://127.0.0.1:{port.getHost().port}/v1/zones/default"
        response = await treq.put(url, json.dumps({"mode": "heat"}).encode(), headers=JSON)
        assert response.code == 200
        await response.content()
    finally:
        await service.stopService()
        globalLogPublisher.removeObserver(events.append)
    warnings = [e for e in events if "RPYMOSTAT_AUTH is off" in e.get("log_format", "")]
    assert len(warnings) == 1 and warnings[0]["log_level"].name == "warn"
    assert not (config.data_dir / "admin-token").exists()  # no token is made while nobody needs one
