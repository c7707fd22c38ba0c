"""Soak: a hundred sensor hosts updating every second against one engine for minutes.

``python benchmarks/soak.py [--minutes 10] [--hosts 100]``, from the repository
root, starts the installed ``rpymostat-engine`` (SQLite in a temporary data
directory, default settings, no mDNS) and one ``rpymostat-control`` (20 sim
relays) that registers with it, and creates a few zones, each weighing three
sensors of different hosts and heating through one relay, so the decision loop
runs on its own timer and really switches relays.  Then ``--hosts`` simulated
sensor hosts, each on its own persistent connection (raw HTTP/1.1 from
``http_load.py``), send ``PUT /v1/sensors/update`` with their sensors' readings
once a second, on schedule and spread across the second, for ``--minutes``.
Every host loop runs a fixed number of ticks and stops by itself; a request
that takes longer than its timeout is an error.

It prints updates sent and acknowledged, errors (anything but 201, a timeout or
a lost connection), the latency from each update's scheduled time (p50, p99,
max), the engine's RSS at start, after the warm-up and at the end with the
growth between the last two (psutil, from the engine's pid), the CPU each
process used, what the engine stored, and every record the engine keeps,
in memory or on disk, with what bounds it (:data:`GROWTH`, read from the code).
Figures, not a test: the exit status is 1 only when something broke (an error,
a server that did not start, stop cleanly or decide its zones).
"""

import argparse
import asyncio
import datetime
import json
import math
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
from control import ControlUnit, default_script, percentile  # beside this script
from http_load import Tally, connect, wait_until
from ingest import DATABASE_NAME, EPOCH, MB, ServerProcess, engine_command, free_port

SENSORS_PER_HOST = 2
ZONES = 4
SENSORS_PER_ZONE = 3
PERIOD_S = 1.0  # each host sends one update a second
TIMEOUT_S = 10.0  # an answer later than this is an error
LATE_S = 0.1  # a send this long after its scheduled time counts as late
SAMPLE_EVERY_S = 5.0
SETTLE_S = 2.0
TARGET_GROWTH = 0.10  # RSS, after the warm-up to the end

#: The engine's admin token, once it wrote it: every request here carries it (tokens are on).
AUTHORIZATION = {}

#: Every record the engine keeps that could grow, and what bounds it, read from
#: the code (``rpymostat/control_loop/``, ``api/sensors_api.py``, ``events.py``,
#: ``schedule/``, ``storage/``).  ``(where, what, bounded by, grows with traffic?)``.
GROWTH = (
    ("SQLite readings", "one row per accepted reading", "nothing: no retention", "yes, by design"),
    ("SQLite sensors", "one row per sensor id ever seen", "distinct sensor ids", "only with new ids"),
    ("SQLite runs, run_samples", "a run per switch-on, a sample every 300 s", "nothing: no retention", "with heating"),
    ("SQLite output_states", "one row per output address", "addresses ever used", "no"),
    ("DecisionLoop.samples", "newest Sample (+1 previous) per sensor", "distinct sensor ids (DELETE prunes)", "no"),
    ("DecisionLoop.reports / failures", "ZoneReport / reason per zone", "zones (pruned every run)", "no"),
    ("DecisionLoop._zone_outputs", "outputs per zone", "zones (pruned every run)", "no"),
    ("OutputLedger._states", "OutputState per output address", "addresses ever used; starts: 1 h window", "no"),
    ("RunRecorder._open", "open run per (zone, output)", "outputs in use (closed when gone)", "no"),
    ("RelayDispatcher._known / _down", "registration per unit / failures", "units named by zones / one run", "no"),
    ("CoalescingRunner", "pending zones and Deferreds", "one run behind the current one", "no"),
    ("EventBus._subscribers", "callbacks", "2, subscribed once at start", "no"),
    ("HostClocks._ahead / _warned", "lead and last warning per host id", "hosts ahead within 900 s", "no"),
    ("TimelineCache._cached", "segments per zone, -1 day to +48 h", "zones; cleared every 900 s", "no"),
    ("cron compile_expression", "compiled cron matchers", "lru_cache(maxsize=1024)", "no"),
    ("RequestValidator._fast / _reference", "compiled validators", "schema names in openapi.json", "no"),
    ("TokenAccess._cache / _known_good", "record per token hash used", "tokens that exist(ed); 24 h unused", "no"),
    ("FailureThrottle._failures", "failure times per address", "60 s window; 4096 addresses", "no"),
    ("SQLite tokens", "one row per token", "tokens made or paired", "no"),
    ("SQLite pairings", "one row per pairing request", "16 waiting; expired purged on each request", "no"),
    ("GroupCommitter._queue", "writes waiting for a commit", "requests in flight (no cap)", "only under overload"),
    ("JsonClient connection pool", "persistent connections", "2 per relay unit", "no"),
)


