"""``GET /v1/events``: the engine's event bus as Server-Sent Events, for every open stream at once.

Each event on the bus (:mod:`rpymostat.events`) is encoded once, when it is
published, into one SSE frame: its topic is the SSE event name, its data one
line of JSON (the topic's fields made JSON-safe, times as ISO 8601 UTC as
everywhere in the API, ``at`` added), and its id ``<boot>-<n>``, ``boot`` a
random token of this engine start and ``n`` counting up from 1.  The same
bytes then go to every stream that wants the topic, so a hundred browsers
cost one encoding.

The last :data:`BUFFER_EVENTS` frames are kept, so a client that reconnects
with ``Last-Event-ID`` (or ``?last_event_id=``) gets what it missed, in
order, before anything new; an id from another engine start, or older than
what is kept, gets one ``reset`` event instead (load the state afresh, then
follow).  Idle streams cost no CPU: nothing runs per stream, and one
:class:`~twisted.internet.task.LoopingCall` on the injected clock writes a
keep-alive comment to all of them every :data:`KEEP_ALIVE_S` seconds, so
proxies and dead peers notice.  A client that does not read is never
buffered without bound: each stream is the transport's push producer, frames
for a paused stream are held, and more than :data:`MAX_UNSENT` held frames
drop the connection (its ``EventSource`` then reconnects and catches up, or
gets a ``reset``).  The service's stop ends every stream
(:meth:`EventStream.close_all`) before the port stops listening.
"""

import collections
import dataclasses
import json
import math
import secrets
from collections.abc import Mapping

from twisted.application.service import Service
from twisted.internet.interfaces import IPushProducer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from zope.interface import implementer

from rpymostat.api.errors import InvalidContent, Unavailable
from rpymostat.protocol.times import iso_utc
from rpymostat.storage.interface import Reading

log = Logger()

#: Every topic the engine publishes (docs/events.rst); ``?topics=`` names these or prefixes of them.
TOPICS = (
    "sensor.readings",
    "sensor.changed",
    "sensor.deleted",
    "sensor.stale",
    "sensor.back",
    "zone.changed",
    "zone.decided",
    "rule.changed",
    "hold.started",
    "hold.ended",
    "control.registered",
    "output.switched",
    "plugin.error",
)

#: Frames kept for clients that reconnect.
BUFFER_EVENTS = 1000

#: Frames held for a stream whose client does not read, beyond which it is dropped.
MAX_UNSENT = 256

#: Seconds between keep-alive comments.
KEEP_ALIVE_S = 15.0

#: Milliseconds a client waits before reconnecting (the ``retry:`` hint).
RETRY_MS = 3000

KEEP_ALIVE = b": keep-alive\n\n"


def topic_filter(text: str | None):
    """``(names, prefixes)`` of a ``?topics=a,zone.`` value (None: every topic); InvalidContent naming
    ``topics`` for a name that is no topic and no prefix of one."""
    if text is None:
        return None
    names, prefixes = set(), set()
    for part in (item.strip() for item in text.split(",")):
        if part in TOPICS:
            names.add(part)
        elif part.endswith(".") and any(topic.startswith(part) for topic in TOPICS):
            prefixes.add(part)
        else:
            raise InvalidContent(
                f"topics: {part!r} is not a topic or a prefix ending in '.'; topics are: " + ", ".join(TOPICS)
            )
    return frozenset(names), tuple(sorted(prefixes))


