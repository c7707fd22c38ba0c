"""Faults with real processes: the engine killed, the engine away, the database away.

Each test starts the real console scripts (engine, sensor daemon, relay unit,
a SecantusDB server), breaks one of them the way a house breaks it (power
cut, crash, a database host rebooting) and checks over HTTP, or in the files
left behind, what a family relies on: nothing acknowledged is lost, nothing
is stored twice or half, the boiler goes to its safe state, and everything
comes back by itself.  Times are shortened by settings; the code paths are
the ones that run for ten minutes in a real outage.
"""

import signal
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest

from acceptance.engine_process import EngineProcess, free_port
from acceptance.fault_helpers import (
    DatabaseServer,
    RelayUnit,
    SensorDaemon,
    buffered_before,
    iso,
    sim_celsius,
    stored_readings,
    timed_request,
    wait_for,
)

pytestmark = pytest.mark.acceptance


class Burst:
    """A client thread sending one reading per update, each with its own timestamp, until refused.

    ``sent`` holds every timestamp put on the wire, ``acknowledged`` those the
    engine answered 201 for; ``failure`` is what stopped the burst.
    """

    def __init__(self, engine, sensor_id, first, step, most):
        self.engine, self.sensor_id = engine, sensor_id
        self.token = engine.make_token("sensor", "burst", host_id="pi-burst")
        self.stamps = [first + index * step for index in range(most)]
        self.sent, self.acknowledged, self.failure = [], [], None
        self.thread = threading.Thread(target=self._send, daemon=True)
        self.thread.start()

    def _send(self):
        for index, stamp in enumerate(self.stamps):
            body = {
                "host_id": "pi-burst",
                "sensors": {self.sensor_id: {"type": "DS18B20", "value": index / 100, "timestamp": iso(stamp)}},
            }
            self.sent.append(stamp)
            try:
                code, answer, _ = timed_request(
                    self.engine.url, "PUT", "/v1/sensors/update", body, timeout=10, token=self.token
                )
            except OSError as error:
                self.failure = error
                return
            if code != 201:
                self.failure = AssertionError(f"update answered {code}: {answer}")
                return
            self.acknowledged.append(stamp)


def test_every_acknowledged_update_of_a_burst_survives_kill_9(tmp_path):
    data = tmp_path / "engine"
    port = free_port()
    engine = EngineProcess(data, port=port).start()
    first = float(int(time.time()) - 3600)  # quarter seconds: exact as floats, in the past
    burst = Burst(engine, "28-burst", first, 0.25, most=20000)
    try:
        wait_for(lambda: len(burst.acknowledged) >= 200 or burst.failure, 20, "200 updates acknowledged")
        assert burst.failure is None, burst.failure
        assert engine.stop(signal.SIGKILL) == -signal.SIGKILL
        burst.thread.join(15)
        assert not burst.thread.is_alive()
    finally:
        engine.stop(signal.SIGKILL)
    acknowledged, sent = set(burst.acknowledged), set(burst.sent)
    assert isinstance(burst.failure, OSError), f"the kill did not interrupt the burst: {burst.failure!r}"
    assert len(sent) < len(burst.stamps)  # killed mid-burst, not after it

    # What the killed process left on disk already holds every acknowledged update.
    left_behind = {stamp for stamp, _ in stored_readings(data / "rpymostat.sqlite3", "28-burst")}
    assert acknowledged <= left_behind <= sent, sorted(acknowledged - left_behind)[:5]

    engine = EngineProcess(data, port=port).start()
    try:
        code, sensor = engine.request("GET", "/v1/sensors/28-burst")
        assert code == 200
        newest = max(left_behind)
        assert sensor["last_seen"] == iso(newest)
        assert sensor["value"] == burst.stamps.index(newest) / 100
    finally:
        assert engine.stop() == 0
    rows = stored_readings(data / "rpymostat.sqlite3", "28-burst")
    stamps = [stamp for stamp, _ in rows]
    assert len(stamps) == len(set(stamps))
    assert acknowledged <= set(stamps) <= sent
    assert all(value == burst.stamps.index(stamp) / 100 for stamp, value in rows)  # each with its own value


INTERVAL = 0.5
LEASE_S = 3.0
AWAY_ENV = {
    "RPYMOSTAT_DECISION_INTERVAL": "0.5",
    "RPYMOSTAT_SENSOR_STALE_S": "30",
    "RPYMOSTAT_MIN_ON_S": "1",
    "RPYMOSTAT_MIN_OFF_S": "1",
    "RPYMOSTAT_MAX_CYCLES_PER_HOUR": "60",
}


