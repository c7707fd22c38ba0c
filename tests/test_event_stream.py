"""``GET /v1/events`` over real HTTP on loopback: live events, replay, reset, topics, keep-alive,
slow clients, closing, and the tickets a browser opens it with."""

import io
import json

import pytest
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock, deferLater

from rpymostat.api.event_stream import KEEP_ALIVE_S, RETRY_MS, EventStream, json_safe
from rpymostat.api.site import build_site
from rpymostat.api.validation import load_openapi
from rpymostat.auth import admin
from rpymostat.auth.policy import TokenAccess
from rpymostat.auth.tickets import MAX_TICKETS, TICKET_S, TicketBook
from rpymostat.events import Event, EventBus
from rpymostat.protocol.jsonsite import redacted
from rpymostat.storage.interface import Reading
from rpymostat.testing import FakeStorage, engine_parts
from tests.conftest import NOW
from tests.sse_client import WAIT_S, open_stream

T0 = NOW  # the shared clock fixture (tests/conftest.py) stands here
BOOT = "b00t"


class Served:
    """The engine's site over fake storage on a loopback port, its event stream at hand."""

    def __init__(self, clock, access=None, storage=None, **stream_options):
        self.clock = clock
        self.storage = storage if storage is not None else FakeStorage()
        self.events = EventBus()
        self.stream = EventStream(self.events, clock, boot=BOOT, **stream_options)
        parts = engine_parts(self.storage, clock, events=self.events, access=access)
        self.site = build_site(**parts, event_stream=self.stream)
        self.port = None

    async def start(self):
        self.port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(self.site)
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port.getHost().port}"

    def publish(self, topic, **data):
        return self.events.publish(topic, self.clock.seconds(), **data)

    async def stop(self):
        self.stream.close_all()
        await self.port.stopListening()


@pytest_twisted.async_yield_fixture
async def served(clock):
    built = await Served(clock).start()
    yield built
    await built.stop()


@pytest_twisted.ensureDeferred
async def test_events_arrive_live_in_order_with_ids_and_the_stream_headers(served):
    response, reader, _ = await open_stream(served.url + "/v1/events")
    assert response.code == 200
    headers = response.headers
    assert headers.getRawHeaders(b"content-type") == [b"text/event-stream"]
    assert headers.getRawHeaders(b"cache-control") == [b"no-cache"]
    assert headers.getRawHeaders(b"x-accel-buffering") == [b"no"]
    served.publish("zone.decided", zone="default", outputs={"heat": True}, reason="cold")
    served.publish("sensor.changed", sensor_id="s1", name="hall")
    served.publish("output.switched", zone="default", output="heat", address="pi/r1", on=True)
    await reader.until_events(3)
    assert reader.retry == RETRY_MS
    assert [e["id"] for e in reader.events] == [f"{BOOT}-1", f"{BOOT}-2", f"{BOOT}-3"]
    assert reader.names() == ["zone.decided", "sensor.changed", "output.switched"]
    assert reader.events[0]["data"] == {
        "at": "2026-11-25T12:00:00.000+00:00",
        "zone": "default",
        "outputs": {"heat": True},
        "reason": "cold",
    }
    assert served.stream.last_id == f"{BOOT}-3"


@pytest_twisted.ensureDeferred
async def test_accepted_readings_are_one_event_per_update_with_iso_times(served):
    _, reader, _ = await open_stream(served.url + "/v1/events?topics=sensor.readings")
    readings = [Reading("28-a", "DS18B20", 20.5, T0 - 1), Reading("28-b", "DS18B20", None, T0 - 1, alias="hall")]
    served.publish("sensor.readings", host_id="pi", readings=readings, received_at=T0)
    await reader.until_events(1)
    assert reader.events[0]["data"] == {
        "at": "2026-11-25T12:00:00.000+00:00",
        "host_id": "pi",
        "received_at": "2026-11-25T12:00:00.000+00:00",
        "readings": [
            {
                "id": "28-a",
                "type": "DS18B20",
                "value": 20.5,
                "timestamp": "2026-11-25T11:59:59.000+00:00",
                "alias": None,
                "extra": None,
            },
            {
                "id": "28-b",
                "type": "DS18B20",
                "value": None,
                "timestamp": "2026-11-25T11:59:59.000+00:00",
                "alias": "hall",
                "extra": None,
            },
        ],
    }


