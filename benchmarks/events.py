"""What the live event stream costs the real engine: idle subscribers and event latency.

``python benchmarks/events.py [--subscribers 500] [--idle-seconds 20] [--readings 200]``,
from the repository root, starts the installed ``rpymostat-engine`` (SQLite in a
temporary data directory, tokens on, no mDNS) on a free 127.0.0.1 port and:

1. measures the engine's CPU while idle for ``--idle-seconds`` with no stream open,
   and its RSS (psutil on its pid);
2. opens ``--subscribers`` streams (``GET /v1/events``, every topic, raw HTTP/1.1 on
   asyncio connections that read whatever comes), then measures its CPU while idle
   again over the same time (one keep-alive round falls in it) and the RSS each
   subscriber added ((RSS after - RSS before) / subscribers);
3. sends ``--readings`` sensor updates (``PUT /v1/sensors/update``, five readings
   each, as ``ingest.py`` sends them) one every 50 ms on a persistent connection,
   while one more subscriber, last to connect, waits for each one's
   ``sensor.readings`` event: the latency from the reading being accepted (the
   event's ``at``, stamped when it is published right after the durable commit; to
   the millisecond, so this errs up to 1 ms high) to the event's arrival, with the
   fan-out to every open stream in it; and, end to end, from sending the update
   to the event's arrival, which adds the request and the commit.

Figures are printed against the targets of issue 16; the exit status is 1 only
when something broke (a stream refused, an update not answered 201, an event
that never came, an engine that did not stop cleanly).
"""

import argparse
import asyncio
import datetime
import json
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from http_load import parse_response  # beside this script
from ingest import MB, ServerProcess, UpdateSource, engine_command, free_port

TARGET_IDLE_CPU = 0.01  # of one core: "about 0 %"
TARGET_P99_S = 0.020  # reading accepted -> event received
INTERVAL_S = 0.05
EVENT_TIMEOUT_S = 5.0


async def open_stream(port, token, topics=None):
    """A connection streaming ``GET /v1/events``, its head read; ``(reader, writer)``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    query = f"?topics={topics}" if topics else ""
    writer.write(
        f"GET /v1/events{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"a stream was refused: {head.splitlines()[0]!r}")
    return reader, writer


async def drain(reader):
    """Read a subscriber's stream until it ends, as a client that keeps up does."""
    while await reader.read(65536):
        pass


async def read_response(reader) -> int:
    """The status of one whole HTTP/1.1 response (Content-Length or chunked), read to its end."""
    buffer = b""
    while (parsed := parse_response(buffer)) is None:
        data = await reader.read(65536)
        if not data:
            raise RuntimeError("the engine closed the update connection")
        buffer += data
    return parsed[0]


async def watch_events(reader, arrivals):
    """Put ``(perf_counter, wall-clock lag behind the event's "at")`` of each ``sensor.readings`` event on ``arrivals``.

    ``at`` is when the engine published the event, right after the readings
    were stored: the moment the update was accepted (to the millisecond, truncated).
    """
    marker = b"event: sensor.readings\ndata: "
    pending = b""
    while data := await reader.read(65536):
        now, wall = time.perf_counter(), time.time()
        pending += data
        while (found := pending.find(marker)) >= 0 and (end := pending.find(b"\n", found + len(marker))) >= 0:
            event = json.loads(pending[found + len(marker) : end])
            at = datetime.datetime.fromisoformat(event["at"]).timestamp()
            arrivals.put_nowait((now, wall - at))
            pending = pending[end:]
        pending = pending[-4096:] if pending.find(marker) < 0 else pending


