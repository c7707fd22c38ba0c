"""History through a real engine process: readings in, charts and CSV out, kept across a restart."""

import datetime
import time
import urllib.request

import pytest

from acceptance.engine_process import EngineProcess

pytestmark = pytest.mark.acceptance

SENSOR = "28-00000history"


def iso(seconds):
    """UTC with Z: a '+' would need %2B in a URL."""
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s")


def test_a_zone_history_is_answered_as_json_and_csv_and_survives_a_restart(tmp_path):
    engine = EngineProcess(tmp_path / "data", extra_env={"RPYMOSTAT_DECISION_INTERVAL": "0.5"}).start()
    # Twenty buffered readings, one a minute, the newest a minute ago: all whole minutes in the past.
    first = (int(time.time()) // 60 - 20) * 60
    try:
        for minute in range(20):
            update = {
                "host_id": "pi-hall",
                "sensors": {
                    SENSOR: {"type": "DS18B20", "value": 18.0 + minute / 10, "timestamp": iso(first + 60 * minute)}
                },
            }
            assert engine.request("PUT", "/v1/sensors/update", update)[0] == 201
        zone = engine.request("PUT", "/v1/zones/hall", {"sensors": {SENSOR: 1.0}, "mode": "heat"})
        assert zone[0] == 201, zone
        query = f"/v1/history?zone=hall&start={iso(first)}&end={iso(first + 1500)}&step=PT5M"  # and now

        def effective_temperature_kept():
            code, body = engine.request("GET", query)
            return body if code == 200 and sum(body["series"][0]["count"]) else None

        answer = wait_for(effective_temperature_kept, 20, "the zone's effective temperature in its history")
        assert (answer["source"], answer["step"], answer["timezone"]) == ("raw", "PT5M", "Europe/Berlin")
        assert answer["series"][0]["zone"] == "hall"
        sensor = answer["series"][1]
        assert sensor["sensor"] == SENSOR
        # Five steps: four of the buffered readings, then the one holding now, which has none of them.
        assert [sensor[column][:4] for column in ("count", "min", "mean", "max")] == [
            [5, 5, 5, 5],
            [18.0, 18.5, 19.0, 19.5],
            [18.2, 18.7, 19.2, 19.7],
            [18.4, 18.9, 19.4, 19.9],
        ]
        assert (sensor["count"][4:], len(answer["at"])) == ([0], 5)
        assert answer["setpoints"][0]["mode"] == "heat"
        request = urllib.request.Request(engine.url + query.replace("step=PT5M", "step=PT10M&format=csv"))
        request.add_header("Authorization", f"Bearer {engine.admin_token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
            rows = response.read().decode().splitlines()
        assert rows[0] == "record,name,at,end,count,min,mean,max,heat,cool,mode"
        assert f"reading,{SENSOR},{answer['start']},,10,18.0,18.45,18.9,,," in rows
        assert engine.request("GET", "/v1/history?zone=hall&step=PT1S")[1]["error"].startswith("step: PT1S")
    finally:
        assert engine.stop() == 0
    engine = EngineProcess(tmp_path / "data").start()
    try:
        code, again = engine.request("GET", query)
        assert code == 200 and again["series"][1] == sensor
    finally:
        assert engine.stop() == 0
