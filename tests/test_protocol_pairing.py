"""A daemon pairs with the engine: request, code in the log, approval, credentials stored.

Real HTTP on loopback against :class:`tests.sensor.fake_engine.FakeEngine`;
every wait of the pairing runs on an injected Clock that the test advances.
"""

import json
import os
import stat

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import CancelledError
from twisted.logger import LogLevel, capturedLogs, formatEvent

from rpymostat.protocol import pairing as pairing_module
from rpymostat.protocol.client import JsonClient, JsonResponse
from rpymostat.protocol.credentials import CREDENTIALS_FILE, Credentials, load
from rpymostat.protocol.pairing import Pairing, retry_after
from rpymostat.protocol.tokens import token_hash
from tests.sensor.fake_engine import EXPIRY_S, FakeEngine, advance, next_delay, until

CLOSED_PORT_URL = "http://127.0.0.1:9/v1"


@pytest_twisted.async_yield_fixture
async def engine(clock):
    fake = await FakeEngine(clock).listen(reactor)
    yield fake
    await fake.close()


@pytest_twisted.async_yield_fixture
async def client():
    json_client = JsonClient(reactor, timeout=2)
    yield json_client
    await json_client.close()


def make_pairing(client, url, clock, data_dir, **options):
    return Pairing(client, url, "pi-attic", "sensor", clock, data_dir, **options)


def logged(events, level=None):
    return [formatEvent(e) for e in events if level is None or e["log_level"] == level]


async def approve_when_asked(engine, clock, running, code=None):
    """Wait for a pending request, approve it, and poll until the pairing is done."""
    await until(lambda: engine.codes() and clock.getDelayedCalls())
    name = engine.approve(code or engine.codes()[-1])
    advance(clock)
    await until(lambda: running.called)
    return name


@pytest_twisted.ensureDeferred
async def test_pairing_end_to_end_logs_the_code_and_stores_private_credentials(engine, client, clock, tmp_path):
    pairing = make_pairing(client, engine.url, clock, tmp_path)
    with capturedLogs() as events:
        running = pairing.run()
        await until(lambda: engine.codes() and clock.getDelayedCalls())
        [code] = engine.codes()
        assert pairing.code == code
        assert next_delay(clock) == 3.0  # polls every 3 s by default
        advance(clock)  # one poll while still pending
        await until(lambda: len(engine.requests) == 2 and clock.getDelayedCalls())
        name = engine.approve(code)
        advance(clock)
        await until(lambda: running.called)
    credentials = running.result
    assert (credentials.name, name) == ("sensor-pi-attic", "sensor-pi-attic")
    # The engine got the token's hash only, and the secret it will prove itself with.
    assert engine.tokens == {
        token_hash(credentials.token): {"name": name, "secret": credentials.secret, "host_id": "pi-attic"}
    }
    assert credentials.token.startswith("rpy_") and credentials.token not in json.dumps(engine.requests)
    path = tmp_path / CREDENTIALS_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and load(tmp_path) == credentials
    info = logged(events, LogLevel.info)
    assert (
        f"pairing requested as pi-attic (sensor): approve it on the engine with: rpymostat-engine pair approve {code}"
        in info
    )
    assert not any(credentials.token in line or credentials.secret in line for line in logged(events))
    assert clock.getDelayedCalls() == []
    assert engine.requests == [("POST", "/v1/pair"), ("GET", "/v1/pair/p1"), ("GET", "/v1/pair/p1")]


@pytest.mark.parametrize("role", ["admin", "user"])
@pytest_twisted.ensureDeferred
async def test_a_web_ui_pairs_as_the_role_it_asks_for(engine, client, clock, tmp_path, role):
    pairing = Pairing(client, engine.url, "webui-den", role, clock, tmp_path)
    with capturedLogs() as events:
        running = pairing.run()
        await until(lambda: engine.codes() and clock.getDelayedCalls())
        [request] = engine.pending.values()
        name = await approve_when_asked(engine, clock, running)
    assert (request["host_id"], request["role"]) == ("webui-den", role)
    assert running.result.name == name == f"{role}-webui-den"
    assert engine.tokens[token_hash(running.result.token)]["host_id"] is None  # bound to no host
    assert any(f"pairing requested as webui-den ({role})" in line for line in logged(events, LogLevel.info))


