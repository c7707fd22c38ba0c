"""Real processes for the fault tests: a MongoDB server that can stop and come back,
a sensor daemon with simulated sensors, a relay unit with simulated relays.

Every process logs to a file in the test's directory, and every wait here is
bounded: a fault test must fail with the logs, never hang.
"""

import contextlib
import datetime
import json
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from acceptance.engine_process import free_port
from tests.mongo_server import answers


def wait_for(condition, timeout, what):
    """Poll ``condition`` until it is true; the monotonic time it was, or AssertionError.

    A process that is down or not yet up (``OSError``) counts as "not yet".
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return time.monotonic()
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


def timed_request(url, method, path, body=None, timeout=30.0, token=None):
    """``(status, decoded JSON body, seconds it took)`` of one HTTP request, with ``token`` if given.

    Unlike :meth:`EngineProcess.request` the timeout is the caller's, so a test
    can watch an answer that is slow on purpose (a storage timeout) arrive.
    """
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            code, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        code, raw = error.code, error.read()
    return code, json.loads(raw or b"null"), time.monotonic() - started


def iso(seconds):
    """Epoch seconds as the ISO 8601 UTC text daemons send (milliseconds)."""
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat(timespec="milliseconds")


#: A sensor's raw readings as ``(epoch seconds, degrees)``: history keeps milliseconds and hundredths.
HISTORY_QUERY = (
    "SELECT reading.t / 1000.0, reading.value / 100.0 FROM series"
    " JOIN readings AS reading ON reading.series = series.series WHERE series.name = ? ORDER BY reading.t"
)


def stored_readings(database_path, sensor_id):
    """``[(timestamp, value)]`` of ``sensor_id`` in an engine's SQLite file, opened read-only."""
    uri = Path(database_path).resolve().as_uri() + "?mode=ro"
    database = sqlite3.connect(uri, uri=True)
    try:
        return database.execute(HISTORY_QUERY, (sensor_id,)).fetchall()
    finally:
        database.close()


def buffered_before(buffer_path, moment):
    """How many readings taken before ``moment`` a sensor daemon's buffer still holds.

    Opened read-only while the daemon runs (WAL lets a reader in beside it):
    the engine has no history API, and only the buffer says what is still to come.
    """
    uri = Path(buffer_path).resolve().as_uri() + "?mode=ro"
    buffer = sqlite3.connect(uri, uri=True, timeout=5)
    try:
        return buffer.execute("SELECT count(*) FROM pending WHERE timestamp < ?", (iso(moment),)).fetchone()[0]
    finally:
        buffer.close()


def sim_celsius(number, seconds):
    """What the sensor daemon's sim reader reports for ``sim-<number>`` at ``seconds``.

    Mirrors ``rpymostat_sensor.readers.sim.SimReader`` (a pure function of the
    clock), so a stored value tells whether the reading kept its original time.
    """
    return round(20.0 + 1.5 * math.sin(2 * math.pi * seconds / 3600.0 + number), 3)


class LoggedProcess:
    """A process whose output goes to ``log_path``; stopped with SIGTERM, killed if it ignores it."""

    def __init__(self, command, env, log_path):
        self.command, self.env, self.log_path = command, env, Path(log_path)
        self.process = None

    def start(self):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        return self

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=15.0):
        """SIGTERM and the exit status; a process that ignores it is killed and the test fails."""
        if not self.running():
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self.command[0]} ignored SIGTERM for {timeout} s:\n{self.log()}") from None


class DatabaseServer(LoggedProcess):
    """A SecantusDB server on a fixed loopback port with a data directory that outlives it.

    Stopping and starting it again keeps port and data, as a ``mongod`` that is
    restarted does, so the engine's client can find its database again.
    """

    def __init__(self, work_dir):
        self.port = free_port()
        self.data_dir = Path(work_dir) / "db"
        command = [
            sys.executable, "-m", "secantus",
            "--host", "127.0.0.1", "--port", str(self.port), "--storage-path", str(self.data_dir),
        ]  # fmt: skip
        super().__init__(command, {**os.environ, "TMPDIR": str(work_dir)}, Path(work_dir) / "db.log")

    @property
    def uri(self):
        return f"mongodb://127.0.0.1:{self.port}"

    def start(self, timeout=30.0):
        """Start it and wait until it answers a ping."""
        super().start()
        wait_for(lambda: self.running() and answers(self.uri), timeout, f"SecantusDB answers\n{self.log()}")
        return self


