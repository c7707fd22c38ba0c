"""Zero configuration stays zero configuration: daemons with no token pair, then ignore a rogue engine.

Real processes on loopback, mDNS on 127.0.0.1: a fresh engine refuses
strangers; a simulated sensor daemon and relay unit started with no token
each ask to pair, an admin approves each with ``rpymostat-engine pair
approve``, and both then work as before.  Then a rogue engine (a genuine
``rpymostat-engine`` that never paired with them) takes the advertised name
the daemons would pick first, while the real engine comes back on another
port: both daemons ignore the rogue, say so, and follow the real one.
"""

import re
import signal
import subprocess
import time

import pytest

from acceptance.engine_process import EngineProcess, engine_command, free_port
from acceptance.fault_helpers import RelayUnit, SensorDaemon, wait_for

pytestmark = pytest.mark.acceptance

INTERVAL = 0.5
CODE = re.compile(r"rpymostat-engine pair approve ([2-9A-HJKMNP-Z]{6})")


def pair(engine, *arguments):
    """``rpymostat-engine pair ...`` on the engine's own data, as an admin types it."""
    done = subprocess.run(engine_command() + ["pair", *arguments], env=engine.env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def waiting(engine):
    """``{code: (host id, role)}`` of the requests ``pair list`` shows."""
    rows = [line.split("\t") for line in pair(engine, "list").splitlines()]
    return {row[0]: (row[1], row[2]) for row in rows}


def test_daemons_pair_once_approved_then_ignore_a_rogue_engine_and_follow_the_real_one(tmp_path):
    engine = EngineProcess(tmp_path / "engine", advertise=True).start()
    assert engine.request("PUT", "/v1/zones/default", {"mode": "heat"}, token="")[0] == 401  # a stranger
    sensor = SensorDaemon(tmp_path, INTERVAL).start()  # no token anywhere
    unit = RelayUnit(tmp_path, lease_s=5, min_on_s=1, min_off_s=1, engine_db=engine.data_dir / "rpymostat.sqlite3")
    unit.start()
    rogue = None
    logs = lambda: f"{engine.log()}\n--- sensor\n{sensor.log()}\n--- unit\n{unit.log()}"  # noqa: E731
    try:
        wait_for(lambda: len(waiting(engine)) == 2, 30, f"both daemons ask to pair\n{logs()}")
        requests = waiting(engine)
        assert sorted(role for _, role in requests.values()) == ["control", "sensor"]
        assert engine.request("GET", "/v1/sensors")[1] == {"sensors": []}  # nothing before approval
        assert engine.request("GET", "/v1/controls")[1] == {"controls": []}
        for daemon in (sensor, unit):
            [code] = CODE.findall(daemon.log())  # the code each daemon logged is the one approved
            assert code in requests
            assert "approved" in pair(engine, "approve", code)

        wait_for(lambda: engine.request("GET", "/v1/sensors/sim-0")[0] == 200, 30, f"readings arrive\n{logs()}")
        wait_for(lambda: engine.request("GET", "/v1/controls")[1]["controls"], 30, f"the unit registers\n{logs()}")
        assert not unit.is_on()  # asked with the secret the unit registered
        tokens = subprocess.run(engine_command() + ["token", "list"], env=engine.env, capture_output=True, text=True)
        assert tokens.stdout.count(" paired") == 2

        # The real engine goes away; a rogue takes the name the daemons would choose first.
        assert engine.stop() == 0
        rogue = EngineProcess(tmp_path / "rogue", port=free_port(), advertise=True).start()
        time.sleep(2)  # the rogue's advertisement is out before the real engine's comes back
        engine = EngineProcess(tmp_path / "engine", port=free_port(), advertise=True).start()  # moved
        back_at = time.time()

        def delivered_again():
            latest = engine.request("GET", "/v1/sensors/sim-0")[1]
            return latest["last_seen"] > time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(back_at))

        wait_for(delivered_again, 40, f"the sensor follows the real engine to its new port\n{logs()}")

        def registered_again():
            controls = engine.request("GET", "/v1/controls")[1]["controls"]
            return controls and controls[0]["registered_at"] > time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(back_at))

        wait_for(registered_again, 40, f"the unit follows the real engine to its new port\n{logs()}")
        assert rogue.request("GET", "/v1/sensors")[1] == {"sensors": []}
        assert rogue.request("GET", "/v1/controls")[1] == {"controls": []}
        assert waiting(rogue) == {}  # paired daemons never ask a stranger to pair
        for daemon in (sensor, unit):
            assert f"ignoring the engine at {rogue.url}/v1" in daemon.log(), daemon.log()
    finally:
        sensor_exit = sensor.stop()
        unit_exit = unit.stop()
        engine.stop()
        if rogue is not None:
            rogue.stop(signal.SIGTERM)
    assert (sensor_exit, unit_exit) == (0, 0)
    assert "Traceback" not in sensor.log() + unit.log()
