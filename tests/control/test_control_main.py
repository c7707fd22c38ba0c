"""``rpymostat-control`` from the command line: settings, exit statuses, a clean SIGTERM."""

import io
import os
import subprocess
import sys

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.task import deferLater
from twisted.logger import formatEvent, globalLogPublisher
from twisted.web.resource import Resource
from twisted.web.server import Site

from rpymostat.protocol.settings import ConfigError
from rpymostat_control import __main__ as cli
from rpymostat_control.config import from_environ
from rpymostat_control.state_file import FILE_NAME


class StoppingReactor:
    """The real reactor, except that ``run()`` only starts the daemon and then stops it.

    As a real reactor does on SIGTERM, ``run()`` calls the when-running
    callbacks and then the before-shutdown triggers; the Deferreds those return
    are kept in :attr:`stopping` for the test to wait on.
    """

    def __init__(self):
        self.running, self.before_shutdown, self.stopping = [], [], []
        self.stopped = False

    def __getattr__(self, name):
        return getattr(reactor, name)

    def callWhenRunning(self, function):
        self.running.append(function)

    def addSystemEventTrigger(self, phase, event, function):
        self.before_shutdown.append(function)

    def run(self):
        for function in self.running:
            function()
        self.stopping = [function() for function in self.before_shutdown]

    def stop(self):
        self.stopped = True


@pytest.fixture
def logged():
    """What the daemon logged so far, as text (stopping goes on after ``main`` returns)."""
    events = []
    globalLogPublisher.addObserver(events.append)
    yield lambda: "\n".join(formatEvent(event) for event in events)
    globalLogPublisher.removeObserver(events.append)