def json_safe(value, key=None):
    """``value`` as JSON can hold it: readings and dataclasses as objects, times (``at``,
    ``*_at``, a reading's ``timestamp``) as ISO 8601 UTC, non-finite numbers as null."""
    if isinstance(value, Reading):
        return {
            "id": value.sensor_id,
            "type": value.sensor_type,
            "value": json_safe(value.value),
            "timestamp": iso_utc(value.timestamp),
            "alias": value.alias,
            "extra": value.extra,
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): json_safe(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return None
        return iso_utc(value) if key is not None and (key == "at" or key.endswith("_at")) else value
    return str(value)


def frame(event_id: str, topic: str, data) -> bytes:
    """One SSE event: id, event name and one line of JSON data (``json.dumps`` escapes every newline)."""
    line = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return f"id: {event_id}\nevent: {topic}\ndata: {line}\n\n".encode()


class EventStream(Service):
    """The SSE streams fed by ``events``; keep-alives on ``clock`` while the service runs."""

    def __init__(
        self,
        events,
        clock,
        buffer_events=BUFFER_EVENTS,
        max_unsent=MAX_UNSENT,
        keep_alive_s=KEEP_ALIVE_S,
        boot=None,
    ):
        self.boot = boot if boot is not None else secrets.token_hex(6)
        self.max_unsent = max_unsent
        self.dropped = 0  # streams dropped for not reading, since start
        self._count = 0
        self._buffer = collections.deque(maxlen=buffer_events)  # (n, topic, frame), oldest first
        self._streams = set()
        self._closed = False
        self._keep_alive_s = keep_alive_s
        self._keep_alive = LoopingCall(self._ping)
        self._keep_alive.clock = clock
        events.subscribe(self._published)  # for the engine's life: every event is kept for reconnects

    @property
    def last_id(self) -> str:
        """The id of the newest event (``<boot>-0`` before the first)."""
        return f"{self.boot}-{self._count}"

    def streams(self) -> int:
        """How many streams are open."""
        return len(self._streams)

    def startService(self):
        super().startService()
        self._closed = False
        self._keep_alive.start(self._keep_alive_s, now=False)

    def stopService(self):
        if self._keep_alive.running:
            self._keep_alive.stop()
        self.close_all()
        return super().stopService()

    def close_all(self) -> None:
        """End every open stream and refuse new ones: the engine is stopping.

        A stream that reads gets the end of its response and its connection
        closed; one that does not is aborted.  Either way no connection is
        left for the listening port to wait on.
        """
        self._closed = True
        for stream in list(self._streams):
            stream.end(abort=stream.paused)

    def resource(self, topics, last_event_id) -> Resource:
        """What the route answers: a resource that opens a stream of ``topics`` after ``last_event_id``."""
        if self._closed:
            raise Unavailable("the engine is stopping; reconnect in a moment")
        return _Opening(self, topics, last_event_id)

    def open(self, request, topics, last_event_id):
        """Start streaming to ``request``: headers, the retry hint, what it missed, then live events."""
        request.setHeader(b"Content-Type", b"text/event-stream")
        request.setHeader(b"Cache-Control", b"no-cache")
        request.setHeader(b"X-Accel-Buffering", b"no")
        if request.method == b"HEAD":
            return b""
        stream = _Stream(self, request, topics)
        self._streams.add(stream)
        request.notifyFinish().addBoth(lambda _: self._streams.discard(stream))
        request.registerProducer(stream, True)
        stream.send(f"retry: {RETRY_MS}\n\n".encode())
        missed, reset = self._missed(last_event_id)
        if reset:
            data = {"reason": f"events after {last_event_id!r} are no longer kept; load the state afresh"}
            stream.send(frame(self.last_id, "reset", data))
        for _, topic, encoded in missed:
            if stream.wants(topic):
                stream.send(encoded)
        return NOT_DONE_YET

    def _missed(self, last_event_id):
        """``(buffered events after last_event_id, whether a reset is needed first)``."""
        if last_event_id is None:
            return (), False
        boot, _, number = last_event_id.strip().rpartition("-")
        if boot != self.boot or not (number.isascii() and number.isdigit()):
            return (), True
        seen = int(number)
        first = self._buffer[0][0] if self._buffer else self._count + 1
        if seen > self._count or seen < first - 1:
            return (), True
        return [entry for entry in self._buffer if entry[0] > seen], False

    def _published(self, event):
        """A bus subscriber: encode ``event`` once, keep it, send it to every stream that wants it."""
        self._count += 1
        data = {"at": event.at, **event.data}
        encoded = frame(f"{self.boot}-{self._count}", event.topic, json_safe(data))
        self._buffer.append((self._count, event.topic, encoded))
        for stream in list(self._streams):
            if stream.wants(event.topic):
                stream.send(encoded)

    def _ping(self):
        for stream in list(self._streams):
            if not stream.paused:
                stream.send(KEEP_ALIVE)

    def _dropped(self, stream):
        self.dropped += 1
        log.warn(
            "dropped an event stream to {client}: more than {limit} events unsent (it does not read)",
            client=_client(stream.request),
            limit=self.max_unsent,
        )


class _Opening(Resource):
    """The route's answer: Klein renders it, and it opens the stream on the request."""

    isLeaf = True

    def __init__(self, owner, topics, last_event_id):
        super().__init__()
        self._owner, self._topics, self._last_event_id = owner, topics, last_event_id

    def render(self, request):
        return self._owner.open(request, self._topics, self._last_event_id)


@implementer(IPushProducer)
class _Stream:
    """One client's stream: the transport pauses and resumes it, as the client reads or does not."""

    def __init__(self, owner, request, topics):
        self.request = request
        self.paused = False
        self._owner = owner
        self._topics = topics
        self._unsent = collections.deque()
        self._ended = False

    def wants(self, topic) -> bool:
        if self._topics is None:
            return True
        names, prefixes = self._topics
        return topic in names or topic.startswith(prefixes)

    def send(self, data: bytes):
        if self._ended:
            return
        if not self.paused:
            self.request.write(data)
        elif len(self._unsent) < self._owner.max_unsent:
            self._unsent.append(data)
        else:
            self._owner._dropped(self)
            self.end(abort=True)

    def pauseProducing(self):
        self.paused = True

    def resumeProducing(self):
        self.paused = False
        while self._unsent and not self.paused and not self._ended:
            self.request.write(self._unsent.popleft())

    def stopProducing(self):
        self._ended = True  # the connection is going away; the request's finish notice removes it

    def end(self, abort=False):
        """Finish the response and close the connection (``abort``: at once, unsent data lost)."""
        if self._ended:
            return
        self._ended = True
        self._unsent.clear()
        self._owner._streams.discard(self)
        request = self.request
        request.unregisterProducer()
        transport = request.channel.transport  # connected: a lost connection has left the set already
        if abort:
            transport.abortConnection()
            return
        request.finish()
        transport.loseConnection()


def _client(request) -> str:
    client = request.getClientAddress()
    return getattr(client, "host", None) or str(client)
