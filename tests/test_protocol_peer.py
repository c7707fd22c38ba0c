"""The EngineLink: token headers, proofs asked of engines, and pairing again after a 401.

Real HTTP on loopback against :class:`tests.sensor.fake_engine.FakeEngine`
(one real engine, one rogue that knows nothing of this host); the link's
waits run on an injected Clock.
"""

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.logger import LogLevel, capturedLogs, formatEvent

from rpymostat.protocol.client import JsonClient, Unreachable
from rpymostat.protocol.credentials import CREDENTIALS_FILE, Credentials, load, save
from rpymostat.protocol.peer import PAIRING_RESTART_S, EngineLink
from rpymostat.protocol.tokens import new_secret, token_hash
from tests.sensor.fake_engine import FakeEngine, RelayingRogue, advance, until

HAND_GIVEN = Credentials("rpy_by-hand")


@pytest_twisted.async_yield_fixture
async def engines(clock):
    real, rogue = await FakeEngine(clock).listen(reactor), await FakeEngine(clock).listen(reactor)
    yield real, rogue
    await real.close()
    await rogue.close()


@pytest_twisted.async_yield_fixture
async def client():
    json_client = JsonClient(reactor, timeout=2)
    yield json_client
    await json_client.close()


def paired_with(engine, data_dir) -> Credentials:
    """Credentials as pairing with ``engine`` leaves them, stored in ``data_dir``."""
    credentials = Credentials("rpy_paired", "sensor-pi-attic", new_secret())
    engine.tokens[token_hash(credentials.token)] = {"name": credentials.name, "secret": credentials.secret}
    save(data_dir, credentials)
    return credentials


def make_link(client, clock, data_dir, url, **options):
    where = url if callable(url) else (lambda: url)
    return EngineLink(client, clock, data_dir, "pi-attic", "sensor", where, **options)


def logged(events, level):
    return [formatEvent(e) for e in events if e["log_level"] == level]


@pytest_twisted.ensureDeferred
async def test_a_stored_pairing_is_used_without_pairing_again(engines, client, clock, tmp_path):
    real, _ = engines
    credentials = paired_with(real, tmp_path)
    link = make_link(client, clock, tmp_path, real.url)
    link.startService()
    assert link.paired and link.credentials == credentials and link.pairing is None
    assert link.headers() == {"Authorization": "Bearer rpy_paired"}
    assert await link.vet(real.url) is True
    link.stopService()
    assert real.pair_requests() == [] and real.proofs_asked() == ["/v1/pair/proof"]


@pytest_twisted.ensureDeferred
async def test_an_engine_that_cannot_prove_is_ignored_and_logged(engines, client, clock, tmp_path):
    real, rogue = engines
    paired_with(real, tmp_path)
    rogue.add_token("rpy_other", name="sensor-pi-attic", secret="not-ours")  # knows the name, not the secret
    link = make_link(client, clock, tmp_path, real.url)
    with capturedLogs() as events:
        assert await link.vet(rogue.url) is False
        assert await link.vet(rogue.url) is False  # again: logged once, at warn
        rogue.failures = [(401, "who are you?")]
        assert await link.vet(rogue.origin + "/elsewhere/v1") is False
        assert await link.vet(real.url) is True
    warnings = logged(events, LogLevel.warn)
    assert warnings == [
        f"ignoring the engine at {rogue.url}: it cannot prove it is the one this host paired with (its proof is wrong)",
        f"ignoring the engine at {rogue.origin}/elsewhere/v1: it cannot prove it is the one this host paired with"
        " (it answered 401: who are you?)",
    ]
    assert all("rpy_paired" not in update for update in map(str, rogue.updates)) and rogue.updates == []


@pytest_twisted.ensureDeferred
async def test_an_engine_that_lost_this_host_says_how_to_pair_again(engines, client, clock, tmp_path):
    _, rogue = engines
    paired_with(FakeEngine(clock), tmp_path)
    link = make_link(client, clock, tmp_path, rogue.url)
    with capturedLogs() as events:
        assert await link.vet(rogue.url) is False
    [warning] = logged(events, LogLevel.warn)
    assert "does not know this host's token sensor-pi-attic" in warning
    assert str(tmp_path / CREDENTIALS_FILE) in warning


@pytest_twisted.ensureDeferred
async def test_an_engine_that_cannot_answer_now_is_not_judged(engines, client, clock, tmp_path):
    real, _ = engines
    paired_with(real, tmp_path)
    link = make_link(client, clock, tmp_path, real.url)
    for failure in [(503, "database unavailable"), (429, "slow down")]:
        real.failures = [failure]
        with pytest.raises(Unreachable, match=failure[1]):
            await link.vet(real.url)
    with pytest.raises(Unreachable):
        await link.vet("http://127.0.0.1:9/v1")


