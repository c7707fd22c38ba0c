"""A small engine that speaks pairing, proofs and sensor updates as docs/security.rst says.

The daemon side of pairing is tested against this, over real HTTP on
loopback, so that its tests do not wait for (or break with) the engine's own
implementation.  It keeps what the spec asks the engine to keep: pending
requests (15 minutes, at most 16, codes unique), tokens by hash with their
name and pairing secret; it signs a proof only for a URL of its own
address.  The test approves requests, revokes tokens and reads what the
daemon sent.  Time comes from the injected clock.
"""

import json
from urllib.parse import urlsplit

from twisted.internet.defer import ensureDeferred
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

from rpymostat.protocol.times import iso_utc
from rpymostat.protocol.tokens import engine_proof, token_hash

#: Seconds a pairing request waits for approval (docs/security.rst).
EXPIRY_S = 15 * 60

#: Requests that may wait at once before the engine answers 429.
MAX_PENDING = 16

#: Roles a daemon may pair as; only the first two make a token bound to its host.
PAIRING_ROLES = ("sensor", "control", "admin", "user")
HOST_ROLES = ("sensor", "control")


def answer(request, code, document, headers=()):
    request.setResponseCode(code)
    request.setHeader(b"Content-Type", b"application/json")
    for name, value in headers:
        request.setHeader(name, value)
    return json.dumps(document).encode("utf-8")


def error(request, code, message, headers=()):
    return answer(request, code, {"status": "error", "error": message}, headers)


class FakeEngine(Resource):
    """``/v1/pair``, ``/v1/pair/{id}``, ``/v1/pair/proof`` and ``/v1/sensors/update``.

    ``require_auth`` makes updates need a known token (401 otherwise);
    ``failures`` is a list of ``(code, message)`` answered, in turn, to the
    next requests of any kind; ``forbidden`` makes valid tokens get 403.
    """

    isLeaf = True

    def __init__(self, clock, require_auth=True, max_pending=MAX_PENDING, retry_after=7):
        super().__init__()
        self.clock = clock
        self.require_auth = require_auth
        self.max_pending = max_pending
        self.retry_after = retry_after
        self.pending = {}  # id -> request document plus "created"
        self.approved = {}  # id -> token name
        self.tokens = {}  # token hash -> {"name", "secret", "host_id"}
        self.updates = []  # (authorization header or None, document, answer code) of every update
        self.requests = []  # (method, path) of every request
        self.failures = []
        self.forbidden = False
        self._next_id = 0
        self.port = None

    # What the test does as the admin.

    def approve(self, code) -> str:
        """Approve the pending request with ``code``; returns the token's name."""
        (request_id,) = [i for i, r in self.pending.items() if r["code"] == code]
        request = self.pending.pop(request_id)
        name = f"{request['role']}-{request['host_id']}"
        host_id = request["host_id"] if request["role"] in HOST_ROLES else None
        self.tokens[request["token_hash"]] = {"name": name, "secret": request["secret"], "host_id": host_id}
        self.approved[request_id] = name
        return name

    def revoke_all(self):
        self.tokens.clear()

    def add_token(self, token, name="by-hand", secret=None):
        self.tokens[token_hash(token)] = {"name": name, "secret": secret, "host_id": None}

    def codes(self):
        self._expire()
        return [r["code"] for r in self.pending.values()]

    def pair_requests(self):
        return [path for method, path in self.requests if (method, path) == ("POST", "/v1/pair")]

    def proofs_asked(self):
        return [path for method, path in self.requests if path == "/v1/pair/proof"]

    # HTTP.

    def render(self, request):
        path = request.path.decode("utf-8")
        method = request.method.decode("ascii")
        self.requests.append((method, path))
        if self.failures:
            code, message = self.failures.pop(0)
            return error(request, code, message)
        try:
            document = json.loads(request.content.read() or b"null")
        except ValueError:
            return error(request, 400, "not JSON")
        if (method, path) == ("POST", "/v1/pair"):
            return self._request_pairing(request, document)
        if (method, path) == ("POST", "/v1/pair/proof"):
            return self._prove(request, document)
        if method == "GET" and path.startswith("/v1/pair/"):
            return self._status(request, path.rsplit("/", 1)[1])
        if (method, path) == ("PUT", "/v1/sensors/update"):
            return self._update(request, document)
        return error(request, 404, f"no {method} {path}")

    def _expire(self):
        now = self.clock.seconds()
        for request_id in [i for i, r in self.pending.items() if r["created"] + EXPIRY_S <= now]:
            del self.pending[request_id]

    def _status_document(self, request_id, record, name=None):
        document = {
            "id": request_id,
            "code": record["code"],
            "status": "approved" if name else "pending",
            "expires_at": iso_utc(record["created"] + EXPIRY_S),
        }
        if name:
            document["name"] = name
        return document

    def _request_pairing(self, request, document):
        self._expire()
        fields = ("host_id", "role", "code", "token_hash", "secret")
        if not isinstance(document, dict) or not all(isinstance(document.get(f), str) for f in fields):
            return error(request, 422, "a pairing request needs host_id, role, code, token_hash and secret")
        if document["role"] not in PAIRING_ROLES or len(document["token_hash"]) != 64:
            return error(request, 422, f"role {document['role']!r} cannot pair")
        if any(r["code"] == document["code"] for r in self.pending.values()):
            return error(request, 409, f"code {document['code']} is already pending")
        if len(self.pending) >= self.max_pending:
            return error(request, 429, "too many pairing requests wait", [(b"Retry-After", b"%d" % self.retry_after)])
        self._next_id += 1
        request_id = f"p{self._next_id}"
        self.pending[request_id] = {**{f: document[f] for f in fields}, "created": self.clock.seconds()}
        self.pending[request_id]["answered"] = self._status_document(request_id, self.pending[request_id])
        return answer(request, 202, self.pending[request_id]["answered"])

    def _status(self, request, request_id):
        self._expire()
        if request_id in self.approved:
            record = {"code": "-", "created": self.clock.seconds()}
            return answer(request, 200, self._status_document(request_id, record, self.approved.pop(request_id)))
        if request_id not in self.pending:
            return error(request, 404, "no such pairing request (or it expired)")
        return answer(request, 200, self._status_document(request_id, self.pending[request_id]))

    def _prove(self, request, document):
        if not isinstance(document, dict) or not all(isinstance(document.get(f), str) for f in ("nonce", "url")):
            return error(request, 422, "a proof needs name, nonce and url")
        if urlsplit(document["url"]).netloc != self.netloc:
            # As the real engine: it signs only for its own address, so a relayed challenge gets nothing.
            return error(request, 403, f"{document['url']} is not this engine's address")
        for token in self.tokens.values():
            if token["name"] == document.get("name") and token["secret"]:
                proof = engine_proof(token["secret"], document["nonce"], document["url"])
                return answer(request, 200, {"proof": proof})
        return error(request, 404, f"no token named {document.get('name')!r}")

    def _update(self, request, document):
        authorization = request.getHeader("Authorization")  # str for a str name
        code, message = 201, None
        if self.require_auth:
            token = (authorization or "").removeprefix("Bearer ")
            if token_hash(token) not in self.tokens:
                code, message = 401, "unknown token"
            elif self.forbidden:
                code, message = 403, "this token may not send readings for this host"
        self.updates.append((authorization, document, code))
        if code == 401:
            return error(request, 401, message, [(b"WWW-Authenticate", b'Bearer realm="rpymostat"')])
        if code == 403:
            return error(request, 403, message)
        return answer(request, 201, {"status": "ok"})

    def readings(self):
        """Every (sensor_id, timestamp) the engine took (201), in order of arrival."""
        taken = []
        for _, document, code in self.updates:
            if code != 201:
                continue
            for sensor_id, entries in document["sensors"].items():
                for entry in entries if isinstance(entries, list) else [entries]:
                    taken.append((sensor_id, entry["timestamp"]))
        return taken

    # Listening.

    async def listen(self, reactor, port=0):
        endpoint = TCP4ServerEndpoint(reactor, port, interface="127.0.0.1")
        self.port = await endpoint.listen(Site(self))
        return self

    @property
    def netloc(self):
        """``host:port`` of the address it listens on."""
        return f"127.0.0.1:{self.port.getHost().port}"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port.getHost().port}/v1"

    @property
    def origin(self):
        return f"http://127.0.0.1:{self.port.getHost().port}"

    async def close(self):
        await self.port.stopListening()


