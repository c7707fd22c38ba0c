"""What the relay unit daemon costs a small host, and how fast it switches a relay.

``python benchmarks/control.py [--requests 2000] [--script PATH ...]`` starts the
installed ``rpymostat-control`` (20 sim relays, minimum on/off times 0, a
stand-in engine that only takes its registration, its own data directory) on
a free 127.0.0.1 port and prints:

- its steady RSS and USS a few seconds after start, and again after the load
  (MB = 10^6 bytes; RSS counts shared library pages, USS only its own);
- the latency of ``POST /v1/relays/sim-1`` with ``{"state": ...}``
  alternating on and off, so every command is a real switch (written to
  ``relay-state.json`` with fsync before the answer), p50/p99 over
  ``--requests`` requests on one keep-alive connection (``http.client``);
- the latency of ``GET /v1/relays`` (all 20 relays and the lease), p50/p99.

``--script`` may be given several times, e.g. once more with
``/tmp/venv-control/bin/rpymostat-control`` from a virtual environment holding
only ``pip install ".[control]"``: each installation gets its own figures,
labelled with whether the process mapped pyOpenSSL's ``cryptography`` (treq,
a test dependency, brings it into the development environment and Twisted
then loads it).  Every request carries ``Authorization: Bearer`` with the
secret of the unit's registration, as the engine's do, so the figures include
checking it.  Figures, not a test.  ``decision.py`` reuses :class:`ControlUnit`
to give the decision loop a real relay unit (its registration must carry
:attr:`ControlUnit.secret`).
"""

import argparse
import http.client
import http.server
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil
from ingest import free_port  # beside this script

MB = 1_000_000
RELAYS = 20


def default_script():
    """The console script beside this interpreter (no pyenv shim in between), else on PATH."""
    beside = Path(sys.executable).parent / "rpymostat-control"
    found = beside if beside.exists() else shutil.which("rpymostat-control")
    return str(found or sys.exit("rpymostat-control is not installed (pip install -e '.[control]')"))