class SensorDaemon(LoggedProcess):
    """``rpymostat-sensor`` with ``count`` simulated sensors, finding the engine by mDNS on loopback."""

    def __init__(self, work_dir, interval, count=1, token=None):
        script = shutil.which("rpymostat-sensor")
        assert script, "rpymostat-sensor is not installed"
        env = {
            **os.environ,
            "RPYMOSTAT_SENSOR_READERS": "sim",
            "RPYMOSTAT_SIM_SENSORS": str(count),
            "RPYMOSTAT_SENSOR_INTERVAL": str(interval),
            "RPYMOSTAT_DATA_DIR": str(Path(work_dir) / "sensor-data"),
            "RPYMOSTAT_MDNS_INTERFACES": "127.0.0.1",
            **({"RPYMOSTAT_TOKEN": token} if token else {}),
        }
        env.pop("RPYMOSTAT_ENGINE_URL", None)
        super().__init__([script, "-vv"], env, Path(work_dir) / "sensor.log")


class RelayUnit(LoggedProcess):
    """``rpymostat-control`` with two simulated relays, finding the engine by mDNS on loopback."""

    relay = "sim-1"

    def __init__(self, work_dir, lease_s, min_on_s, min_off_s, engine_db, token=None):
        self.engine_db = Path(engine_db)
        script = shutil.which("rpymostat-control")
        assert script, "rpymostat-control is not installed"
        self.port = free_port()
        env = {
            **os.environ,
            "RPYMOSTAT_RELAYS": "sim",
            "RPYMOSTAT_SIM_RELAYS": "2",
            "RPYMOSTAT_CONTROL_HOST": "127.0.0.1",
            "RPYMOSTAT_CONTROL_PORT": str(self.port),
            "RPYMOSTAT_CONTROL_LEASE_S": str(lease_s),
            "RPYMOSTAT_MIN_ON_S": str(min_on_s),
            "RPYMOSTAT_MIN_OFF_S": str(min_off_s),
            "RPYMOSTAT_DATA_DIR": str(Path(work_dir) / "unit-data"),
            "RPYMOSTAT_MDNS_INTERFACES": "127.0.0.1",
            **({"RPYMOSTAT_TOKEN": token} if token else {}),
        }
        env.pop("RPYMOSTAT_ENGINE_URL", None)
        super().__init__([script, "-vv"], env, Path(work_dir) / "unit.log")

    def secret(self):
        """The secret of this unit's latest registration, as the engine stored it (no API shows it)."""
        uri = self.engine_db.resolve().as_uri() + "?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as database:
            rows = database.execute("SELECT registration FROM relay_units").fetchall()
        for (registration,) in rows:
            document = json.loads(registration)
            if document["url"].endswith(f":{self.port}"):
                return document["secret"]
        raise OSError("the unit has not registered yet")  # wait_for takes it as "not yet"

    def is_on(self):
        """Whether the heat relay is closed, as the unit itself reports it (asked as its engine asks).

        The secret is kept between calls, so polling stays fast, and read anew
        when the unit refuses it (a registration the engine confirmed since).
        """
        for attempt in (1, 2):
            if attempt == 2 or getattr(self, "_secret", None) is None:
                self._secret = self.secret()
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.port}/v1/relays", headers={"Authorization": f"Bearer {self._secret}"}
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return json.loads(response.read())["relays"][self.relay]["state"]
            except urllib.error.HTTPError as error:
                if error.code != 401 or attempt == 2:
                    raise