@pytest_twisted.ensureDeferred
async def test_a_code_already_pending_is_replaced_by_a_new_one(engine, client, clock, tmp_path, monkeypatch):
    engine.pending["p0"] = {"code": "K7M2QX", "created": clock.seconds(), "role": "sensor", "host_id": "x"}
    codes = iter(["K7M2QX", "K7M2QX", "ABCDEF"])
    monkeypatch.setattr(pairing_module, "new_code", lambda: next(codes))
    with capturedLogs() as events:
        running = make_pairing(client, engine.url, clock, tmp_path).run()
        await until(lambda: engine.pair_requests() == ["/v1/pair"] * 2 and clock.getDelayedCalls())
        assert next_delay(clock) == 1.0  # a second clash in a row backs off
        advance(clock)
        await approve_when_asked(engine, clock, running, "ABCDEF")
    assert running.result.name == "sensor-pi-attic"
    assert len(engine.pair_requests()) == 3
    assert sum("pairing code K7M2QX is in use" in line for line in logged(events)) == 2


@pytest_twisted.ensureDeferred
async def test_an_expired_request_starts_over_with_a_new_code_and_a_new_token(engine, client, clock, tmp_path):
    with capturedLogs() as events:
        running = make_pairing(client, engine.url, clock, tmp_path).run()
        await until(lambda: engine.codes() and clock.getDelayedCalls())
        [first] = engine.pending.values()
        clock.advance(EXPIRY_S)  # the admin never came: the engine forgot it
        await until(lambda: len(engine.pair_requests()) == 2 and clock.getDelayedCalls())
        [second] = engine.pending.values()
        await approve_when_asked(engine, clock, running)
    assert second["token_hash"] != first["token_hash"] and second["secret"] != first["secret"]
    assert token_hash(running.result.token) == second["token_hash"]
    assert any(f"pairing request {first['code']} expired" in line for line in logged(events, LogLevel.info))


@pytest_twisted.ensureDeferred
async def test_a_busy_engine_is_waited_for(engine, client, clock, tmp_path):
    engine.max_pending = 0
    with capturedLogs() as events:
        running = make_pairing(client, engine.url, clock, tmp_path).run()
        await until(lambda: clock.getDelayedCalls())
        assert next_delay(clock) == 7.0  # the engine's Retry-After
        engine.max_pending = 16
        advance(clock)
        await approve_when_asked(engine, clock, running)
    assert running.called and engine.pair_requests() == ["/v1/pair"] * 2
    assert any("busy with pairing requests" in line for line in logged(events, LogLevel.warn))


@pytest_twisted.ensureDeferred
async def test_a_busy_engine_is_waited_for_as_long_as_it_asks(engine, client, clock, tmp_path):
    engine.max_pending = 0
    running = make_pairing(client, engine.url, clock, tmp_path).run()
    await until(lambda: clock.getDelayedCalls())
    assert next_delay(clock) == 7.0  # the engine's Retry-After
    running.cancel()
    running.addErrback(lambda failure: failure.trap(CancelledError))


@pytest_twisted.ensureDeferred
async def test_an_unreachable_or_unknown_engine_is_retried_with_backoff(engine, client, clock, tmp_path):
    where = {"url": None}
    with capturedLogs() as events:
        running = make_pairing(client, lambda: where["url"], clock, tmp_path).run()
        assert next_delay(clock) == 3.0  # no engine known: check again at the poll interval
        where["url"] = CLOSED_PORT_URL
        advance(clock)
        await until(lambda: clock.getDelayedCalls())
        assert next_delay(clock) == 1.0
        advance(clock)
        await until(lambda: clock.getDelayedCalls())
        assert next_delay(clock) == 2.0  # doubling
        where["url"] = engine.url
        engine.failures = [(500, "database unavailable"), (422, "host_id is not valid")]
        advance(clock)
        await until(lambda: len(engine.requests) == 1 and clock.getDelayedCalls())
        assert next_delay(clock) == 4.0
        advance(clock)
        await until(lambda: len(engine.requests) == 2 and clock.getDelayedCalls())
        advance(clock)
        await approve_when_asked(engine, clock, running)
    assert running.called
    warnings = logged(events, LogLevel.warn)
    assert any("cannot reach the engine to pair" in line for line in warnings)
    assert any("with 500: database unavailable" in line for line in warnings)
    assert any("with 422: host_id is not valid" in line for line in warnings)
    assert any("waiting for an engine to pair with" in line for line in logged(events, LogLevel.info))