async def subscribers(port, token, count, topics, connection):
    """Open ``count`` streams and read them until told to stop (in a process of its own)."""
    streams = [await open_stream(port, token, topics) for _ in range(count)]
    drains = [asyncio.create_task(drain(reader)) for reader, _ in streams]
    connection.send(len(streams))
    loop = asyncio.get_running_loop()
    stopped = loop.create_future()

    def command():
        if connection.recv() == "count":
            connection.send(sum(1 for task in drains if not task.done()))
        elif not stopped.done():
            stopped.set_result(None)

    loop.add_reader(connection.fileno(), command)
    await stopped
    for _, writer in streams:
        writer.close()


def subscriber_process(port, token, count, topics, connection):
    asyncio.run(subscribers(port, token, count, topics, connection))


class Subscribers:
    """``count`` streams held by a child process, so reading them costs this process nothing.

    The latencies are then measured here without 500 other sockets to read first.
    """

    def __init__(self, port, token, count, topics=None):
        self._connection, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(
            target=subscriber_process, args=(port, token, count, topics, child), daemon=True
        )
        self.process.start()
        deadline = time.monotonic() + 120
        while not self._connection.poll(0.1):
            if not self.process.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the subscribers did not open their {count} streams")
        self.opened = self._connection.recv()

    def still_open(self) -> int:
        self._connection.send("count")
        return self._connection.recv()

    def stop(self):
        self._connection.send("stop")
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


async def time_events(engine, readings):
    """``(latencies sent -> event, lags accepted -> event, broken)`` of ``readings`` updates."""
    watcher_reader, watcher_writer = await open_stream(engine.port, engine.token, "sensor.readings")
    arrivals = asyncio.Queue()
    watcher = asyncio.create_task(watch_events(watcher_reader, arrivals))
    reader, writer = await asyncio.open_connection("127.0.0.1", engine.port)
    source = UpdateSource(engine.port, "bench-events", engine.token)
    latencies, lags, broken = [], [], 0
    for _ in range(readings):
        slot = time.perf_counter() + INTERVAL_S
        sent = time.perf_counter()
        writer.write(source.next_request())
        try:
            status = await asyncio.wait_for(read_response(reader), EVENT_TIMEOUT_S)
            arrived, lag = await asyncio.wait_for(arrivals.get(), EVENT_TIMEOUT_S)
        except TimeoutError:
            broken += 1
            continue
        if status != 201:
            broken += 1
            continue
        latencies.append(arrived - sent)
        lags.append(lag)
        await asyncio.sleep(max(0.0, slot - time.perf_counter()))
    writer.close()
    watcher.cancel()
    watcher_writer.close()
    return sorted(latencies), sorted(lags), broken


def measure(engine, args, figures):
    figures["rss_before"] = engine.memory_mb()[0]
    before = engine.cpu_seconds()
    time.sleep(args.idle_seconds)
    figures["cpu_without"] = (engine.cpu_seconds() - before) / args.idle_seconds

    print(f"opening {args.subscribers} streams of every topic ...", flush=True)
    every = Subscribers(engine.port, engine.token, args.subscribers)
    time.sleep(2.0)
    figures["rss_after"] = engine.memory_mb()[0]
    print(f"idle with {args.subscribers} streams, {args.idle_seconds:g} s ...", flush=True)
    before = engine.cpu_seconds()
    time.sleep(args.idle_seconds)
    figures["cpu_with"] = (engine.cpu_seconds() - before) / args.idle_seconds
    print(f"{args.readings} updates, one every {INTERVAL_S * 1000:g} ms, each event to every stream ...", flush=True)
    figures["fanout"] = asyncio.run(time_events(engine, args.readings))
    figures["open_at_end"] = every.still_open()
    every.stop()

    print(f"{args.readings} updates with {args.subscribers} streams of a quiet topic ...", flush=True)
    quiet = Subscribers(engine.port, engine.token, args.subscribers, "plugin.error")
    figures["quiet"] = asyncio.run(time_events(engine, args.readings))
    figures["open_at_end"] += quiet.still_open() - args.subscribers
    quiet.stop()


def percentile(values, share):
    return values[min(len(values) - 1, int(share * len(values)))] if values else float("nan")


