"""How fast the real engine takes sensor readings, next to a bare Klein server.

``python benchmarks/ingest.py [--seconds N] [--clients C] [--rate R]``, from the
repository root, starts the installed ``rpymostat-engine`` (SQLite in a temporary
data directory, no mDNS) and ``bare_klein.py`` (the same Twisted and Klein stack
answering a constant), each in its own process on a free 127.0.0.1 port.  This
process generates the load with ``http_load.py``, beside this script: raw HTTP/1.1
on persistent asyncio connections, cheap enough not to hide the servers' cost.  It
measures a closed loop (``C`` clients sending ``PUT /v1/sensors/update`` back to
back for ``N`` s after a warm-up second) against each server, an open loop (``R``
updates/s against the engine, each sent at its scheduled time whatever became of
the others, latency counted from that time), and both servers' memory, idle before
the load and after it.

Each update carries five readings with timestamps and values of their own, so
every one is a real write; the stored readings are counted at the end.  Figures
are printed against their targets and the exit status is 0 even when one is
missed: this measures, it does not test.  It is 1 only when something broke (an
answer other than 201, a lost connection, a server that did not start or stop).
"""

import argparse
import asyncio
import datetime
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
from http_load import LATE_S, WARMUP_S, closed_loop, open_loop  # beside this script

HERE = Path(__file__).resolve().parent
UPDATE_PATH = "/v1/sensors/update"
DATABASE_NAME = "rpymostat.sqlite3"  # EngineConfig.sqlite_path, inside the data dir
SENSORS_PER_UPDATE = 5
SETTLE_S = 3.0

TARGET_RATIO = 0.5
TARGET_P99_S = 0.020
TARGET_IDLE_RSS_MB = 60.0
MB = 1_000_000
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def engine_command():
    """The console script beside this interpreter (no pyenv shim in between), else on PATH."""
    beside = Path(sys.executable).parent / "rpymostat-engine"
    script = beside if beside.exists() else shutil.which("rpymostat-engine")
    return [str(script or sys.exit("rpymostat-engine is not installed (pip install -e .)"))]