class HostUpdates:
    """One sensor host's update requests: its sensors' readings, a new timestamp each."""

    def __init__(self, port, number, sensors=SENSORS_PER_HOST):
        self.host_id = f"soak-host-{number:03d}"
        self.sensor_ids = [f"28-soak{number:03d}{index}" for index in range(sensors)]
        self.head = (
            f"PUT /v1/sensors/update HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in AUTHORIZATION.items())
            + "Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
        )
        self.phase = number * 0.37  # hosts do not warm and cool in step
        self.sent = 0
        self._last_us = 0

    def next_request(self) -> bytes:
        now_us = max(time.time_ns() // 1000, self._last_us + 1)  # every (sensor, timestamp) new
        self._last_us = now_us
        stamp = (EPOCH + datetime.timedelta(microseconds=now_us)).isoformat()
        self.sent += 1
        # About 21 C, swinging 2 C over ten minutes: the zones' heat goes on and off.
        value = 21.0 + 2.0 * math.sin(self.phase + now_us / 1e6 * 2 * math.pi / 600)
        sensors = {
            sensor_id: {"type": "DS18B20", "value": round(value + index / 10, 3), "timestamp": stamp}
            for index, sensor_id in enumerate(self.sensor_ids)
        }
        body = json.dumps({"host_id": self.host_id, "sensors": sensors}).encode()
        return self.head.format(length=len(body)).encode() + body


def registered(database):
    """The relay unit's registration as the engine stored it (None before): its secret opens the unit."""
    uri = Path(database).resolve().as_uri() + "?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True)
        try:
            row = connection.execute("SELECT registration FROM relay_units").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return None
    return None if row is None else json.loads(row[0])


def request(url, method="GET", body=None):
    """``(status, decoded JSON)`` of one request to the engine or the unit."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **AUTHORIZATION}
    prepared = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(prepared, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def wait_for_unit(engine_url, host_id, timeout=30.0):
    """Wait until the relay unit has registered with the engine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = request(engine_url + "/v1/controls")
        if status == 200 and host_id in json.dumps(body):
            return
        time.sleep(0.2)
    raise RuntimeError(f"relay unit {host_id} did not register within {timeout} s")


def introduce_hosts(engine_url, hosts):
    """One update from every host before the load, so the zones can name their sensors."""
    for number in range(hosts):
        request_bytes = HostUpdates(0, number).next_request()
        status, body = request(
            engine_url + "/v1/sensors/update", "PUT", json.loads(request_bytes.partition(b"\r\n\r\n")[2])
        )
        if status != 201:
            raise RuntimeError(f"the first update of host {number} answered {status}: {body}")


def create_zones(engine_url, unit_host_id, hosts):
    """``ZONES`` zones, zone n weighing sensor 0 of three hosts spread over all and heating through sim-n."""
    zones = []
    for number in range(1, ZONES + 1):
        members = [(number - 1 + index * ZONES) % hosts for index in range(SENSORS_PER_ZONE)]
        document = {
            "name": f"Soak {number}",
            "mode": "heat",
            "sensors": {f"28-soak{member:03d}0": 1.0 for member in members},
            "quorum": 1,
            "default_heat_setpoint": 21.0,
            "outputs": {"heat": f"{unit_host_id}/sim-{number}"},
        }
        zone = f"soak-{number}"
        status, body = request(f"{engine_url}/v1/zones/{zone}", "PUT", document)
        if status not in (200, 201):
            raise RuntimeError(f"PUT /v1/zones/{zone} answered {status}: {body}")
        zones.append(zone)
    return zones


class Monitor:
    """Samples a process's RSS every few seconds; remembers the figures at named moments."""

    def __init__(self, pid):
        self.process = psutil.Process(pid)
        self.series = []  # (seconds since the load began, RSS MB)
        self.marks = {}

    def mark(self, name):
        info = self.process.memory_full_info()
        self.marks[name] = (info.rss / MB, info.uss / MB, sum(self.process.cpu_times()[:2]))

    async def run(self, began, stop_at, warmup_s):
        loop = asyncio.get_running_loop()
        warm = False
        while loop.time() < stop_at:
            self.series.append((loop.time() - began, self.process.memory_info().rss / MB))
            if not warm and loop.time() - began >= warmup_s:
                self.mark("warm")
                warm = True
            await asyncio.sleep(min(SAMPLE_EVERY_S, max(0.0, stop_at - loop.time())))
        if not warm:
            self.mark("warm")

    def slope_mb_per_hour(self, after_s):
        """Least-squares slope of RSS over time, from ``after_s`` on."""
        points = [(t, rss) for t, rss in self.series if t >= after_s]
        if len(points) < 3:
            return float("nan")
        mean_t = statistics.fmean(t for t, _ in points)
        mean_rss = statistics.fmean(rss for _, rss in points)
        spread = sum((t - mean_t) ** 2 for t, _ in points)
        return sum((t - mean_t) * (rss - mean_rss) for t, rss in points) / spread * 3600


async def host_loop(port, source, start, ticks, tally, lateness):
    """``ticks`` updates, one every ``PERIOD_S`` from ``start``; latency counted from each scheduled time."""
    loop = asyncio.get_running_loop()
    connection = await connect(port)
    try:
        for tick in range(ticks):
            due = start + tick * PERIOD_S
            await wait_until(loop, due)
            lateness.append(loop.time() - due)
            try:
                status = await asyncio.wait_for(connection.send(source.next_request()), TIMEOUT_S)
            except (TimeoutError, ConnectionError, OSError) as error:
                tally.errors += 1
                print(f"{source.host_id}: {error!r}", file=sys.stderr, flush=True)
                connection.transport.close()
                connection = await connect(port)
                continue
            tally.add(status, loop.time() - due)
    finally:
        connection.transport.close()


async def load(engine, args, figures):
    """Every host for ``--minutes``, with the engine's memory sampled beside them."""
    loop = asyncio.get_running_loop()
    ticks = round(args.minutes * 60 / PERIOD_S)
    warmup_s = min(60.0, args.minutes * 60 / 4)
    sources = [HostUpdates(engine.port, number) for number in range(args.hosts)]
    tally, lateness = Tally(seconds=ticks * PERIOD_S, connections=args.hosts), []
    monitor = Monitor(engine.process.pid)
    began = loop.time() + 0.5
    own_cpu = time.process_time()
    monitor.mark("start")
    hosts = [
        asyncio.ensure_future(
            host_loop(engine.port, source, began + number * PERIOD_S / args.hosts, ticks, tally, lateness)
        )
        for number, source in enumerate(sources)
    ]
    sampler = asyncio.ensure_future(monitor.run(began, began + ticks * PERIOD_S, warmup_s))
    done, stuck = await asyncio.wait(hosts, timeout=ticks * PERIOD_S + TIMEOUT_S + 30)
    for task in stuck:
        task.cancel()
    tally.errors += len(stuck) + sum(1 for task in done if task.exception())
    await sampler
    monitor.mark("end")
    figures.update(
        tally=tally,
        lateness=lateness,
        monitor=monitor,
        sent=sum(source.sent for source in sources),
        load_cpu=time.process_time() - own_cpu,
        wall=loop.time() - began,
        warmup_s=warmup_s,
    )


def stored(database: Path):
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 (fixed names)
            for table in ("readings", "sensors", "runs", "run_samples", "output_states")
        }


