"""A relay unit speaking the documented protocol (docs/control.rst), for the engine's loop tests.

It keeps relay states in :attr:`RelayUnit.relays`, ``{relay_id: {"state":
bool, "since": clock seconds}}``, which tests read and may replace; measures
``seconds_in_state`` on its clock; and enforces minimum times when given some
(none by default: the loop tests watch the engine's own minimum times).  Knobs
for tests: ``refuse`` answers every switch with ``409`` as a unit whose
minimum time holds; ``answer = (code, body bytes)`` answers every command with
that instead, to play a broken unit; ``commands`` lists every well-formed
command received, in order, as ``(relay_id, state)``; ``safety`` lists the
reason of every safety off, as ``(relay_id, reason)``.  A safety off
(``{"state": false, "safety": "<reason>"}``) is carried out at once, minimum
on time notwithstanding, as docs/control.rst requires.

Like a real unit it obeys only the engine it registered with: every request
must carry ``Authorization: Bearer`` with :attr:`RelayUnit.secret` (a test
registers the unit with that ``"secret"``, or replaces it to play a unit that
registered again), else it is a ``401`` with ``WWW-Authenticate``, counted in
``unauthorized``.

It reports a lease, renewed by every ``200`` and ``409``, but never acts on its
expiry: the loop tests turn a Clock by hours and are about the engine.
tests/test_relay_unit_contract.py runs the relay unit contract against it over
HTTP, as against the real daemon, so it cannot drift from the protocol.
"""

import datetime
import hmac
import json
import secrets
from urllib.parse import unquote_to_bytes

from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.web.resource import Resource
from twisted.web.server import Site

from rpymostat.protocol import MAX_BODY_BYTES, RELAYS_PATH
from rpymostat.protocol.jsonbody import BodyRefused, read_json_body

_PREFIX = RELAYS_PATH.encode("ascii").split(b"/")
_LIST_METHODS = (b"GET", b"HEAD")
_RELAY_METHODS = (b"GET", b"HEAD", b"POST")


class Refused(Exception):
    """Answer ``code`` with the documented error shape (plus ``extra`` fields)."""

    def __init__(self, code, error, **extra):
        super().__init__(error)
        self.code, self.document = code, {"status": "error", "error": error, **extra}