def milliseconds(values) -> str:
    return " / ".join(f"{percentile(values, share) * 1000:.2f} ms" for share in (0.5, 0.99, 1.0))


def report(figures, args) -> int:
    per_subscriber_kb = (figures["rss_after"] - figures["rss_before"]) * MB / args.subscribers / 1000
    failed_updates = figures["fanout"][2] + figures["quiet"][2]
    broken = failed_updates + (args.subscribers - figures["open_at_end"])
    rows = [
        ("engine CPU idle, no stream", f"{figures['cpu_without']:.2%} of a core", ""),
        (
            f"engine CPU idle, {args.subscribers} streams",
            f"{figures['cpu_with']:.2%} of a core",
            f"{'PASS' if figures['cpu_with'] < TARGET_IDLE_CPU else 'FAIL'} (~0 %)",
        ),
        ("engine RSS before / with the streams", f"{figures['rss_before']:.1f} / {figures['rss_after']:.1f} MB", ""),
        ("RSS added per subscriber", f"{per_subscriber_kb:.1f} kB", "reported"),
    ]
    for key, label in (
        ("quiet", f"{args.subscribers} idle streams + 1 following readings"),
        ("fanout", f"every event to all {args.subscribers + 1} streams"),
    ):
        latencies, lags, _ = figures[key]
        p99 = percentile(lags, 0.99)
        rows += [
            (f"{label}, {len(lags)} events", "", ""),
            ("    accepted -> event p50 / p99 / max", milliseconds(lags), verdict(p99)),
            ("    sent -> event p50 / p99 / max", milliseconds(latencies), ""),
        ]
    rows += [
        ("streams still open at the end", f"{figures['open_at_end']} of {args.subscribers}", ""),
        ("updates not answered 201 or without event", str(failed_updates), "BROKEN" if failed_updates else "ok"),
    ]
    if figures.get("engine_exit") != 0:
        rows.append(("engine exit status on SIGTERM", str(figures.get("engine_exit")), "BROKEN"))
        broken += 1
    print("\n" + "=" * 100)
    print(f"RPyMostat event stream: {args.subscribers} subscribers, SQLite, 127.0.0.1; MB = 10^6 bytes")
    print("-" * 100)
    for label, value, judgement in rows:
        print(f"{label:46} {value:34} {judgement}")
    print("=" * 100)
    return broken


def verdict(p99) -> str:
    return f"{'PASS' if p99 < TARGET_P99_S else 'FAIL'} (p99 < {TARGET_P99_S * 1000:g} ms)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=500, help="idle streams to open (500)")
    parser.add_argument("--idle-seconds", type=float, default=20.0, help="each idle CPU window (20)")
    parser.add_argument("--readings", type=int, default=200, help="updates whose events are timed (200)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    with tempfile.TemporaryDirectory(prefix="rpymostat-bench-") as data_dir:
        data = Path(data_dir)
        port = free_port()
        env = {
            **os.environ,
            "RPYMOSTAT_API_HOST": "127.0.0.1",
            "RPYMOSTAT_ADVERTISE": "0",
            "RPYMOSTAT_API_PORT": str(port),
            "RPYMOSTAT_DATA_DIR": str(data),
        }
        env.pop("RPYMOSTAT_DB", None)
        engine = ServerProcess("engine", engine_command(), port, data / "engine.log", env)
        figures = {}
        try:
            engine.start("/v1/status")
            engine.token = (data / "admin-token").read_text().strip()
            time.sleep(1.0)  # let start-up work finish before the idle figures
            measure(engine, args, figures)
            figures["engine_exit"] = engine.stop()
        except (RuntimeError, OSError) as error:
            print(f"benchmark broke: {error}\n{engine.log()}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted; engine stopped", file=sys.stderr)
            return 130
        finally:
            engine.stop()
        broken = report(figures, args)
        if broken:
            print(f"engine log, last lines:\n{engine.log()}")
        return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
