"""How fast the real engine takes sensor readings, next to a bare Klein server.

Run from the repository root::

    python benchmarks/ingest.py [--seconds N] [--clients C] [--rate R]

One run starts the installed ``rpymostat-engine`` (embedded SQLite in a
temporary data directory, no mDNS) and :mod:`bare_klein` (the same Twisted and
Klein serving stack answering a constant), each in a process of its own on a
free 127.0.0.1 port.  This process is the load generator: raw HTTP/1.1 over
persistent connections on asyncio, so the client costs a few tens of
microseconds a request and does not hide the servers' cost.  It measures

1. closed loop: ``C`` clients, each sending ``PUT /v1/sensors/update`` as soon
   as its previous answer arrived, for ``N`` seconds after a warm-up second,
   against the bare server and then the engine: throughput, their ratio, and
   latency;
2. open loop: ``R`` updates a second against the engine, each sent at its
   scheduled time whatever happened to the ones before (on another
   connection if needed), latency counted from that scheduled time;
3. resident memory of both servers, idle before the load and once it settled.

Every update carries five readings with timestamps and values no other
update has, so each one is a real write; the number of stored readings is
checked at the end.  It prints figures against their targets and exits 0 even
when a target is missed: it is a measurement, not a test.  It exits 1 only
when something broke (an answer other than 201, a lost connection, a server
that did not start).
"""

import argparse
import asyncio
import datetime
import json
import os
import re
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

HERE = Path(__file__).resolve().parent
UPDATE_PATH = "/v1/sensors/update"
DATABASE_NAME = "rpymostat.sqlite3"  # EngineConfig.sqlite_path inside the data dir
SENSORS_PER_UPDATE = 5
WARMUP_S = 1.0
SETTLE_S = 3.0
LATE_S = 0.001  # an open-loop send this much after its schedule counts as late
MAX_OPEN_LOOP_CONNECTIONS = 64  # beyond this a due send is missed, not queued

TARGET_RATIO = 0.5
TARGET_P99_S = 0.020
TARGET_IDLE_RSS_MB = 60.0
MB = 1_000_000

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def engine_command():
    """The console script installed beside this interpreter (not a pyenv shim), else on PATH."""
    beside = Path(sys.executable).parent / "rpymostat-engine"
    script = str(beside) if beside.exists() else shutil.which("rpymostat-engine")
    if not script:
        raise SystemExit("rpymostat-engine is not installed (pip install -e '.[engine]')")
    return [script]