def engine_view(engine_url, zones, interval_s):
    """What the engine says about its zones: the ones decided within two intervals, and its sensors."""
    now = time.time()
    decided = 0
    for zone in zones:
        status, state = request(f"{engine_url}/v1/zones/{zone}/state")
        when = state.get("decided_at") if status == 200 else None
        if when and now - datetime.datetime.fromisoformat(when).timestamp() <= 2 * interval_s + 5:
            decided += 1
    runs = sum(len(request(f"{engine_url}/v1/zones/{zone}/runs")[1].get("runs", [])) for zone in zones)
    sensors = len(request(engine_url + "/v1/sensors")[1]["sensors"])
    return {"decided": decided, "runs": runs, "sensors": sensors}


def report(figures, args) -> int:
    tally, monitor = figures["tally"], figures["monitor"]
    (start_rss, start_uss, start_cpu) = monitor.marks["start"]
    (warm_rss, warm_uss, warm_cpu) = monitor.marks["warm"]
    (end_rss, end_uss, end_cpu) = monitor.marks["end"]
    growth = (end_rss - warm_rss) / warm_rss
    acknowledged = tally.statuses[201]
    errors = tally.broken
    wall = figures["wall"]
    late = sum(1 for seconds in figures["lateness"] if seconds > LATE_S)
    peak = max(rss for _, rss in monitor.series)
    tables, view = figures["stored"], figures["view"]
    expected_rows = (acknowledged + args.hosts) * SENSORS_PER_HOST  # with each host's first update

    def ms(fraction):
        return f"{percentile(tally.latencies, fraction) * 1000:.2f}" if tally.latencies else "nan"

    rows = [
        ("updates sent / acknowledged (201)", f"{figures['sent']} / {acknowledged}", ""),
        ("errors (not 201, timeout, lost)", f"{errors} (all: {dict(tally.statuses)})", "FAIL" if errors else "ok"),
        ("rate", f"{acknowledged / wall:.1f} updates/s, {acknowledged * SENSORS_PER_HOST / wall:.0f} readings/s", ""),
        ("latency p50 / p99 / max", f"{ms(0.5)} / {ms(0.99)} / {max(tally.latencies) * 1000:.1f} ms", ""),
        (f"sends late (> {LATE_S * 1000:g} ms)", f"{late} of {len(figures['lateness'])}", ""),
        ("engine RSS at start", f"{start_rss:6.1f} MB (USS {start_uss:.1f})", ""),
        (f"engine RSS after warm-up ({figures['warmup_s']:g} s)", f"{warm_rss:6.1f} MB (USS {warm_uss:.1f})", ""),
        ("engine RSS at the end", f"{end_rss:6.1f} MB (USS {end_uss:.1f}), peak {peak:.1f}", ""),
        (
            "RSS growth, warm-up to end",
            f"{growth:+.1%} ({end_rss - warm_rss:+.1f} MB)",
            f"{'ok' if growth < TARGET_GROWTH else 'MISSED'} (< {TARGET_GROWTH:.0%})",
        ),
        ("RSS trend after warm-up", f"{monitor.slope_mb_per_hour(figures['warmup_s']):+.2f} MB/h", ""),
        ("engine CPU, whole load", f"{(end_cpu - start_cpu) / wall:.1%} of a core ({end_cpu - start_cpu:.1f} s)", ""),
        ("relay unit / load generator CPU", f"{figures['unit_cpu'] / wall:.1%} / {figures['load_cpu'] / wall:.1%}", ""),
        ("readings stored", f"{tables['readings']} of {expected_rows} acknowledged (first updates too)", ""),
        ("database size", f"{figures['database_mb']:.1f} MB ({tables['readings'] / wall:.0f} rows/s)", ""),
        (
            "sensors / runs / run samples / outputs",
            f"{tables['sensors']} / {tables['runs']} / {tables['run_samples']} / {tables['output_states']}",
            "",
        ),
        (
            "zones decided in the last 2 intervals",
            f"{view['decided']} of {ZONES} ({view['runs']} runs)",
            "ok" if view["decided"] == ZONES else "FAIL",
        ),
    ]
    if figures["engine_exit"] != 0:
        rows.append(("engine exit status on SIGTERM", str(figures["engine_exit"]), "FAIL"))
    print("\n" + "=" * 100)
    print(
        f"RPyMostat soak: {args.hosts} hosts x {SENSORS_PER_HOST} sensors, one update a second each, "
        f"{args.minutes:g} min, {ZONES} zones, SQLite, 127.0.0.1; MB = 10^6 bytes"
    )
    print("-" * 100)
    for label, value, judgement in rows:
        print(f"{label:40} {value:44} {judgement}")
    print("-" * 100)
    print("What the engine keeps, and what bounds it (from the code):")
    for where, what, bound, grows in GROWTH:
        print(f"  {where:36} {what:42} {bound:44} grows: {grows}")
    print("=" * 100)
    broken = errors + (figures["engine_exit"] != 0) + (view["decided"] != ZONES)
    return broken


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the load (10)")
    parser.add_argument("--hosts", type=int, default=100, help="simulated sensor hosts (100)")
    args = parser.parse_args(argv)
    if args.hosts < ZONES * SENSORS_PER_ZONE:
        parser.error(f"--hosts must be at least {ZONES * SENSORS_PER_ZONE}")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as on Ctrl-C

    with tempfile.TemporaryDirectory(prefix="rpymostat-soak-") as data_dir:
        data = Path(data_dir)
        port = free_port()
        env = {
            **os.environ,
            "RPYMOSTAT_API_HOST": "127.0.0.1",
            "RPYMOSTAT_API_PORT": str(port),
            "RPYMOSTAT_DATA_DIR": str(data / "engine"),
            "RPYMOSTAT_ADVERTISE": "0",
        }
        env.pop("RPYMOSTAT_DB", None)  # the embedded SQLite default
        (data / "engine").mkdir()
        engine = ServerProcess("engine", engine_command(), port, data / "engine.log", env)
        unit = ControlUnit(default_script(), data / "unit")
        unit.env["RPYMOSTAT_ENGINE_URL"] = f"http://127.0.0.1:{port}"
        figures = {}
        try:
            engine.start("/v1/status")
            AUTHORIZATION["Authorization"] = "Bearer " + (data / "engine" / "admin-token").read_text().strip()
            made = subprocess.run(
                engine_command() + ["token", "create", "--role", "control", "--name", "soak-unit"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            unit.env["RPYMOSTAT_TOKEN"] = made.stdout.split()[-1]
            unit.registration = lambda: registered(data / "engine" / DATABASE_NAME)  # the real engine's
            relays = unit.start()
            engine_url = f"http://127.0.0.1:{port}"
            wait_for_unit(engine_url, relays["host_id"])
            introduce_hosts(engine_url, args.hosts)
            zones = create_zones(engine_url, relays["host_id"], args.hosts)
            time.sleep(1.0)  # the decision run the zones asked for
            interval_s = 30.0  # EngineConfig's default decision interval
            print(
                f"soak: {args.hosts} hosts, {args.minutes:g} min, engine pid {engine.process.pid} "
                f"on port {port}, zones {', '.join(zones)} ...",
                flush=True,
            )
            unit_cpu = sum(psutil.Process(unit.process.pid).cpu_times()[:2])
            asyncio.run(load(engine, args, figures))
            figures["unit_cpu"] = sum(psutil.Process(unit.process.pid).cpu_times()[:2]) - unit_cpu
            time.sleep(SETTLE_S)
            figures["view"] = engine_view(engine_url, zones, interval_s)
            figures["engine_exit"] = engine.stop()
            database = data / "engine" / DATABASE_NAME
            figures["stored"] = stored(database)
            figures["database_mb"] = sum(path.stat().st_size for path in database.parent.glob(DATABASE_NAME + "*")) / MB
        except RuntimeError as error:
            print(f"soak broke: {error}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted; servers stopped", file=sys.stderr)
            return 130
        finally:
            engine.stop()
            unit.stop()
        broken = report(figures, args)
        if broken:
            print(f"engine log, last lines:\n{engine.log()}")
        return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