class RelayUnit(Resource):
    isLeaf = True

    def __init__(self, clock, relays, min_on=0.0, min_off=0.0, lease=180.0, host_id="test-unit", secret=None):
        super().__init__()
        self.secret = secret if secret is not None else secrets.token_urlsafe(32)
        self.unauthorized = 0
        self.clock = clock
        self.relays = {relay_id: {"state": False, "since": clock.seconds()} for relay_id in relays}
        self.min_on, self.min_off, self.lease, self.host_id = min_on, min_off, lease, host_id
        self.lease_renewed = clock.seconds()  # like a real unit, the lease starts with it
        self.commands = []
        self.safety = []
        self.refuse = False
        self.answer = None  # (code, body) to answer commands with instead, e.g. (500, b"oops")

    def doc(self, relay_id):
        relay = self.relays[relay_id]
        since = datetime.datetime.fromtimestamp(relay["since"], datetime.UTC)
        return {
            "type": "test",
            "state": relay["state"],
            "alias": None,
            "safe_state": False,
            "since": since.isoformat(timespec="milliseconds"),
            "seconds_in_state": max(0.0, self.clock.seconds() - relay["since"]),
            "min_on_s": self.min_on,
            "min_off_s": self.min_off,
        }

    def render(self, request):
        try:
            self._authorize(request)
            code, body = self._route(request)
        except Refused as refused:
            code, body = refused.code, refused.document
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        request.setResponseCode(code)
        request.setHeader(b"content-type", b"application/json")
        request.setHeader(b"cache-control", b"no-store")
        if request.method == b"HEAD":
            request.setHeader(b"content-length", str(len(body)).encode())
            return b""
        return body

    def registration(self, url, host_id=None, relays=None):
        """The registration this unit would send to an engine: ``host_id``, ``url``, relays, secret."""
        return {
            "host_id": host_id or self.host_id,
            "url": url,
            "relays": {r: {"type": "test", "state": self.relays[r]["state"]} for r in self.relays}
            if relays is None
            else relays,
            "secret": self.secret,
        }

    def _authorize(self, request):
        """A 401 unless the request carries exactly one ``Authorization: Bearer <secret>``."""
        presented = request.requestHeaders.getRawHeaders(b"authorization") or []
        scheme, _, token = presented[0].strip().partition(b" ") if len(presented) == 1 else (b"", b"", b"")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self.secret.encode()):
            self.unauthorized += 1
            request.setHeader(b"www-authenticate", b'Bearer realm="rpymostat-control"')
            raise Refused(401, "missing or wrong Authorization: Bearer <secret of the registration>")

    def _route(self, request):
        segments = request.path.split(b"/")
        if segments == _PREFIX:
            self._allow(request, _LIST_METHODS)
            expires_in = self.lease_renewed + self.lease - self.clock.seconds()
            return 200, {
                "host_id": self.host_id,
                "lease": {"seconds": self.lease, "expires_in_s": expires_in if expires_in > 0 else None},
                "relays": {relay_id: self.doc(relay_id) for relay_id in self.relays},
            }
        if len(segments) == len(_PREFIX) + 1 and segments[:-1] == _PREFIX:
            relay_id = unquote_to_bytes(segments[-1]).decode("utf-8", "replace")
            if relay_id in self.relays:
                self._allow(request, _RELAY_METHODS)
                if request.method == b"POST":
                    return self._command(request, relay_id)
                return 200, {"relay_id": relay_id, **self.doc(relay_id)}
        raise Refused(404, f"no such resource: {request.path.decode('utf-8', 'replace')}")

    def _allow(self, request, methods):
        if request.method not in methods:
            allowed = b", ".join(methods)
            request.setHeader(b"allow", allowed)
            raise Refused(405, f"method not allowed here; allowed: {allowed.decode()}")

    def _command(self, request, relay_id):
        try:
            command = read_json_body(request, MAX_BODY_BYTES, expected='{"state": true} or {"state": false}')
        except BodyRefused as refused:
            raise Refused(refused.code, refused.message) from None
        if (
            not isinstance(command, dict)
            or set(command) - {"safety"} != {"state"}
            or not isinstance(command["state"], bool)
        ):
            raise Refused(
                422,
                'a command is exactly {"state": true} or {"state": false}, or {"state": false, "safety": "<reason>"}',
            )
        safety = command.get("safety")
        if "safety" in command and not (isinstance(safety, str) and safety.strip() and len(safety) <= 200):
            raise Refused(422, '"safety" must be the reason for a safety off, a string of 1 to 200 characters')
        if safety is not None and command["state"]:
            raise Refused(422, '"safety" only goes with "state": false')
        wanted = command["state"]
        self.commands.append((relay_id, wanted))
        if safety is not None:
            self.safety.append((relay_id, safety))
        if self.answer is not None:
            return self.answer
        now = self.clock.seconds()
        self.lease_renewed = now
        relay = self.relays[relay_id]
        if relay["state"] == wanted:
            return 200, {"relay_id": relay_id, **self.doc(relay_id), "changed": False}
        refusal = None if safety is not None else self._refusal(relay_id)
        if refusal is not None:
            error, retry_after = refusal
            raise Refused(409, error, retry_after_s=retry_after, relay={"relay_id": relay_id, **self.doc(relay_id)})
        relay.update(state=wanted, since=now)
        return 200, {"relay_id": relay_id, **self.doc(relay_id), "changed": True}

    def _refusal(self, relay_id):
        """``(error, retry_after_s)`` if a minimum time (or ``refuse``) forbids switching now, else None."""
        if self.refuse:
            return "minimum off time", 60.0
        relay = self.relays[relay_id]
        minimum = self.min_on if relay["state"] else self.min_off
        held = max(0.0, self.clock.seconds() - relay["since"])
        if held >= minimum:
            return None
        state = "on" if relay["state"] else "off"
        return f"minimum {state} time: {relay_id} has been {state} for {held:.0f} of {minimum:g} s", minimum - held


async def start_unit(reactor, clock, relays, **options):
    """A :class:`RelayUnit` (``options``: its minimum times, lease, host id) listening
    on 127.0.0.1; returns ``(unit, port, url)``."""
    unit = RelayUnit(clock, relays, **options)
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(unit))
    return unit, port, f"http://127.0.0.1:{port.getHost().port}"
