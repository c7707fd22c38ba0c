"""A fake ``/sys/bus/w1/devices`` tree, written the way the kernel's w1-therm driver writes it.

w1thermsensor reads ``<base>/<id>/w1_slave``: two lines, the nine scratchpad
bytes each time, then ``: crc=xx YES`` (or ``NO``) and ``t=<millidegrees>``.
For DS18S20s it uses ``t=``; for the 12-bit chips (DS1822, DS18B20, DS1825,
DS28EA00) it decodes the first two bytes itself.  So the fake writes both,
consistently, by the kernel's own formulas, with a real Dallas CRC-8; a test
in test_w1.py checks one file byte for byte against a real sensor's.

As in sysfs, each device lives under ``w1_bus_master1/`` and the base
directory holds symlinks to it.
"""

import math
import shutil
from pathlib import Path

#: Family codes of the 12-bit chips (two's complement in 1/16 C).
TWELVE_BIT_FAMILIES = {"22", "28", "3b", "42"}


def crc8(data: bytes) -> int:
    """Dallas/Maxim CRC-8 (polynomial x^8 + x^5 + x^4 + 1), as the chip computes it."""
    crc = 0
    for byte in data:
        for _ in range(8):
            mix = (crc ^ byte) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            byte >>= 1
    return crc


def scratchpad(family: str, celsius: float) -> tuple:
    """``(first 8 scratchpad bytes, t= value)`` for ``celsius`` on a chip of ``family``."""
    if family in TWELVE_BIT_FAMILIES:
        raw = round(celsius * 16)
        lsb, msb = (raw & 0xFFFF).to_bytes(2, "little")
        # TH, TL, 12-bit config, reserved; byte 6 as DS18B20s really report it.
        data = bytes([lsb, msb, 0x4B, 0x46, 0x7F, 0xFF, 0x10 - (raw & 0x0F), 0x10])
        return data, int(raw * 1000 / 16)
    # DS18S20: 0.5 C steps refined by COUNT_REMAIN / COUNT_PER_C (16).
    whole = math.floor(celsius + 0.25)
    count_remain = 16 - round((celsius - whole + 0.25) * 16)
    lsb, msb = ((2 * whole) & 0xFFFF).to_bytes(2, "little")
    data = bytes([lsb, msb, 0x4B, 0x46, 0xFF, 0xFF, count_remain, 0x10])
    return data, _ds18s20_millidegrees(data)


def _ds18s20_millidegrees(data: bytes) -> int:
    """The kernel's w1_DS18S20_convert_temp()."""
    if data[1] == 0:
        millidegrees = (data[0] >> 1) * 1000
    else:
        millidegrees = 1000 * (-1 * (0x100 - data[0]) >> 1)
    return millidegrees - 250 + int(1000 * (data[7] - data[6]) / data[7])


def w1_slave_text(data: bytes, millidegrees: int, corrupt: bool = False) -> str:
    """The two lines of ``w1_slave``; ``corrupt`` flips a bit on the wire, failing the CRC."""
    sent = data + bytes([crc8(data)])
    if corrupt:
        sent = sent[:2] + bytes([sent[2] ^ 0x01]) + sent[3:]  # TH: t= stays right
    computed = crc8(sent[:8])
    hex_bytes = " ".join(f"{byte:02x}" for byte in sent)
    verdict = "YES" if computed == sent[8] else "NO"
    return f"{hex_bytes} : crc={computed:02x} {verdict}\n{hex_bytes} t={millidegrees}\n"


class FakeW1Sensor:
    """One sensor's directory; each method rewrites ``w1_slave`` as the next read would see it."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.sensor_id = directory.name
        self.family = directory.name[:2]

    @property
    def w1_slave(self) -> Path:
        return self.directory / "w1_slave"

    def set_temperature(self, celsius: float) -> None:
        self.w1_slave.write_text(w1_slave_text(*scratchpad(self.family, celsius)))

    def fail_crc(self, celsius: float = 20.0) -> None:
        """A read garbled on the wire: ``crc=.. NO``."""
        self.w1_slave.write_text(w1_slave_text(*scratchpad(self.family, celsius), corrupt=True))

    def power_on(self) -> None:
        """Read before the first conversion: the scratchpad still holds 85.0 C."""
        self.set_temperature(85.0)

    def read_error(self) -> None:
        self.set_temperature(-127.0)

    def write_raw(self, text: str) -> None:
        self.w1_slave.write_text(text)

    def unplug(self) -> None:
        """Gone from the bus, in the moment before the kernel removes its directory."""
        self.w1_slave.unlink()


class FakeW1Bus:
    """A w1 base directory with one bus master."""

    def __init__(self, base_dir: Path):
        self.base_dir = Path(base_dir)
        self.master = self.base_dir / "w1_bus_master1"
        self.master.mkdir(parents=True)
        self._update_master()

    def add(self, sensor_id: str = "28-0000075565ad", celsius: float = 20.875) -> FakeW1Sensor:
        """A thermometer reading ``celsius``."""
        sensor = self.add_device(sensor_id)
        sensor.set_temperature(celsius)
        return sensor

    def add_device(self, sensor_id: str) -> FakeW1Sensor:
        """A device directory with no ``w1_slave`` yet (or ever: a switch, a memory chip)."""
        directory = self.master / sensor_id
        directory.mkdir()
        (directory / "name").write_text(sensor_id + "\n")
        (self.base_dir / sensor_id).symlink_to(Path("w1_bus_master1") / sensor_id)
        self._update_master()
        return FakeW1Sensor(directory)

    def remove(self, sensor_id: str) -> None:
        """Gone, directory and all, as after the kernel's next bus search."""
        (self.base_dir / sensor_id).unlink()
        shutil.rmtree(self.master / sensor_id)
        self._update_master()

    def _update_master(self) -> None:
        slaves = sorted(path.name for path in self.master.iterdir() if path.is_dir())
        (self.master / "w1_master_slaves").write_text("".join(f"{name}\n" for name in slaves))