class ServerProcess:
    """A server in a child process of its own, logging to a file, stopped by :meth:`stop`."""

    def __init__(self, name, command, port, log_path, env=None):
        self.name, self.command, self.port, self.log_path = name, command, port, log_path
        self.env = env
        self.process = None

    def start(self, ready_path, timeout=30.0):
        """Start it and wait until ``GET ready_path`` gets any HTTP answer."""
        with open(self.log_path, "ab") as log:
            # A session of its own: Ctrl-C reaches only us, and we stop it in order.
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.process.returncode}:\n{self.log()}")
            try:
                url = f"http://127.0.0.1:{self.port}{ready_path}"
                with urllib.request.urlopen(url, timeout=2):
                    return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def rss_mb(self) -> float:
        return psutil.Process(self.process.pid).memory_info().rss / MB

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def stop(self, timeout=15.0):
        """SIGTERM, then SIGKILL after ``timeout``; returns the exit status."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.terminate()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


class UpdateSource:
    """Request bytes for updates from one host, every reading's timestamp and value new."""

    def __init__(self, port, host_id):
        self.host_id = host_id
        self.sensor_ids = [f"28-{host_id}-{index}" for index in range(SENSORS_PER_UPDATE)]
        self.head = (
            f"PUT {UPDATE_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
        )
        self.sent = 0
        self._last_us = 0

    def next_request(self) -> bytes:
        # Whole microseconds, strictly increasing per host: each (sensor, timestamp)
        # pair is new, so the engine's INSERT OR IGNORE never skips a reading.
        now_us = max(time.time_ns() // 1000, self._last_us + 1)
        self._last_us = now_us
        stamp = (EPOCH + datetime.timedelta(microseconds=now_us)).isoformat()
        self.sent += 1
        base = 15.0 + (self.sent % 1000) / 100
        sensors = {
            sensor_id: {"type": "DS18B20", "value": round(base + index / 10, 3), "timestamp": stamp}
            for index, sensor_id in enumerate(self.sensor_ids)
        }
        body = json.dumps({"host_id": self.host_id, "sensors": sensors}).encode()
        return self.head.format(length=len(body)).encode() + body


_CONTENT_LENGTH = re.compile(rb"content-length:\s*(\d+)")


def parse_response(buffer: bytes):
    """``(status, end)`` of the complete HTTP/1.1 response at the start of ``buffer``, or None.

    Handles ``Content-Length`` and chunked bodies (Twisted answers chunked when a
    handler returns its body after the headers); trailers are not expected.
    """
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head = buffer[:head_end].lower()
    status = int(head[9:12])
    position = head_end + 4
    if b"transfer-encoding: chunked" in head:
        while True:
            line_end = buffer.find(b"\r\n", position)
            if line_end < 0:
                return None
            size = int(buffer[position:line_end].split(b";")[0], 16)
            position = line_end + 2 + size + 2
            if position > len(buffer):
                return None
            if size == 0:
                return status, position
    match = _CONTENT_LENGTH.search(head)
    end = position + (int(match.group(1)) if match else 0)
    return (status, end) if end <= len(buffer) else None


class HttpConnection(asyncio.Protocol):
    """One persistent HTTP/1.1 connection, one request at a time."""

    def __init__(self):
        self.transport = None
        self._buffer = b""
        self._waiter = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self._buffer += data
        parsed = parse_response(self._buffer)
        if parsed is not None and self._waiter is not None:
            status, end = parsed
            self._buffer = self._buffer[end:]
            waiter, self._waiter = self._waiter, None
            waiter.set_result(status)

    def connection_lost(self, exc):
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError(f"connection lost: {exc}"))

    def send(self, request: bytes) -> asyncio.Future:
        """The response's status code, once it has fully arrived."""
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self._waiter


async def connect(port) -> HttpConnection:
    _, connection = await asyncio.get_running_loop().create_connection(
        HttpConnection, "127.0.0.1", port
    )
    return connection


class Tally:
    """Latencies of the answered requests and what went wrong with the others."""

    def __init__(self):
        self.latencies = []
        self.statuses = {}
        self.errors = 0
        self.late = 0
        self.missed = 0
        self.connections = 0

    def add(self, status, latency):
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status == 201:
            self.latencies.append(latency)

    @property
    def bad(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 201) + self.errors

    def percentile(self, fraction) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


async def closed_loop(port, clients, seconds, tag):
    """``(tally, measured_seconds, updates_sent)``: ``clients`` back-to-back senders."""
    loop = asyncio.get_running_loop()
    tally = Tally()
    record_from = loop.time() + WARMUP_S
    stop_at = record_from + seconds
    sources = [UpdateSource(port, f"bench-{tag}-{number}") for number in range(clients)]

    async def client(source):
        connection = await connect(port)
        try:
            while loop.time() < stop_at:
                started = loop.time()
                status = await connection.send(source.next_request())
                if started >= record_from:
                    tally.add(status, loop.time() - started)
        finally:
            connection.transport.close()

    outcomes = await asyncio.wait_for(
        asyncio.gather(*(client(s) for s in sources), return_exceptions=True), seconds + 60
    )
    tally.errors += sum(isinstance(outcome, Exception) for outcome in outcomes)
    return tally, seconds, sum(source.sent for source in sources)


