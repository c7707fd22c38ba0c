"""A stable id for this host, so the engine knows which sensors and relays travel together.

In order: the Raspberry Pi's serial number, else ``/etc/machine-id``, else a
random id generated once and kept in the data directory.  It survives
reboots and reinstalls of the daemons; only the last survives a new SD card.
The sensor and control daemons share it (and the data directory), so one
host has one id.
"""

import re
import uuid
from pathlib import Path

PI_SERIAL = Path("/sys/firmware/devicetree/base/serial-number")
CPUINFO = Path("/proc/cpuinfo")
MACHINE_ID = Path("/etc/machine-id")


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace").strip("\x00 \n\t")
    except OSError:
        return ""


def pi_serial(serial_file=PI_SERIAL, cpuinfo=CPUINFO) -> str:
    """The Raspberry Pi's serial number, or "" on other hardware."""
    serial = _read(serial_file)
    if not serial:
        found = re.search(r"^Serial\s*:\s*([0-9a-fA-F]+)\s*$", _read(cpuinfo), re.MULTILINE)
        serial = found.group(1) if found else ""
    serial = serial.lower()
    return serial if serial.strip("0") else ""


def host_id(data_dir: Path, serial_file=PI_SERIAL, cpuinfo=CPUINFO, machine_id=MACHINE_ID) -> str:
    """This host's id (see the module docstring); creates the stored one if needed."""
    serial = pi_serial(serial_file, cpuinfo)
    if serial:
        return f"pi-{serial}"
    machine = _read(machine_id)
    if re.fullmatch(r"[0-9a-f]{32}", machine):
        return f"machine-{machine}"
    stored = Path(data_dir) / "host_id"
    existing = _read(stored)
    if existing:
        return existing
    stored.parent.mkdir(parents=True, exist_ok=True)
    generated = f"host-{uuid.uuid4().hex}"
    stored.write_text(generated + "\n")
    return generated