def run(environ, argv=("-v",)):
    """Run ``main``; return (status, stdout, stderr, the reactor)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    fake = StoppingReactor()
    status = cli.main(
        list(argv),
        environ,
        reactor=fake,
        stdout=stdout,
        stderr=stderr,
        begin_logging=lambda verbosity, stream: None,
    )
    return status, stdout.getvalue(), stderr.getvalue(), fake


@pytest.fixture
def environ(tmp_path):
    return {
        "HOME": str(tmp_path),
        "RPYMOSTAT_DATA_DIR": str(tmp_path / "data"),
        "RPYMOSTAT_CONTROL_HOST": "127.0.0.1",
        "RPYMOSTAT_CONTROL_PORT": "0",
        "RPYMOSTAT_ENGINE_URL": "http://127.0.0.1:9",
        "RPYMOSTAT_RELAYS": "sim",
        "RPYMOSTAT_SIM_RELAYS": "2",
    }


def test_show_config_prints_the_settings_table(environ):
    status, out, _, fake = run(
        {**environ, "RPYMOSTAT_CONTROL_LEASE_S": "60", "RPYMOSTAT_MIN_ON_S": "60", "RPYMOSTAT_MIN_OFF_S": "30"},
        ["--show-config"],
    )
    assert status == 0 and fake.running == []
    [line] = [line for line in out.splitlines() if line.startswith("RPYMOSTAT_CONTROL_LEASE_S")]
    assert line.split()[1:4] == ["seconds", "360.0", "60.0"]
    for variable in ("RPYMOSTAT_MIN_ON_S", "RPYMOSTAT_MIN_OFF_S", "RPYMOSTAT_SAFE_STATES", "RPYMOSTAT_RELAYS"):
        assert variable in out


@pytest.mark.parametrize(
    "variable, value, reason",
    [
        ("RPYMOSTAT_CONTROL_LEASE_S", "0", "greater than 0"),
        ("RPYMOSTAT_MIN_OFF_S", "-5", "zero or more"),
        ("RPYMOSTAT_SAFE_STATES", "sim-1=maybe", "expected relay_id=on or relay_id=off"),
        ("RPYMOSTAT_RELAYS", "sim,relayboard", "unknown relay backend 'relayboard'; installed backends: "),
        ("RPYMOSTAT_CONTROL_URL", "boiler:8089", "expected http://host:port"),
    ],
)
def test_a_bad_variable_exits_2_naming_it(environ, variable, value, reason):
    status, _, err, fake = run({**environ, variable: value})
    assert status == 2 and fake.running == []
    assert err.startswith(f"rpymostat-control: {variable}={value!r} is invalid: ")
    assert reason in err


@pytest.mark.parametrize(
    "settings, message",
    [
        (
            {"RPYMOSTAT_CONTROL_LEASE_S": "180"},
            "RPYMOSTAT_CONTROL_LEASE_S=180 is invalid: it is shorter than RPYMOSTAT_MIN_ON_S=300; a lease"
            " expiry would switch an output the engine has just switched before its minimum time, so set"
            " RPYMOSTAT_CONTROL_LEASE_S to at least 300",
        ),
        (
            {"RPYMOSTAT_MIN_OFF_S": "600"},  # the default lease, 360 s, is too short for it
            "RPYMOSTAT_CONTROL_LEASE_S=360 is invalid: it is shorter than RPYMOSTAT_MIN_OFF_S=600; a lease"
            " expiry would switch an output the engine has just switched before its minimum time, so set"
            " RPYMOSTAT_CONTROL_LEASE_S to at least 600",
        ),
    ],
)
def test_a_lease_shorter_than_a_minimum_time_exits_2_before_anything_starts(environ, settings, message):
    status, out, err, fake = run({**environ, **settings})
    assert (status, out, fake.running) == (2, "", [])
    assert err == f"rpymostat-control: {message}\n"
    with pytest.raises(ConfigError, match="RPYMOSTAT_CONTROL_LEASE_S=180 is invalid"):
        from_environ({**environ, "RPYMOSTAT_CONTROL_LEASE_S": "180"})


def test_a_lease_as_long_as_both_minimum_times_is_accepted(environ):
    config = from_environ({**environ, "RPYMOSTAT_CONTROL_LEASE_S": "300"})
    assert (config.lease, config.min_on, config.min_off) == (300.0, 300.0, 300.0)


def test_no_relays_exits_1_saying_what_to_set(environ, logged):
    status, _, _, fake = run({**environ, "RPYMOSTAT_SIM_RELAYS": "0"})
    assert status == 1 and fake.running == []
    assert (
        "rpymostat-control cannot start: no relay outputs found; set RPYMOSTAT_RELAYS and its"
        " settings, e.g. RPYMOSTAT_RELAYS=sim RPYMOSTAT_SIM_RELAYS=4"
    ) in logged()


@pytest_twisted.ensureDeferred
async def test_a_port_in_use_exits_1_with_the_reason(environ, logged):
    taken = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(Resource()))
    try:
        status, _, _, fake = run({**environ, "RPYMOSTAT_CONTROL_PORT": str(taken.getHost().port)})
        for stopping in fake.stopping:
            await stopping
    finally:
        await taken.stopListening()
    assert status == 1 and fake.stopped
    assert "rpymostat-control cannot start: Couldn't listen on 127.0.0.1:" in logged()
    assert "Address already in use" in logged()


@pytest_twisted.ensureDeferred
async def test_runs_and_sigterm_leaves_every_output_safe_and_exits_0(environ, tmp_path, logged):
    status, _, _, fake = run({**environ, "RPYMOSTAT_SAFE_STATES": "sim-2=on"})
    for stopping in fake.stopping:
        await stopping
    await deferLater(reactor, 0.1, lambda: None)  # let the refused registration attempt end
    assert status == 0 and not fake.stopped
    log = logged()
    assert "relay API listening on http://127.0.0.1:" in log
    assert "relay sim-2 is off at start but this unit has no record of it: switched on" in log
    assert "stopping: every output already in its safe state" in log
    assert "control daemon stopped" in log
    assert (tmp_path / "data" / FILE_NAME).exists()


def test_the_daemon_imports_nothing_of_the_engine_but_the_protocol():
    code = (
        "import sys, rpymostat_control.__main__, rpymostat_control.service\n"
        "from rpymostat_control.relays.loading import load_backends\n"
        "import rpymostat_control.relays.sim\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('klein', 'txmongo', 'pymongo', 'jsonschema', 'werkzeug', 'flask', 'rpymostat',"
        " 'rpymostat_sensor', 'rpymostat_webui'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ},
    ).stdout.split()
    assert loaded and all(
        name == "rpymostat" or name.startswith(("rpymostat.protocol", "rpymostat.version")) for name in loaded
    ), loaded


def test_settings_are_parsed_into_the_config(tmp_path):
    config = from_environ(
        {
            "HOME": str(tmp_path),
            "RPYMOSTAT_CONTROL_URL": "http://boiler.lan:8089/",
            "RPYMOSTAT_SAFE_STATES": " heat-pump = ON, ,fan=off",
            "RPYMOSTAT_GPIO_PINS": "heat=17, 27,",
            "RPYMOSTAT_PHIDGET_SERIAL": "370077",
            "RPYMOSTAT_RELAYS": "gpio, sim",
        }
    )
    assert config.url == "http://boiler.lan:8089"
    assert config.safe_states == {"heat-pump": True, "fan": False}
    assert config.gpio_pins == {17: "heat", 27: None}
    assert config.phidget_serial == 370077
    assert config.relays == ("gpio", "sim")
    assert (config.lease, config.min_on, config.min_off) == (360.0, 300.0, 300.0)
    assert config.data_dir == tmp_path / ".local" / "share" / "rpymostat"


@pytest.mark.parametrize(
    "variable, value, reason",
    [
        ("RPYMOSTAT_SAFE_STATES", "sim-1", "expected relay_id=on or relay_id=off"),
        ("RPYMOSTAT_SAFE_STATES", "=on", "expected relay_id=on or relay_id=off"),
        ("RPYMOSTAT_GPIO_PINS", "heat=GPIO17", "expected a BCM pin number"),
        ("RPYMOSTAT_GPIO_PINS", "54", "BCM pin numbers run from 0 to 53"),
        ("RPYMOSTAT_GPIO_PINS", "17,heat=17", "pin 17 is listed twice"),
        ("RPYMOSTAT_PHIDGET_SERIAL", "abc", "expected the board's serial number"),
        ("RPYMOSTAT_PHIDGET_SERIAL", "0", "expected the board's serial number"),
        ("RPYMOSTAT_CONTROL_URL", "ftp://boiler", "expected http://host:port"),
    ],
)
def test_bad_values_name_the_variable(tmp_path, variable, value, reason):
    with pytest.raises(ConfigError, match=f"{variable}=.*{reason}"):
        from_environ({"HOME": str(tmp_path), variable: value})