class RelayingRogue(Resource):
    """A rogue engine that passes a daemon's proof request on to ``target`` (an engine URL).

    It knows no secret, so it relays the daemon's challenge to the real
    engine and returns whatever that answers.  By default it forwards the
    body unchanged; ``rewrite_url`` puts the real engine's URL in it first,
    so the real engine signs (for its own URL).  ``relayed`` holds the bodies
    it received.
    """

    isLeaf = True

    def __init__(self, target, rewrite_url=False):
        super().__init__()
        self.target, self.rewrite_url = target, rewrite_url
        self.relayed = []
        self.port = None

    def render_POST(self, request):
        import treq

        body = request.content.read()
        self.relayed.append(json.loads(body))
        if self.rewrite_url:
            body = json.dumps({**json.loads(body), "url": self.target}).encode("utf-8")
        path = request.path.decode("utf-8").removeprefix("/v1")
        sent = treq.post(self.target + path, data=body, headers={"Content-Type": "application/json"})

        async def relay():
            response = await sent
            content = await response.content()
            request.setResponseCode(response.code)
            request.setHeader(b"Content-Type", b"application/json")
            request.write(content)
            request.finish()

        ensureDeferred(relay()).addErrback(lambda failure: (request.setResponseCode(502), request.finish()))
        return NOT_DONE_YET

    async def listen(self, reactor):
        self.port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(self))
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port.getHost().port}/v1"

    async def close(self):
        await self.port.stopListening()


async def until(condition, timeout=10.0):
    """Let the real reactor run (the HTTP happens on it) until ``condition()``; fail after ``timeout`` s."""
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    deadline = reactor.seconds() + timeout
    while not condition():
        assert reactor.seconds() < deadline, "condition not met in time"
        await deferLater(reactor, 0.01, lambda: None)


def next_delay(clock) -> float:
    """Seconds until the injected clock's next delayed call (there must be one)."""
    return min(call.getTime() for call in clock.getDelayedCalls()) - clock.seconds()


def advance(clock) -> float:
    """Run the clock to its next delayed call; returns how far it went."""
    delay = next_delay(clock)
    clock.advance(delay)
    return delay