@pytest_twisted.ensureDeferred
async def test_without_a_secret_nothing_is_asked_and_the_risk_is_logged_once(engines, client, clock, tmp_path):
    real, rogue = engines
    link = make_link(client, clock, tmp_path, real.url, hand_given=HAND_GIVEN)
    with capturedLogs() as events:
        link.startService()
        assert await link.vet(rogue.url) is True
        assert await link.vet(real.url) is True
        link.stopService()
    [warning] = logged(events, LogLevel.warn)
    assert "given by hand" in warning and "identity is not checked" in warning
    assert link.headers() == {"Authorization": "Bearer rpy_by-hand"}
    assert real.requests == rogue.requests == []


@pytest_twisted.ensureDeferred
async def test_unpaired_the_link_pairs_with_the_engine_it_knows(engines, client, clock, tmp_path):
    real, _ = engines
    where = {"url": None}
    link = make_link(client, clock, tmp_path, lambda: where["url"])
    assert await link.vet(real.url) is True and real.requests == []  # nothing to check yet
    with capturedLogs() as events:
        link.startService()
        assert link.headers() == {} and not link.paired and link.pairing is not None
        where["url"] = real.url
        advance(clock)
        await until(lambda: real.codes() and clock.getDelayedCalls())
        assert link.pairing.code == real.codes()[0]
        real.approve(link.pairing.code)
        advance(clock)
        await until(lambda: link.paired)
    assert link.credentials == load(tmp_path) and link.pairing is None
    assert link.headers() == {"Authorization": f"Bearer {link.credentials.token}"}
    assert await link.vet(real.url) is True
    assert any("rpymostat-engine pair approve" in line for line in logged(events, LogLevel.info))
    link.stopService()


@pytest_twisted.ensureDeferred
async def test_a_refused_token_is_moved_aside_and_the_host_pairs_again(engines, client, clock, tmp_path):
    real, _ = engines
    old = paired_with(real, tmp_path)
    link = make_link(client, clock, tmp_path, real.url)
    link.startService()
    real.revoke_all()
    with capturedLogs() as events:
        link.refused()
        link.refused()  # the next update's 401 while pairing: nothing more
    [error] = logged(events, LogLevel.error)
    assert "refused this host's token sensor-pi-attic (401)" in error
    assert "rpy_paired" not in error
    assert load(tmp_path) is None and link.headers() == {}
    assert (tmp_path / (CREDENTIALS_FILE + ".revoked")).exists()
    await until(lambda: real.codes() and clock.getDelayedCalls())
    real.approve(real.codes()[0])
    advance(clock)
    await until(lambda: link.paired)
    assert link.credentials.token != old.token and load(tmp_path) == link.credentials
    assert len(real.pair_requests()) == 1
    link.stopService()


def test_a_refused_token_given_by_hand_is_only_logged(client, clock, tmp_path):
    link = make_link(client, clock, tmp_path, "http://127.0.0.1:9/v1", hand_given=HAND_GIVEN)
    link.startService()
    with capturedLogs() as events:
        link.refused()
    [error] = logged(events, LogLevel.error)
    assert "RPYMOSTAT_TOKEN" in error and "rpy_by-hand" not in error
    assert link.credentials == HAND_GIVEN and link.pairing is None
    link.stopService()
    assert clock.getDelayedCalls() == []


def test_a_refusal_after_stop_does_not_pair_and_a_failed_move_is_logged(client, clock, tmp_path, monkeypatch):
    from rpymostat.protocol import peer

    save(tmp_path, Credentials("rpy_x", "n", "s"))
    link = make_link(client, clock, tmp_path, "http://127.0.0.1:9/v1")

    def forget(data_dir, file_name):
        raise OSError("read-only file system")

    monkeypatch.setattr(peer, "forget", forget)
    with capturedLogs() as events:
        link.refused()
    assert [e["log_level"] for e in events] == [LogLevel.error, LogLevel.error]
    assert "read-only file system" in formatEvent(events[1])
    assert link.pairing is None and not link.paired and clock.getDelayedCalls() == []


def test_stopping_while_pairing_leaves_nothing_pending(client, clock, tmp_path):
    link = make_link(client, clock, tmp_path, lambda: None)
    link.startService()
    assert clock.getDelayedCalls()
    with capturedLogs() as events:
        link.stopService()
    assert clock.getDelayedCalls() == [] and link.pairing is None
    assert [e for e in events if e["log_level"] >= LogLevel.warn] == []


