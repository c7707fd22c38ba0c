"""History through a real engine process: readings in, charts and CSV out, kept across a restart."""

import time
import urllib.parse
import urllib.request

import pytest

from acceptance.engine_process import EngineProcess
from acceptance.fault_helpers import iso, wait_for

pytestmark = pytest.mark.acceptance

SENSOR = "28-00000history"


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
        window = {"zone": "hall", "start": iso(first), "end": iso(first + 1500), "step": "PT5M"}  # and now
        query = "/v1/history?" + urllib.parse.urlencode(window)  # '+' of the offsets as %2B

        def effective_temperature_kept():
            code, body = engine.request("GET", query)
            return code == 200 and sum(body["series"][0]["count"])

        wait_for(effective_temperature_kept, 20, "the zone's effective temperature in its history")
        answer = engine.request("GET", query)[1]
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
        csv_query = "/v1/history?" + urllib.parse.urlencode({**window, "step": "PT10M", "format": "csv"})
        request = urllib.request.Request(engine.url + csv_query)
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
