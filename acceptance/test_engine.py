"""The real ``rpymostat-engine`` process: start, serve, advertise, stop, survive kill -9."""

import signal
import sqlite3
import subprocess

import pytest

from acceptance.engine_process import EngineProcess, browse, engine_command, free_port

pytestmark = pytest.mark.acceptance

READINGS = {
    "host_id": "pi-hall",
    "sensors": {
        "28-0000075565ad": {"type": "DS18B20", "value": 20.5},
        "28-000007a1b2c3": {"type": "DS18B20", "value": None, "extra": "85.0 C reset"},
    },
}


@pytest.fixture
def engine(tmp_path):
    process = EngineProcess(tmp_path / "data", advertise=True)
    process.start()
    yield process
    process.stop()


def test_engine_serves_status_and_accepts_readings(engine):
    assert engine.request("GET", "/v1/status") == (
        200,
        {"status": True, "dependencies": {"database": True}, "timezone": "Europe/Berlin"},
    )
    assert engine.request("PUT", "/v1/sensors/update", READINGS) == (
        201,
        {"status": "created", "ids": ["28-0000075565ad", "28-000007a1b2c3"]},
    )
    code, body = engine.request("GET", "/v1/sensors")
    assert code == 200
    assert [(s["id"], s["value"]) for s in body["sensors"]] == [
        ("28-0000075565ad", 20.5),
        ("28-000007a1b2c3", None),
    ]
    assert engine.request("GET", "/v1/nowhere")[0] == 404
    assert (engine.data_dir / "rpymostat.sqlite3").exists()


def advertised(port, timeout):
    """What another process sees of the engine on ``port`` (other engines on the host aside)."""
    [result] = browse(timeout=timeout, count=0)
    return [service for service in result["services"] if service["port"] == port]


def test_another_process_discovers_the_engine_by_mdns(engine):
    [service] = advertised(engine.port, timeout=6)
    assert service["port"] == engine.port
    assert "127.0.0.1" in service["addresses"]
    assert service["properties"]["api"] == "/v1"
    assert service["properties"]["version"]


def test_sigterm_stops_cleanly_and_withdraws_advertisement(engine):
    engine.request("PUT", "/v1/sensors/update", READINGS)
    assert engine.stop(signal.SIGTERM) == 0
    log = engine.log()
    assert "engine stopped" in log
    assert "Traceback" not in log
    # A clean close checkpoints the WAL into the database file.
    wal = engine.data_dir / "rpymostat.sqlite3-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert advertised(engine.port, timeout=3) == []


def test_acknowledged_readings_survive_kill_9(tmp_path):
    data = tmp_path / "data"
    first = EngineProcess(data).start()
    for minute in range(10):
        body = {
            "host_id": "pi-hall",
            "sensors": {
                "28-a": {"type": "DS18B20", "value": 20 + minute / 10, "timestamp": f"2026-11-25T10:{minute:02d}:00Z"}
            },
        }
        assert first.request("PUT", "/v1/sensors/update", body)[0] == 201
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    with sqlite3.connect(data / "rpymostat.sqlite3") as database:
        assert database.execute("SELECT count(*) FROM readings").fetchone() == (10,)
    second = EngineProcess(data).start()
    try:
        code, sensor = second.request("GET", "/v1/sensors/28-a")
        assert (code, sensor["value"], sensor["last_seen"]) == (
            200,
            20.9,
            "2026-11-25T10:09:00.000+00:00",
        )
    finally:
        assert second.stop() == 0


def test_bad_setting_exits_2_naming_it(tmp_path):
    process = EngineProcess(tmp_path, extra_env={"RPYMOSTAT_API_PORT": "http"})
    result = subprocess.run(engine_command(), env=process.env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "RPYMOSTAT_API_PORT='http' is invalid" in result.stderr


def test_port_in_use_exits_1_with_reason(engine, tmp_path):
    second = EngineProcess(tmp_path / "other", port=engine.port)
    result = subprocess.run(engine_command(), env=second.env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "cannot start" in result.stderr
    assert str(engine.port) in result.stderr


def test_show_config_lists_settings(tmp_path):
    process = EngineProcess(tmp_path, port=free_port())
    result = subprocess.run(
        engine_command() + ["--show-config"], env=process.env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    [port] = [line for line in result.stdout.splitlines() if line.startswith("RPYMOSTAT_API_PORT")]
    assert port.split()[1:4] == ["port", "8088", str(process.port)]


def test_rules_survive_a_restart_and_the_target_is_recomputed(tmp_path):
    data = tmp_path / "data"
    first = EngineProcess(data).start()
    schedule = {"name": "all day", "start": "0 0 * * *", "duration": "P1D", "heat_setpoint": 20.5}
    assert first.request("POST", "/v1/schedules", schedule)[0] == 201
    code, hold = first.request("POST", "/v1/zones/default/hold", {"heat_setpoint": 22.0, "duration": "PT2H"})
    assert code == 201
    before = first.request("GET", "/v1/zones/default/target")[1]
    assert (before["now"]["source"]["type"], before["now"]["heat_setpoint"]) == ("hold", 22.0)
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL

    second = EngineProcess(data).start()
    try:
        after = second.request("GET", "/v1/zones/default/target")[1]
        assert after["now"] == before["now"]  # the same hold, since the same instant
        assert after["next"]["source"]["name"] == "all day"
        assert [s["name"] for s in second.request("GET", "/v1/schedules")[1]["schedules"]] == ["all day"]
    finally:
        assert second.stop() == 0