@pytest_twisted.ensureDeferred
async def test_an_engine_url_twisted_refuses_is_retried_like_an_unreachable_engine(engine, client, clock, tmp_path):
    """A bad advertisement (a space, non-ASCII) is a failure to send, not the end of pairing."""
    where = {"url": "http://127.0.0.1:9/v 1"}
    with capturedLogs() as events:
        running = make_pairing(client, lambda: where["url"], clock, tmp_path).run()
        await until(lambda: clock.getDelayedCalls())
        assert not running.called and next_delay(clock) == 1.0
        where["url"] = "http://énergie:8088/v1"
        advance(clock)
        await until(lambda: clock.getDelayedCalls())
        assert not running.called and next_delay(clock) == 2.0
        where["url"] = engine.url
        advance(clock)
        await approve_when_asked(engine, clock, running)
    assert running.result.name == "sensor-pi-attic"
    assert [line for line in logged(events, LogLevel.warn) if "Invalid URI" in line]
    assert not [e for e in events if e["log_level"] >= LogLevel.error]


@pytest_twisted.ensureDeferred
async def test_polls_survive_an_engine_away_or_confused(engine, client, clock, tmp_path):
    where = {"url": engine.url}
    running = make_pairing(client, lambda: where["url"], clock, tmp_path, poll_interval=5).run()
    await until(lambda: engine.codes() and clock.getDelayedCalls())
    assert next_delay(clock) == 5
    where["url"] = CLOSED_PORT_URL
    advance(clock)
    await until(lambda: clock.getDelayedCalls())
    assert next_delay(clock) == 1.0  # backoff after the failed poll
    where["url"] = None
    advance(clock)
    where["url"] = engine.url
    engine.failures = [(200, "no status"), (429, "slow down")]
    advance(clock)  # the wait for a URL ends
    await until(lambda: clock.getDelayedCalls() and engine.requests[-1][0] == "GET")
    advance(clock)
    await until(lambda: len(engine.requests) == 3 and clock.getDelayedCalls())
    advance(clock)
    await approve_when_asked(engine, clock, running)
    assert running.result.name == "sensor-pi-attic"


@pytest_twisted.ensureDeferred
async def test_stopping_while_waiting_leaves_nothing_pending(engine, client, clock, tmp_path):
    pairing = make_pairing(client, engine.url, clock, tmp_path)
    running = pairing.run()
    await until(lambda: engine.codes() and clock.getDelayedCalls())
    pairing.stop()
    assert clock.getDelayedCalls() == []
    with pytest.raises(CancelledError):
        await running
    pairing.stop()  # twice is harmless
    assert load(tmp_path) is None


@pytest_twisted.ensureDeferred
async def test_credentials_that_cannot_be_stored_still_work_and_say_so(engine, client, clock, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("")
    with capturedLogs() as events:
        running = make_pairing(client, engine.url, clock, blocked / "data").run()
        await approve_when_asked(engine, clock, running)
    assert isinstance(running.result, Credentials) and running.result.checks_engine
    assert any("must pair again" in line for line in logged(events, LogLevel.error))


def test_retry_after_reads_seconds_and_keeps_within_bounds():
    from twisted.web.http_headers import Headers

    def response(value):
        return JsonResponse(429, None, Headers({b"Retry-After": [value]}))

    assert retry_after(JsonResponse(429, None), 2.0, 300) == 2.0
    assert retry_after(response(b"30"), 2.0, 300) == 30
    assert retry_after(response(b"9000"), 2.0, 300) == 300
    assert retry_after(response(b"0"), 2.0, 300) == 1
    assert retry_after(response(b" 12 "), 2.0, 300) == 12
    assert retry_after(response(b"Wed, 21 Oct 2015 07:28:00 GMT"), 2.0, 300) == 2.0
