"""Registration with the engine: retried with capped backoff until accepted."""

import json

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.task import Clock
from twisted.logger import formatEvent, globalLogPublisher
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

from rpymostat.protocol.client import JsonClient
from rpymostat_control.registrar import Registrar


class FakeEngine(Resource):
    """Records registrations and answers each with the next scripted status (then 201)."""

    isLeaf = True

    def __init__(self, answers=()):
        super().__init__()
        self.answers = list(answers)
        self.received = []
        self.held = None  # a Deferred: while set, answers wait for it

    def render_POST(self, request):
        self.received.append((request.path.decode(), json.loads(request.content.read())))
        code = self.answers.pop(0) if self.answers else 201
        body = {"host_id": "unit"} if code < 400 else {"status": "error", "error": f"scripted {code}"}

        def answer(_=None):
            request.setResponseCode(code)
            request.setHeader(b"Content-Type", b"application/json")
            request.write(json.dumps(body).encode())
            request.finish()

        if self.held is None:
            answer()
        else:
            self.held.addCallback(answer)
        return NOT_DONE_YET


@pytest.fixture
def logged():
    events = []
    globalLogPublisher.addObserver(events.append)
    yield lambda: "\n".join(formatEvent(event) for event in events)
    globalLogPublisher.removeObserver(events.append)


@pytest_twisted.async_yield_fixture
async def engine():
    fake = FakeEngine()
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(fake))
    fake.url = f"http://127.0.0.1:{port.getHost().port}/v1"
    yield fake
    await port.stopListening()


@pytest_twisted.async_yield_fixture
async def client():
    json_client = JsonClient(reactor, timeout=5)
    yield json_client
    await json_client.close()


DOCUMENT = {"host_id": "unit", "url": "http://127.0.0.1:8089", "relays": {"sim-1": {"type": "sim", "state": False}}}


def registrar(client, url, document=lambda url: DOCUMENT, max_backoff=300.0):
    clock = Clock()
    urls = {"engine": url}
    return clock, urls, Registrar(clock, client, lambda: urls["engine"], document, max_backoff=max_backoff)


def delays(clock):
    return [call.getTime() - clock.seconds() for call in clock.getDelayedCalls()]


async def retry(clock, registrar_):
    """Let the scheduled retry run and wait for that attempt to end."""
    clock.advance(delays(clock)[0])
    await registrar_.attempt


@pytest_twisted.ensureDeferred
async def test_registers_once_when_the_engine_accepts(engine, client, logged):
    clock, _, unit = registrar(client, engine.url)
    await unit.register()
    assert engine.received == [("/v1/controls/register", DOCUMENT)]
    assert unit.registered_with == engine.url
    assert clock.getDelayedCalls() == []
    assert f"registered with the engine at {engine.url} as http://127.0.0.1:8089; relays sim-1" in logged()


@pytest_twisted.ensureDeferred
async def test_server_errors_back_off_exponentially_until_accepted(engine, client):
    engine.answers = [503, 500, 502]
    clock, _, unit = registrar(client, engine.url)
    await unit.register()
    assert delays(clock) == [1.0]
    await retry(clock, unit)
    assert delays(clock) == [2.0]
    await retry(clock, unit)
    assert delays(clock) == [4.0]
    assert unit.registered_with is None
    await retry(clock, unit)
    assert clock.getDelayedCalls() == [] and unit.failures == 0
    assert len(engine.received) == 4 and unit.registered_with == engine.url


@pytest_twisted.ensureDeferred
async def test_a_refusal_is_logged_with_the_engines_message_and_retried_at_the_cap(engine, client, logged):
    engine.answers = [422]
    clock, _, unit = registrar(client, engine.url, max_backoff=60.0)
    await unit.register()
    assert delays(clock) == [60.0]
    assert "refused the registration (422): scripted 422; retrying in 60.0 s" in logged()
    await retry(clock, unit)
    assert len(engine.received) == 2 and unit.registered_with == engine.url


@pytest_twisted.ensureDeferred
async def test_an_unreachable_engine_is_retried_with_a_capped_backoff(client, logged):
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(Resource()))
    url = f"http://127.0.0.1:{port.getHost().port}/v1"
    await port.stopListening()  # nothing listens there now
    clock, _, unit = registrar(client, url, max_backoff=5.0)
    await unit.register()
    seen = [delays(clock)[0]]
    for _ in range(4):
        await retry(clock, unit)
        seen.append(delays(clock)[0])
    assert seen == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert "engine unreachable for registration" in logged()


@pytest_twisted.ensureDeferred
async def test_waits_for_an_engine_to_be_known(engine, client, logged):
    clock, urls, unit = registrar(client, None)
    await unit.register()
    assert delays(clock) == [1.0] and engine.received == []
    assert "no engine known yet" in logged()
    urls["engine"] = engine.url
    await unit.register()  # discovery found one: at once, the pending retry dropped
    assert len(engine.received) == 1 and clock.getDelayedCalls() == []


@pytest_twisted.ensureDeferred
async def test_a_document_that_cannot_be_built_is_retried(engine, client, logged):
    failures = [OSError("Network is unreachable"), ValueError("a bug")]

    def document(url):
        if failures:
            raise failures.pop(0)
        return DOCUMENT

    clock, _, unit = registrar(client, engine.url, document=document)
    await unit.register()
    assert delays(clock) == [1.0]
    assert f"cannot register with the engine at {engine.url}: Network is unreachable" in logged()
    await retry(clock, unit)
    assert delays(clock) == [2.0]
    assert "registering with the engine failed unexpectedly" in logged()
    await retry(clock, unit)
    assert len(engine.received) == 1


@pytest_twisted.ensureDeferred
async def test_a_request_during_an_attempt_sends_another_after_it(engine, client):
    engine.held = Deferred()
    documents = iter([{**DOCUMENT, "url": "http://first"}, {**DOCUMENT, "url": "http://second"}])
    clock, _, unit = registrar(client, engine.url, document=lambda url: next(documents))
    first = unit.register()
    while not engine.received:
        await _turn()
    second = unit.register()
    assert second is first
    engine.held, held = None, engine.held
    held.callback(None)
    await first
    await unit.attempt
    assert [body["url"] for _, body in engine.received] == ["http://first", "http://second"]


@pytest_twisted.ensureDeferred
async def test_stop_drops_the_retry_and_an_attempt_in_flight_schedules_nothing(engine, client):
    engine.answers = [503, 503]
    clock, _, unit = registrar(client, engine.url)
    await unit.register()
    unit.stop()
    assert clock.getDelayedCalls() == []
    engine.held = Deferred()
    attempt = unit.register()
    while len(engine.received) < 2:
        await _turn()
    unit.register()  # queued behind the attempt in flight ...
    unit.stop()  # ... and dropped with it
    engine.held.callback(None)
    await attempt
    assert clock.getDelayedCalls() == [] and len(engine.received) == 2


def _turn():
    """One trip round the real reactor."""
    d = Deferred()
    reactor.callLater(0.01, d.callback, None)
    return d


def test_days_without_an_engine_keep_retrying_at_the_cap(logged):
    """``first * 2 ** failures`` overflowed a float after 1024 failures, and retries stopped."""
    clock, _, unit = registrar(client=None, url=None)
    unit.register()
    for _ in range(1030):
        clock.advance(delays(clock)[0])
    assert delays(clock) == [300.0] and unit.failures == 1031
    assert "failed unexpectedly" not in logged()
