"""``/v1/tokens`` and ``/v1/pairings``: an admin's tokens and the pairing requests waiting for one.

The same operations as ``rpymostat-engine token``/``pair`` (both call
:mod:`rpymostat.auth.admin`), for the web UI.  A token is shown once, in the
answer that created it; a list shows names, roles and hosts, never hashes or
pairing secrets.  Revoking here makes the access policy forget the token at
once, so it stops working on the next request.
"""

from rpymostat.api.errors import api_app, json_bytes, render_failure
from rpymostat.api.jsonio import read_json
from rpymostat.auth import admin
from rpymostat.protocol.times import iso_utc


class TokensApi:
    """``GET``/``POST /v1/tokens`` and ``DELETE /v1/tokens/{name}``."""

    app = api_app()

    def __init__(self, validator, storage, clock, access):
        self._validator = validator
        self._storage, self._clock, self._access = storage, clock, access

    @app.handle_errors(Exception)
    def _failed(self, request, failure):
        return render_failure(request, failure)

    @app.route("/", methods=["GET"])
    async def list(self, request):
        return json_bytes(request, 200, {"tokens": [token_document(r) for r in await self._storage.tokens()]})

    @app.route("/", methods=["POST"])
    async def create(self, request):
        document = read_json(request)
        self._validator.check("TokenInput", document)
        token, record = await admin.create_token(
            self._storage, self._clock.seconds(), document["name"], document["role"], document.get("host_id")
        )
        return json_bytes(request, 201, {**token_document(record), "token": token})

    @app.route("/<name>", methods=["DELETE"])
    async def revoke(self, request, name):
        record = await admin.revoke_token(self._storage, name)
        forget = getattr(self._access, "forget", None)
        if forget is not None:
            forget(record.token_hash)
        request.setResponseCode(204)
        return b""


class PairingsApi:
    """``GET /v1/pairings``, ``POST /v1/pairings/{code}/approve`` and ``DELETE /v1/pairings/{code}``."""

    app = api_app()

    def __init__(self, storage, clock, access=None):
        self._storage, self._clock, self._access = storage, clock, access

    @app.handle_errors(Exception)
    def _failed(self, request, failure):
        return render_failure(request, failure)

    @app.route("/", methods=["GET"])
    async def list(self, request):
        now = self._clock.seconds()
        waiting = await admin.pending(self._storage, now)
        return json_bytes(request, 200, {"pairings": [pairing_document(p, now) for p in waiting]})

    @app.route("/<code>/approve", methods=["POST"])
    async def approve(self, request, code):
        record = await admin.approve_pairing(self._storage, self._clock.seconds(), code, replaced=self._forget)
        return json_bytes(request, 201, token_document(record))

    @app.route("/<code>", methods=["DELETE"])
    async def reject(self, request, code):
        await admin.reject_pairing(self._storage, self._clock.seconds(), code)
        request.setResponseCode(204)
        return b""

    def _forget(self, token_hash):
        forget = getattr(self._access, "forget", None)
        if forget is not None:
            forget(token_hash)  # a host that paired again: its old token stops at once


def token_document(record) -> dict:
    """A token as an admin sees it: never its hash or pairing secret."""
    return {
        "name": record.name,
        "role": record.role,
        "host_id": record.host_id,
        "created_at": iso_utc(record.created_at),
        "paired": record.peer_secret is not None,
    }


def pairing_document(record, now) -> dict:
    """A waiting request as an admin sees it: what to compare with the daemon's log."""
    return {
        "id": record.pair_id,
        "code": record.code,
        "host_id": record.host_id,
        "role": record.role,
        "address": record.address,
        "requested_at": iso_utc(record.requested_at),
        "expires_at": iso_utc(record.expires_at),
        "age_s": max(0, int(now - record.requested_at)),
    }
