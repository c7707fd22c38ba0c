"""A load generator for HTTP/1.1 servers on 127.0.0.1, cheap enough not to hide their cost.

A benchmark that drives a server through an HTTP client library measures the
library as much as the server, so ``ingest.py`` speaks raw HTTP/1.1 itself:
persistent asyncio connections carrying one request at a time, responses parsed
just far enough to find their status and their end (``Content-Length`` or
chunked).  This module is that client and the two ways of loading a server with
it, kept apart from what is being measured:

- ``closed_loop``: a fixed number of clients sending back to back, which finds
  the throughput a server sustains;
- ``open_loop``: requests at a fixed rate, each sent at its scheduled time
  whatever became of the others, latency counted from that time, which finds
  the latency a server gives at a given load without hiding queueing delay.

Both return a ``Tally`` of the latencies of the requests answered 201 and what
became of the others.  Requests come from a *source*: any object with a
``next_request()`` method that returns the bytes of a complete request, and a
``sent`` count of the requests it has made.
"""

import asyncio
import collections
import dataclasses
import re

WARMUP_S = 1.0
LATE_S = 0.001  # an open-loop send this long after its scheduled time counts as late
MAX_OPEN_LOOP_CONNECTIONS = 64  # beyond this many in flight, a due send is missed

_CONTENT_LENGTH = re.compile(rb"content-length:\s*(\d+)")


def parse_response(buffer: bytes):
    """``(status, end)`` of the complete response that starts ``buffer``, or None.

    Twisted answers chunked when a handler's body comes after its headers.
    """
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head = buffer[:head_end].lower()
    status, position = int(head[9:12]), head_end + 4
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
    """One persistent HTTP/1.1 connection carrying one request at a time."""

    def __init__(self):
        self.transport = None
        self._buffer = b""
        self._waiter = None

    def connection_made(self, transport):
        self.transport = transport  # asyncio sets TCP_NODELAY on it

    def data_received(self, data):
        self._buffer += data
        parsed = parse_response(self._buffer)
        if parsed is not None and self._waiter is not None:
            status, end = parsed
            self._buffer = self._buffer[end:]
            waiter, self._waiter = self._waiter, None
            if not waiter.done():  # cancelled on Ctrl-C
                waiter.set_result(status)

    def connection_lost(self, exc):
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError(f"connection lost: {exc}"))

    def send(self, request: bytes) -> asyncio.Future:
        """A future of the response's status code, set once the response has fully arrived."""
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self._waiter


async def connect(port) -> HttpConnection:
    loop = asyncio.get_running_loop()
    _, connection = await loop.create_connection(HttpConnection, "127.0.0.1", port)
    return connection


@dataclasses.dataclass
class Tally:
    """The latencies of the requests answered 201, and what became of the others."""

    latencies: list = dataclasses.field(default_factory=list)
    statuses: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    errors: int = 0
    late: int = 0
    missed: int = 0
    connections: int = 0
    sent: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0  # cores busy, over the run
    client_cpu: float = 0.0

    def add(self, status, latency):
        self.statuses[status] += 1
        if status == 201:
            self.latencies.append(latency)

    @property
    def broken(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 201) + self.errors

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, fraction) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


async def closed_loop(port, sources, seconds) -> Tally:
    """A client per source, back to back; only requests started after the warm-up count."""
    loop = asyncio.get_running_loop()
    tally = Tally(seconds=seconds, connections=len(sources))
    record_from = loop.time() + WARMUP_S
    stop_at = record_from + seconds

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

    senders = [asyncio.ensure_future(client(source)) for source in sources]
    done, stuck = await asyncio.wait(senders, timeout=WARMUP_S + seconds + 30)
    for task in stuck:
        task.cancel()
    tally.errors += len(stuck) + sum(1 for task in done if task.exception())
    tally.sent = sum(source.sent for source in sources)
    return tally


async def wait_until(loop, due):
    """Sleep until ``due``, not later: epoll wakes in whole milliseconds, rounded up,
    so sleep to 2 ms before, then yield to the loop until due."""
    while (left := due - loop.time()) > 0:
        await asyncio.sleep(left - 0.002 if left > 0.002 else 0)


async def open_loop(port, source, rate, seconds) -> Tally:
    """``rate`` requests a second, each sent when the clock says, latency from that time."""
    loop = asyncio.get_running_loop()
    tally = Tally(seconds=seconds)
    idle = [await connect(port) for _ in range(4)]
    tally.connections = len(idle)
    exchanges = []

    async def exchange(connection, due):
        if connection is None:  # all busy: a new connection, its set-up counted as latency
            connection = await connect(port)
        status = await connection.send(source.next_request())
        tally.add(status, loop.time() - due)
        idle.append(connection)

    start = loop.time() + 0.1
    for number in range(int(rate * seconds)):
        due = start + number / rate
        await wait_until(loop, due)
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
    tally.sent = source.sent
    return tally
