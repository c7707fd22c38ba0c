"""A year of history written through the storage layer, then how fast the engine answers it.

``python benchmarks/history.py [--backend sqlite|mongo|both] [--days 365] [--mongo-days N]``, from
the repository root.  Issue 16 asks that a year of one-minute readings from a zone of five
sensors fit an SD card (at most 24 bytes a raw reading on SQLite) and chart fast: a year of
daily min/mean/max in under 150 ms, a day at one-minute resolution in under 30 ms.

The data is made here and written as the engine writes it, but straight through
``SQLiteStorage`` / ``MongoStorage`` on the real reactor, not over HTTP (a year through the API
would take hours and measure the API instead): five sensors read every minute with a few
seconds of jitter (a daily sine, a slow drift, noise, a bump while the heating runs), one
``record_readings`` call per hour of all five, the zone's effective temperature
(``record_zone_state`` every minute; setpoints change four times a day) and four heating runs
a day with a sample every five minutes.  The year ends now, so the day asked for at one-minute
resolution lies within the 90 days of raw readings the engine keeps.

Then a real ``rpymostat-engine`` (tokens on, the same time zone) is started on that database
and each question is asked over HTTP on 127.0.0.1, once to warm up and ``--repeat`` times
measured.  The same questions are also timed in-process (``aggregates`` alone, all three storage
reads the route makes, and those with the answer built and encoded), to split storage from HTTP.
MongoDB is SecantusDB (a pure-Python server) started by this script; it may be too slow for a
year, hence ``--mongo-days`` (or ``--days``): the output then says which figures are
extrapolated and which were measured on less data.  Figures are printed against their targets; the exit status is 1 only
when something broke (an answer other than 200, a server that did not start).
"""

import argparse
import atexit
import datetime
import http.client
import json
import math
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zoneinfo
from pathlib import Path

from ingest import ServerProcess, engine_command, free_port  # beside this script
from twisted.internet import defer, task
from twisted.internet.threads import deferToThread

from rpymostat.history import answer, query
from rpymostat.storage.interface import Reading, RunRecord
from rpymostat.storage.sqlite import SQLiteStorage
from rpymostat.storage.timeseries import DAY, zone_series

ZONE = "living"
SENSORS = [f"28-00000bench{n}" for n in range(5)]
HOST = "bench-sensors"
DATABASE_NAME = "rpymostat.sqlite3"  # EngineConfig.sqlite_path, inside the data dir
JITTER_S = 4.0
PHASES = (8, 18, 28, 38, 48)  # seconds into the minute each sensor reads: jitter never crosses a minute
SCHEDULE = ((6 * 60 + 30, 21.0), (8 * 60 + 30, 18.5), (17 * 60, 21.0), (22 * 60 + 30, 17.0))  # local minute
RUNS = ((6 * 60 + 30, 35), (12 * 60 + 10, 15), (17 * 60, 40), (20 * 60 + 45, 20))  # local minute, minutes
SAMPLE_EVERY = 5  # minutes between run samples, as RPYMOSTAT_RUN_SAMPLE_S=300

TARGET_BYTES = 24.0
TARGET_YEAR_S = 0.150
TARGET_DAY_S = 0.030


class House:
    """Five sensors in one room: what each reads at a minute, the setpoint, and the runs."""

    def __init__(self, rng, timezone):
        self.rng, self.timezone = rng, timezone
        self.offsets = [rng.uniform(-0.6, 0.6) for _ in SENSORS]
        self.drift, self.boost = 0.0, 0.0

    def minute(self, at, running):
        """``(local minute of day, [value of each sensor])`` at ``at``."""
        local = datetime.datetime.fromtimestamp(at, self.timezone)
        of_day = local.hour * 60 + local.minute
        self.drift = max(-1.5, min(1.5, self.drift + self.rng.gauss(0, 0.02)))
        self.boost = min(1.2, self.boost + 0.04) if running else self.boost * 0.97
        base = 19.6 + 1.1 * math.sin(2 * math.pi * (of_day / 1440 - 0.35)) + self.drift + self.boost
        return of_day, [round(base + offset + self.rng.gauss(0, 0.06), 2) for offset in self.offsets]

    @staticmethod
    def setpoint(of_day):
        earlier = [heat for minute, heat in SCHEDULE if minute <= of_day]
        return earlier[-1] if earlier else SCHEDULE[-1][1]