async def open_loop(port, rate, seconds):
    """``(tally, updates_sent)``: sends scheduled by the clock at ``rate`` a second."""
    loop = asyncio.get_running_loop()
    tally = Tally()
    source = UpdateSource(port, "bench-open")
    idle = [await connect(port) for _ in range(4)]
    tally.connections = len(idle)
    exchanges = []

    async def exchange(connection, due):
        if connection is None:
            connection = await connect(port)
        try:
            status = await connection.send(source.next_request())
        except ConnectionError:
            tally.errors += 1
            return
        tally.add(status, loop.time() - due)
        idle.append(connection)

    start = loop.time() + 0.1
    for number in range(int(rate * seconds)):
        due = start + number / rate
        if due > loop.time():
            await asyncio.sleep(due - loop.time())
        if loop.time() - due > LATE_S:
            tally.late += 1
        if idle:
            connection = idle.pop()
        elif tally.connections < MAX_OPEN_LOOP_CONNECTIONS:
            connection, tally.connections = None, tally.connections + 1
        else:
            tally.missed += 1
            continue
        exchanges.append(asyncio.ensure_future(exchange(connection, due)))
    if exchanges:
        await asyncio.wait(exchanges, timeout=30)
    tally.errors += sum(1 for task in exchanges if not task.done() or task.exception())
    for connection in idle:
        connection.transport.close()
    return tally, source.sent


