"""``/v1/pair``: what a daemon without a token says to the engine, and how the engine proves itself.

These answer without a token (docs/security.rst): a new sensor host or
relay unit asks to pair and polls its request; a paired one asks the engine
to prove it holds their pairing secret before it sends it anything.  The
daemon's token never travels here, only its hash; the proof is an HMAC of
the daemon's fresh nonce, never the secret.  Asking to pair counts as a
failed authentication for the throttle, so nobody floods the admin's list.
"""

from rpymostat.api.errors import NotFoundError, api_app, json_bytes, render_failure
from rpymostat.api.jsonio import read_json
from rpymostat.auth import admin
from rpymostat.auth.policy import client_address
from rpymostat.auth.refusals import TooManyFailures
from rpymostat.protocol.times import iso_utc
from rpymostat.protocol.tokens import engine_proof


class PairingApi:
    """``POST /v1/pair``, ``GET /v1/pair/{id}`` and ``POST /v1/pair/proof``."""

    app = api_app()

    def __init__(self, validator, storage, clock, throttle=None):
        self._validator = validator
        self._storage, self._clock = storage, clock
        self._throttle = throttle

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
        record = await self._storage.token(document["name"])
        if record is None or record.peer_secret is None:
            raise NotFoundError(f"no paired token named {document['name']!r}")
        return json_bytes(request, 200, {"proof": engine_proof(record.peer_secret, document["nonce"])})

    @app.route("/<pair_id>", methods=["GET"])
    async def status(self, request, pair_id):
        record = await self._storage.pairing(pair_id)
        if record is None or (record.approved_as is None and record.expires_at <= self._clock.seconds()):
            raise NotFoundError(f"no pairing request {pair_id!r} (it may have expired): ask again")
        return json_bytes(request, 200, status_document(record))


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
