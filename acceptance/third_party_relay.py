"""A relay unit written from docs/control.rst alone, with nothing but the standard library.

It proves the protocol is open: it imports nothing from RPyMostat, speaks
plain HTTP/JSON with ``http.server`` and ``urllib``, registers with the
engine, serves ``GET /v1/relays``, ``GET /v1/relays/{id}`` and
``POST /v1/relays/{id}`` (``{"state": true|false}``, or a safety off
``{"state": false, "safety": "<reason>"}``, logged), answers every documented
error (415 for a command not sent as ``application/json``), and switches
everything off when the engine's lease runs out, then registers again.  It has
no minimum times (it reports ``min_on_s`` and ``min_off_s`` as 0), so a safety
off is an off like any other, and every relay's safe state is off.  It obeys
only the engine it registered with: each start makes a secret, every
registration carries it, and any request without ``Authorization: Bearer
<secret>`` is a 401 (logged), checked before routing.  It registers with
the token in ``RPYMOSTAT_TOKEN`` (made with ``rpymostat-engine token create
--role control``), as docs/security.rst tells a hand-provisioned unit to.
tests/test_relay_unit_contract.py checks it against the protocol.  Usage::

    RPYMOSTAT_TOKEN=... python third_party_relay.py ENGINE_URL PORT HOST_ID LEASE_S RELAY_ID...
"""

import hmac
import json
import os
import secrets
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

ENGINE, PORT, HOST_ID, LEASE = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
RELAYS_PATH = "/v1/relays"
MAX_BODY = 1024 * 1024
#: The most a request body is read to throw it away (and keep the connection) after a 413.
MAX_DRAIN = 64 * MAX_BODY
#: Each relay's state, its last switch by the wall clock (shown) and by the monotonic clock (ages).
RELAYS = {relay_id: {"state": False, "since": time.time(), "switched": time.monotonic()} for relay_id in sys.argv[5:]}
#: Made once per start; sent with every registration, required of every request.
SECRET = secrets.token_urlsafe(32)
#: Set once a registration carried SECRET: until then nobody can hold it, so everything is a 401.
registered = threading.Event()
lock = threading.Lock()
lease_until = time.monotonic() + LEASE
register_wanted = threading.Event()


def relay_doc(relay_id):
    relay = RELAYS[relay_id]
    return {
        "type": "stdlib",
        "state": relay["state"],
        "alias": None,
        "safe_state": False,
        "since": datetime.fromtimestamp(relay["since"], UTC).isoformat(timespec="milliseconds"),
        "seconds_in_state": round(time.monotonic() - relay["switched"], 3),
        "min_on_s": 0,
        "min_off_s": 0,
    }


def switch(relay_id, state):
    RELAYS[relay_id].update(state=state, since=time.time(), switched=time.monotonic())


def lease_left():
    left = lease_until - time.monotonic()
    return left if 0 < left < float("inf") else None


def registrar():
    """Register whenever asked (at start, after each lease expiry), retrying until the engine answers 2xx."""
    while True:
        register_wanted.wait()
        register_wanted.clear()
        while True:
            with lock:
                body = {
                    "host_id": HOST_ID,
                    "url": f"http://127.0.0.1:{PORT}",
                    "relays": {r: {"type": "stdlib", "state": RELAYS[r]["state"]} for r in RELAYS},
                    "secret": SECRET,
                }
            registered.set()
            headers = {"Content-Type": "application/json"}
            if os.environ.get("RPYMOSTAT_TOKEN"):
                headers["Authorization"] = "Bearer " + os.environ["RPYMOSTAT_TOKEN"]
            request = urllib.request.Request(
                ENGINE + "/v1/controls/register", json.dumps(body).encode(), headers, method="POST"
            )
            try:
                urllib.request.urlopen(request, timeout=5).close()
                break
            except OSError:  # unreachable, or an HTTP error answer
                time.sleep(0.5)


def watchdog():
    global lease_until
    while True:
        time.sleep(0.1)
        with lock:
            expired = time.monotonic() > lease_until
            if expired:
                for relay_id, relay in RELAYS.items():
                    if relay["state"]:
                        switch(relay_id, False)
                lease_until = float("inf")  # safe until the engine commands again
        if expired:
            print("lease expired: every relay off", flush=True)
            register_wanted.set()


