"""1-wire temperature sensors through an OWFS mount (owfs, the 1-wire FUSE filesystem).

OWFS suits hosts whose bus master the kernel does not drive (a USB DS9490R,
a serial DS9097U, an owserver elsewhere).  Each device is a directory named by
its address, holding a ``type`` file and, for anything that measures
temperature, a ``temperature`` file in the mount's scale, which
``settings/units/temperature_scale`` names (C, F, K or R).
"""

import os
from pathlib import Path

from zope.interface import implementer

from rpymostat_sensor.readers.failures import checked, failed
from rpymostat_sensor.readers.interface import ISensorReader

#: From each OWFS temperature scale to degrees Celsius.
TO_CELSIUS = {
    "C": lambda degrees: degrees,
    "F": lambda degrees: (degrees - 32.0) * 5.0 / 9.0,
    "K": lambda degrees: degrees - 273.15,
    "R": lambda degrees: (degrees - 491.67) * 5.0 / 9.0,
}


def kernel_id(owfs_name: str) -> str | None:
    """The kernel's name for the device OWFS calls ``owfs_name``; None if not a device.

    A sensor keeps one id whichever reader sees it, so moving it from a
    w1-gpio pin to a USB adapter keeps its history.  The two names differ in
    more than punctuation: OWFS prints the 64-bit ROM code byte by byte as it
    comes off the wire (family, six serial bytes least significant first,
    optionally the CRC), ``28.AD6555070000``; the kernel prints the family,
    then the 48-bit serial as one number, most significant byte first,
    ``28-0000075565ad``.  So the serial's bytes are reversed here.  Every
    OWFS name format (``f.i``, ``fi``, ``f.i.c``, ...) is accepted.
    """
    digits = owfs_name.replace(".", "")
    if len(digits) not in (14, 16):
        return None
    try:
        rom = bytes.fromhex(digits)
    except ValueError:
        return None
    return f"{rom[0]:02x}-{rom[6:0:-1].hex()}"


@implementer(ISensorReader)
class OwfsReader:
    """Every device with a ``temperature`` file in ``config.owfs_dir``.

    Devices OWFS shows under an alias rather than their address are not
    recognised: their id could not match the kernel's.
    """

    name = "owfs"

    def __init__(self, config):
        self._mount = None if config.owfs_dir is None else Path(config.owfs_dir)

    def sensor_ids(self):
        """The ids of the temperature devices present now; [] without a mount."""
        return sorted(self._devices())

    def read(self):
        """Each sensor's temperature in Celsius, or None with the reason."""
        devices = self._devices()
        if not devices:
            return {}  # and without a mount there is no scale file to read
        scale = self._scale()
        return {sensor_id: self._read(devices[sensor_id], scale) for sensor_id in sorted(devices)}

    def _devices(self):
        """``{kernel id: device directory}``."""
        if self._mount is None:
            return {}
        try:
            entries = list(self._mount.iterdir())
        except OSError:  # unmounted, or owserver gone ("transport endpoint...")
            return {}
        devices = {}
        for entry in entries:
            sensor_id = kernel_id(entry.name)
            # os.path.exists, unlike Path.exists, never raises on a FUSE error.
            if sensor_id is not None and os.path.exists(entry / "temperature"):
                devices[sensor_id] = entry
        return devices

    def _scale(self) -> str:
        """The mount's temperature scale letter; OWFS's default, C, if unreadable."""
        scale_file = self._mount / "settings" / "units" / "temperature_scale"
        return _text(scale_file)[:1].upper() or "C"

    def _read(self, device: Path, scale: str):
        sensor_type = _text(device / "type") or f"1-wire family {device.name[:2]}"
        try:
            text = (device / "temperature").read_text(errors="replace")
        except OSError as error:
            return failed(sensor_type, f"cannot read {device.name}/temperature: {error.strerror}")
        try:
            degrees = float(text)
        except ValueError:
            return failed(sensor_type, f"{device.name}/temperature is not a number: {text!r}")
        if scale not in TO_CELSIUS:
            return failed(sensor_type, f"unknown OWFS temperature scale {scale!r}")
        return checked(sensor_type, TO_CELSIUS[scale](degrees))


def _text(path: Path) -> str:
    """A small OWFS file's stripped text, or "" if it cannot be read."""
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return ""
