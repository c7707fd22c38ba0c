"""The shipped systemd units are valid and start what the package installs."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parent.parent / "contrib" / "systemd"
DAEMONS = ["engine", "sensor", "control", "webui"]


def test_a_unit_for_every_daemon():
    assert sorted(p.name for p in UNITS.glob("*.service")) == sorted(f"rpymostat-{d}.service" for d in DAEMONS)


@pytest.mark.parametrize("daemon", DAEMONS)
def test_unit_runs_the_console_script_and_stops_with_sigterm(daemon):
    text = (UNITS / f"rpymostat-{daemon}.service").read_text()
    assert f"ExecStart=/usr/local/bin/rpymostat-{daemon} -v\n" in text
    assert "KillSignal=SIGTERM\n" in text and "Restart=on-failure\n" in text


def test_systemd_analyze_verifies_every_unit(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: .ci/run installs Debian's systemd package"
    scripts = Path(sys.executable).parent
    for unit in UNITS.glob("*.service"):
        # Point ExecStart at the scripts installed here; verify checks they exist.
        text = unit.read_text().replace("/usr/local/bin/", f"{scripts}/")
        (tmp_path / unit.name).write_text(text)
    result = subprocess.run(
        [analyze, "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "rpymostat" not in result.stderr, result.stderr


#: Daemons whose unit is ``Type=notify`` with a watchdog; the engine and the sensor daemon join
#: when their units do.
NOTIFY_DAEMONS = ["control", "engine", "sensor"]


@pytest.mark.parametrize("daemon", NOTIFY_DAEMONS)
def test_unit_is_notify_with_a_watchdog(daemon):
    """The daemon says when it is ready and pings from its own loop; systemd restarts a hung one."""
    lines = (UNITS / f"rpymostat-{daemon}.service").read_text().splitlines()
    assert "Type=notify" in lines and "NotifyAccess=main" in lines
    [watchdog] = [line for line in lines if line.startswith("WatchdogSec=")]
    assert int(watchdog.split("=", 1)[1]) >= 30  # twice the 15 s heartbeat at least
    assert "Restart=on-failure" in lines or "Restart=always" in lines
