"""The engine's configuration: one frozen object built once from the environment.

Each :class:`~rpymostat.protocol.settings.Setting` row documents a variable;
``rpymostat-engine --show-config`` prints the table and the docs reproduce it.
"""

import dataclasses
import os
import zoneinfo
from pathlib import Path
from typing import Optional, Tuple
from urllib.parse import urlsplit

from rpymostat.protocol.settings import (
    Setting,
    default_data_dir,
    load,
    parse_bool,
    parse_directory,
    parse_ip_address,
    parse_ip_list,
    parse_port,
)


@dataclasses.dataclass(frozen=True)
class EngineConfig:
    """Everything the engine reads from its environment, validated."""

    api_host: str = "0.0.0.0"
    api_port: int = 8088
    data_dir: Path = dataclasses.field(default_factory=lambda: default_data_dir(os.environ))
    db: Optional[str] = None
    timezone: str = "UTC"
    advertise: bool = True
    mdns_interfaces: Tuple[str, ...] = ()
    timeline_hours: float = 48.0

    @property
    def sqlite_path(self) -> Path:
        """Where the embedded database lives when ``db`` is unset."""
        return self.data_dir / "rpymostat.sqlite3"


def parse_db_url(text: str) -> str:
    """A ``mongodb://host:port/dbname`` URL; the database name is required."""
    parts = urlsplit(text)
    if parts.scheme not in ("mongodb", "mongodb+srv"):
        raise ValueError("expected mongodb://host:port/dbname (leave unset for SQLite)")
    if not parts.netloc:
        raise ValueError("the URL names no host")
    if not parts.path.strip("/"):
        raise ValueError("the URL names no database, as in mongodb://host:27017/rpymostat")
    return text


def parse_timezone(text: str) -> str:
    """An IANA time zone name known to this host, such as ``Europe/Berlin``."""
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError("not an IANA time zone name known here (e.g. Europe/Berlin)") from None
    return text


def parse_timeline_hours(text: str) -> float:
    """Hours of timeline kept computed ahead: more than 1, at most 336 (14 days)."""
    try:
        hours = float(text)
    except ValueError:
        hours = float("nan")
    if not 1 <= hours <= 336:
        raise ValueError("expected a number of hours from 1 to 336")
    return hours


def host_timezone(environ) -> str:
    """The host's IANA time zone name (``TZ`` first), falling back to UTC when it has none."""
    import tzlocal

    try:
        name = environ.get("TZ", "").lstrip(":") or tzlocal.get_localzone_name()
    except Exception:  # pragma: no cover - depends on how the host is set up
        name = None
    try:
        return parse_timezone(name) if name else "UTC"
    except ValueError:  # pragma: no cover - depends on how the host is set up
        return "UTC"


SETTINGS = (
    Setting(
        "RPYMOSTAT_API_HOST",
        "api_host",
        "IP address",
        parse_ip_address,
        "address the HTTP API listens on",
        default="0.0.0.0",
    ),
    Setting(
        "RPYMOSTAT_API_PORT",
        "api_port",
        "port",
        parse_port,
        "TCP port of the HTTP API (0 picks a free one)",
        default=8088,
    ),
    Setting(
        "RPYMOSTAT_DATA_DIR",
        "data_dir",
        "directory",
        parse_directory,
        "where the embedded SQLite database and its backups live",
        default_factory=default_data_dir,
    ),
    Setting(
        "RPYMOSTAT_DB",
        "db",
        "URL",
        parse_db_url,
        "unset: SQLite in the data dir; mongodb://host:port/dbname: MongoDB",
    ),
    Setting(
        "RPYMOSTAT_TIMEZONE",
        "timezone",
        "IANA zone",
        parse_timezone,
        "time zone that schedules are written in (default: the host's)",
        default_factory=host_timezone,
    ),
    Setting(
        "RPYMOSTAT_ADVERTISE",
        "advertise",
        "bool",
        parse_bool,
        "advertise the engine by mDNS/DNS-SD so daemons find it (1/0)",
        default=True,
    ),
    Setting(
        "RPYMOSTAT_MDNS_INTERFACES",
        "mdns_interfaces",
        "IP list",
        parse_ip_list,
        "addresses mDNS runs on, comma-separated (default: all interfaces)",
        default=(),
    ),
    Setting(
        "RPYMOSTAT_TIMELINE_HOURS",
        "timeline_hours",
        "hours",
        parse_timeline_hours,
        "how far ahead each zone's timeline is kept computed (1 to 336)",
        default=48.0,
    ),
)


def from_environ(environ) -> EngineConfig:
    """The engine's configuration; raises ConfigError naming a bad variable."""
    return load(EngineConfig, SETTINGS, environ)
