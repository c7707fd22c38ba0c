"""Each host installs only what it runs, and the daemons share only the protocol."""

import os
import subprocess
import sys
from importlib import metadata

from packaging.requirements import Requirement

ENGINE_ONLY = {"klein", "txmongo", "pymongo", "jsonschema", "flask"}


def requirements_for(extra):
    """Names of the distributions ``pip install rpymostat[extra]`` pulls in directly."""
    names = set()
    for text in metadata.requires("rpymostat") or ():
        requirement = Requirement(text)
        wanted = requirement.marker is None or requirement.marker.evaluate({"extra": extra or ""})
        if wanted:
            names.add(requirement.name.lower())
    return names


def test_base_install_is_small():
    assert requirements_for(None) == {"twisted", "zeroconf", "ifaddr"}


def test_sensor_host_gets_no_web_framework_or_database_driver():
    sensor = requirements_for("sensor")
    assert "w1thermsensor" in sensor
    assert sensor.isdisjoint(ENGINE_ONLY)


def test_control_host_gets_no_web_framework_or_database_driver():
    control = requirements_for("control")
    assert {"phidget22", "gpiozero"} <= control
    assert control.isdisjoint(ENGINE_ONLY)


def test_engine_extra_has_what_the_engine_imports():
    assert {"klein", "txmongo", "pymongo", "jsonschema", "tzlocal"} <= requirements_for("engine")


def test_all_extra_is_the_union():
    union = set()
    for extra in ("engine", "sensor", "control", "webui"):
        union |= requirements_for(extra)
    assert requirements_for("all") == union


def test_protocol_package_imports_no_engine_internals():
    code = (
        "import sys, rpymostat.protocol, rpymostat.protocol.settings, rpymostat.protocol.daemon\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('klein', 'txmongo', 'pymongo', 'jsonschema', 'werkzeug', 'rpymostat'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.split() == [
        "rpymostat",
        "rpymostat.protocol",
        "rpymostat.protocol.daemon",
        "rpymostat.protocol.settings",
        "rpymostat.version",
    ]


def test_webui_host_gets_flask_but_no_klein_or_database_driver():
    webui = requirements_for("webui")
    assert {"flask", "urllib3"} <= webui
    assert webui.isdisjoint(ENGINE_ONLY - {"flask"})


def test_webui_imports_nothing_of_the_engine_but_the_protocol():
    code = (
        "import sys, rpymostat_webui.__main__, rpymostat_webui.service, rpymostat_webui.app\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('klein', 'txmongo', 'pymongo', 'jsonschema', 'rpymostat'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    names = loaded.stdout.split()
    assert all(name == "rpymostat" or name.startswith(("rpymostat.protocol", "rpymostat.version")) for name in names)


def test_sensor_daemon_imports_nothing_of_the_engine_but_the_protocol():
    code = (
        "import sys, rpymostat_sensor.__main__, rpymostat_sensor.service\n"
        "from rpymostat_sensor.readers.loading import load_readers\n"
        "import rpymostat_sensor.readers.w1, rpymostat_sensor.readers.owfs, rpymostat_sensor.readers.sim\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('klein', 'txmongo', 'pymongo', 'jsonschema', 'werkzeug', 'rpymostat'))))"
    )
    environment = {**os.environ, "W1THERMSENSOR_NO_KERNEL_MODULE": "1"}
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment, timeout=60
    ).stdout.split()
    assert all(
        name == "rpymostat" or name.startswith(("rpymostat.protocol", "rpymostat.version")) for name in loaded
    ), loaded
