"""``rpymostat-webui`` from the command line: the settings table, exit statuses, a clean SIGTERM."""

import io
import json
import re
import shutil
import signal
import subprocess
import time
import urllib.request

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.web.resource import Resource
from twisted.web.server import Site

from rpymostat_webui import __main__ as cli
from tests.control.test_control_main import StoppingReactor
from tests.webui.conftest import PASSWORD


def run(environ, argv=("-v",)):
    """Run ``main`` in this process; return (status, stdout, stderr, the reactor)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    fake = StoppingReactor()
    status = cli.main(
        list(argv), environ, reactor=fake, stdout=stdout, stderr=stderr, begin_logging=lambda verbosity, stream: None
    )
    return status, stdout.getvalue(), stderr.getvalue(), fake


@pytest.fixture
def environ(tmp_path):
    return {
        "HOME": str(tmp_path),
        "RPYMOSTAT_DATA_DIR": str(tmp_path / "data"),
        "RPYMOSTAT_WEBUI_HOST": "127.0.0.1",
        "RPYMOSTAT_WEBUI_PORT": "0",
        "RPYMOSTAT_ENGINE_URL": "http://127.0.0.1:9",
        "RPYMOSTAT_TOKEN": "rpy_given-by-hand",
        "RPYMOSTAT_WEBUI_PASSWORD": PASSWORD,
    }


def test_show_config_prints_the_table_and_hides_the_password(environ):
    status, out, err, fake = run({**environ, "RPYMOSTAT_WEBUI_ROLE": "user"}, ["--show-config"])
    assert (status, err, fake.running) == (0, "", [])
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert rows["RPYMOSTAT_WEBUI_PORT"][1:4] == ["port", "8080", "0"]
    assert rows["RPYMOSTAT_WEBUI_ROLE"][1:4] == ["admin|user", "admin", "user"]
    assert rows["RPYMOSTAT_WEBUI_PASSWORD"][1:4] == ["password", "(unset)", "(hidden)"]
    assert PASSWORD not in out and "correct" not in out
    assert "rpy_given-by-hand" not in out
    for variable in ("RPYMOSTAT_ENGINE_URL", "RPYMOSTAT_WEBUI_PASSWORD_FILE", "RPYMOSTAT_WEBUI_SECURE_COOKIES"):
        assert variable in rows


@pytest.mark.parametrize(
    "variable, value, reason",
    [
        ("RPYMOSTAT_WEBUI_PORT", "x", ""),
        ("RPYMOSTAT_WEBUI_PASSWORD", "short", "a household password needs at least 8 characters"),
        ("RPYMOSTAT_WEBUI_PASSWORD_FILE", "/nonexistent/webui-password", "cannot read '/nonexistent/webui-password'"),
        ("RPYMOSTAT_WEBUI_ROLE", "root", "expected admin or user"),
        ("RPYMOSTAT_WEBUI_SECURE_COOKIES", "sometimes", "expected auto, always or never"),
        ("RPYMOSTAT_WEBUI_HOST", "localhost", ""),
    ],
)
def test_a_bad_variable_exits_2_naming_it(environ, variable, value, reason):
    status, out, err, fake = run({**environ, variable: value})
    assert (status, out, fake.running) == (2, "", [])
    shown = "(hidden)" if variable == "RPYMOSTAT_WEBUI_PASSWORD" else repr(value)  # a secret is never echoed
    assert err.startswith(f"rpymostat-webui: {variable}={shown} is invalid: ")
    assert reason in err
    assert err.count("\n") == 1  # one line, no traceback


def test_a_short_password_in_its_file_exits_2(environ, tmp_path):
    (tmp_path / "password").write_text("short\n")
    status, _, err, _ = run({**environ, "RPYMOSTAT_WEBUI_PASSWORD_FILE": str(tmp_path / "password")})
    assert status == 2
    assert "RPYMOSTAT_WEBUI_PASSWORD_FILE=" in err and "at least 8 characters" in err


@pytest_twisted.ensureDeferred
async def test_runs_serves_and_stops_with_exit_0(environ, logged):
    status, _, _, fake = run(environ)
    for stopping in fake.stopping:
        await stopping
    assert status == 0 and not fake.stopped
    log = logged()
    assert re.search(r"web UI on http://127\.0\.0\.1:\d+/", log)
    assert "web UI stopped" in log


@pytest_twisted.ensureDeferred
async def test_a_port_in_use_exits_1_with_the_reason(environ, logged):
    taken = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(Resource()))
    try:
        status, _, _, fake = run({**environ, "RPYMOSTAT_WEBUI_PORT": str(taken.getHost().port)})
        for stopping in fake.stopping:
            await stopping
    finally:
        await taken.stopListening()
    assert status == 1 and fake.stopped
    assert "rpymostat-webui cannot start: Couldn't listen on 127.0.0.1:" in logged()
    assert "Address already in use" in logged()


def test_a_token_file_that_cannot_be_read_exits_2(environ, tmp_path):
    environ = {key: value for key, value in environ.items() if key != "RPYMOSTAT_TOKEN"}
    status, _, err, fake = run({**environ, "RPYMOSTAT_TOKEN_FILE": str(tmp_path / "missing")})
    assert status == 2 and fake.running == []
    assert "RPYMOSTAT_TOKEN_FILE=" in err


def test_the_installed_command_serves_until_sigterm_then_exits_0(environ, tmp_path):
    script = shutil.which("rpymostat-webui")
    assert script, "rpymostat-webui is not installed (pip install -e '.[webui]')"
    log_path = tmp_path / "webui.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([script, "-v"], env=environ, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        found = None
        while found is None and time.monotonic() < deadline and process.poll() is None:
            found = re.search(r"web UI on http://127\.0\.0\.1:(\d+)/", log_path.read_text())
            time.sleep(0.02)
        assert found, log_path.read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{found.group(1)}/healthz", timeout=5) as answer:
            assert json.loads(answer.read()) == {"status": "ok"}
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = log_path.read_text()
    assert "web UI stopped" in text
    assert "Traceback" not in text
