"""The engine's configuration: one frozen object built once from the environment.

Each :class:`~rpymostat.protocol.settings.Setting` row documents a variable;
``rpymostat-engine --show-config`` prints the table and the docs reproduce it.
"""

import dataclasses
import os
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

from rpymostat.decide.safety import Limits
from rpymostat.protocol.settings import (
    Setting,
    default_data_dir,
    load,
    parse_bool,
    parse_count,
    parse_directory,
    parse_ip_address,
    parse_ip_list,
    parse_port,
    parse_positive_seconds,
    parse_seconds,
)


@dataclasses.dataclass(frozen=True)
class EngineConfig:
    """Everything the engine reads from its environment, validated."""

    api_host: str = "0.0.0.0"
    api_port: int = 8088
    data_dir: Path = dataclasses.field(default_factory=lambda: default_data_dir(os.environ))
    db: str | None = None
    timezone: str = "UTC"
    advertise: bool = True
    mdns_interfaces: tuple[str, ...] = ()
    timeline_hours: float = 48.0
    decision_interval: float = 30.0
    sensor_stale_s: float = 300.0
    run_sample_s: float = 300.0
    min_on_s: float = 300.0
    min_off_s: float = 300.0
    max_cycles_per_hour: int = 6
    frost_c: float = 5.0
    schedule_plugin: str = "rules"
    auth: bool = True
    listen: str | None = None
    history_raw_days: int = 90

    @property
    def limits(self) -> Limits:
        """The safety layer's settings."""
        return Limits(
            min_on_s=self.min_on_s,
            min_off_s=self.min_off_s,
            max_cycles_per_hour=self.max_cycles_per_hour,
            frost_c=self.frost_c,
        )

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


def number_between(low, high, expected):
    """A parser of a number from ``low`` to ``high``; ``expected`` words the error."""

    def parse(text: str) -> float:
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if not low <= number <= high:
            raise ValueError(f"expected {expected}")
        return number

    return parse


#: Hours of timeline kept computed ahead: 1 to 336 (14 days).
parse_timeline_hours = number_between(1, 336, "a number of hours from 1 to 336")

#: The frost protection temperature: 2 to 12 C.
parse_frost = number_between(2, 12, "degrees Celsius from 2 to 12")


def parse_decision_interval(text: str) -> float:
    """Seconds between decisions: more than 0, at most 60, so relay units' leases (360 s) stay fresh."""
    seconds = parse_positive_seconds(text)
    if seconds > 60:
        raise ValueError("expected a number of seconds greater than 0 and at most 60")
    return seconds


def parse_schedule_plugin(text: str) -> str:
    """The name of an installed schedule plugin (an entry point of ``rpymostat.schedule``)."""
    from importlib.metadata import entry_points

    from rpymostat.schedule.plugin import GROUP

    name = text.strip()
    installed = sorted({point.name for point in entry_points(group=GROUP)})
    if name not in installed:
        raise ValueError(f"no schedule plugin {name!r} is installed; installed: {', '.join(installed) or 'none'}")
    return name


def parse_cycles(text: str) -> int:
    """Starts per hour allowed for an output: 1 to 60."""
    cycles = parse_count(text)
    if not 1 <= cycles <= 60:
        raise ValueError("expected a whole number from 1 to 60")
    return cycles


def parse_raw_days(text: str) -> int:
    """Days raw readings are kept: 1 to 36600 (rollups are kept forever anyway)."""
    days = parse_count(text)
    if not 1 <= days <= 36600:
        raise ValueError("expected a whole number of days from 1 to 36600")
    return days


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


def parse_endpoint_string(text: str) -> str:
    """A server endpoint string of a kind the API can serve on (``tcp``, ``tcp6`` or ``ssl``)."""
    kind = text.split(":", 1)[0].strip().lower()
    if kind not in ("tcp", "tcp6", "ssl"):
        raise ValueError("expected a tcp:, tcp6: or ssl: endpoint, e.g. ssl:8443:privateKey=key.pem:certKey=cert.pem")
    return text.strip()


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
    Setting(
        "RPYMOSTAT_DECISION_INTERVAL",
        "decision_interval",
        "seconds",
        parse_decision_interval,
        "how often every zone is decided and its relays are told their states (at most 60)",
        default=30.0,
    ),
    Setting(
        "RPYMOSTAT_SENSOR_STALE_S",
        "sensor_stale_s",
        "seconds",
        parse_positive_seconds,
        "a sensor not heard from for this long is dropped from its zone",
        default=300.0,
    ),
    Setting(
        "RPYMOSTAT_RUN_SAMPLE_S",
        "run_sample_s",
        "seconds",
        parse_positive_seconds,
        "while heating or cooling runs, the temperature is recorded this often",
        default=300.0,
    ),
    Setting(
        "RPYMOSTAT_MIN_ON_S",
        "min_on_s",
        "seconds",
        parse_seconds,
        "an output stays on at least this long once on (protects compressors and boilers)",
        default=300.0,
    ),
    Setting(
        "RPYMOSTAT_MIN_OFF_S",
        "min_off_s",
        "seconds",
        parse_seconds,
        "an output stays off at least this long once off",
        default=300.0,
    ),
    Setting(
        "RPYMOSTAT_MAX_CYCLES_PER_HOUR",
        "max_cycles_per_hour",
        "count",
        parse_cycles,
        "an output is switched on at most this often an hour",
        default=6,
    ),
    Setting(
        "RPYMOSTAT_FROST_C",
        "frost_c",
        "degrees C",
        parse_frost,
        "below this, heating runs whatever the mode, target or sensor trouble",
        default=5.0,
    ),
    Setting(
        "RPYMOSTAT_SCHEDULE_PLUGIN",
        "schedule_plugin",
        "name",
        parse_schedule_plugin,
        "the schedule plugin every zone's timeline comes from",
        default="rules",
    ),
    Setting(
        "RPYMOSTAT_AUTH",
        "auth",
        "bool",
        parse_bool,
        "require a token on every request but a few (docs/security.rst); 0 only for a lab without strangers",
        default=True,
    ),
    Setting(
        "RPYMOSTAT_HISTORY_RAW_DAYS",
        "history_raw_days",
        "days",
        parse_raw_days,
        "raw readings are kept this long; their 15-minute and daily min/mean/max are kept forever",
        default=90,
    ),
    Setting(
        "RPYMOSTAT_LISTEN",
        "listen",
        "endpoint",
        parse_endpoint_string,
        "a Twisted server endpoint string for the API instead of host and port, e.g. TLS:"
        " ssl:8443:privateKey=/etc/rpymostat/key.pem:certKey=/etc/rpymostat/cert.pem",
    ),
)


def from_environ(environ) -> EngineConfig:
    """The engine's configuration; raises ConfigError naming a bad variable."""
    return load(EngineConfig, SETTINGS, environ)