class BadRequest(Exception):
    """Answer with ``code`` and this message; nothing changed."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def parse_command(headers, body):
    """``(state, safety reason or None)`` of a JSON body that is exactly ``{"state": true|false}``
    or ``{"state": false, "safety": "<reason>"}``; else BadRequest (415, 400, 413, 422)."""
    content_types = headers.get_all("Content-Type") or []
    if len(content_types) != 1 or content_types[0].split(";")[0].strip().lower() != "application/json":
        raise BadRequest(415, f"Content-Type must be application/json, got {content_types or 'none'}")
    if body is None:
        raise BadRequest(413, f"request body over {MAX_BODY} bytes")
    if not body.strip():
        raise BadRequest(400, 'request body is empty; expected {"state": true} or {"state": false}')
    try:
        command = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest(400, "request body is not UTF-8") from None
    except RecursionError:
        raise BadRequest(400, "request body is nested too deeply") from None
    except ValueError as error:  # not JSON, or an integer too long to convert
        raise BadRequest(400, f"request body is not valid JSON: {error}") from None
    if (
        not isinstance(command, dict)
        or set(command) - {"safety"} != {"state"}
        or not isinstance(command["state"], bool)
    ):
        raise BadRequest(
            422, 'a command is exactly {"state": true} or {"state": false}, or {"state": false, "safety": "<reason>"}'
        )
    safety = command.get("safety")
    if "safety" in command and not (isinstance(safety, str) and safety.strip() and len(safety) <= 200):
        raise BadRequest(422, '"safety" must be the reason for a safety off, a string of 1 to 200 characters')
    if safety is not None and command["state"]:
        raise BadRequest(422, '"safety" only goes with "state": false')
    return command["state"], safety


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __getattr__(self, name):
        # Every method reaches the router, which answers 405 where a path lacks it.
        if name.startswith("do_"):
            return self.handle_request
        raise AttributeError(name)

    def handle_request(self):
        try:
            body = self.read_body()
        except ValueError:
            self.close_connection = True
            return self.answer(400, {"status": "error", "error": "malformed Content-Length or chunked body"})
        try:
            self.authorize()
            self.answer(200, self.route(body))
        except BadRequest as refused:
            self.answer(refused.code, {"status": "error", "error": str(refused)})

    def authorize(self):
        """A 401 unless the request carries ``Authorization: Bearer <SECRET>``; before any route."""
        presented = self.headers.get_all("Authorization") or []
        if not registered.is_set():
            reason = "not registered with an engine yet"
        elif len(presented) != 1:
            reason = "no Authorization header" if not presented else "more than one Authorization header"
        else:
            scheme, _, token = presented[0].strip().partition(" ")
            # http.server decodes headers as latin-1, so this gives back the bytes received.
            if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode("latin-1"), SECRET.encode()):
                return
            reason = "not the secret of this unit's registration"
        path = self.path[:200].encode("ascii", "backslashreplace").decode()
        print(f"refused {self.command} {path} from {self.client_address[0]}: {reason}", flush=True)
        raise BadRequest(401, f"{reason}: send Authorization: Bearer <the secret of this unit's registration>")

    def route(self, body):
        path = urlsplit(self.path).path
        head, _, segment = path.rpartition("/")
        relay_id = None
        if head == RELAYS_PATH and segment:
            try:
                relay_id = unquote(segment, errors="strict")
            except UnicodeDecodeError:
                pass
        if path == RELAYS_PATH:
            self.allow("GET", "HEAD")
            with lock:
                return {
                    "host_id": HOST_ID,
                    "lease": {"seconds": LEASE, "expires_in_s": lease_left()},
                    "relays": {r: relay_doc(r) for r in RELAYS},
                }
        if relay_id not in RELAYS:
            raise BadRequest(404, f"no such resource: {path}; relays are at {RELAYS_PATH}")
        self.allow("GET", "HEAD", "POST")
        if self.command != "POST":
            with lock:
                return {"relay_id": relay_id, **relay_doc(relay_id)}
        state, safety = parse_command(self.headers, body)
        if safety is not None:
            print(f"safety off for {relay_id}: {safety!r}", flush=True)
        return self.switch(relay_id, state)

    def allow(self, *methods):
        if self.command not in methods:
            self.allowed = ", ".join(methods)
            raise BadRequest(405, f"method {self.command} not allowed here; allowed: {self.allowed}")

    def switch(self, relay_id, state):
        global lease_until
        with lock:
            lease_until = time.monotonic() + LEASE
            changed = RELAYS[relay_id]["state"] != state
            if changed:
                switch(relay_id, state)
            return {"relay_id": relay_id, **relay_doc(relay_id), "changed": changed}

    def read_body(self):
        """The request's body, or None when it is over MAX_BODY.

        Read whatever the method and the answer, so the next request on the
        connection starts where it should; ValueError if it cannot be framed.
        """
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length <= MAX_BODY:
            return self.rfile.read(length)
        if length > MAX_DRAIN:
            self.close_connection = True
        else:
            while length > 0:
                chunk = self.rfile.read(min(length, 65536))
                if not chunk:
                    break
                length -= len(chunk)
        return None

    def read_chunked(self):
        body, size = bytearray(), 0
        while True:
            chunk_size = int(self.rfile.readline(1024).split(b";")[0], 16)
            if chunk_size == 0:
                break
            size += chunk_size
            if size > MAX_DRAIN:
                self.close_connection = True
                return None
            chunk = self.rfile.read(chunk_size)
            self.rfile.readline()
            if size <= MAX_BODY:
                body += chunk
        while self.rfile.readline(1024).strip():
            pass  # trailers
        return bytes(body) if size <= MAX_BODY else None

    def answer(self, code, document):
        body = json.dumps(document).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        if code == 405:
            self.send_header("Allow", self.allowed)
        if code == 401:
            self.send_header("WWW-Authenticate", 'Bearer realm="rpymostat-control"')
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    register_wanted.set()
    threading.Thread(target=registrar, daemon=True).start()
    threading.Thread(target=watchdog, daemon=True).start()
    server.serve_forever()
