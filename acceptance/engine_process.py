"""Starting and talking to a real ``rpymostat-engine`` process, for acceptance tests."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BROWSER = REPO / "tests" / "mdns_browse.py"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def engine_command():
    """The installed console script; acceptance tests run what users run."""
    script = shutil.which("rpymostat-engine")
    assert script, "rpymostat-engine is not installed (pip install -e '.[engine]')"
    return [script]


class EngineProcess:
    """One engine process on a free loopback port with its own data directory."""

    def __init__(self, data_dir, port=None, advertise=False, extra_env=None):
        self.port = port or free_port()
        self.data_dir = Path(data_dir)
        self.log_path = self.data_dir / f"engine-{self.port}.log"
        self.env = {
            **os.environ,
            "RPYMOSTAT_API_HOST": "127.0.0.1",
            "RPYMOSTAT_API_PORT": str(self.port),
            "RPYMOSTAT_DATA_DIR": str(self.data_dir),
            "RPYMOSTAT_ADVERTISE": "1" if advertise else "0",
            "RPYMOSTAT_MDNS_INTERFACES": "127.0.0.1",
            "RPYMOSTAT_TIMEZONE": "Europe/Berlin",
            **(extra_env or {}),
        }
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=20.0):
        """Start the process and wait until ``/v1/status`` answers 200."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(engine_command() + ["-vv"], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"engine exited {self.process.returncode}:\n{self.log()}")
            try:
                if self.request("GET", "/v1/status")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"engine did not answer within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def admin_token(self) -> str | None:
        """The admin token the engine wrote at its first start (None before, or with auth off)."""
        path = self.data_dir / "admin-token"
        return path.read_text().strip() if path.exists() else None

    def make_token(self, role, name, host_id=None) -> str:
        """A token made with ``rpymostat-engine token create`` on this engine's data, as an admin would."""
        command = engine_command() + ["token", "create", "--role", role, "--name", name]
        command += ["--host", host_id] if host_id else []
        made = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=30)
        assert made.returncode == 0, made.stderr
        return made.stdout.split()[-1]

    def request(self, method, path, body=None, token=None):
        """``(status, decoded JSON body)`` of one HTTP request, with the admin token unless another is given."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        token = token if token is not None else self.admin_token
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def stop(self, sig=signal.SIGTERM, timeout=15.0) -> int:
        """Send ``sig`` and wait for the exit status."""
        return stop_process(self.process, "engine", self.log, sig, timeout)


def stop_process(process, name, log, sig=signal.SIGTERM, timeout=15.0) -> int:
    """Send ``sig`` to ``process`` (a Popen, or None) and wait for its exit status.

    A process that ignores the signal is killed and the test fails with its
    ``log()``: a daemon must stop cleanly when systemd asks.
    """
    if process is None or process.poll() is not None:
        return process.returncode if process else 0
    process.send_signal(sig)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"{name} ignored {sig!r} for {timeout} s:\n{log()}") from None


def browse(timeout=5.0, count=1, watch=False):
    """Run the mDNS browser in a process of its own on 127.0.0.1; return its JSON lines."""
    command = [sys.executable, str(BROWSER), "_rpymostat._tcp.local.", str(timeout), "127.0.0.1"]
    command += ["--watch"] if watch else ["--count", str(count)]
    output = subprocess.run(command, capture_output=True, text=True, timeout=timeout + 20)
    assert output.returncode == 0, output.stderr
    return [json.loads(line) for line in output.stdout.splitlines() if line.strip()]
