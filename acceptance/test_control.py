"""The thermostat end to end: a real engine, a real relay unit, readings over HTTP, mDNS on 127.0.0.1.

The same scenario runs against ``rpymostat-control`` with simulated relays
(finding the engine by mDNS) and against a relay unit written with the
standard library from the protocol docs alone (acceptance/third_party_relay.py).
Times are shortened by settings so the whole story takes seconds.

A unit answers only the engine it registered with, so the test reads a unit's
relays with the secret of its registration, taken from the engine's SQLite
database: no API of the engine shows it.
"""

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from acceptance.engine_process import EngineProcess, free_port

pytestmark = pytest.mark.acceptance

# The minimum on time is longer than staleness, so a stale-sensor shut-off that
# waited for it (instead of being a safety off the unit obeys at once) shows.
MIN_ON_S = 5.0
STALE_S = 2.0
LEASE_S = 5.0  # a lease is never shorter than the minimum on time
ENGINE_ENV = {
    "RPYMOSTAT_DECISION_INTERVAL": "0.5",
    "RPYMOSTAT_SENSOR_STALE_S": str(STALE_S),
    "RPYMOSTAT_MIN_ON_S": str(MIN_ON_S),
    "RPYMOSTAT_MIN_OFF_S": "1",
    "RPYMOSTAT_MAX_CYCLES_PER_HOUR": "60",
}


class Unit:
    """A relay unit process: ours (``rpymostat-control``) or the standard-library one."""

    def __init__(self, kind, data_dir, engine):
        self.kind, self.port = kind, free_port()
        self.engine_db = Path(engine.data_dir) / "rpymostat.sqlite3"
        self.host_id = self.secret = None
        self.log_path = Path(data_dir) / f"unit-{kind}.log"
        if kind == "rpymostat-control":
            script = shutil.which("rpymostat-control")
            assert script, "rpymostat-control is not installed"
            self.command = [script, "-vv"]
            self.env = {
                **os.environ,
                "RPYMOSTAT_RELAYS": "sim",
                "RPYMOSTAT_SIM_RELAYS": "2",
                "RPYMOSTAT_CONTROL_HOST": "127.0.0.1",
                "RPYMOSTAT_CONTROL_PORT": str(self.port),
                "RPYMOSTAT_CONTROL_LEASE_S": str(LEASE_S),
                "RPYMOSTAT_MIN_ON_S": str(MIN_ON_S),
                "RPYMOSTAT_MIN_OFF_S": "1",
                "RPYMOSTAT_DATA_DIR": str(data_dir),
                "RPYMOSTAT_MDNS_INTERFACES": "127.0.0.1",
                "RPYMOSTAT_TOKEN": engine.make_token("control", "boiler-unit"),
            }  # finds the engine by mDNS; a token given by hand (acceptance/test_pairing.py pairs)
            self.relay = "sim-1"
        else:
            script = Path(__file__).with_name("third_party_relay.py")
            self.command = [
                sys.executable,
                str(script),
                engine.url,
                str(self.port),
                "stdlib-unit",
                str(LEASE_S),
                "boiler",
                "pump",
            ]
            self.env = {**os.environ, "RPYMOSTAT_TOKEN": engine.make_token("control", "stdlib-unit")}
            self.relay = "boiler"

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def registered_secret(self):
        """The secret of this unit's registration, as the engine stored it."""
        with contextlib.closing(sqlite3.connect(f"file:{self.engine_db}?mode=ro", uri=True)) as db:
            (registration,) = db.execute("SELECT registration FROM relay_units WHERE host_id = ?", (self.host_id,))
        return json.loads(registration[0])["secret"]

    def relays(self, authorization=True):
        """The unit's relays as it reports them, asked with its secret (``authorization``
        False: without it, which raises the 401 as an HTTPError)."""
        if authorization and self.secret is None:
            self.secret = self.registered_secret()
        headers = {"Authorization": f"Bearer {self.secret}"} if authorization else {}
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/v1/relays", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return json.loads(response.read())["relays"]
        except urllib.error.HTTPError as error:
            if not authorization or error.code != 401:
                raise
        # Each registration the engine confirms brings a new secret: read it anew, once.
        # (Kept between calls otherwise, so polling stays fast and times stay exact.)
        self.secret = self.registered_secret()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/v1/relays", headers={"Authorization": f"Bearer {self.secret}"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())["relays"]

    def is_on(self):
        return self.relays()[self.relay]["state"]

    def log(self):
        return self.log_path.read_text(errors="replace")

    def stop(self):
        self.process.terminate()
        return self.process.wait(15)


