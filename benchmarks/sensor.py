"""What the sensor daemon costs a small host: steady memory and CPU per reading.

``python benchmarks/sensor.py [--seconds 30] [--sensors 4] [--interval 1]``
starts the installed ``rpymostat-engine`` and ``rpymostat-sensor`` (the sim
reader with ``--sensors`` sensors, read every ``--interval`` seconds, the
engine given by URL) on 127.0.0.1, lets them run, and prints the daemon's
steady RSS (target < 30 MB, MB = 10^6 bytes) and the CPU time it spent per
reading delivered.  Figures, not a test.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def script(name):
    beside = Path(sys.executable).parent / name
    return str(beside if beside.exists() else shutil.which(name) or sys.exit(f"{name} is not installed"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--sensors", type=int, default=4)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="rpymostat-bench-"))
    port = free_port()
    base = {**os.environ, "RPYMOSTAT_ADVERTISE": "0", "HOME": str(work)}
    engine = subprocess.Popen(
        [script("rpymostat-engine")],
        env={
            **base,
            "RPYMOSTAT_API_HOST": "127.0.0.1",
            "RPYMOSTAT_API_PORT": str(port),
            "RPYMOSTAT_DATA_DIR": str(work / "engine"),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sensor = None
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/status", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        engine_env = {**base, "RPYMOSTAT_DATA_DIR": str(work / "engine")}
        made = subprocess.run(
            [script("rpymostat-engine"), "token", "create", "--role", "sensor", "--name", "bench"],
            env=engine_env,
            capture_output=True,
            text=True,
            check=True,
        )
        sensor = subprocess.Popen(
            [script("rpymostat-sensor")],
            env={
                **base,
                "RPYMOSTAT_TOKEN": made.stdout.split()[-1],  # tokens are on, as in every house
                "RPYMOSTAT_ENGINE_URL": f"http://127.0.0.1:{port}",
                "RPYMOSTAT_SENSOR_READERS": "sim",
                "RPYMOSTAT_SIM_SENSORS": str(args.sensors),
                "RPYMOSTAT_SENSOR_INTERVAL": str(args.interval),
                "RPYMOSTAT_DATA_DIR": str(work / "sensor"),
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        daemon = psutil.Process(sensor.pid)
        time.sleep(3)  # start-up done, first readings sent
        cpu_before = sum(daemon.cpu_times()[:2])
        samples = []
        started = time.monotonic()
        while time.monotonic() - started < args.seconds:
            samples.append(daemon.memory_info().rss)
            time.sleep(0.5)
        cpu = sum(daemon.cpu_times()[:2]) - cpu_before
        readings = args.sensors * args.seconds / args.interval
        rss = max(samples) / 1e6
        uss = daemon.memory_full_info().uss / 1e6
        print(f"sensor daemon: {args.sensors} sim sensors every {args.interval:g} s for {args.seconds:g} s")
        print(f"steady RSS (max)          {rss:7.1f} MB (USS {uss:.1f})   {'PASS' if rss < 30 else 'FAIL'} (< 30 MB)")
        print(f"CPU per reading           {1000 * cpu / readings:7.2f} ms   ({cpu:.2f} s for ~{readings:.0f})")
    finally:
        for process in (sensor, engine):
            if process is not None:
                process.send_signal(signal.SIGTERM)
                process.wait(20)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
