"""A fake OWFS mount: what ``owfs -m <dir>`` shows for a bus of 1-wire devices.

Besides device directories, a real mount holds ``bus.0``, ``settings``,
``simultaneous`` (which has a ``temperature`` file of its own, a trigger, not
a sensor), ``statistics``, ``structure``, ``system`` and ``uncached``; the
fake has them too, so a reader that mistakes one for a sensor fails here.
"""

from pathlib import Path


class FakeOwfs:
    """An OWFS mount at ``mount`` whose temperatures are in ``scale``."""

    def __init__(self, mount: Path, scale: str = "C"):
        self.mount = Path(mount)
        for name in ("bus.0", "settings/units", "simultaneous", "statistics", "structure", "system", "uncached"):
            (self.mount / name).mkdir(parents=True)
        (self.mount / "simultaneous" / "temperature").write_text("0")
        self.set_scale(scale)

    def set_scale(self, scale: str) -> None:
        (self.mount / "settings" / "units" / "temperature_scale").write_text(scale)

    def add(self, address: str = "28.AD6555070000", temperature: float = 20.5, device_type: str = "DS18B20") -> Path:
        """A thermometer reading ``temperature`` in the mount's scale."""
        device = self.add_device(address, device_type)
        self.set_temperature(address, temperature)
        return device

    def add_device(self, address: str, device_type: str) -> Path:
        """A device without a ``temperature`` file (a switch, an adapter...)."""
        device = self.mount / address
        device.mkdir()
        (device / "type").write_text(device_type)
        return device

    def set_temperature(self, address: str, temperature: float) -> None:
        # OWFS right-aligns numbers in 12 characters.
        (self.mount / address / "temperature").write_text(f"{temperature:>12.4f}")
