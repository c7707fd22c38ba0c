"""The access layer's less travelled paths: the gate's late answers, bindings, failures on the way."""

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred, fail
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from rpymostat.api.gate import AccessGate
from rpymostat.auth import admin, cli
from rpymostat.auth.policy import PRINCIPAL
from rpymostat.auth.refusals import AdminError, Forbidden
from rpymostat.protocol.tokens import engine_proof, proof_matches
from rpymostat.storage.interface import PairingRecord, StorageError, TokenRecord
from tests.auth_engine import Engine, clock, sqlite  # noqa: F401 - fixtures


class Plain(Resource):
    isLeaf = True

    def render(self, request):
        return b"plain"


class Later:
    """An access policy whose verdict the test gives."""

    def __init__(self):
        self.verdict = Deferred()

    def admit(self, request):
        return self.verdict


def test_the_gate_answers_a_resource_that_renders_at_once_after_a_late_admission():
    policy = Later()
    request = DummyRequest([b""])
    assert AccessGate(Plain(), policy).render(request) is NOT_DONE_YET
    policy.verdict.callback(None)
    assert request.written == [b"plain"] and request.finished == 1


@pytest.mark.parametrize("verdict", [None, Forbidden("no")])
def test_the_gate_writes_nothing_to_a_client_that_left_while_its_token_was_read(verdict):
    policy = Later()
    request = DummyRequest([b""])
    AccessGate(Plain(), policy).render(request)
    request.finish()  # as the request ends when its client goes away
    if verdict is None:
        policy.verdict.callback(None)
    else:
        policy.verdict.errback(verdict)
    assert request.written == [] and request.finished == 1  # nothing written or finished twice


def test_a_proof_that_is_no_text_never_matches():
    nonce, url = "ab" * 16, "http://192.168.1.2:8088/v1"
    assert proof_matches("secret", nonce, url, engine_proof("secret", nonce, url))
    assert not proof_matches("secret", nonce, "http://192.168.1.66:8088/v1", engine_proof("secret", nonce, url))
    for proof in (None, 5, b"bytes", "é" * 64):
        assert not proof_matches("secret", nonce, url, proof)


@pytest_twisted.async_fixture
async def engine(sqlite, clock):  # noqa: F811
    built = Engine(sqlite, clock)
    await built.make("admin")
    await built.make("user")
    return built


@pytest_twisted.ensureDeferred
async def test_a_valid_token_never_used_before_works_while_its_address_is_throttled(engine):
    """Found by review: a token not yet seen (a new tablet, an engine just restarted) got 429."""
    for attempt in range(10):
        await engine.call("GET", "/v1/plugins", token=f"rpy_guess{attempt}")
    assert (await engine.call("GET", "/v1/plugins", token="rpy_guess-more"))[0] == 429
    fresh = await engine.make("read", "new-tablet")
    assert (await engine.call("GET", "/v1/plugins", token=fresh))[0] == 200


@pytest_twisted.ensureDeferred
async def test_a_lookup_under_way_when_the_token_is_revoked_does_not_bring_it_back(engine):
    """Found by review: a lookup in flight re-cached a token the API had just revoked."""
    token = await engine.make("read", "tablet")
    record = await engine.storage.token("tablet")
    request = DummyRequest([b"v1", b"plugins"])
    request.path = b"/v1/plugins"
    request.requestHeaders.setRawHeaders(b"authorization", [f"Bearer {token}".encode()])
    pending = engine.access.admit(request)  # reading the record on the database thread
    assert not pending.called
    engine.access.forget(record.token_hash)  # revoked through the API meanwhile
    await engine.storage.delete_token("tablet")
    await pending
    assert record.token_hash not in engine.access._cache


@pytest_twisted.ensureDeferred
async def test_only_host_roles_are_bound_to_a_host(engine):
    request = DummyRequest([b""])
    setattr(request, PRINCIPAL, await engine.storage.token("user"))
    assert (await engine.access.authorize(request, "controls:register", host_id="pi")) is None
    assert (await engine.storage.token("user")).host_id is None


@pytest_twisted.ensureDeferred
async def test_admin_refusals_that_the_schema_cannot_catch(engine):
    with pytest.raises(AdminError, match="role: 'owner'"):
        await admin.create_token(engine.storage, 0.0, "x", "owner")
    now = engine.clock.seconds()
    with pytest.raises(AdminError, match="role: 'read' is not one of sensor, control, admin, user") as refused:
        await admin.request_pairing(engine.storage, now, "pi-r", "read", "RRRRRR", "r" * 64, "s" * 43, "10.0.0.3")
    assert refused.value.code == 422 and await engine.storage.pairings() == []
    await admin.request_pairing(engine.storage, now, "pi-a", "sensor", "K7M2QX", "a" * 64, "s" * 43, "10.0.0.1")
    await admin.request_pairing(engine.storage, now, "pi-b", "sensor", "ABCDEF", "b" * 64, "s" * 43, "10.0.0.2")
    await engine.storage.put_token(TokenRecord("taken", "read", "a" * 64, now))  # the daemon's hash, taken
    with pytest.raises(AdminError, match="could not be approved") as refused:
        await admin.approve_pairing(engine.storage, now, "K7M2QX")
    assert refused.value.code == 409
    assert (await admin.approve_pairing(engine.storage, now, "ABCDEF")).name == "sensor-pi-b"


@pytest_twisted.ensureDeferred
async def test_the_first_admin_token_is_not_written_over_a_token_named_admin(engine, tmp_path):
    await engine.storage.delete_token("admin")
    await admin.create_token(engine.storage, 0.0, "admin", "read")
    with pytest.raises(AdminError, match="no admin token"):
        await admin.first_admin_token(engine.storage, 0.0, tmp_path)
    assert not (tmp_path / "admin-token").exists() and not (tmp_path / "admin-token.new").exists()


@pytest_twisted.ensureDeferred
async def test_the_command_reports_a_database_that_fails_midway(engine, tmp_path):
    import io

    class Failing:
        def tokens(self):
            return fail(StorageError("disk I/O error"))

    args = cli.build_parser().parse_args(["token", "list"])
    with pytest.raises(StorageError):
        await cli.execute(args, Failing(), 0.0, io.StringIO())
    await engine.storage.put_pairing(
        PairingRecord("p", "K7M2QX", "pi", "sensor", "a" * 64, "s" * 43, "x", 0.0, 1e12), 0.0
    )
    out = io.StringIO()
    args = cli.build_parser().parse_args(["pair", "reject", "K7M2QX"])
    assert await cli.execute(args, engine.storage, engine.clock.seconds(), out) == 0
    assert out.getvalue() == "rejected the request of pi (sensor)\n"
