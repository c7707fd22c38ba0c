"""A relay unit written from docs/control.rst alone, with nothing but the standard library.

It proves the protocol is open: it imports nothing from RPyMostat, speaks
plain HTTP/JSON with ``http.server`` and ``urllib``, registers with the
engine, obeys ``POST /v1/relays/{id}``, and switches everything off when the
engine's lease runs out, then registers again.  Usage::

    python third_party_relay.py ENGINE_URL PORT HOST_ID LEASE_S RELAY_ID...
"""

import json
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENGINE, PORT, HOST_ID, LEASE = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
RELAYS = {relay_id: {"state": False, "since": time.time()} for relay_id in sys.argv[5:]}
lock = threading.Lock()
lease_until = time.monotonic() + LEASE
registered = threading.Event()


def relay_doc(relay_id):
    relay = RELAYS[relay_id]
    return {"type": "stdlib", "state": relay["state"], "alias": None, "safe_state": False,
            "since": datetime.fromtimestamp(relay["since"], timezone.utc).isoformat(),
            "seconds_in_state": time.time() - relay["since"], "min_on_s": 0, "min_off_s": 0}


def register():
    body = {"host_id": HOST_ID, "url": f"http://127.0.0.1:{PORT}",
            "relays": {r: {"type": "stdlib", "state": RELAYS[r]["state"]} for r in RELAYS}}
    request = urllib.request.Request(ENGINE + "/v1/controls/register", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"}, method="POST")
    while True:
        try:
            urllib.request.urlopen(request, timeout=5).close()
            registered.set()
            return
        except OSError:
            time.sleep(0.5)


def watchdog():
    global lease_until
    while True:
        time.sleep(0.1)
        with lock:
            expired = time.monotonic() > lease_until
            if expired:
                for relay in RELAYS.values():
                    if relay["state"]:
                        relay.update(state=False, since=time.time())
                lease_until = float("inf")  # safe until the engine commands again
        if expired:
            print("lease expired: every relay off", flush=True)
            registered.clear()
            register()


class Handler(BaseHTTPRequestHandler):
    def answer(self, code, document):
        body = json.dumps(document).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != "/v1/relays":
            return self.answer(404, {"status": "error", "error": "not found"})
        with lock:
            self.answer(200, {"host_id": HOST_ID, "lease": {"seconds": LEASE, "expires_in_s": None},
                              "relays": {r: relay_doc(r) for r in RELAYS}})

    def do_POST(self):
        global lease_until
        relay_id = self.path.rpartition("/")[2]
        try:
            state = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))["state"]
        except (ValueError, KeyError, TypeError):
            return self.answer(400, {"status": "error", "error": "expected {\"state\": true|false}"})
        if relay_id not in RELAYS or not isinstance(state, bool):
            return self.answer(404 if relay_id not in RELAYS else 422, {"status": "error", "error": "bad request"})
        with lock:
            lease_until = time.monotonic() + LEASE
            changed = RELAYS[relay_id]["state"] != state
            if changed:
                RELAYS[relay_id].update(state=state, since=time.time())
            self.answer(200, {"relay_id": relay_id, **relay_doc(relay_id), "changed": changed})

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    threading.Thread(target=register, daemon=True).start()
    threading.Thread(target=watchdog, daemon=True).start()
    server.serve_forever()