def test_data_is_made_json_safe():
    class Odd:
        def __str__(self):
            return "odd"

    assert json_safe({"a": (1, float("nan")), "b": {2}, "c": Odd(), "changed_at": 0.0, "at": True}) == {
        "a": [1, None],
        "b": [2],
        "c": "odd",
        "changed_at": "1970-01-01T00:00:00.000+00:00",
        "at": True,
    }
    assert json_safe(Clock) == "<class 'twisted.internet.task.Clock'>"
    assert json_safe(Event("t", 0.0, {"x": 1})) == {
        "topic": "t",
        "at": "1970-01-01T00:00:00.000+00:00",
        "data": {"x": 1},
    }


@pytest.mark.parametrize("how", ["header", "query"])
@pytest_twisted.ensureDeferred
async def test_a_client_reconnecting_with_its_last_event_id_gets_what_it_missed_then_live(served, how):
    for number in range(3):
        served.publish("sensor.changed", sensor_id=f"s{number}", name="x")
    if how == "header":
        _, reader, _ = await open_stream(served.url + "/v1/events", {"Last-Event-ID": f"{BOOT}-1"})
    else:
        _, reader, _ = await open_stream(served.url + f"/v1/events?last_event_id={BOOT}-1")
    await reader.until_events(2)
    served.publish("zone.decided", zone="default", outputs={}, reason="r")
    await reader.until_events(3)
    assert [e["id"] for e in reader.events] == [f"{BOOT}-2", f"{BOOT}-3", f"{BOOT}-4"]
    assert [e["data"].get("sensor_id") for e in reader.events] == ["s1", "s2", None]


@pytest_twisted.ensureDeferred
async def test_an_up_to_date_client_gets_nothing_old(served):
    served.publish("sensor.changed", sensor_id="s0", name="x")
    _, reader, _ = await open_stream(served.url + "/v1/events", {"Last-Event-ID": f"{BOOT}-1"})
    served.publish("sensor.changed", sensor_id="s1", name="x")
    await reader.until_events(1)
    assert [e["id"] for e in reader.events] == [f"{BOOT}-2"]


@pytest.mark.parametrize("last", [f"{BOOT}-1", "other-3", "nonsense", f"{BOOT}-99", f"{BOOT}-+2"])
@pytest_twisted.ensureDeferred
async def test_an_id_too_old_from_another_start_or_unknown_gets_one_reset_first(clock, last):
    served = await Served(clock, buffer_events=2).start()
    try:
        for number in range(5):
            served.publish("sensor.changed", sensor_id=f"s{number}", name="x")
        _, reader, _ = await open_stream(served.url + "/v1/events", {"Last-Event-ID": last})
        await reader.until_events(1)
        served.publish("zone.decided", zone="default", outputs={}, reason="r")
        await reader.until_events(2)
        assert reader.names() == ["reset", "zone.decided"]
        assert reader.events[0]["id"] == f"{BOOT}-5"  # resuming from the reset needs no second reset
        assert last in reader.events[0]["data"]["reason"]
    finally:
        await served.stop()


@pytest_twisted.ensureDeferred
async def test_the_replay_keeps_to_the_topics_asked_for(served):
    served.publish("sensor.changed", sensor_id="s0", name="x")
    served.publish("zone.decided", zone="default", outputs={}, reason="r")
    _, reader, _ = await open_stream(served.url + "/v1/events?topics=zone.", {"Last-Event-ID": f"{BOOT}-0"})
    await reader.until_events(1)
    assert [e["id"] for e in reader.events] == [f"{BOOT}-2"]


