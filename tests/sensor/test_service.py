"""The sensor daemon's service tree against a real engine site on loopback."""

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.task import deferLater

from rpymostat.api.site import build_site
from rpymostat.testing import FakeStorage, engine_parts
from rpymostat_sensor import __main__ as cli
from rpymostat_sensor.config import SensorConfig, from_environ
from rpymostat_sensor.service import SensorService


@pytest_twisted.ensureDeferred
async def test_sim_readings_reach_the_engine_and_stop_is_clean(tmp_path):
    storage = FakeStorage()
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
        build_site(**engine_parts(storage, reactor))
    )
    config = SensorConfig(
        engine_url=f"http://127.0.0.1:{port.getHost().port}",
        interval=0.2,
        readers=("sim",),
        data_dir=tmp_path,
        sim_sensors=2,
        token="rpy_sensor-test",  # a token given by hand: the engine site here checks none
    )
    service = SensorService(config, reactor)
    assert [reader.name for reader in service.readers] == ["sim"]
    service.startService()
    try:
        for _ in range(100):
            if len(await storage.sensors()) == 2:
                break
            await deferLater(reactor, 0.05, lambda: None)
        sensors = await storage.sensors()
        assert [(s.sensor_id, s.host_id, s.sensor_type) for s in sensors] == [
            ("sim-0", service.host_id, "sim"),
            ("sim-1", service.host_id, "sim"),
        ]
    finally:
        await service.stopService()
        await port.stopListening()
    assert service.finder is None


def test_without_an_engine_url_it_browses_for_one(tmp_path):
    config = SensorConfig(data_dir=tmp_path, readers=("sim",), sim_sensors=1, mdns_interfaces=("127.0.0.1",))
    service = SensorService(config, reactor)
    assert service.finder is not None and service.finder in list(service)


def test_unknown_reader_name_stops_start_up(tmp_path):
    with pytest.raises(ValueError, match="RPYMOSTAT_SENSOR_READERS"):
        SensorService(SensorConfig(data_dir=tmp_path, readers=("thermocouple",)), reactor)


def test_show_config_and_bad_settings(tmp_path, capsys):
    assert cli.main(["--show-config"], {"HOME": str(tmp_path), "RPYMOSTAT_SENSOR_INTERVAL": "5"}) == 0
    [line] = [row for row in capsys.readouterr().out.splitlines() if row.startswith("RPYMOSTAT_SENSOR_INTERVAL")]
    assert line.split()[1:4] == ["seconds", "30.0", "5.0"]
    assert cli.main([], {"HOME": str(tmp_path), "RPYMOSTAT_ENGINE_URL": "engine:8088"}) == 2
    assert "RPYMOSTAT_ENGINE_URL='engine:8088' is invalid" in capsys.readouterr().err


@pytest.mark.parametrize(
    "variable, value, reason",
    [
        ("RPYMOSTAT_SENSOR_INTERVAL", "0", "greater than 0"),
        ("RPYMOSTAT_SENSOR_BUFFER_MAX", "-1", "zero or more"),
        ("RPYMOSTAT_SENSOR_BUFFER_MAX", "lots", "expected a whole number"),
        ("RPYMOSTAT_SENSOR_READERS", "w1;sim", "is not a plugin name"),
        ("RPYMOSTAT_ENGINE_URL", "http://engine:port", "the port is not a number"),
    ],
)
def test_bad_values_name_the_variable(tmp_path, variable, value, reason):
    from rpymostat.protocol.settings import ConfigError

    with pytest.raises(ConfigError, match=f"{variable}=.*{reason}"):
        from_environ({"HOME": str(tmp_path), variable: value})


def test_engine_url_is_normalised(tmp_path):
    config = from_environ({"HOME": str(tmp_path), "RPYMOSTAT_ENGINE_URL": "http://10.0.0.5:8088/"})
    assert config.engine_url == "http://10.0.0.5:8088"


@pytest_twisted.ensureDeferred
async def test_a_host_without_sensors_says_so(tmp_path):
    from twisted.logger import globalLogPublisher

    logged = []
    globalLogPublisher.addObserver(logged.append)
    service = SensorService(SensorConfig(data_dir=tmp_path, engine_url="http://127.0.0.1:9"), reactor, readers=[])
    try:
        service.startService()
    finally:
        globalLogPublisher.removeObserver(logged.append)
        await service.stopService()
    assert any("no reader finds any sensor" in event.get("log_format", "") for event in logged)
