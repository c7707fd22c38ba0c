"""``/v1/pair``: what a daemon without a token says to the engine, and how the engine proves itself.

These answer without a token (docs/security.rst): a new sensor host, relay
unit or web UI asks to pair (as ``sensor``, ``control``, or ``admin`` or
``user``) and polls its request; a paired one asks the engine to prove it
holds their pairing secret before it sends it anything.  The daemon's token
never travels here, only its hash; the proof is an HMAC of the daemon's
fresh nonce, never the secret.  Asking to pair counts as a
failed authentication for the throttle, so nobody floods the admin's list.
"""

import ipaddress
import secrets
from urllib.parse import urlsplit

from rpymostat.api.errors import NotFoundError, api_app, json_bytes, render_failure
from rpymostat.api.jsonio import read_json
from rpymostat.auth import admin
from rpymostat.auth.policy import client_address
from rpymostat.auth.refusals import Forbidden, TooManyFailures
from rpymostat.protocol.times import iso_utc
from rpymostat.protocol.tokens import engine_proof


class PairingApi:
    """``POST /v1/pair``, ``GET /v1/pair/{id}`` and ``POST /v1/pair/proof``."""

    app = api_app()

    def __init__(self, validator, storage, clock, throttle=None, addresses=None):
        self._validator = validator
        self._storage, self._clock = storage, clock
        self._throttle = throttle
        self._addresses = addresses if addresses is not None else EngineAddresses()
        self._decoy = secrets.token_urlsafe(32)

    @app.handle_errors(Exception)
    def _failed(self, request, failure):
        return render_failure(request, failure)

    @app.route("/", methods=["POST"])
    async def request_pairing(self, request):
        document = read_json(request)
        self._validator.check("PairRequest", document)
        address = client_address(request)
        if self._throttle is not None:
            waited = self._throttle.retry_after(address)
            if waited is not None:
                raise TooManyFailures(f"too many requests from {address}; try again in {waited} s", retry_after=waited)
            self._throttle.failed(address)
        record = await admin.request_pairing(
            self._storage,
            self._clock.seconds(),
            document["host_id"],
            document["role"],
            document["code"],
            document["token_hash"],
            document["secret"],
            address,
        )
        request.setHeader(b"Location", f"/v1/pair/{record.pair_id}".encode("ascii"))
        return json_bytes(request, 202, status_document(record))

    @app.route("/proof", methods=["POST"])
    async def prove(self, request):
        document = read_json(request)
        self._validator.check("PairProofRequest", document)
        url = document["url"]
        if not self._addresses.serves(url):
            raise Forbidden(f"this engine does not serve {url}; it proves only for its own addresses")
        record = await self._storage.token(document["name"])
        # A name nobody paired as gets a proof that matches nothing: names cannot be listed here.
        secret = record.peer_secret if record is not None and record.peer_secret else self._decoy
        return json_bytes(request, 200, {"proof": engine_proof(secret, document["nonce"], url)})

    @app.route("/<pair_id>", methods=["GET"])
    async def status(self, request, pair_id):
        record = await self._storage.pairing(pair_id)
        if record is None or (record.approved_as is None and record.expires_at <= self._clock.seconds()):
            raise NotFoundError(f"no pairing request {pair_id!r} (it may have expired): ask again")
        return json_bytes(request, 200, status_document(record))


class EngineAddresses:
    """Where this engine serves: what it proves for.  Filled in once it listens (``port``, ``hosts``).

    A URL naming a DNS name cannot be checked without asking DNS, so only its
    port is; an address must be one of the engine's (or loopback).  Until the
    engine listens (tests that build the site alone) every URL is its own.
    """

    def __init__(self):
        self.port = None
        self.hosts = frozenset()

    def serves(self, url) -> bool:
        if self.port is None:
            return True
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return False
        if port != self.port or not parts.hostname:
            return False
        try:
            address = ipaddress.ip_address(parts.hostname)
        except ValueError:
            return True  # a DNS name: the port matched
        return address.is_loopback or str(address) in self.hosts


def status_document(record) -> dict:
    """A request as the daemon that made it sees it."""
    document = {
        "id": record.pair_id,
        "code": record.code,
        "status": "pending" if record.approved_as is None else "approved",
        "expires_at": iso_utc(record.expires_at),
    }
    if record.approved_as is not None:
        document["name"] = record.approved_as
    return document