@pytest_twisted.ensureDeferred
async def test_topics_filter_by_name_and_by_prefix(served):
    _, by_prefix, _ = await open_stream(served.url + "/v1/events?topics=zone.")
    _, by_name, _ = await open_stream(served.url + "/v1/events?topics=sensor.changed,%20hold.started")
    served.publish("sensor.changed", sensor_id="s1", name="hall")
    served.publish("zone.changed", zone="default", change="updated")
    served.publish("zone.decided", zone="default", outputs={}, reason="r")
    served.publish("hold.started", zone="default", hold={})
    await by_prefix.until_events(2)
    await by_name.until_events(2)
    assert by_prefix.names() == ["zone.changed", "zone.decided"]
    assert by_name.names() == ["sensor.changed", "hold.started"]


@pytest.mark.parametrize("topics", ["zone.decide", "zone", "nothing.", "sensor.readings,"])
@pytest_twisted.ensureDeferred
async def test_an_unknown_topic_is_a_422_naming_topics(served, topics):
    response = await treq.get(served.url + "/v1/events", params={"topics": topics})
    assert response.code == 422
    document = await response.json()
    assert document["error"].startswith("topics: ")
    assert "zone.decided" in document["error"]


@pytest_twisted.ensureDeferred
async def test_keep_alive_comments_come_from_one_timer_for_every_stream(served, clock):
    served.stream.startService()
    timers = len(clock.getDelayedCalls())
    readers = [(await open_stream(served.url + "/v1/events"))[1] for _ in range(3)]
    assert len(clock.getDelayedCalls()) == timers  # streams add no timer
    clock.advance(KEEP_ALIVE_S - 0.1)
    clock.advance(0.1)
    for reader in readers:
        await reader.until(lambda r: r.comments == ["keep-alive"])
    clock.advance(KEEP_ALIVE_S)
    for reader in readers:
        await reader.until(lambda r: r.comments == ["keep-alive", "keep-alive"])
    served.stream.stopService()
    assert not served.stream.running
    for reader in readers:
        await reader.until(lambda r: r.ended)  # stopping the service ends the streams
    assert served.stream.streams() == 0


class Stalled(Protocol):
    """An SSE client that reads the response's head and then nothing more."""

    def __init__(self, path):
        self.path = path
        self.received = b""
        self.stalled = False
        self.lost = Deferred()

    def connectionMade(self):
        self.transport.write(f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())

    def dataReceived(self, data):
        self.received += data
        if b"retry:" in self.received and not self.stalled:
            self.stalled = True
            self.transport.pauseProducing()  # stop reading: the kernel's buffers fill, then the engine's

    def connectionLost(self, reason):
        self.lost.callback(None)


async def stalled_client(served, path="/v1/events"):
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", served.port.getHost().port)
    client = Stalled(path)
    await connectProtocol(endpoint, client)
    for _ in range(200):
        if b"retry:" in client.received:
            return client
        await deferLater(reactor, 0.01, lambda: None)
    raise AssertionError("the stream did not start")


@pytest_twisted.ensureDeferred
async def test_a_client_that_does_not_read_is_dropped_never_buffered_without_bound(clock):
    served = await Served(clock, buffer_events=2, max_unsent=4).start()
    try:
        _, reader, _ = await open_stream(served.url + "/v1/events?topics=zone.")
        client = await stalled_client(served, "/v1/events?topics=sensor.")
        blob = "x" * 256 * 1024
        for _ in range(400):  # ~100 MB at most: far more than loopback's socket buffers hold
            served.publish("sensor.changed", sensor_id="s", name=blob)
            await deferLater(reactor, 0, lambda: None)
            if served.stream.dropped:
                break
        assert served.stream.dropped == 1
        client.transport.resumeProducing()  # reading again, it finds its connection gone
        await client.lost.addTimeout(WAIT_S, reactor)
        assert served.stream.streams() == 1
        served.publish("zone.decided", zone="default", outputs={}, reason="r")
        await reader.until_events(1)  # the other stream goes on
    finally:
        await served.stop()


@pytest_twisted.ensureDeferred
async def test_a_client_that_goes_away_is_forgotten(served):
    client = await stalled_client(served)
    assert served.stream.streams() == 1
    client.transport.loseConnection()
    await client.lost.addTimeout(WAIT_S, reactor)
    for _ in range(500):
        if served.stream.streams() == 0:
            break
        await deferLater(reactor, 0.01, lambda: None)
    assert served.stream.streams() == 0
    served.publish("zone.decided", zone="default", outputs={}, reason="r")  # nobody left to write to