async def generate(storage, timezone, end, days, rng):
    """Write ``days`` of history ending at ``end`` through ``storage``; return what was written.

    A day's calls are made at once and awaited together, as a busy engine makes them, so the
    SQLite backend commits them in a few groups; each hour of readings is one call.
    """
    start = end - days * DAY
    await storage.put_zone(ZONE, {"sensors": dict.fromkeys(SENSORS, 1.0), "mode": "heat"}, start)
    house, pending, hour = House(rng, timezone), [], []
    counts = {"readings": 0, "zone_states": 0, "runs": 0, "samples": 0}
    run, run_left = None, 0
    for minute in range(days * 1440):
        at = start + 60 * minute
        of_day, values = house.minute(at, run is not None)
        temperature = round(sum(values) / len(values), 2)
        heat = house.setpoint(of_day)
        hour += [
            Reading(s, "DS18B20", v, at + phase + rng.uniform(-JITTER_S, JITTER_S))
            for s, v, phase in zip(SENSORS, values, PHASES)
        ]
        pending.append(storage.record_zone_state(ZONE, at, temperature, heat, None, "heat"))
        counts["zone_states"] += 1
        if run is None and (length := dict(RUNS).get(of_day)):
            run, run_left = f"{ZONE}-heat-{int(at)}", length + rng.randint(-5, 5)
            pending.append(storage.start_run(RunRecord(run, ZONE, "heat", at, temperature, heat)))
            counts["runs"] += 1
        elif run is not None:
            run_left -= 1
            if run_left <= 0:
                pending.append(storage.end_run(run, at, temperature))
                run = None
            elif run_left % SAMPLE_EVERY == 0:
                pending.append(storage.add_run_sample(run, at, temperature))
                counts["samples"] += 1
        if len(hour) == 60 * len(SENSORS) or minute == days * 1440 - 1:
            pending.append(storage.record_readings(HOST, hour))
            counts["readings"] += len(hour)
            hour = []
        if minute % 1440 == 1439:
            await defer.gatherResults(pending, consumeErrors=True)
            pending = []
            if (minute + 1) % (30 * 1440) == 0:
                print(f"  {(minute + 1) // 1440} of {days} days written", flush=True)
    await defer.gatherResults(pending, consumeErrors=True)
    return counts


def questions(now, timezone):
    """The two questions as query texts: ``{label: (start, end, step)}``."""
    today = datetime.datetime.fromtimestamp(now, timezone).date()
    midnight = datetime.datetime.combine(today, datetime.time(), timezone)
    yesterday = midnight - datetime.timedelta(days=1)  # wall-clock midnight, DST included
    year_ago = datetime.datetime.fromtimestamp(now - 365 * DAY, timezone)
    return {
        "year, daily (P1D)": (year_ago.isoformat(), datetime.datetime.fromtimestamp(now, timezone).isoformat(), "P1D"),
        "day, 1-minute (PT1M)": (yesterday.isoformat(), midnight.isoformat(), "PT1M"),
    }


def spread(seconds):
    """``(median, p95)`` of a list of durations (p95: nearest rank)."""
    ordered = sorted(seconds)
    return statistics.median(ordered), ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


async def timed(call, repeat):
    """Durations of ``repeat`` awaited ``call()`` after one warm-up, and the last result."""
    result, durations = await call(), []
    for _ in range(repeat):
        began = time.perf_counter()
        result = await call()
        durations.append(time.perf_counter() - began)
    return durations, result