class ServerProcess:
    """A server in a child process and session of its own, logging to a file."""

    def __init__(self, name, command, port, log_path, env=None):
        self.name, self.command, self.port, self.log_path = name, command, port, log_path
        self.env = env
        self.process = None
        self.token = None  # the bearer token its updates carry (the bare server checks none)

    def start(self, ready_path, timeout=30.0):
        """Start it and wait until ``GET ready_path`` gets any HTTP answer."""
        with open(self.log_path, "ab") as log:  # own session: Ctrl-C reaches only us
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{ready_path}", timeout=2):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def memory_mb(self):
        """``(rss, uss)``: USS leaves out shared library pages that RSS counts."""
        info = psutil.Process(self.process.pid).memory_full_info()
        return info.rss / MB, info.uss / MB

    def cpu_seconds(self) -> float:
        return sum(psutil.Process(self.process.pid).cpu_times()[:2])  # user + system

    def stop(self, timeout=15.0):
        """SIGTERM, then SIGKILL after ``timeout``; the exit status (None if never started)."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.terminate()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


class UpdateSource:
    """Request bytes for one host's updates, every reading's timestamp and value new."""

    def __init__(self, port, host_id, token=None):
        self.host_id = host_id
        self.sensor_ids = [f"28-{host_id}-{index}" for index in range(SENSORS_PER_UPDATE)]
        authorization = f"Authorization: Bearer {token}\r\n" if token else ""
        self.head = (
            f"PUT {UPDATE_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{authorization}"
            "Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
        )
        self.sent = 0
        self._last_ms = 0

    def next_request(self) -> bytes:
        # Whole milliseconds (what history keeps), strictly increasing per host:
        # every (sensor, timestamp) pair is new, so the engine never skips a reading.
        now_ms = max(time.time_ns() // 1_000_000, self._last_ms + 1)
        self._last_ms = now_ms
        stamp = (EPOCH + datetime.timedelta(milliseconds=now_ms)).isoformat()
        self.sent += 1
        base = 15.0 + (self.sent % 1000) / 100
        sensors = {
            sensor_id: {"type": "DS18B20", "value": round(base + index / 10, 3), "timestamp": stamp}
            for index, sensor_id in enumerate(self.sensor_ids)
        }
        body = json.dumps({"host_id": self.host_id, "sensors": sensors}).encode()
        return self.head.format(length=len(body)).encode() + body


async def measure(engine, bare, args, figures):
    """Run every load in turn, filling ``figures``; both servers are up and idle."""
    figures["engine_idle"], figures["bare_idle"] = engine.memory_mb(), bare.memory_mb()
    for name, server in (("bare", bare), ("engine", engine)):
        print(f"closed loop, {name}: {args.clients} clients, {args.seconds:g} s ...", flush=True)
        server_cpu, own_cpu = server.cpu_seconds(), time.process_time()
        sources = [UpdateSource(server.port, f"bench-{name}-{number}", server.token) for number in range(args.clients)]
        tally = await closed_loop(server.port, sources, args.seconds)
        wall = args.seconds + WARMUP_S
        tally.server_cpu = (server.cpu_seconds() - server_cpu) / wall
        tally.client_cpu = (time.process_time() - own_cpu) / wall
        figures[name] = tally
    print(f"open loop, engine: {args.rate:g} updates/s, {args.seconds:g} s ...", flush=True)
    source = UpdateSource(engine.port, "bench-open", engine.token)
    figures["open"] = await open_loop(engine.port, source, args.rate, args.seconds)
    await asyncio.sleep(SETTLE_S)
    figures["engine_after"], figures["bare_after"] = engine.memory_mb(), bare.memory_mb()


def stored_readings(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return connection.execute("SELECT count(*) FROM readings").fetchone()[0]


def verdict(passed, target) -> str:
    return f"{'PASS' if passed else 'FAIL'} ({target})"


def ms(*seconds) -> str:
    return " / ".join(f"{value * 1000:6.2f} ms" for value in seconds)


def report(figures, args) -> int:
    """Print the summary block; return how many requests broke."""
    bare, engine, opened = figures["bare"], figures["engine"], figures["open"]
    ratio = engine.rate / bare.rate if bare.rate else 0.0
    p99 = opened.percentile(0.99)
    rows = []
    for label, tally in (("bare Klein, closed loop", bare), ("engine, closed loop", engine)):
        rows += [
            (label, f"{tally.rate:8.1f} req/s", ""),
            ("    latency p50 / p99", ms(tally.percentile(0.5), tally.percentile(0.99)), ""),
            ("    CPU server / load generator", f"{tally.server_cpu:.0%} / {tally.client_cpu:.0%} of a core", ""),
        ]
    rss_target = f"< {TARGET_IDLE_RSS_MB:g} MB"
    (idle_rss, idle_uss), (after_rss, after_uss) = figures["engine_idle"], figures["engine_after"]
    expected = (engine.sent + opened.sent) * SENSORS_PER_UPDATE
    statuses = bare.statuses + engine.statuses + opened.statuses
    broken = bare.broken + engine.broken + opened.broken
    rows += [
        ("engine / bare throughput", f"{ratio:8.2f}", verdict(ratio >= TARGET_RATIO, f">= {TARGET_RATIO}")),
        (f"engine, open loop {args.rate:g}/s", f"{len(opened.latencies)} of {opened.sent} answered", ""),
        ("    latency p50", ms(opened.percentile(0.5)), ""),
        ("    latency p99", ms(p99), verdict(p99 < TARGET_P99_S, f"< {TARGET_P99_S * 1000:g} ms")),
        ("    latency max", ms(max(opened.latencies, default=float("nan"))), ""),
        (
            f"    late (> {LATE_S * 1000:g} ms) / missed sends",
            f"{opened.late} / {opened.missed} ({opened.connections} connections)",
            "",
        ),
        (
            "engine RSS idle, before load",
            f"{idle_rss:6.1f} MB (USS {idle_uss:.1f})",
            verdict(idle_rss < TARGET_IDLE_RSS_MB, rss_target),
        ),
        (
            "engine RSS idle, after load",
            f"{after_rss:6.1f} MB (USS {after_uss:.1f})",
            verdict(after_rss < TARGET_IDLE_RSS_MB, rss_target),
        ),
        ("bare Klein RSS before / after", f"{figures['bare_idle'][0]:.1f} / {figures['bare_after'][0]:.1f} MB", ""),
        ("readings stored by the engine", f"{figures['stored']} of {expected} sent", ""),
        ("answers other than 201, or lost", f"{broken} (all: {dict(statuses)})", "BROKEN" if broken else "ok"),
    ]
    if figures["engine_exit"] != 0:
        rows.append(("engine exit status on SIGTERM", str(figures["engine_exit"]), "BROKEN"))
        broken += 1
    print("\n" + "=" * 96)
    print(
        f"RPyMostat ingest: {args.clients} clients, {args.seconds:g} s a run, "
        f"{SENSORS_PER_UPDATE} readings an update, SQLite, 127.0.0.1; MB = 10^6 bytes"
    )
    print("-" * 96)
    for label, value, judgement in rows:
        print(f"{label:34} {value:38} {judgement}")
    print("=" * 96)
    return broken


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each load run (10)")
    parser.add_argument("--clients", type=int, default=8, help="closed-loop concurrent clients (8)")
    parser.add_argument("--rate", type=float, default=100.0, help="open-loop updates a second (100)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as on Ctrl-C

    with tempfile.TemporaryDirectory(prefix="rpymostat-bench-") as data_dir:
        data = Path(data_dir)
        engine_port, bare_port = free_port(), free_port()
        env = {
            **os.environ,
            "RPYMOSTAT_API_HOST": "127.0.0.1",
            "RPYMOSTAT_ADVERTISE": "0",
            "RPYMOSTAT_API_PORT": str(engine_port),
            "RPYMOSTAT_DATA_DIR": str(data),
        }
        env.pop("RPYMOSTAT_DB", None)  # the embedded SQLite default
        engine = ServerProcess("engine", engine_command(), engine_port, data / "engine.log", env)
        bare_command = [sys.executable, str(HERE / "bare_klein.py"), str(bare_port)]
        bare = ServerProcess("bare Klein", bare_command, bare_port, data / "bare.log")
        figures = {}
        try:
            engine.start("/v1/status")
            # Tokens are on, as in every house: the engine checks the admin token on each update.
            engine.token = (data / "admin-token").read_text().strip()
            bare.start("/")
            time.sleep(1.0)  # let both finish their start-up work before the idle figure
            asyncio.run(measure(engine, bare, args, figures))
            figures["engine_exit"] = engine.stop()
            figures["stored"] = stored_readings(data / DATABASE_NAME)
        except RuntimeError as error:
            print(f"benchmark broke: {error}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted; servers stopped", file=sys.stderr)
            return 130
        finally:
            engine.stop()
            bare.stop()
        broken = report(figures, args)
        if broken:
            print(f"engine log, last lines:\n{engine.log()}")
        return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