def test_engine_away_sensor_buffers_relay_falls_safe_and_both_come_back(tmp_path):
    port = free_port()
    engine = EngineProcess(tmp_path / "engine", port=port, advertise=True, extra_env=AWAY_ENV).start()
    # Tokens given by hand (RPYMOSTAT_TOKEN); acceptance/test_pairing.py pairs instead.
    sensor = SensorDaemon(tmp_path, INTERVAL, token=engine.make_token("sensor", "sensor")).start()
    engine_db = tmp_path / "engine" / "rpymostat.sqlite3"
    unit_token = engine.make_token("control", "unit")
    unit = RelayUnit(tmp_path, lease_s=LEASE_S, min_on_s=1, min_off_s=1, engine_db=engine_db, token=unit_token)
    unit.start()
    logs = lambda: f"{engine.log()}\n--- sensor\n{sensor.log()}\n--- unit\n{unit.log()}"  # noqa: E731
    try:
        controls = lambda: engine.request("GET", "/v1/controls")[1]["controls"]  # noqa: E731
        wait_for(controls, 20, f"the relay unit registers (found by mDNS)\n{logs()}")
        wait_for(lambda: engine.request("GET", "/v1/sensors/sim-0")[0] == 200, 20, f"sim-0 reported\n{logs()}")
        # 25 C all day: the simulated 18.5 to 21.5 C always calls for heat.
        schedule = {"name": "all day", "start": "0 0 * * *", "duration": "P1D", "heat_setpoint": 25.0}
        assert engine.request("POST", "/v1/schedules", schedule)[0] == 201
        zone = {"sensors": {"sim-0": 1.0}, "outputs": {"heat": f"{controls()[0]['host_id']}/{unit.relay}"}}
        assert engine.request("PUT", "/v1/zones/default", zone)[0] == 200
        wait_for(unit.is_on, 10, f"heat on\n{logs()}")

        killed_at = time.time()
        killed = time.monotonic()
        assert engine.stop(signal.SIGKILL) == -signal.SIGKILL
        safe = wait_for(lambda: not unit.is_on(), LEASE_S + 3, f"safe state within the lease\n{logs()}")
        # It held the engine's last command for the lease (renewed every 0.5 s), then let go.
        assert LEASE_S - 1.0 <= safe - killed <= LEASE_S + 1.0, f"{safe - killed:.1f} s"
        time.sleep(max(0.0, killed + 6.0 - time.monotonic()))  # six seconds away: a dozen readings
        back_at = time.time()
        engine.start()

        wait_for(unit.is_on, 20, f"heat on again under the restarted engine\n{logs()}")

        def delivered():
            latest = engine.request("GET", "/v1/sensors/sim-0")[1]
            return latest["last_seen"] > iso(back_at) and buffered_before(buffer, back_at) == 0

        buffer = tmp_path / "sensor-data" / "sensor-buffer.sqlite3"
        wait_for(delivered, 30, f"the sensor daemon delivers its backlog\n{logs()}")
        state = engine.request("GET", "/v1/zones/default/state")[1]
        assert state["decision"]["outputs"]["heat"] is True
    finally:
        sensor_exit = sensor.stop()
        unit_exit = unit.stop()
        engine.stop()
    assert (sensor_exit, unit_exit) == (0, 0)
    rows = stored_readings(tmp_path / "engine" / "rpymostat.sqlite3", "sim-0")
    stamps = [stamp for stamp, _ in rows]
    during = [stamp for stamp in stamps if killed_at < stamp < back_at]
    # Every tick of the outage arrived with the time it was taken ...
    assert len(during) >= (back_at - killed_at) / INTERVAL - 2, (len(during), back_at - killed_at)
    gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:])]
    assert max(gaps) < 3 * INTERVAL, max(gaps)
    # ... none twice (a re-sent reading with a new time would sit between two ticks) ...
    assert min(gaps) > INTERVAL / 2, min(gaps)
    # ... and with the value the simulated sensor had at that time.
    wrong = [(stamp, value) for stamp, value in rows if abs(value - sim_celsius(0, stamp)) > 0.0051]  # hundredths
    assert wrong == []
    assert "Traceback" not in sensor.log() + unit.log()


DOWN_WITHIN_S = 4.0  # the engine's database ping gives up after 2 s
STORAGE_TIMEOUT_S = 10.0  # every MongoDB call of the engine is bounded by this


