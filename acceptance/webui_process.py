"""Starting a real ``rpymostat-webui`` process next to a real engine, for acceptance tests."""

import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from acceptance.engine_process import free_port, stop_process


class WebuiProcess:
    """One web UI process on a free loopback port with its own data directory.

    It talks to ``engine_url`` with ``token`` (as ``RPYMOSTAT_TOKEN``), or
    pairs when no token is given; ``password`` is provisioned as
    ``RPYMOSTAT_WEBUI_PASSWORD`` unless None (then the first visit sets it
    with the setup code).
    """

    def __init__(self, data_dir, engine_url, token=None, password="a household password", extra_env=None):
        self.port = free_port()
        self.data_dir = Path(data_dir)
        self.log_path = self.data_dir / f"webui-{self.port}.log"
        self.env = {
            **os.environ,
            "RPYMOSTAT_ENGINE_URL": engine_url,
            "RPYMOSTAT_WEBUI_HOST": "127.0.0.1",
            "RPYMOSTAT_WEBUI_PORT": str(self.port),
            "RPYMOSTAT_DATA_DIR": str(self.data_dir),
            **({"RPYMOSTAT_TOKEN": token} if token else {}),
            **({"RPYMOSTAT_WEBUI_PASSWORD": password} if password else {}),
            **(extra_env or {}),
        }
        self.password = password
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=20.0):
        """Start the process and wait until ``/healthz`` answers 200."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        script = shutil.which("rpymostat-webui")
        assert script, "rpymostat-webui is not installed (pip install -e '.[webui]')"
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([script, "-v"], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"web UI exited {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.05)
        raise AssertionError(f"web UI did not answer within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig=signal.SIGTERM, timeout=15.0) -> int:
        """Send ``sig`` and wait for the exit status."""
        return stop_process(self.process, "web UI", self.log, sig, timeout)