async def in_process(storage, timezone, asked, repeat, raw_days):
    """``{label: {part: durations}}`` in this process: ``aggregates`` alone, all three reads the
    route makes, and those with the answer built and encoded as the route does."""
    names = [zone_series(ZONE), *SENSORS]
    found = {}
    for label, (start, end, step) in asked.items():
        plan = query.plan(start, end, step, time.time(), timezone, raw_days)

        def aggregates(plan=plan):
            return storage.aggregates(names, *plan.storage_arguments())

        async def reads(plan=plan):
            points = await aggregates()
            changes = await storage.setpoint_changes(ZONE, plan.start, plan.end)
            return points, changes, await storage.run_intervals(ZONE, plan.start, plan.end)

        async def shaped(plan=plan):  # what the route's _zone does after its reads, and the JSON
            points, changes, intervals = await reads()
            series = [answer.series_document("zone", ZONE, points[names[0]], plan)]
            series += [answer.series_document("sensor", name, points[name], plan) for name in SENSORS]
            document = {"at": answer.slot_times(plan), "series": series}
            document["setpoints"] = answer.setpoints_document(changes, plan)
            return json.dumps({**document, "runs": answer.runs_document(intervals, plan)}).encode()

        found[label] = {"aggregates": (await timed(aggregates, repeat))[0]}
        found[label]["storage reads"] = (await timed(reads, repeat))[0]
        found[label]["reads + answer JSON"], body = await timed(shaped, repeat)
        found[label]["points"] = sum(1 for count in json.loads(body)["series"][1]["count"] if count)
    return found


def over_http(engine, asked, repeat):
    """``{label: (durations, body bytes, status)}`` from one keep-alive connection to the engine."""
    connection = http.client.HTTPConnection("127.0.0.1", engine.port, timeout=60)
    headers = {"Authorization": f"Bearer {engine.token}", "Accept": "application/json"}
    found = {}
    try:
        for label, (start, end, step) in asked.items():
            path = "/v1/history?" + urllib.parse.urlencode({"zone": ZONE, "start": start, "end": end, "step": step})
            durations, body, status = [], b"", None
            for attempt in range(repeat + 1):
                began = time.perf_counter()
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                body, status = response.read(), response.status
                if status != 200:
                    break
                if attempt:
                    durations.append(time.perf_counter() - began)
            found[label] = (durations, len(body), status if status == 200 else f"{status} {body[:200]!r}")
    finally:
        connection.close()
    return found