def test_a_pairing_that_breaks_is_logged_and_started_again_later(client, clock, tmp_path, monkeypatch):
    from rpymostat.protocol import pairing

    new_token, breaks = pairing.new_token, [RuntimeError("no randomness"), RuntimeError("no randomness")]

    def sometimes_broken():
        if breaks:
            raise breaks.pop()
        return new_token()

    monkeypatch.setattr(pairing, "new_token", sometimes_broken)
    link = make_link(client, clock, tmp_path, lambda: None)
    with capturedLogs() as events:
        link.startService()
        assert link.pairing is None and not link.paired
        assert [call.getTime() for call in clock.getDelayedCalls()] == [clock.seconds() + PAIRING_RESTART_S]
        clock.advance(PAIRING_RESTART_S)  # breaks again: tried again later again
        assert link.pairing is None and len(clock.getDelayedCalls()) == 1
        clock.advance(PAIRING_RESTART_S)
    assert link.pairing is not None and not link.paired  # pairing (waiting for an engine) at last
    assert [e["log_level"] for e in events if e["log_level"] >= LogLevel.warn] == [LogLevel.critical] * 2
    assert "pairs again in 30 s" in formatEvent(events[0]) and "no randomness" in str(events[0]["log_failure"])
    link.stopService()
    assert clock.getDelayedCalls() == [] and link.pairing is None


def test_stopping_while_a_broken_pairing_waits_to_start_again_leaves_nothing_pending(
    client, clock, tmp_path, monkeypatch
):
    from rpymostat.protocol import pairing

    def broken():
        raise RuntimeError("no randomness")

    monkeypatch.setattr(pairing, "new_token", broken)
    link = make_link(client, clock, tmp_path, lambda: None)
    with capturedLogs():
        link.startService()
    assert len(clock.getDelayedCalls()) == 1
    link.stopService()
    assert clock.getDelayedCalls() == [] and link.pairing is None


@pytest_twisted.ensureDeferred
async def test_a_link_with_its_own_credentials_file_leaves_the_other_daemons_alone(engines, client, clock, tmp_path):
    real, _ = engines
    sensor = paired_with(real, tmp_path)
    link = EngineLink(client, clock, tmp_path, "pi-attic", "control", lambda: real.url, credentials_file="control.json")
    assert not link.paired  # the sensor daemon's credentials are not this daemon's
    link.startService()
    await until(lambda: real.codes() and clock.getDelayedCalls())
    real.approve(link.pairing.code)
    advance(clock)
    await until(lambda: link.paired)
    link.stopService()
    assert load(tmp_path, "control.json") == link.credentials and link.credentials.name == "control-pi-attic"
    assert load(tmp_path) == sensor
    real.revoke_all()
    link.refused()
    assert load(tmp_path, "control.json") is None and (tmp_path / "control.json.revoked").exists()
    assert load(tmp_path) == sensor


@pytest.mark.parametrize("rewrite_url", [False, True], ids=["relayed unchanged", "relayed for the real url"])
@pytest_twisted.ensureDeferred
async def test_a_rogue_that_relays_the_challenge_to_the_real_engine_is_refused(
    engines, client, clock, tmp_path, rewrite_url
):
    """The proof covers the URL the daemon dialled, and the engine signs only for its own address.

    Relayed unchanged, the real engine sees the rogue's URL and refuses to
    sign; relayed with its own URL put in, it signs for that URL, which is not
    the one this host dialled, so the proof is wrong.
    """
    real, _ = engines
    credentials = paired_with(real, tmp_path)
    rogue = await RelayingRogue(real.url, rewrite_url=rewrite_url).listen(reactor)
    rogue_url = rogue.url
    link = make_link(client, clock, tmp_path, real.url)
    try:
        with capturedLogs() as events:
            assert await link.vet(rogue_url) is False
            assert await link.vet(real.url) is True  # the real engine, dialled directly, proves itself
    finally:
        await rogue.close()
    [relayed] = rogue.relayed
    assert set(relayed) == {"name", "nonce", "url"}
    assert (relayed["name"], relayed["url"]) == (credentials.name, rogue_url)
    assert real.proofs_asked() == ["/v1/pair/proof"] * 2  # the relayed challenge did reach the real engine
    [warning] = logged(events, LogLevel.warn)
    expected = "its proof is wrong" if rewrite_url else f"it answered 403: {rogue_url} is not this engine's address"
    assert warning.startswith(f"ignoring the engine at {rogue_url}: it cannot prove") and expected in warning


