"""A MongoDB wire-protocol server for the tests, and a fresh database per test.

Where the server comes from, first match wins:

1. ``RPYMOSTAT_TEST_MONGO_URI`` (e.g. ``mongodb://127.0.0.1:27017``): an
   existing server, used as is and never stopped;
2. a ``mongod`` binary on PATH: started on a free loopback port with a
   throw-away data directory;
3. SecantusDB (a MongoDB-compatible server in pure Python, installed by the
   dev requirements): started the same way, in memory.

If none of them can be reached or started, every MongoDB test errors with
the reason: a missing server must never pass as skipped coverage.
"""

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid

import pymongo
import pytest

from rpymostat.storage.mongo import redact_url

URI_VARIABLE = "RPYMOSTAT_TEST_MONGO_URI"
START_TIMEOUT = 30.0


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(uri, timeout=0.5):
    """True if a MongoDB server at ``uri`` answers a ping within ``timeout`` seconds."""
    client = pymongo.MongoClient(
        uri, serverSelectionTimeoutMS=int(timeout * 1000), connectTimeoutMS=int(timeout * 1000)
    )
    try:
        client.admin.command("ping")
        return True
    except pymongo.errors.PyMongoError:
        return False
    finally:
        client.close()


def server_command(port, data_dir):
    """The command line of a server for ``port``, or None when none is installed."""
    mongod = shutil.which("mongod")
    if mongod:
        return [mongod, "--bind_ip", "127.0.0.1", "--port", str(port), "--dbpath", str(data_dir)]
    if importlib.util.find_spec("secantus"):
        # The module behind the ``secantusd-py`` script, run by this very
        # interpreter so a PATH shim cannot pick another environment.
        return [
            sys.executable, "-m", "secantus",
            "--host", "127.0.0.1", "--port", str(port), "--storage-path", ":memory:",
        ]  # fmt: skip
    return None


def stop(process):
    """Terminate ``process`` and wait for it; kill it if it does not go."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def running_server(work_dir):
    """Start a private server in ``work_dir``; yield its base URI and process; stop it after.

    Fails the calling test (not skips it) when no server can be started.
    """
    port = free_port()
    data_dir = work_dir / "db"
    data_dir.mkdir(parents=True, exist_ok=True)
    command = server_command(port, data_dir)
    if command is None:
        pytest.fail(
            f"no MongoDB server for the tests: set {URI_VARIABLE}, put mongod on PATH, or pip install SecantusDB"
        )
    uri = f"mongodb://127.0.0.1:{port}"
    log_path = work_dir / "server.log"
    with open(log_path, "wb") as log:
        # TMPDIR: SecantusDB's ":memory:" store still makes a temp directory,
        # which must stay inside pytest's tree even if the process is killed.
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "TMPDIR": str(data_dir)},
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not answers(uri):
            if process.poll() is not None or time.monotonic() > deadline:
                state = (
                    f"exited with {process.returncode}"
                    if process.poll() is not None
                    else f"did not answer within {START_TIMEOUT:g} s"
                )
                output = log_path.read_text(errors="replace")[-4000:]
                pytest.fail(f"test MongoDB server {' '.join(command)} {state}; output:\n{output}")
            time.sleep(0.05)
        yield uri, process
    finally:
        stop(process)


@pytest.fixture(scope="session")
def mongo_server_uri(tmp_path_factory):
    """Base URI (no database) of the session's MongoDB server; see the module docstring."""
    existing = os.environ.get(URI_VARIABLE)
    if existing:
        if not answers(existing, timeout=5):
            pytest.fail(f"{URI_VARIABLE}={redact_url(existing)} does not answer a ping")
        yield existing
        return
    with running_server(tmp_path_factory.mktemp("mongo")) as (uri, _process):
        yield uri


@pytest.fixture
def mongo_url(mongo_server_uri):
    """A URL of a database of its own for this test, dropped afterwards."""
    name = f"rpymostat_test_{uuid.uuid4().hex}"
    base, _, options = mongo_server_uri.partition("?")
    yield f"{base.rstrip('/')}/{name}" + (f"?{options}" if options else "")
    client = pymongo.MongoClient(mongo_server_uri, serverSelectionTimeoutMS=2000)
    try:
        client.drop_database(name)
    except pymongo.errors.PyMongoError:
        pass  # The server may be gone on purpose; the database goes with it.
    finally:
        client.close()