class Readings:
    """Pushes one sensor's value to the engine every half second, like a sensor daemon."""

    def __init__(self, engine):
        self.engine, self.value, self.running = engine, None, True
        self.token = engine.make_token("sensor", "test-sensors", host_id="test-sensors")
        self.thread = threading.Thread(target=self._push, daemon=True)
        self.thread.start()

    def _push(self):
        while self.running:
            if self.value is not None:
                try:
                    self.engine.request(
                        "PUT",
                        "/v1/sensors/update",
                        {"host_id": "test-sensors", "sensors": {"living": {"type": "test", "value": self.value}}},
                        token=self.token,
                    )
                except OSError:
                    pass  # the engine is down for a while in this story
            time.sleep(0.5)


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return time.monotonic()
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


@pytest.mark.parametrize("kind", ["rpymostat-control", "third-party"])
def test_heat_follows_the_schedule_safely_and_fails_safe_without_the_engine(tmp_path, kind):
    engine = EngineProcess(tmp_path / "engine", advertise=True, extra_env=ENGINE_ENV).start()
    unit = Unit(kind, tmp_path / "unit", engine)
    (tmp_path / "unit").mkdir()
    unit.start()
    readings = Readings(engine)
    try:
        controls = lambda: engine.request("GET", "/v1/controls")[1]["controls"]  # noqa: E731
        wait_for(lambda: controls(), 20, f"the unit registers\n{unit.log()}")
        host_id = unit.host_id = controls()[0]["host_id"]
        assert "secret" not in controls()[0]
        with pytest.raises(urllib.error.HTTPError) as refused:  # the unit obeys only its engine
            unit.relays(authorization=False)
        assert refused.value.code == 401
        assert refused.value.headers["WWW-Authenticate"] == 'Bearer realm="rpymostat-control"'
        assert json.loads(refused.value.read())["status"] == "error"
        refusal = "refused GET /v1/relays from 127.0.0.1: no Authorization header"
        wait_for(lambda: refusal in unit.log(), 5, f"the unit logs the refusal\n{unit.log()}")
        readings.value = 19.0
        wait_for(lambda: engine.request("GET", "/v1/sensors/living")[0] == 200, 5, "first reading")
        assert (
            engine.request(
                "POST",
                "/v1/schedules",
                {"name": "all day", "start": "0 0 * * *", "duration": "P1D", "heat_setpoint": 21.0},
            )[0]
            == 201
        )
        code, body = engine.request(
            "PUT", "/v1/zones/default", {"sensors": {"living": 1.0}, "outputs": {"heat": f"{host_id}/{unit.relay}"}}
        )
        assert code == 200, body

        # 19 C against a 21 C schedule: heat on, and the engine says why.
        switched_on = wait_for(unit.is_on, 10, f"heat on at 19 C\n{engine.log()}")
        state = engine.request("GET", "/v1/zones/default/state")[1]
        assert state["target"]["heat_setpoint"] == 21.0 and state["target"]["source"]["type"] == "schedule"
        assert state["decision"]["reason"] == "heat target 21 C: 19 C is at or below 20.7 C: heat on"

        # 21.5 C: off, but not before the minimum on time.
        readings.value = 21.5
        switched_off = wait_for(lambda: not unit.is_on(), 10, "heat off at 21.5 C")
        assert switched_off - switched_on >= MIN_ON_S - 0.3

        # Stale readings: heat on at 19 C, then silence switches it off as soon as the
        # reading is stale, a safety off the unit obeys inside its minimum on time.
        readings.value = 19.0
        wait_for(unit.is_on, 10, "heat on again at 19 C")
        readings.value = None
        silent = time.monotonic()
        stale_off = wait_for(lambda: not unit.is_on(), STALE_S + MIN_ON_S + 5, "heat off on stale readings")
        assert stale_off - silent < STALE_S + 1.5 < MIN_ON_S, f"{stale_off - silent:.1f} s\n{unit.log()}"
        dropped = engine.request("GET", "/v1/zones/default/state")[1]["temperature"]["dropped"]
        assert dropped["living"].startswith("stale")

        # The engine dies: the unit falls back to its safe state within the lease.
        readings.value = 19.0
        wait_for(unit.is_on, 10, "heat on before the engine dies")
        killed = time.monotonic()
        engine.stop(sig=9)
        safe = wait_for(lambda: not unit.is_on(), LEASE_S + 3, f"safe state after the lease\n{unit.log()}")
        assert safe - killed >= LEASE_S - 1.0  # it held the last command for the lease

        # The engine returns: control is restored without touching the unit.
        engine.start()
        wait_for(unit.is_on, 20, f"control restored\n{engine.log()}\n{unit.log()}")
    finally:
        readings.running = False
        unit.stop()
        engine.stop()
