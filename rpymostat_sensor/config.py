"""The sensor daemon's configuration: one frozen object built once from the environment."""

import dataclasses
from pathlib import Path
from typing import Optional, Tuple
from urllib.parse import urlsplit

from rpymostat.protocol.settings import (
    Setting,
    default_data_dir,
    load,
    parse_directory,
    parse_ip_list,
    parse_positive_seconds,
)


@dataclasses.dataclass(frozen=True)
class SensorConfig:
    """Everything ``rpymostat-sensor`` reads from its environment, validated."""

    engine_url: Optional[str] = None
    interval: float = 30.0
    readers: Tuple[str, ...] = ()
    w1_base_dir: Path = Path("/sys/bus/w1/devices")
    owfs_dir: Optional[Path] = None
    data_dir: Path = Path("/var/lib/rpymostat")
    mdns_interfaces: Tuple[str, ...] = ()
    buffer_max: int = 20000
    sim_sensors: int = 0


def parse_engine_url(text: str) -> str:
    """``http://host:port`` of the engine (its API base path comes from the engine)."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected http://host:port, e.g. http://192.168.1.10:8088")
    try:
        parts.port
    except ValueError:
        raise ValueError("the port is not a number from 0 to 65535") from None
    return text.rstrip("/")


def parse_names(text: str) -> tuple:
    """A comma-separated list of reader names."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    for name in names:
        if not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"{name!r} is not a reader name")
    return names


def parse_count(text: str) -> int:
    """A whole number, zero or more."""
    try:
        count = int(text)
    except ValueError:
        raise ValueError("expected a whole number") from None
    if count < 0:
        raise ValueError("expected a whole number, zero or more")
    return count


SETTINGS = (
    Setting("RPYMOSTAT_ENGINE_URL", "engine_url", "URL", parse_engine_url,
            "the engine's address; unset: find it by mDNS/DNS-SD"),
    Setting("RPYMOSTAT_SENSOR_INTERVAL", "interval", "seconds", parse_positive_seconds,
            "how often sensors are read and pushed", default=30.0),
    Setting("RPYMOSTAT_SENSOR_READERS", "readers", "names", parse_names,
            "readers to use, comma-separated (default: every reader that finds sensors)",
            default=()),
    Setting("RPYMOSTAT_W1_BASE_DIR", "w1_base_dir", "directory", parse_directory,
            "the kernel's 1-wire devices", default=Path("/sys/bus/w1/devices")),
    Setting("RPYMOSTAT_OWFS_DIR", "owfs_dir", "directory", parse_directory,
            "an OWFS mount to read (unset: none)"),
    Setting("RPYMOSTAT_DATA_DIR", "data_dir", "directory", parse_directory,
            "where the host id and the buffer of unsent readings live",
            default_factory=default_data_dir),
    Setting("RPYMOSTAT_MDNS_INTERFACES", "mdns_interfaces", "IP list", parse_ip_list,
            "addresses mDNS browses on, comma-separated (default: all interfaces)", default=()),
    Setting("RPYMOSTAT_SENSOR_BUFFER_MAX", "buffer_max", "count", parse_count,
            "readings kept on disk while the engine is away; the oldest go first",
            default=20000),
    Setting("RPYMOSTAT_SIM_SENSORS", "sim_sensors", "count", parse_count,
            "simulated sensors the sim reader provides (for demos and tests)", default=0),
)


def from_environ(environ) -> SensorConfig:
    """The daemon's configuration; raises ConfigError naming a bad variable."""
    return load(SensorConfig, SETTINGS, environ)
