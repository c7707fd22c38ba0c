"""Tokens, pairing secrets and engine proofs: the few primitives both ends compute.

The engine and the daemons must agree to the byte on how a token is hashed
and how an engine proves it holds a pairing secret, so both live here once
(see docs/security.rst).  A token is 256 random bits; only its SHA-256 hash
is ever stored by the engine or sent in a pairing request.  An engine proves
itself with an HMAC of the daemon's fresh nonce under the pairing secret, so
the secret itself never crosses the network after pairing.
"""

import hashlib
import hmac
import secrets

#: Characters of a pairing code: no 0/O, 1/I/L, so it reads aloud and types back safely.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

#: Characters in a pairing code (31**6, about 887 million codes).
CODE_LENGTH = 6

#: What the HMAC of an engine proof covers before the nonce, so it proves nothing else.
PROOF_CONTEXT = b"rpymostat-engine-proof:"

#: Bytes of a daemon's proof nonce (sent as hex).
NONCE_BYTES = 32


def new_token() -> str:
    """A bearer token: 256 random bits, URL-safe, prefixed so a leaked one is recognisable."""
    return "rpy_" + secrets.token_urlsafe(32)


def new_secret() -> str:
    """A pairing or relay-unit secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_code() -> str:
    """A short pairing code, shown in the daemon's log and typed by the admin."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_nonce() -> str:
    """A fresh challenge for an engine's proof, as hex."""
    return secrets.token_hex(NONCE_BYTES)


def token_hash(token: str) -> str:
    """The SHA-256 of ``token`` as 64 hex digits: all the engine keeps of it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def engine_proof(secret: str, nonce: str, url: str) -> str:
    """What an engine holding ``secret`` and serving at ``url`` answers to ``nonce``: HMAC-SHA256, hex.

    The URL the daemon dialled is part of what is signed, and the engine
    signs only for its own addresses: a rogue that relays the daemon's
    challenge to the real engine gets a proof for the real engine's URL,
    which the daemon, talking to the rogue's, refuses.
    """
    message = PROOF_CONTEXT + nonce.encode("ascii") + b"\n" + url.encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def proof_matches(secret: str, nonce: str, url: str, proof) -> bool:
    """Whether ``proof`` is the right answer to ``nonce`` at ``url``, compared in constant time."""
    if not isinstance(proof, str) or not proof.isascii():
        return False
    return hmac.compare_digest(engine_proof(secret, nonce, url), proof)
