"""A small Server-Sent Events client over treq, for tests that read ``GET /v1/events`` over real HTTP."""

import json

import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred

#: Seconds a test waits for something on a stream before it fails (it never hangs).
WAIT_S = 10.0


class SseReader:
    """Parses what arrives into events (``id``, ``event``, ``data`` decoded) and comments."""

    def __init__(self):
        self.events = []
        self.comments = []
        self.retry = None
        self.ended = False
        self._pending = b""
        self._waiting = []  # (predicate, Deferred)

    def feed(self, data: bytes):
        self._pending += data
        while b"\n\n" in self._pending:
            block, self._pending = self._pending.split(b"\n\n", 1)
            self._block(block.decode("utf-8"))
        self._check()

    def _block(self, block):
        fields = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        if "retry" in fields:
            self.retry = int(fields["retry"])
        if "event" in fields:
            self.events.append({"id": fields["id"], "event": fields["event"], "data": json.loads(fields["data"])})

    def _check(self):
        for entry in list(self._waiting):
            predicate, waiter = entry
            if predicate(self):
                self._waiting.remove(entry)
                waiter.callback(self)

    def until(self, predicate) -> Deferred:
        """Fires once ``predicate(self)`` holds; fails after :data:`WAIT_S` seconds."""
        waiter = Deferred()
        self._waiting.append((predicate, waiter))
        self._check()
        return waiter.addTimeout(WAIT_S, reactor)

    def until_events(self, count) -> Deferred:
        return self.until(lambda reader: len(reader.events) >= count)

    def names(self):
        return [event["event"] for event in self.events]


async def open_stream(url, headers=None):
    """``(response, reader, done)``: ``done`` fires when the server ends the stream."""
    response = await treq.get(url, headers=headers or {}, unbuffered=True).addTimeout(WAIT_S, reactor)
    reader = SseReader()

    def ended(result):
        reader.ended = True
        reader._check()
        return result

    done = treq.collect(response, reader.feed).addBoth(ended)
    return response, reader, done
