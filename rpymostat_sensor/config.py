"""The sensor daemon's configuration: one frozen object built once from the environment."""

import dataclasses
from pathlib import Path

from rpymostat.protocol.credentials import TOKEN_SETTINGS
from rpymostat.protocol.settings import (
    Setting,
    default_data_dir,
    load,
    parse_count,
    parse_directory,
    parse_engine_url,
    parse_ip_list,
    parse_names,
    parse_positive_seconds,
)


@dataclasses.dataclass(frozen=True)
class SensorConfig:
    """Everything ``rpymostat-sensor`` reads from its environment, validated."""

    engine_url: str | None = None
    interval: float = 30.0
    readers: tuple[str, ...] = ()
    w1_base_dir: Path = Path("/sys/bus/w1/devices")
    owfs_dir: Path | None = None
    data_dir: Path = Path("/var/lib/rpymostat")
    mdns_interfaces: tuple[str, ...] = ()
    buffer_max: int = 20000
    sim_sensors: int = 0
    token: str | None = dataclasses.field(default=None, repr=False)  # never in a log line
    token_file: Path | None = None


SETTINGS = (
    Setting(
        "RPYMOSTAT_ENGINE_URL",
        "engine_url",
        "URL",
        parse_engine_url,
        "the engine's address; unset: find it by mDNS/DNS-SD",
    ),
    Setting(
        "RPYMOSTAT_SENSOR_INTERVAL",
        "interval",
        "seconds",
        parse_positive_seconds,
        "how often sensors are read and pushed",
        default=30.0,
    ),
    Setting(
        "RPYMOSTAT_SENSOR_READERS",
        "readers",
        "names",
        parse_names,
        "readers to use, comma-separated (default: every reader that finds sensors)",
        default=(),
    ),
    Setting(
        "RPYMOSTAT_W1_BASE_DIR",
        "w1_base_dir",
        "directory",
        parse_directory,
        "the kernel's 1-wire devices",
        default=Path("/sys/bus/w1/devices"),
    ),
    Setting("RPYMOSTAT_OWFS_DIR", "owfs_dir", "directory", parse_directory, "an OWFS mount to read (unset: none)"),
    Setting(
        "RPYMOSTAT_DATA_DIR",
        "data_dir",
        "directory",
        parse_directory,
        "where the host id, the engine credentials and the buffer of unsent readings live",
        default_factory=default_data_dir,
    ),
    Setting(
        "RPYMOSTAT_MDNS_INTERFACES",
        "mdns_interfaces",
        "IP list",
        parse_ip_list,
        "addresses mDNS browses on, comma-separated (default: all interfaces)",
        default=(),
    ),
    Setting(
        "RPYMOSTAT_SENSOR_BUFFER_MAX",
        "buffer_max",
        "count",
        parse_count,
        "readings kept on disk while the engine is away; the oldest go first",
        default=20000,
    ),
    Setting(
        "RPYMOSTAT_SIM_SENSORS",
        "sim_sensors",
        "count",
        parse_count,
        "simulated sensors the sim reader provides (for demos and tests)",
        default=0,
    ),
    *TOKEN_SETTINGS,
)


def from_environ(environ) -> SensorConfig:
    """The daemon's configuration; raises ConfigError naming a bad variable."""
    return load(SensorConfig, SETTINGS, environ)
