"""The storage contract for tokens and pairing requests: every backend, fake included."""

import pytest_twisted

from rpymostat.storage.interface import PairingRecord, TokenRecord

T0 = 1795608000.0
HASH_A = "a" * 64
HASH_B = "b" * 64


def token(name="kitchen", role="user", token_hash=HASH_A, **fields):
    return TokenRecord(name=name, role=role, token_hash=token_hash, created_at=T0, **fields)


def pairing(pair_id="p1", code="K7M2QX", token_hash=HASH_B, expires_at=T0 + 900, **fields):
    return PairingRecord(
        pair_id=pair_id,
        code=code,
        host_id=fields.pop("host_id", "pi-attic"),
        role=fields.pop("role", "sensor"),
        token_hash=token_hash,
        peer_secret=fields.pop("peer_secret", "s" * 43),
        address=fields.pop("address", "192.168.1.30"),
        requested_at=fields.pop("requested_at", T0),
        expires_at=expires_at,
        **fields,
    )


@pytest_twisted.ensureDeferred
async def test_a_token_is_found_by_name_and_by_hash_and_listed_by_name(storage):
    paired = token("sensor-pi-attic", "sensor", HASH_B, host_id="pi-attic", peer_secret="secret")
    assert await storage.put_token(token()) is True
    assert await storage.put_token(paired) is True
    assert await storage.token("kitchen") == token()
    assert await storage.token_by_hash(HASH_B) == paired
    assert await storage.token("nobody") is None
    assert await storage.token_by_hash("c" * 64) is None
    assert await storage.tokens() == [token(), paired]


@pytest_twisted.ensureDeferred
async def test_a_taken_name_or_hash_stores_nothing(storage):
    assert await storage.put_token(token()) is True
    assert await storage.put_token(token(role="admin", token_hash=HASH_B)) is False
    assert await storage.put_token(token(name="other")) is False
    assert await storage.tokens() == [token()]


@pytest_twisted.ensureDeferred
async def test_a_revoked_token_is_gone(storage):
    await storage.put_token(token())
    assert await storage.delete_token("kitchen") is True
    assert await storage.delete_token("kitchen") is False
    assert await storage.token_by_hash(HASH_A) is None
    assert await storage.tokens() == []


@pytest_twisted.ensureDeferred
async def test_a_token_binds_to_the_first_host_and_no_other(storage):
    await storage.put_token(token("attic", "sensor"))
    assert await storage.bind_token_host("attic", "pi-attic") is True
    assert await storage.bind_token_host("attic", "pi-attic") is True
    assert await storage.bind_token_host("attic", "pi-rogue") is False
    assert (await storage.token("attic")).host_id == "pi-attic"
    assert await storage.bind_token_host("nobody", "pi-attic") is False


@pytest_twisted.ensureDeferred
async def test_pairing_requests_are_kept_oldest_first_with_unique_codes(storage):
    later = pairing("p2", "ABCDEF", "c" * 64, requested_at=T0 + 5)
    assert await storage.put_pairing(later, T0) is True
    assert await storage.put_pairing(pairing(), T0) is True
    assert await storage.put_pairing(pairing("p3"), T0) is False  # same code
    assert await storage.put_pairing(pairing(code="ZZZZZZ"), T0) is False  # same id
    assert await storage.pairings() == [pairing(), later]
    assert await storage.pairing("p2") == later
    assert await storage.pairing("p9") is None


@pytest_twisted.ensureDeferred
async def test_expired_requests_are_removed_when_a_new_one_arrives(storage):
    await storage.put_pairing(pairing(expires_at=T0 + 10), T0)
    assert await storage.put_pairing(pairing("p2", code="K7M2QX"), T0 + 10) is True  # its code is free again
    assert [p.pair_id for p in await storage.pairings()] == ["p2"]


@pytest_twisted.ensureDeferred
async def test_approving_stores_the_token_and_marks_the_request_once(storage):
    await storage.put_pairing(pairing(), T0)
    made = token("sensor-pi-attic", "sensor", HASH_B, host_id="pi-attic", peer_secret="s" * 43)
    assert await storage.approve_pairing("p1", made) is True
    assert (await storage.pairing("p1")).approved_as == "sensor-pi-attic"
    assert await storage.token_by_hash(HASH_B) == made
    assert await storage.approve_pairing("p1", token("again", token_hash="d" * 64)) is False
    assert await storage.approve_pairing("p9", token("unknown", token_hash="e" * 64)) is False
    assert [t.name for t in await storage.tokens()] == ["sensor-pi-attic"]


@pytest_twisted.ensureDeferred
async def test_an_approval_whose_token_name_is_taken_changes_nothing(storage):
    await storage.put_token(token("sensor-pi-attic"))
    await storage.put_pairing(pairing(), T0)
    assert await storage.approve_pairing("p1", token("sensor-pi-attic", "sensor", HASH_B)) is False
    assert (await storage.pairing("p1")).approved_as is None
    assert await storage.token_by_hash(HASH_B) is None


@pytest_twisted.ensureDeferred
async def test_a_rejected_request_is_gone(storage):
    await storage.put_pairing(pairing(), T0)
    assert await storage.delete_pairing("p1") is True
    assert await storage.delete_pairing("p1") is False
    assert await storage.pairings() == []