def percentile(values, fraction):
    """Nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


class StandInEngine(http.server.ThreadingHTTPServer):
    """Takes a unit's registrations (201) on 127.0.0.1 and keeps the latest: its secret opens the unit."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Registrations)
        self.registration = None
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _Registrations(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.server.registration = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


class ControlUnit:
    """One ``rpymostat-control`` process with sim relays on a free loopback port.

    It registers with a :class:`StandInEngine`; once started, :attr:`secret`
    is the secret of that registration, which every request must carry.
    """

    def __init__(self, script, data_dir, relays=RELAYS):
        self.engine = StandInEngine()
        self.secret = None
        self.port = free_port()
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / "control.log"
        self.command = [script]
        self.env = {
            **os.environ,
            "RPYMOSTAT_RELAYS": "sim",
            "RPYMOSTAT_SIM_RELAYS": str(relays),
            "RPYMOSTAT_ENGINE_URL": self.engine.url,
            "RPYMOSTAT_CONTROL_HOST": "127.0.0.1",
            "RPYMOSTAT_CONTROL_PORT": str(self.port),
            "RPYMOSTAT_MIN_ON_S": "0",
            "RPYMOSTAT_MIN_OFF_S": "0",
            "RPYMOSTAT_DATA_DIR": str(self.data_dir),
        }
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def registration(self):
        """The unit's latest registration as its engine got it (None before); here the stand-in's."""
        return self.engine.registration

    @property
    def headers(self):
        """What the engine the unit registered with sends with every request."""
        return {"Authorization": f"Bearer {self.secret}"}

    def start(self, timeout=30.0):
        """Start it and wait until it registered and ``GET /v1/relays`` answers; returns that answer."""
        with open(self.log_path, "ab") as log:  # own session: Ctrl-C reaches only us
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rpymostat-control exited {self.process.returncode}:\n{self.log()}")
            registration = self.registration()
            if registration is None:  # it registers once it listens
                time.sleep(0.05)
                continue
            self.secret = registration["secret"]
            request = urllib.request.Request(self.url + "/v1/relays", headers=self.headers)
            with urllib.request.urlopen(request, timeout=2) as response:
                return json.loads(response.read())
        raise RuntimeError(f"rpymostat-control did not answer within {timeout} s:\n{self.log()}")

    def log(self):
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def memory_mb(self):
        """``(rss, uss)`` in MB."""
        info = psutil.Process(self.process.pid).memory_full_info()
        return info.rss / MB, info.uss / MB

    def maps(self, word):
        """Whether the process has a file mapped whose path contains ``word``."""
        return any(word in region.path for region in psutil.Process(self.process.pid).memory_maps())

    def stop(self, timeout=15.0):
        """SIGTERM (every relay goes to its safe state), then SIGKILL; the exit status."""
        self.engine.shutdown()  # idempotent, as stop() may be
        self.engine.server_close()
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def steady_memory(unit, seconds=3.0):
    """The largest RSS sampled over ``seconds`` after start-up, and USS at the end."""
    rss = 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rss = max(rss, unit.memory_mb()[0])
        time.sleep(0.25)
    return rss, unit.memory_mb()[1]


def latencies(connection, method, path, bodies, authorization):
    """Seconds per request on one keep-alive connection, and how many sockets it took."""
    timings, sockets = [], set()
    headers = {"Content-Type": "application/json", **authorization}
    for body in bodies:
        started = time.perf_counter()
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        answer = response.read()
        timings.append(time.perf_counter() - started)
        if response.status != 200:
            raise RuntimeError(f"{method} {path} answered {response.status}: {answer[:200]!r}")
        sockets.add(connection.sock.getsockname())
    return timings, len(sockets)


def measure(script, requests):
    """Every figure for one installation of the daemon."""
    with tempfile.TemporaryDirectory(prefix="rpymostat-bench-control-") as data_dir:
        unit = ControlUnit(script, data_dir)
        try:
            unit.start()
            time.sleep(2.0)  # start-up done
            figures = {"start": steady_memory(unit), "openssl": unit.maps("cryptography")}
            connection = http.client.HTTPConnection("127.0.0.1", unit.port, timeout=10)
            switch = [json.dumps({"state": index % 2 == 0}) for index in range(requests)]
            latencies(connection, "POST", "/v1/relays/sim-2", switch[:100], unit.headers)  # warm-up
            figures["post"], figures["post_sockets"] = latencies(
                connection, "POST", "/v1/relays/sim-1", switch, unit.headers
            )
            figures["get"], figures["get_sockets"] = latencies(
                connection, "GET", "/v1/relays", [None] * (requests // 4), unit.headers
            )
            connection.close()
            time.sleep(1.0)
            figures["after"] = unit.memory_mb()
        finally:
            status = unit.stop()
        if status != 0:
            raise RuntimeError(f"rpymostat-control exited {status} on SIGTERM:\n{unit.log()}")
        return figures


def report(script, figures, requests):
    def ms(values, fraction):
        return f"{percentile(values, fraction) * 1000:6.2f}"

    (rss, uss), (after_rss, after_uss) = figures["start"], figures["after"]
    post, get = figures["post"], figures["get"]
    print(f"\nrpymostat-control: {script}")
    print(f"  pyOpenSSL/cryptography loaded      {'yes' if figures['openssl'] else 'no'}")
    print(f"  steady RSS after start             {rss:6.1f} MB (USS {uss:.1f})")
    print(f"  RSS after the requests             {after_rss:6.1f} MB (USS {after_uss:.1f})")
    print(
        f"  POST /v1/relays/sim-1 p50 / p99    {ms(post, 0.5)} / {ms(post, 0.99)} ms "
        f"(mean {statistics.fmean(post) * 1000:.2f}, {requests} switches, "
        f"{figures['post_sockets']} connection)"
    )
    print(
        f"  GET /v1/relays p50 / p99           {ms(get, 0.5)} / {ms(get, 0.99)} ms "
        f"({len(get)} requests, {RELAYS} relays)"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="POSTs per installation (2000)")
    parser.add_argument(
        "--script", action="append", help="an rpymostat-control to measure (repeatable; default: the one beside python)"
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop the daemon as on Ctrl-C
    print(f"{RELAYS} sim relays, minimum times 0, 127.0.0.1, MB = 10^6 bytes")
    for script in args.script or [default_script()]:
        try:
            report(script, measure(script, args.requests), args.requests)
        except RuntimeError as error:
            print(f"benchmark broke: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
