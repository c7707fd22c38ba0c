"""The relay unit's HTTP API: plain twisted.web, JSON in and out.

Every request must carry ``Authorization: Bearer <secret>``, the secret of
the unit's latest registration (:mod:`rpymostat_control.unit_secret`); any
other is a 401, decided before routing, so only the engine the unit
registered with can switch or even read it.  ``GET /v1/relays`` lists the
outputs with the lease, ``GET /v1/relays/{id}`` shows one, and ``POST
/v1/relays/{id}`` with exactly ``{"state": true|false}`` switches one;
``{"state": false, "safety": "<reason>"}`` is the engine's safety off,
carried out at once whatever the minimum on time.  Every well-formed command
for a known relay renews the lease, even one refused by a minimum time (409)
or failed by the hardware (503): the engine is alive and will send again.  A
rejected request (400, 401, 404, 405, 413, 415, 422) changes nothing.  Every
error is ``{"status": "error", "error": "..."}``; no input may produce a 500.
A web framework would cost a Pi Zero more memory than these three routes are
worth, so routing is done here by hand.
"""

import json
from typing import NamedTuple
from urllib.parse import unquote_to_bytes

from twisted.logger import Logger
from twisted.web.resource import Resource

from rpymostat.protocol import MAX_BODY_BYTES, RELAYS_PATH
from rpymostat.protocol.jsonbody import BodyRefused, read_json_body
from rpymostat_control.relays.interface import RelayFault
from rpymostat_control.switchboard import TooSoon
from rpymostat_control.unit_secret import CHALLENGE

log = Logger()

LIST_METHODS = (b"GET", b"HEAD")
RELAY_METHODS = (b"GET", b"HEAD", b"POST")
_PREFIX = [segment.encode("ascii") for segment in RELAYS_PATH.strip("/").split("/")]


class Refused(Exception):
    """A request answered with ``code`` and ``message`` (plus ``extra`` fields); nothing changed."""

    def __init__(self, code: int, message: str, **extra):
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra


def json_type(value) -> str:
    """The JSON name of ``value``'s type, to say what arrived without echoing it."""
    for kind, name in (
        (bool, "a boolean"),
        (str, "a string"),
        (dict, "an object"),
        (list, "an array"),
        (int, "a number"),
        (float, "a number"),
    ):
        if isinstance(value, kind):
            return name
    return "null"


def read_json(request):
    """The request body as JSON; raises :class:`Refused` (415, 413, 400) when it is not."""
    try:
        return read_json_body(request, MAX_BODY_BYTES, expected='{"state": true} or {"state": false}')
    except BodyRefused as refused:
        raise Refused(refused.code, refused.message) from None


#: The longest safety reason accepted (it is logged, so it is kept to a line).
MAX_SAFETY_CHARS = 200


class Command(NamedTuple):
    """A valid command: the state asked for, and the engine's safety reason for an off, if any."""

    state: bool
    safety: str | None = None


def parse_command(document) -> Command:
    """A command that is exactly ``{"state": true|false}`` or ``{"state": false, "safety":
    "<reason>"}``; anything else is a 422."""
    if not isinstance(document, dict):
        raise Refused(422, f'expected an object {{"state": true|false}}, got {json_type(document)}')
    unexpected = sorted(key for key in document if key not in ("state", "safety"))
    if unexpected:
        names = ", ".join(json.dumps(key) for key in unexpected)
        raise Refused(422, f'unexpected field(s) {names}; a command has only "state" (and "safety")')
    if "state" not in document:
        raise Refused(422, 'missing field "state": true (on) or false (off)')
    if not isinstance(document["state"], bool):
        raise Refused(422, f'"state" must be true or false, got {json_type(document["state"])}')
    if "safety" not in document:
        return Command(document["state"])
    safety = document["safety"]
    if not isinstance(safety, str) or not safety.strip() or len(safety) > MAX_SAFETY_CHARS:
        raise Refused(
            422,
            f'"safety" must be the reason for a safety off, a string of 1 to'
            f" {MAX_SAFETY_CHARS} characters, got {json_type(safety)}"
            + (f" of {len(safety)} characters" if isinstance(safety, str) else ""),
        )
    if document["state"]:
        raise Refused(422, '"safety" only goes with "state": false; switching on respects the minimum off time')
    return Command(False, safety)


