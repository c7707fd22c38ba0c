"""The real sensor daemon and the real engine: discovery by mDNS, delivery, outage, recovery."""

import contextlib
import datetime
import os
import shutil
import signal
import sqlite3
import subprocess
import time

import pytest

from acceptance.engine_process import EngineProcess, free_port
from acceptance.fault_helpers import HISTORY_QUERY
from tests.sensor.fake_w1 import FakeW1Bus

pytestmark = pytest.mark.acceptance

INTERVAL = 0.5


class SensorProcess:
    """``rpymostat-sensor`` reading a fake 1-wire tree, finding the engine by mDNS on loopback."""

    def __init__(self, tmp_path, w1_base, token):
        self.log_path = tmp_path / "sensor.log"
        self.env = {
            **os.environ,
            "W1THERMSENSOR_NO_KERNEL_MODULE": "1",
            "RPYMOSTAT_W1_BASE_DIR": str(w1_base),
            "RPYMOSTAT_SENSOR_READERS": "w1",
            "RPYMOSTAT_SENSOR_INTERVAL": str(INTERVAL),
            "RPYMOSTAT_DATA_DIR": str(tmp_path / "sensor-data"),
            "RPYMOSTAT_MDNS_INTERFACES": "127.0.0.1",
            "RPYMOSTAT_TOKEN": token,  # given by hand; acceptance/test_pairing.py pairs instead
        }
        self.env.pop("RPYMOSTAT_ENGINE_URL", None)
        script = shutil.which("rpymostat-sensor")
        assert script, "rpymostat-sensor is not installed"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([script, "-vv"], env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def log(self):
        return self.log_path.read_text(errors="replace")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(20)


def wait_for(predicate, timeout, what, log):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s:\n{log()}")


def history(data_dir, sensor_id):
    """``[(timestamp, value)]`` of the sensor's raw readings in the engine's database."""
    with contextlib.closing(sqlite3.connect(data_dir / "rpymostat.sqlite3")) as database:
        return database.execute(HISTORY_QUERY, (sensor_id,)).fetchall()


def test_readings_arrive_and_an_engine_outage_loses_none(tmp_path):
    bus = FakeW1Bus(tmp_path / "w1")
    kitchen = bus.add("28-0000075565ad", 20.5)
    bus.add("28-000007a1b2c3", 18.25)
    port = free_port()
    engine = EngineProcess(tmp_path / "engine", port=port, advertise=True).start()
    sensor = SensorProcess(tmp_path, tmp_path / "w1", engine.make_token("sensor", "kitchen-pi"))
    try:

        def both_known():
            code, body = engine.request("GET", "/v1/sensors")
            return code == 200 and len(body["sensors"]) == 2

        wait_for(both_known, 20, "both sensors reported (found by mDNS)", sensor.log)
        sensors = {s["id"]: s for s in engine.request("GET", "/v1/sensors")[1]["sensors"]}
        assert sensors["28-0000075565ad"]["value"] == 20.5
        assert sensors["28-000007a1b2c3"]["type"] == "DS18B20"

        assert engine.stop(signal.SIGKILL) == -signal.SIGKILL
        outage_started = time.time()
        outage_started_iso = datetime.datetime.fromtimestamp(outage_started, datetime.UTC).isoformat()
        for step in range(8):  # readings keep being taken while the engine is away
            kitchen.set_temperature(21.0 + step / 4)
            time.sleep(INTERVAL)
        engine = EngineProcess(tmp_path / "engine", port=port, advertise=True).start()

        def caught_up():
            latest = engine.request("GET", "/v1/sensors/28-0000075565ad")[1]
            return latest["value"] == 22.75 and latest["last_seen"] > outage_started_iso

        wait_for(caught_up, 30, "the newest reading delivered first after the restart", sensor.log)

        def backlog_delivered():
            # The backlog follows the newest reading in later requests: on a slow
            # machine it is still on its way when the newest one is already shown.
            during = {value for _, value in history(tmp_path / "engine", "28-0000075565ad")}
            return {21.0 + step / 4 for step in range(1, 8)} <= during

        wait_for(backlog_delivered, 30, "the readings buffered in the outage delivered", sensor.log)
    finally:
        assert sensor.stop() == 0
        engine.stop()
    rows = history(tmp_path / "engine", "28-0000075565ad")
    stamps = [stamp for stamp, _ in rows]
    assert len(stamps) == len(set(stamps))  # none twice
    during = [value for stamp, value in rows if stamp >= outage_started]
    assert {21.0 + step / 4 for step in range(1, 8)} <= set(during)  # every value set in the outage
    gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:])]
    assert max(gaps) < INTERVAL * 3, gaps  # no reading lost, each with its original time
    assert "Traceback" not in sensor.log()