@pytest_twisted.ensureDeferred
async def test_the_proof_request_names_the_url_dialled_and_the_proof_must_be_for_it(engines, client, clock, tmp_path):
    from rpymostat.protocol.tokens import engine_proof

    real, _ = engines
    credentials = paired_with(real, tmp_path)
    link = make_link(client, clock, tmp_path, real.url)
    seen = []

    async def request(method, url, document=None, headers=None):
        seen.append((method, url, document))
        proof = engine_proof(credentials.secret, document["nonce"], real.url)  # right secret, other URL
        return type("Answer", (), {"code": 200, "body": {"proof": proof}, "error": ""})()

    link._client = type("Client", (), {"request": staticmethod(request)})()
    with capturedLogs():
        assert await link.vet(real.origin + "/v1/") is False
    [(method, url, document)] = seen
    assert (method, url) == ("POST", real.origin + "/v1//pair/proof")
    assert document["url"] == real.origin + "/v1/"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:{port}/v1", "HTTP://127.0.0.1:{port}/v1", "ftp://127.0.0.1:{port}/v1", "https"]
)
@pytest_twisted.ensureDeferred
async def test_a_host_that_pinned_tls_refuses_a_plain_http_engine_without_asking_it(
    engines, client, clock, tmp_path, url
):
    real, _ = engines
    credentials = Credentials("rpy_paired", "sensor-pi-attic", new_secret(), fingerprint="ab" * 32)
    real.tokens[token_hash(credentials.token)] = {"name": credentials.name, "secret": credentials.secret}
    save(tmp_path, credentials)
    link = make_link(client, clock, tmp_path, real.url)
    url = url.format(port=real.port.getHost().port)
    with capturedLogs() as events:
        assert await link.vet(url) is False
        assert await link.vet(url) is False  # again: at debug
    assert real.requests == []  # nothing sent: not the proof request, so neither name nor nonce
    assert logged(events, LogLevel.warn) == [
        f"ignoring the engine at {url}: it cannot prove it is the one this host paired with"
        " (it speaks plain HTTP but this host pinned the engine's TLS certificate)"
    ]
    assert len(logged(events, LogLevel.debug)) == 1


@pytest_twisted.ensureDeferred
async def test_a_host_that_pinned_tls_still_asks_an_https_engine(client, clock, tmp_path):
    credentials = Credentials("rpy_paired", "sensor-pi-attic", new_secret(), fingerprint="ab" * 32)
    save(tmp_path, credentials)
    link = make_link(client, clock, tmp_path, "https://127.0.0.1:9/v1")
    asked = []

    async def request(method, url, document=None, headers=None):
        asked.append(url)
        raise Unreachable("nothing listens")

    link._client = type("Client", (), {"request": staticmethod(request)})()
    with pytest.raises(Unreachable):
        await link.vet("https://127.0.0.1:9/v1")
    assert asked == ["https://127.0.0.1:9/v1/pair/proof"]


@pytest_twisted.ensureDeferred
async def test_a_web_uis_link_pairs_as_admin_with_the_real_engine_and_gets_a_token_bound_to_no_host(
    client, clock, tmp_path
):
    """The web UI pairs like the other daemons, as ``admin`` or ``user``: the link passes the role on."""
    import time

    from rpymostat.auth import admin
    from tests.control.test_control_pairing import RealEngine, eventually

    real = await RealEngine().start(tmp_path)
    url = real.base + "/v1"
    link = EngineLink(client, clock, tmp_path / "webui", "webui-den", "admin", lambda: url, poll_interval=0.25)
    try:
        link.startService()

        async def asked():
            return bool(await admin.pending(real.storage, time.time()))

        await eventually(asked, clock)
        [request] = await admin.pending(real.storage, time.time())
        assert (request.host_id, request.role, request.code) == ("webui-den", "admin", link.pairing.code)
        await admin.approve_pairing(real.storage, time.time(), request.code)

        async def paired():
            return link.paired

        await eventually(paired, clock)
        assert link.credentials.name == "admin-webui-den" and load(tmp_path / "webui") == link.credentials
        token = await real.storage.token("admin-webui-den")
        assert (token.role, token.host_id) == ("admin", None)
        assert await link.vet(url) is True  # the engine proves itself to the web UI too
        assert (await client.request("GET", url + "/tokens", headers=link.headers())).code == 200
    finally:
        link.stopService()
        await real.stop()