@pytest_twisted.ensureDeferred
async def test_close_all_ends_every_stream_so_the_port_stops_and_new_ones_are_refused(clock):
    served = await Served(clock, max_unsent=10_000).start()
    served.stream.startService()
    _, reader, done = await open_stream(served.url + "/v1/events?topics=zone.")
    client = await stalled_client(served)
    blob = "x" * 256 * 1024
    for _ in range(400):  # until the stalled stream holds unsent events
        served.publish("sensor.changed", sensor_id="s", name=blob)
        await deferLater(reactor, 0, lambda: None)
        if any(stream.paused for stream in served.stream._streams if stream.request.uri == b"/v1/events"):
            break
    clock.advance(KEEP_ALIVE_S)  # a keep-alive for the stream that reads; none queued for the one that does not
    await reader.until(lambda r: r.comments == ["keep-alive"])
    served.stream.stopService()
    await done.addTimeout(WAIT_S, reactor)
    client.transport.resumeProducing()
    await client.lost.addTimeout(WAIT_S, reactor)
    assert served.stream.streams() == 0
    response = await treq.get(served.url + "/v1/events")
    assert response.code == 503
    assert "stopping" in (await response.json())["error"]
    await served.port.stopListening()
    served.stream.stopService()  # again: nothing left to do


@pytest_twisted.ensureDeferred
async def test_head_answers_the_headers_only(served):
    response = await treq.head(served.url + "/v1/events")
    assert response.code == 200
    assert response.headers.getRawHeaders(b"content-type") == [b"text/event-stream"]
    assert served.stream.streams() == 0


# Tickets.


def test_a_ticket_lasts_its_lifetime_on_the_monotonic_clock():
    now = [100.0]
    book = TicketBook(lambda: now[0])
    ticket, lifetime = book.issue("record")
    assert lifetime == TICKET_S and ticket.startswith("rpyt_")
    assert book.redeem(ticket) == (True, "record")
    assert book.redeem(ticket) == (True, "record")  # an EventSource reconnects with the same URL
    now[0] += TICKET_S - 0.001
    assert book.redeem(ticket) == (True, "record")
    now[0] += 0.001
    assert book.redeem(ticket) == (False, None)
    assert book.redeem("rpyt_made-up") == (False, None)
    book.issue("other")
    assert len(book) == 1  # expired ones go as new ones come


def test_tickets_are_bounded_oldest_dropped_first():
    book = TicketBook(lambda: 0.0)
    first, _ = book.issue("a")
    second, _ = book.issue("b")
    for _ in range(MAX_TICKETS - 1):
        book.issue("c")
    assert len(book) == MAX_TICKETS
    assert book.redeem(first) == (False, None)
    assert book.redeem(second) == (True, "b")


class TokenEngine:
    """The engine's site with access by token over fake storage, on loopback."""

    def __init__(self, clock):
        self.storage = FakeStorage()
        self.access = TokenAccess(self.storage, load_openapi(), clock.seconds)
        self.served = Served(clock, access=self.access, storage=self.storage)

    async def start(self):
        await self.served.start()
        return self

    async def token(self, role, name=None):
        token, _ = await admin.create_token(self.storage, T0, name or role, role)
        return token

    async def ticket(self, token):
        response = await treq.post(self.served.url + "/v1/events/ticket", headers={"Authorization": f"Bearer {token}"})
        return response.code, await response.json()


@pytest_twisted.async_yield_fixture
async def guarded(clock):
    engine = await TokenEngine(clock).start()
    yield engine
    await engine.served.stop()


@pytest_twisted.ensureDeferred
async def test_a_ticket_opens_the_stream_for_a_browser_that_cannot_send_a_header(guarded, clock):
    code, answer = await guarded.ticket(await guarded.token("read"))
    assert code == 201
    assert answer["expires"] == "2026-11-25T12:05:00.000+00:00"
    response, reader, _ = await open_stream(guarded.served.url + "/v1/events?ticket=" + answer["ticket"])
    assert response.code == 200
    guarded.served.publish("zone.decided", zone="default", outputs={}, reason="r")
    await reader.until_events(1)