class RelayApi(Resource):
    """The whole API as one leaf resource; mount it as a Site's root.

    ``secret`` is the :class:`~rpymostat_control.unit_secret.UnitSecret` the
    unit's registrations carry: it decides which requests are answered.
    """

    isLeaf = True

    def __init__(self, switchboard, lease, host_id: str, secret):
        super().__init__()
        self._switchboard = switchboard
        self._lease = lease
        self._host_id = host_id
        self._secret = secret

    def render(self, request):
        try:
            refusal = self._secret.refusal(request)
            if refusal is not None:
                request.setHeader(b"WWW-Authenticate", CHALLENGE)
                raise Refused(401, refusal)
            code, document = self._answer(request)
        except Refused as refused:
            code = refused.code
            document = {"status": "error", "error": refused.message, **refused.extra}
        except Exception:  # pragma: no cover - a bug; the fuzz test keeps this unreachable
            log.failure("unexpected error answering {uri}", uri=request.uri)
            code, document = 500, {"status": "error", "error": "internal error; see the unit's log"}
        body = json.dumps(document, allow_nan=False).encode("utf-8") + b"\n"
        request.setResponseCode(code)
        request.setHeader(b"Content-Type", b"application/json")
        request.setHeader(b"Cache-Control", b"no-store")
        if request.method == b"HEAD":
            request.setHeader(b"Content-Length", str(len(body)).encode("ascii"))
            return b""
        return body

    def _answer(self, request):
        segments = request.path.split(b"/")[1:]
        if segments and segments[-1] == b"" and len(segments) > 1:
            segments.pop()  # one trailing slash is harmless
        if segments[: len(_PREFIX)] == _PREFIX:
            rest = segments[len(_PREFIX) :]
            if not rest:
                self._allow(request, LIST_METHODS)
                return 200, self._listing()
            if len(rest) == 1:
                relay_id = self._relay_id(rest[0])
                if relay_id is not None:
                    self._allow(request, RELAY_METHODS)
                    if request.method == b"POST":
                        return self._command(request, relay_id)
                    return 200, {"relay_id": relay_id, **self._switchboard.document(relay_id)}
        path = request.path.decode("utf-8", "replace")
        raise Refused(404, f"no such resource: {path}; relays are at {RELAYS_PATH}")

    def _relay_id(self, segment: bytes):
        """The relay the path segment names, or None (404) if none does."""
        try:
            relay_id = unquote_to_bytes(segment).decode("utf-8")
        except UnicodeDecodeError:
            return None
        return relay_id if relay_id in self._switchboard.relay_ids() else None

    def _allow(self, request, methods):
        if request.method not in methods:
            allowed = ", ".join(m.decode("ascii") for m in methods)
            request.setHeader(b"Allow", allowed.encode("ascii"))
            method = request.method.decode("ascii", "replace")
            raise Refused(405, f"method {method} not allowed here; allowed: {allowed}")

    def _listing(self):
        return {
            "host_id": self._host_id,
            "lease": {"seconds": self._lease.seconds, "expires_in_s": self._lease.expires_in()},
            "relays": self._switchboard.documents(),
        }

    def _command(self, request, relay_id):
        command = parse_command(read_json(request))
        try:
            changed = self._switchboard.command(relay_id, command.state, command.safety)
        except TooSoon as refusal:
            self._lease.renew()
            relay = {"relay_id": relay_id, **self._switchboard.document(relay_id)}
            raise Refused(409, refusal.message, retry_after_s=refusal.retry_after, relay=relay) from None
        except RelayFault as fault:
            self._lease.renew()
            log.error("relay {relay_id} failed: {error}", relay_id=relay_id, error=fault)
            raise Refused(503, f"relay {relay_id} failed: {fault}") from None
        except Exception as error:  # a backend plugin's own exception: the hardware failed
            self._lease.renew()
            log.failure("relay {relay_id} failed unexpectedly", relay_id=relay_id)
            raise Refused(503, f"relay {relay_id} failed: {error!r}") from None
        self._lease.renew()
        return 200, {"relay_id": relay_id, **self._switchboard.document(relay_id), "changed": changed}
