"""``/live/events``: the engine's event stream relayed to the browser by the UI's own Twisted server.

End to end over loopback: a logged-in browser gets a ticket from the UI,
opens the relay, and sees what happens on a real engine process.  Error
paths use the same service with an engine that is not there, one that
accepts a connection and never answers, and a real engine that stops.
"""

from urllib.parse import quote

import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

from acceptance.engine_process import EngineProcess
from rpymostat_webui import relay
from tests.sse_client import SseReader
from tests.webui.test_service import WAIT_S, Running, ui_config, until


class RawStream(Protocol):
    """An HTTP/1.0 GET read as it arrives (no chunking), which the test can hang up on at any moment."""

    def __init__(self, request: bytes):
        self.request = request
        self.received = b""
        self.reader = SseReader()
        self.lost = Deferred()

    def connectionMade(self):
        self.transport.write(self.request)

    def dataReceived(self, data):
        head_seen = b"\r\n\r\n" in self.received
        self.received += data
        if head_seen:
            self.reader.feed(data)
        elif b"\r\n\r\n" in self.received:
            self.reader.feed(self.received.split(b"\r\n\r\n", 1)[1])

    def connectionLost(self, reason):
        self.lost.callback(None)

    @property
    def status(self):
        return int(self.received.split(b" ", 2)[1]) if b"\r\n" in self.received else None

    @property
    def body(self):
        return self.received.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in self.received else b""


class Body(Protocol):
    """A streamed response body read into an :class:`SseReader`; ``transport.stopProducing()`` hangs up."""

    def __init__(self):
        self.reader = SseReader()
        self.done = Deferred()

    def dataReceived(self, data):
        self.reader.feed(data)

    def connectionLost(self, reason):
        self.reader.ended = True
        self.done.callback(None)


async def open_stream(url):
    """``(response, body)`` of a GET read as it arrives, as a browser's EventSource does over HTTP/1.1."""
    response = await treq.get(url, unbuffered=True, timeout=WAIT_S)
    body = Body()
    response.deliverBody(body)
    return response, body


async def raw_get(base, path, headers=()):
    port = int(base.rsplit(":", 1)[1])
    lines = [f"GET {path} HTTP/1.0", "Host: 127.0.0.1", *headers, "", ""]
    stream = RawStream("\r\n".join(lines).encode())
    await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), stream)
    return stream