def sqlite_bytes(path, wal_open):
    """What the SQLite file holds per raw reading, after a checkpoint, from its own connection."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = connection.execute("SELECT count(*) FROM readings").fetchone()[0]
        sensor_rows = connection.execute(
            "SELECT count(*) FROM readings WHERE series IN (SELECT series FROM series WHERE name NOT LIKE 'zone/%')"
        ).fetchone()[0]
        tables = dict(connection.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
    connection.close()
    wal = path.with_name(path.name + "-wal")
    return {
        "size": path.stat().st_size, "wal_open": wal_open, "wal_after": wal.stat().st_size if wal.exists() else 0,
        "rows": rows, "sensor_rows": sensor_rows, "tables": tables,
    }  # fmt: skip


def start_secantus(work):
    """A SecantusDB server on a free port, data in ``work``; ``(process, uri)``, as tests/mongo_server.py."""
    import pymongo

    (work / "db").mkdir(parents=True)
    port = free_port()
    command = [sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", str(port)]
    with open(work / "secantus.log", "wb") as log:
        process = subprocess.Popen(
            command + ["--storage-path", str(work / "db")], stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, env={**os.environ, "TMPDIR": str(work / "db")},
        )  # fmt: skip
    atexit.register(stop_process, process)  # also on Ctrl-C, when the reactor stops mid-way
    uri = f"mongodb://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=500)
        try:
            client.admin.command("ping")
            return process, uri
        except pymongo.errors.PyMongoError:
            time.sleep(0.1)
        finally:
            client.close()
    process.kill()
    raise RuntimeError(f"SecantusDB did not start:\n{(work / 'secantus.log').read_text(errors='replace')[-2000:]}")


def stop_process(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def engine_figures(data_dir, timezone, raw_days, db_url, asked, repeat):
    """Start a real engine on the data, ask over HTTP, stop it; ``(figures, exit status)``."""
    port = free_port()
    env = {
        **os.environ, "RPYMOSTAT_API_HOST": "127.0.0.1", "RPYMOSTAT_API_PORT": str(port), "RPYMOSTAT_AUTH": "1",
        "RPYMOSTAT_DATA_DIR": str(data_dir), "RPYMOSTAT_ADVERTISE": "0", "RPYMOSTAT_TIMEZONE": timezone.key,
        "RPYMOSTAT_HISTORY_RAW_DAYS": str(raw_days), **({"RPYMOSTAT_DB": db_url} if db_url else {}),
    }  # fmt: skip
    engine, figures = ServerProcess("engine", engine_command(), port, data_dir / "engine.log", env), None
    try:
        engine.start("/v1/status", timeout=60)
        engine.token = (data_dir / "admin-token").read_text().strip()
        figures = over_http(engine, asked, repeat)
    except (RuntimeError, OSError) as error:
        print(f"engine: {error}", file=sys.stderr)
    finally:
        status = engine.stop()
    return figures, status


async def one_backend(reactor, backend, args, work):
    """Everything for one backend; a dict of its figures."""
    timezone, now = zoneinfo.ZoneInfo(args.timezone), float(int(time.time()) // 60 * 60)
    days = args.mongo_days if backend == "mongo" and args.mongo_days else args.days
    raw_days = max(90, days + 2)  # the pruner finds nothing to do: it would compete with the questions
    data_dir, server, url, found = work / "data", None, None, {"backend": backend, "days": days}
    data_dir.mkdir(parents=True)
    if backend == "sqlite":
        storage = SQLiteStorage(data_dir / DATABASE_NAME, reactor, timezone=timezone)
    else:
        from rpymostat.storage.mongo import MongoStorage

        server, base = await deferToThread(start_secantus, work)
        url = f"{base}/rpymostat_bench"
        storage = MongoStorage(url, reactor, timeout=120.0, timezone=timezone)
    # On Ctrl-C the reactor stops mid-way: close storage so its worker thread lets the process exit.
    reactor.addSystemEventTrigger("before", "shutdown", storage.close)
    try:
        await storage.open()
        print(f"{backend}: writing {days} days ...", flush=True)
        began = time.perf_counter()
        found["counts"] = await generate(storage, timezone, now, days, random.Random(args.seed))
        found["generate_s"] = time.perf_counter() - began
        wal = data_dir / (DATABASE_NAME + "-wal")
        wal_open = wal.stat().st_size if wal.exists() else 0
        asked = questions(time.time(), timezone)
        found["local"] = await in_process(storage, timezone, asked, args.repeat, raw_days)
        await storage.close()
        if backend == "sqlite":
            found["bytes"] = sqlite_bytes(data_dir / DATABASE_NAME, wal_open)
        print(f"{backend}: asking a real engine over HTTP ...", flush=True)
        asked = questions(time.time(), timezone)
        found["http"], found["engine_exit"] = await deferToThread(
            engine_figures, data_dir, timezone, raw_days, url, asked, args.repeat
        )
    finally:
        if server is not None:
            stop_process(server)
    return found


def verdict(value, target, unit=1000, label="ms"):
    return f"{'PASS' if value <= target else 'FAIL'} (< {target * unit:g} {label})"


def report(results, args) -> int:
    """Print the table; return how many things broke."""
    broken, line = 0, "=" * 100
    print(f"\n{line}\nRPyMostat history: zone of {len(SENSORS)} sensors, 1-minute readings, "
          f"{args.timezone}, {args.repeat} repetitions after a warm-up, 127.0.0.1\n{line}")  # fmt: skip
    for found in results:
        rows, counts, days = [], found["counts"], found["days"]
        year = f" (x{365 / days:.1f} for a year: ~{found['generate_s'] * 365 / days:.0f} s, extrapolated)"
        rows.append(("generation, through storage", f"{found['generate_s']:.1f} s", "" if days >= 365 else year))
        rows.append(("  written", f"{counts['readings']} readings, {counts['zone_states']} zone states", ""))
        rows.append(("", f"{counts['runs']} runs, {counts['samples']} run samples", ""))
        if "bytes" in found:
            sized = found["bytes"]
            for label, number in (("5 sensors only", sized["sensor_rows"]), ("all rows", sized["rows"])):
                per = sized["size"] / number
                rows.append((f"SQLite bytes/reading, {label}", f"{per:.1f} B ({number} rows)",
                             f"{'PASS' if per <= TARGET_BYTES else 'FAIL'} (<= {TARGET_BYTES:g} B)"))  # fmt: skip
            rows.append(("  file after checkpoint", f"{sized['size'] / 1e6:.1f} MB", ""))
            wal = f"{sized['wal_open'] / 1e6:.1f} MB / {sized['wal_after']} B"
            rows.append(("  WAL while open / after checkpoint", wal, ""))
            tables = sorted(sized["tables"].items(), key=lambda item: -item[1])[:4]
            rows.append(("  largest", ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in tables), ""))
        for label, local in found["local"].items():
            target = TARGET_YEAR_S if label.startswith("year") else TARGET_DAY_S
            note = "" if days >= 365 or not label.startswith("year") else f" [data for {days} days only]"
            rows.append((f"{label}{note}", f"{local['points']} points a series", ""))
            for part in ("aggregates", "storage reads", "reads + answer JSON"):
                median, p95 = spread(local[part])
                rows.append((f"  in-process {part}", f"median {median * 1000:.2f} / p95 {p95 * 1000:.2f} ms", ""))
            answered = (found["http"] or {}).get(label)
            if answered is None or answered[2] != 200:
                broken += 1
                rows.append(("  HTTP", f"no answer: {answered[2] if answered else 'engine did not start'}", "BROKEN"))
                continue
            median, p95 = spread(answered[0])
            rows.append(("  HTTP GET /v1/history", f"median {median * 1000:.2f} / p95 {p95 * 1000:.2f} ms",
                         verdict(median, target)))  # fmt: skip
            rows.append(("  answer size", f"{answered[1]} B", ""))
        if found.get("engine_exit"):
            broken += 1
            rows.append(("engine exit status on SIGTERM", str(found["engine_exit"]), "BROKEN"))
        print(f"-- {found['backend']}, {days} days " + "-" * 80)
        for label, value, judgement in rows:
            print(f"{label:42} {value:40} {judgement}")
    print(line)
    return broken


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "mongo", "both"), default="sqlite")
    parser.add_argument("--days", type=int, default=365, help="days of history to write (365)")
    parser.add_argument("--mongo-days", type=int, help="days for MongoDB alone (default: --days)")
    parser.add_argument("--repeat", type=int, default=20, help="measured repetitions of each question (20)")
    parser.add_argument("--timezone", default="Europe/Berlin", help="the engine's time zone (Europe/Berlin)")
    parser.add_argument("--seed", type=int, default=16, help="random seed of the generated data (16)")
    args = parser.parse_args(argv)
    if min(args.days, args.mongo_days or 2) < 2:
        parser.error("--days must be at least 2: the day question asks for yesterday")
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    backends = ("sqlite", "mongo") if args.backend == "both" else (args.backend,)

    async def run(reactor):
        with tempfile.TemporaryDirectory(prefix="rpymostat-history-") as work:
            results = [await one_backend(reactor, name, args, Path(work) / name) for name in backends]
        if report(results, args):
            raise SystemExit(1)

    task.react(lambda reactor: defer.ensureDeferred(run(reactor)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