@pytest_twisted.ensureDeferred
async def test_without_token_or_ticket_the_stream_is_a_401(guarded):
    response = await treq.get(guarded.served.url + "/v1/events")
    assert response.code == 401


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/v1/zones"), ("GET", "/v1/events/ticket"), ("POST", "/v1/events/ticket"), ("HEAD", "/v1/events")],
)
@pytest_twisted.ensureDeferred
async def test_a_ticket_opens_nothing_else(guarded, method, path):
    _, answer = await guarded.ticket(await guarded.token("admin"))
    response = await treq.request(method, guarded.served.url + path, params={"ticket": answer["ticket"]})
    assert response.code == 401


@pytest_twisted.ensureDeferred
async def test_a_ticket_opens_the_path_as_the_router_reads_it(guarded):
    _, answer = await guarded.ticket(await guarded.token("read"))
    response, _, _ = await open_stream(guarded.served.url + "/v1/%65vents/?ticket=" + answer["ticket"])
    assert response.code == 200


@pytest_twisted.ensureDeferred
async def test_an_expired_or_made_up_ticket_is_a_401_that_counts_as_a_failure(guarded, clock):
    _, answer = await guarded.ticket(await guarded.token("read"))
    clock.advance(TICKET_S)
    for ticket in (answer["ticket"], "rpyt_made-up"):
        response = await treq.get(guarded.served.url + "/v1/events", params={"ticket": ticket})
        assert response.code == 401
        assert response.headers.getRawHeaders(b"www-authenticate") == [b'Bearer realm="rpymostat"']
        assert "ticket" in (await response.json())["error"]
    assert guarded.access.throttle.tracked() == 1


@pytest_twisted.ensureDeferred
async def test_a_host_token_gets_no_ticket(guarded):
    code, _ = await guarded.ticket(await guarded.token("sensor"))
    assert code == 403


@pytest_twisted.ensureDeferred
async def test_a_revoked_tokens_tickets_end_with_it(guarded):
    token = await guarded.token("user", "tablet")
    _, answer = await guarded.ticket(token)
    admin_token = await guarded.token("admin")
    response = await treq.delete(
        guarded.served.url + "/v1/tokens/tablet", headers={"Authorization": f"Bearer {admin_token}"}
    )
    assert response.code == 204
    response = await treq.get(guarded.served.url + "/v1/events", params={"ticket": answer["ticket"]})
    assert response.code == 401


@pytest_twisted.ensureDeferred
async def test_with_access_open_the_stream_needs_no_ticket_and_a_ticket_is_still_answered(served):
    response = await treq.post(served.url + "/v1/events/ticket")
    assert response.code == 201
    assert (await response.json())["ticket"].startswith("rpyt_")


@pytest_twisted.ensureDeferred
async def test_tickets_never_reach_the_access_log(guarded):
    log = io.StringIO()
    guarded.served.site.logFile = log
    _, answer = await guarded.ticket(await guarded.token("read"))
    ticket = answer["ticket"]
    _, reader, _ = await open_stream(guarded.served.url + f"/v1/events?topics=zone.&ticket={ticket}")
    await treq.get(guarded.served.url + "/v1/events", params={"ticket": ticket + "x", "topics": "zone."})
    guarded.served.stream.close_all()
    await reader.until(lambda r: r.ended)
    lines = log.getvalue()
    assert ticket not in lines and ticket[5:15] not in lines
    assert lines.count("ticket=[redacted]") == 2, lines
    assert "/v1/events/ticket" in lines


def test_redaction_covers_every_ticket_in_a_line():
    line = '"GET /v1/events?ticket=abc&topics=zone.;TICKET=def HTTP/1.1" 200 - "http://x/?ticket=ghi" "ua"'
    assert redacted(line) == (
        '"GET /v1/events?ticket=[redacted]&topics=zone.;TICKET=[redacted] HTTP/1.1" 200 -'
        ' "http://x/?ticket=[redacted]" "ua"'
    )
    assert json.loads(json.dumps(redacted("no tickets here"))) == "no tickets here"