def connections_to(port: int) -> set[str]:
    """The local ends of the TCP connections open towards ``port`` (in this network namespace)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                local, remote, state = line.split()[1:4]
                if state == "01" and int(remote.rsplit(":", 1)[1], 16) == port:
                    found.add(local)
    return found


def zone_events(reader, zone):
    return [event for event in reader.events if event["event"] == "zone.changed" and event["data"]["zone"] == zone]


@pytest_twisted.ensureDeferred
async def test_a_change_on_the_engine_arrives_through_the_relay(tmp_path, engine_process):
    async with Running(ui_config(tmp_path, engine_process.url, token=engine_process.admin_token)) as ui:
        browser = ui.browser()
        await browser.login()
        ticket = await browser.ticket()
        response, body = await open_stream(f"{ui.base}/live/events?ticket={quote(ticket)}&topics=zone.")
        reader = body.reader
        assert response.code == 200
        assert response.headers.getRawHeaders("Content-Type") == ["text/event-stream"]
        assert response.headers.getRawHeaders("Cache-Control") == ["no-cache"]
        assert response.headers.getRawHeaders("X-Accel-Buffering") == ["no"]
        await reader.until(lambda r: r.retry == 3000)  # the engine's own first line, passed through
        assert engine_process.request("PUT", "/v1/zones/relay-hall", {"name": "Relay hall"})[0] == 201
        await reader.until(lambda r: zone_events(r, "relay-hall"))
        [event] = zone_events(reader, "relay-hall")
        assert event["data"]["change"] == "created"
        assert all(e["event"].startswith("zone.") for e in reader.events)  # topics were passed on
        body.transport.stopProducing()  # hang up
        await body.done.addTimeout(WAIT_S, reactor)


@pytest_twisted.ensureDeferred
async def test_last_event_id_catches_up_after_a_reconnect(tmp_path, engine_process):
    async with Running(ui_config(tmp_path, engine_process.url, token=engine_process.admin_token)) as ui:
        browser = ui.browser()
        await browser.login()
        ticket = quote(await browser.ticket())
        first = await raw_get(ui.base, f"/live/events?ticket={ticket}&topics=zone.changed")
        await until(lambda: first.reader.retry == 3000, "the stream open")
        for name in ("relay-a", "relay-b", "relay-c"):
            assert engine_process.request("PUT", f"/v1/zones/{name}", {"name": name})[0] == 201
        await until(lambda: zone_events(first.reader, "relay-c"), "three events")
        ids = {event["data"]["zone"]: event["id"] for event in first.reader.events}
        first.transport.loseConnection()

        # As EventSource reconnects: the Last-Event-ID header.  Only what came after it is sent again.
        again = await raw_get(
            ui.base, f"/live/events?ticket={ticket}&topics=zone.changed", [f"Last-Event-ID: {ids['relay-a']}"]
        )
        await until(lambda: len(again.reader.events) >= 2, "the missed events")
        assert [(e["id"], e["data"]["zone"]) for e in again.reader.events] == [
            (ids["relay-b"], "relay-b"),
            (ids["relay-c"], "relay-c"),
        ]
        again.transport.loseConnection()

        # A new EventSource: the last_event_id query argument; unknown arguments are not passed on.
        fresh = await raw_get(
            ui.base, f"/live/events?ticket={ticket}&topics=zone.changed&last_event_id={ids['relay-b']}&x=1"
        )
        await until(lambda: fresh.reader.events, "the missed event")
        assert [(e["id"], e["data"]["zone"]) for e in fresh.reader.events] == [(ids["relay-c"], "relay-c")]
        fresh.transport.loseConnection()


@pytest_twisted.ensureDeferred
async def test_tickets_are_needed_and_a_bad_one_is_the_engines_401(tmp_path, engine_process):
    async with Running(ui_config(tmp_path, engine_process.url, token=engine_process.admin_token)) as ui:
        none = await raw_get(ui.base, "/live/events?topics=zone.")
        await none.lost
        assert none.status == 401
        assert none.body == b"a stream ticket is needed: POST /live/ticket first\n"
        assert b"Content-Type: text/plain; charset=utf-8" in none.received

        bad = await raw_get(ui.base, "/live/events?ticket=rpyt_made-up&topics=zone.")
        await bad.lost
        assert bad.status == 401
        assert b"Content-Type: application/json" in bad.received
        assert b'"error"' in bad.body  # the engine's own answer

        browser = ui.browser()
        response, _ = await browser.post("/live/ticket")  # not logged in: no ticket
        assert response.code == 401
        await browser.login()
        response, page = await browser.post("/live/ticket")  # no CSRF header: no ticket either
        assert response.code == 400


@pytest_twisted.ensureDeferred
async def test_without_a_paired_engine_the_relay_says_why(tmp_path):
    async with Running(ui_config(tmp_path, "http://127.0.0.1:9")) as ui:  # no token: pairing, unreachable
        stream = await raw_get(ui.base, "/live/events?ticket=rpyt_x")
        await stream.lost
    assert stream.status == 503
    assert stream.body == b"no engine: asking the engine to pair with this web UI\n"


@pytest_twisted.ensureDeferred
async def test_an_engine_that_cannot_be_reached_is_a_502_not_a_hang(tmp_path, logged):  # noqa: F811
    async with Running(ui_config(tmp_path, "http://127.0.0.1:9", token="rpy_given-by-hand")) as ui:
        stream = await raw_get(ui.base, "/live/events?ticket=rpyt_x&topics=zone.")
        await stream.lost.addTimeout(WAIT_S, reactor)
    assert stream.status == 502
    assert stream.body == b"the engine's event stream cannot be reached; retrying\n"
    assert "cannot relay the event stream: " in logged()


class Silent(Resource):
    """An "engine" that accepts the request and never answers; ``gone`` fires when the UI hangs up."""

    isLeaf = True

    def __init__(self):
        super().__init__()
        self.asked = []
        self.gone = Deferred()

    def render_GET(self, request):
        self.asked.append((request.uri, request.getHeader(b"last-event-id")))
        request.notifyFinish().addErrback(lambda _: self.gone.callback(None))
        return NOT_DONE_YET


@pytest_twisted.ensureDeferred
async def test_an_engine_that_never_answers_times_out_with_a_502(tmp_path, monkeypatch):
    monkeypatch.setattr(relay, "ANSWER_TIMEOUT", 0.2)
    engine = Silent()
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(engine))
    url = f"http://127.0.0.1:{port.getHost().port}"
    try:
        async with Running(ui_config(tmp_path, url, token="rpy_given-by-hand")) as ui:
            stream = await raw_get(ui.base, "/live/events?ticket=rpyt_x", ["Last-Event-ID: boot-7"])
            await stream.lost.addTimeout(WAIT_S, reactor)
            await engine.gone.addTimeout(WAIT_S, reactor)  # the UI gave up on the engine's connection
    finally:
        await port.stopListening()
    assert stream.status == 502
    assert engine.asked == [(b"/v1/events?ticket=rpyt_x", b"boot-7")]  # the header passed on


@pytest_twisted.ensureDeferred
async def test_a_browser_leaving_before_the_engine_answers_cancels_the_request(tmp_path):
    engine = Silent()
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(engine))
    url = f"http://127.0.0.1:{port.getHost().port}"
    try:
        async with Running(ui_config(tmp_path, url, token="rpy_given-by-hand")) as ui:
            stream = await raw_get(ui.base, "/live/events?ticket=rpyt_x&topics=zone.&last_event_id=boot-3")
            await until(lambda: engine.asked, "the request at the engine")
            stream.transport.loseConnection()
            await engine.gone.addTimeout(WAIT_S, reactor)
    finally:
        await port.stopListening()
    assert engine.asked == [(b"/v1/events?ticket=rpyt_x&topics=zone.&last_event_id=boot-3", None)]
    assert stream.body == b""


@pytest_twisted.ensureDeferred
async def test_a_browser_leaving_closes_the_engine_stream(tmp_path, engine_process):
    engine_port = engine_process.port
    async with Running(ui_config(tmp_path, engine_process.url, token=engine_process.admin_token)) as ui:
        browser = ui.browser()
        await browser.login()
        ticket = quote(await browser.ticket())
        before = connections_to(engine_port)
        stream = await raw_get(ui.base, f"/live/events?ticket={ticket}&topics=zone.")
        await until(lambda: stream.reader.retry == 3000, "the stream open")
        [upstream] = connections_to(engine_port) - before  # the relay's own connection to the engine
        stream.transport.loseConnection()
        await until(lambda: upstream not in connections_to(engine_port), "the engine's stream closed")

        # The engine and the relay go on serving.
        again = await raw_get(ui.base, f"/live/events?ticket={ticket}&topics=zone.")
        await until(lambda: again.reader.retry == 3000, "the stream open")
        assert engine_process.request("PUT", "/v1/zones/relay-after", {"name": "after"})[0] == 201
        await until(lambda: zone_events(again.reader, "relay-after"), "an event on a new stream")
        again.transport.loseConnection()
    assert "Traceback" not in engine_process.log()


@pytest_twisted.ensureDeferred
async def test_an_engine_that_stops_ends_the_browsers_stream(tmp_path):
    engine = EngineProcess(tmp_path / "engine").start()
    try:
        config = ui_config(tmp_path, engine.url, token=engine.admin_token)
        async with Running(config) as ui:
            browser = ui.browser()
            await browser.login()
            ticket = quote(await browser.ticket())
            response, body = await open_stream(f"{ui.base}/live/events?ticket={ticket}&topics=zone.")
            assert response.code == 200
            await body.reader.until(lambda r: r.retry == 3000)
            assert engine.stop() == 0
            await body.done.addTimeout(WAIT_S, reactor)  # the browser's stream ended with the engine's
            assert body.reader.ended
            # EventSource reconnects: the engine is gone, so a 502 at once, not a hang.
            stream = await raw_get(ui.base, f"/live/events?ticket={ticket}&topics=zone.")
            await stream.lost.addTimeout(WAIT_S, reactor)
            assert stream.status == 502
    finally:
        engine.stop()


class QuietAfterHello(Resource):
    """An "engine" that starts the stream, sends one line and then nothing, like a host that lost power."""

    isLeaf = True

    def __init__(self):
        super().__init__()
        self.gone = Deferred()

    def render_GET(self, request):
        request.setHeader(b"Content-Type", b"text/event-stream")
        request.write(b"retry: 3000\n\n")
        request.notifyFinish().addErrback(lambda _: self.gone.callback(None))
        return NOT_DONE_YET


@pytest_twisted.ensureDeferred
async def test_a_stream_that_goes_quiet_is_ended_so_the_page_reconnects_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(relay.EventRelay, "idle_timeout", 0.3)
    engine = QuietAfterHello()
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(engine))
    url = f"http://127.0.0.1:{port.getHost().port}"
    try:
        async with Running(ui_config(tmp_path, url, token="rpy_given-by-hand")) as ui:
            stream = await raw_get(ui.base, "/live/events?ticket=rpyt_x")
            await stream.lost.addTimeout(WAIT_S, reactor)  # ended by the relay, not by the engine
            await engine.gone.addTimeout(WAIT_S, reactor)  # and the engine's side closed too
    finally:
        await port.stopListening()
    assert stream.status == 200
    assert b"retry: 3000" in stream.body