def stored_readings(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return connection.execute("SELECT count(*) FROM readings").fetchone()[0]


def verdict(passed) -> str:
    return "PASS" if passed else "FAIL"


def ms(seconds) -> str:
    return f"{seconds * 1000:7.2f} ms"


async def measure(engine, bare, args, figures):
    """Run every load in order, filling ``figures``; servers are already up."""
    figures["engine_rss_idle"], figures["bare_rss_idle"] = engine.rss_mb(), bare.rss_mb()
    for name, server in (("bare", bare), ("engine", engine)):
        print(f"closed loop against {name}: {args.clients} clients, {args.seconds} s ...", flush=True)
        server_cpu, own_cpu = server.cpu_seconds(), time.process_time()
        tally, seconds, sent = await closed_loop(server.port, args.clients, args.seconds, name)
        wall = seconds + WARMUP_S
        figures[f"{name}_server_cpu"] = (server.cpu_seconds() - server_cpu) / wall
        figures[f"{name}_client_cpu"] = (time.process_time() - own_cpu) / wall
        figures[name] = (tally, seconds)
        figures[f"{name}_sent"] = sent
    print(f"open loop against engine: {args.rate} updates/s, {args.seconds} s ...", flush=True)
    figures["open"], figures["open_sent"] = await open_loop(engine.port, args.rate, args.seconds)
    await asyncio.sleep(SETTLE_S)
    figures["engine_rss_after"], figures["bare_rss_after"] = engine.rss_mb(), bare.rss_mb()


def report(figures, args) -> int:
    """Print the summary block; return the number of requests that broke."""
    bare, bare_s = figures["bare"]
    engine, engine_s = figures["engine"]
    open_tally = figures["open"]
    bare_rate = len(bare.latencies) / bare_s
    engine_rate = len(engine.latencies) / engine_s
    ratio = engine_rate / bare_rate if bare_rate else 0.0
    open_p99 = open_tally.percentile(0.99)
    rows = [
        ("bare Klein, closed loop", f"{bare_rate:8.1f} req/s", ""),
        ("    latency p50 / p99", f"{ms(bare.percentile(0.5))} / {ms(bare.percentile(0.99))}", ""),
        ("    CPU: server / load generator",
         f"{figures['bare_server_cpu']:.0%} / {figures['bare_client_cpu']:.0%} of a core", ""),
        ("engine PUT /v1/sensors/update", f"{engine_rate:8.1f} req/s", ""),
        ("    latency p50 / p99",
         f"{ms(engine.percentile(0.5))} / {ms(engine.percentile(0.99))}", ""),
        ("    CPU: server / load generator",
         f"{figures['engine_server_cpu']:.0%} / {figures['engine_client_cpu']:.0%} of a core", ""),
        ("engine / bare throughput", f"{ratio:8.2f}", f"{verdict(ratio >= TARGET_RATIO)} (>= {TARGET_RATIO})"),
        (f"open loop {args.rate:g}/s: answered", f"{len(open_tally.latencies)} of {figures['open_sent']}", ""),
        ("    latency p50", ms(open_tally.percentile(0.5)), ""),
        ("    latency p99", ms(open_p99), f"{verdict(open_p99 < TARGET_P99_S)} (< {TARGET_P99_S * 1000:g} ms)"),
        ("    latency max", ms(max(open_tally.latencies, default=float("nan"))), ""),
        ("    late sends (> 1 ms) / missed",
         f"{open_tally.late} / {open_tally.missed} ({open_tally.connections} connections)", ""),
        ("engine idle RSS before load", f"{figures['engine_rss_idle']:7.1f} MB",
         f"{verdict(figures['engine_rss_idle'] < TARGET_IDLE_RSS_MB)} (< {TARGET_IDLE_RSS_MB:g} MB)"),
        ("engine idle RSS after load", f"{figures['engine_rss_after']:7.1f} MB",
         f"{verdict(figures['engine_rss_after'] < TARGET_IDLE_RSS_MB)} (< {TARGET_IDLE_RSS_MB:g} MB)"),
        ("bare Klein RSS before / after",
         f"{figures['bare_rss_idle']:.1f} / {figures['bare_rss_after']:.1f} MB", ""),
    ]
    expected = (figures["engine_sent"] + figures["open_sent"]) * SENSORS_PER_UPDATE
    rows.append(("readings stored by the engine", f"{figures['stored']} of {expected} sent", ""))
    broken = bare.bad + engine.bad + open_tally.bad
    statuses = {}
    for tally in (bare, engine, open_tally):
        for status, count in tally.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    rows.append(("answers other than 201 / lost", f"{broken}  {statuses}", "OK" if not broken else "BROKEN"))
    print()
    print("=" * 92)
    print(f"RPyMostat ingest benchmark: {args.clients} clients, {args.seconds} s per run, "
          f"{SENSORS_PER_UPDATE} readings per update, SQLite, loopback (MB = 10^6 bytes)")
    print("-" * 92)
    for label, value, judgement in rows:
        print(f"{label:36} {value:34} {judgement}")
    print("=" * 92)
    return broken


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each load run (10)")
    parser.add_argument("--clients", type=int, default=8, help="closed-loop concurrent clients (8)")
    parser.add_argument("--rate", type=float, default=100.0, help="open-loop updates a second (100)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # runs the finally below

    with tempfile.TemporaryDirectory(prefix="rpymostat-bench-") as data_dir:
        data = Path(data_dir)
        engine_port, bare_port = free_port(), free_port()
        env = {
            **os.environ,
            "RPYMOSTAT_API_HOST": "127.0.0.1",
            "RPYMOSTAT_API_PORT": str(engine_port),
            "RPYMOSTAT_DATA_DIR": str(data),
            "RPYMOSTAT_ADVERTISE": "0",
        }
        env.pop("RPYMOSTAT_DB", None)
        engine = ServerProcess("engine", engine_command(), engine_port, data / "engine.log", env)
        bare = ServerProcess(
            "bare Klein", [sys.executable, str(HERE / "bare_klein.py"), str(bare_port)],
            bare_port, data / "bare.log",
        )
        figures = {}
        try:
            engine.start("/v1/status")
            bare.start("/")
            time.sleep(1.0)  # let both finish start-up work before the idle figure
            asyncio.run(measure(engine, bare, args, figures))
            status = engine.stop()
            if status != 0:
                print(f"engine exited {status} on SIGTERM:\n{engine.log()}")
            figures["stored"] = stored_readings(data / DATABASE_NAME)
        finally:
            engine.stop()
            bare.stop()
        broken = report(figures, args)
        if broken:
            print(f"engine log tail:\n{engine.log()}")
        return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