def test_mongodb_stopped_and_started_again_engine_recovers_by_itself(tmp_path):
    database = DatabaseServer(tmp_path).start()
    engine = EngineProcess(
        tmp_path / "engine",
        extra_env={"RPYMOSTAT_DB": f"{database.uri}/house", "RPYMOSTAT_DECISION_INTERVAL": "1"},
    )
    try:
        engine.start()
        token = engine.admin_token

        def call(method, path, body=None, timeout=30.0):
            return timed_request(engine.url, method, path, body, timeout=timeout, token=token)

        before = time.time() - 60
        reading = lambda stamp, value: {  # noqa: E731
            "host_id": "pi-hall",
            "sensors": {"hall": {"type": "DS18B20", "value": value, "timestamp": iso(stamp)}},
        }
        assert call("PUT", "/v1/sensors/update", reading(before, 19.0))[0] == 201
        assert call("PUT", "/v1/zones/default", {"sensors": {"hall": 1.0}})[0] == 200
        schedule = {"name": "all day", "start": "0 0 * * *", "duration": "P1D", "heat_setpoint": 21.0}
        assert call("POST", "/v1/schedules", schedule)[0] == 201
        # Waited for, not read at once: right after a rule change the target can still be the
        # old one for a moment (a timeline fill begun before the change lands after it).
        target = lambda: call("GET", "/v1/zones/default/target")[1]["now"]  # noqa: E731
        wait_for(lambda: target()["source"]["type"] == "schedule", 5, "the schedule in force")
        target_before = target()
        heating = lambda: call("GET", "/v1/zones/default/state")[1]["decision"]["outputs"]["heat"]  # noqa: E731
        wait_for(heating, 5, f"heat on at 19 C\n{engine.log()}")

        assert database.stop() == 0
        code, status, took = call("GET", "/v1/status")
        assert (code, status) == (
            503,
            {"status": False, "dependencies": {"database": False}, "timezone": "Europe/Berlin"},
        )
        assert took < DOWN_WITHIN_S

        # Writes, and the reads a user makes, all at once: each waits for the storage timeout.
        asked = {
            "zone": ("PUT", "/v1/zones/default", {"sensors": {"hall": 2.0}}),
            "reading": ("PUT", "/v1/sensors/update", reading(before + 30, 18.0)),
            "target": ("GET", "/v1/zones/default/target", None),
            "state": ("GET", "/v1/zones/default/state", None),
        }
        with ThreadPoolExecutor(len(asked)) as pool:
            futures = {name: pool.submit(call, *request) for name, request in asked.items()}
            answers = {name: future.result() for name, future in futures.items()}
        for name in ("zone", "reading", "state"):
            code, body, took = answers[name]
            assert code == 503, (name, code, body)
            assert body["status"] == "error"
            assert body["error"].startswith("database unavailable: MongoDB"), body
            assert f"{database.uri}/house" in body["error"]
            assert took < STORAGE_TIMEOUT_S + 3, (name, took)
        # The target comes from the engine's timeline cache: still the schedule's 21 C, at once.
        code, target, took = answers["target"]
        assert code == 200 and took < 2.0
        assert (target["now"]["heat_setpoint"], target["now"]["source"]) == (21.0, target_before["source"])
        assert engine.process.poll() is None

        database.start()
        wait_for(lambda: call("GET", "/v1/status")[0] == 200, 20, f"status 200\n{engine.log()}")
        assert engine.process.poll() is None  # recovered without a restart

        # Nothing the outage refused was stored, then or on reconnection.
        code, zone, _ = call("GET", "/v1/zones/default")
        assert (code, zone["sensors"]) == (200, {"hall": 1.0})
        hall = call("GET", "/v1/sensors/hall")[1]
        assert (hall["value"], hall["last_seen"]) == (19.0, iso(before))
        window = urllib.parse.urlencode({"sensor": "hall", "start": iso(before - 3600), "step": "PT1H"})
        code, history, _ = call("GET", f"/v1/history?{window}")
        series = history["series"][0]
        assert (code, [(n, mean) for n, mean in zip(series["count"], series["mean"]) if n]) == (200, [(1, 19.0)])

        # Writes work again, and the zone is decided on them.
        assert call("PUT", "/v1/zones/default", {"sensors": {"hall": 3.0}})[0] == 200
        assert call("PUT", "/v1/sensors/update", reading(time.time(), 22.0))[0] == 201

        def decided_on_new_reading():
            # A reading is decided on at the next tick (1 s here), not when it arrives.
            state = call("GET", "/v1/zones/default/state")[1]
            return (state["temperature"]["value"], state["temperature"]["used"]) == (22.0, {"hall": 3.0})

        wait_for(decided_on_new_reading, 10, f"the zone decided on the new reading\n{engine.log()}")
        state = call("GET", "/v1/zones/default/state")[1]
        assert "22 C" in state["decision"]["reason"]
    finally:
        engine.stop()
        database.stop()
    # While it could not read the zone, the engine sent its outputs to their safe state and said so.
    log = engine.log()
    assert "deciding zone 'default' failed; its outputs go to their safe state" in log or (
        "listing the zones failed; every known zone goes to its safe state" in log
    )
