"""The engine's service tree and its event stream: a reading arrives live, and stopping ends every stream."""

import json

import pytest_twisted
import treq
from twisted.internet import reactor

from rpymostat.service import make_service
from tests.sse_client import WAIT_S, open_stream
from tests.test_service import config  # noqa: F401 (the engine's config on a free loopback port)


@pytest_twisted.ensureDeferred
async def test_a_reading_arrives_live_and_stopping_ends_the_open_streams_first(config):
    service = make_service(config, reactor)
    service.startService()
    port = await service.when_ready()
    url = f"http://127.0.0.1:{port.getHost().port}"
    token = (config.data_dir / "admin-token").read_text().strip()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        assert service.event_stream.running  # its keep-alive runs with the engine
        _, reader, done = await open_stream(url + "/v1/events?topics=sensor.readings", headers)
        body = {"host_id": "h", "sensors": {"28-a": {"type": "DS18B20", "value": 20.25}}}
        response = await treq.put(
            url + "/v1/sensors/update",
            json.dumps(body).encode(),
            headers={**headers, "Content-Type": "application/json"},
        )
        assert response.code == 201
        await response.content()
        await reader.until_events(1)
        assert reader.events[0]["data"]["readings"][0]["value"] == 20.25
    finally:
        # An open stream must not keep the port from closing: the stop would hang on it.
        await service.stopService().addTimeout(WAIT_S, reactor)
    await done.addTimeout(WAIT_S, reactor)
    assert not service.event_stream.running
    assert service.event_stream.streams() == 0
