"""The control daemon's configuration: one frozen object built once from the environment.

Besides each setting's own checks, one rule ties three together: the lease
must be at least the minimum on and the minimum off time.  A lease expiry
switches outputs to their safe states at once, minimum times notwithstanding;
a lease as long as both minimum times means the expiry can never cut short
a state the engine has just switched (the engine switched it, so it renewed
the lease, so the output has been in that state a whole lease when it expires).
"""

import dataclasses
import os
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path
from urllib.parse import urlsplit

from rpymostat.protocol import DEFAULT_CONTROL_PORT
from rpymostat.protocol.credentials import TOKEN_SETTINGS
from rpymostat.protocol.settings import (
    ConfigError,
    Setting,
    default_data_dir,
    load,
    parse_bool,
    parse_count,
    parse_directory,
    parse_engine_url,
    parse_ip_address,
    parse_ip_list,
    parse_names,
    parse_port,
    parse_positive_seconds,
    parse_seconds,
)
from rpymostat_control.relays.interface import GROUP


@dataclasses.dataclass(frozen=True)
class ControlConfig:
    """Everything ``rpymostat-control`` reads from its environment, validated."""

    engine_url: str | None = None
    host: str = "0.0.0.0"
    port: int = DEFAULT_CONTROL_PORT
    url: str | None = None
    relays: tuple[str, ...] = ()
    lease: float = 360.0
    min_on: float = 300.0
    min_off: float = 300.0
    safe_states: Mapping[str, bool] = dataclasses.field(default_factory=dict)
    data_dir: Path = dataclasses.field(default_factory=lambda: default_data_dir(os.environ))
    mdns_interfaces: tuple[str, ...] = ()
    sim_relays: int = 0
    gpio_pins: Mapping[int, str | None] = dataclasses.field(default_factory=dict)
    gpio_active_high: bool = True
    phidget_serial: int | None = None
    phidget_channels: int = 4
    phidget_attach_timeout: float = 5.0
    token: str | None = dataclasses.field(default=None, repr=False)  # never in a log line
    token_file: Path | None = None


def parse_unit_url(text: str) -> str:
    """``http://host:port`` at which the engine reaches this unit."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected http://host:port, e.g. http://192.168.1.20:8089")
    return text.rstrip("/")


def parse_safe_states(text: str) -> dict:
    """``relay_id=on,relay_id=off``: outputs whose safe state is not off."""
    states = {}
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        relay_id, sep, state = part.partition("=")
        if not sep or not relay_id.strip() or state.strip().lower() not in ("on", "off"):
            raise ValueError(f"{part!r}: expected relay_id=on or relay_id=off")
        states[relay_id.strip()] = state.strip().lower() == "on"
    return states


def parse_gpio_pins(text: str) -> dict:
    """``17,27`` or ``heat=17,cool=27``: ``{BCM pin number: alias or None}``."""
    pins = {}
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        alias, sep, number = part.rpartition("=")
        try:
            pin = int(number)
        except ValueError:
            raise ValueError(f"{part!r}: expected a BCM pin number, optionally alias=number") from None
        if not 0 <= pin <= 53:
            raise ValueError(f"{part!r}: BCM pin numbers run from 0 to 53")
        if pin in pins:
            raise ValueError(f"pin {pin} is listed twice")
        pins[pin] = alias.strip() or None
    return pins


def parse_relay_backends(text: str) -> tuple:
    """Names of installed relay backends (entry points of ``rpymostat.relays``)."""
    names = parse_names(text)
    installed = {point.name for point in entry_points(group=GROUP)}
    unknown = [name for name in names if name not in installed]
    if unknown:
        raise ValueError(
            f"unknown relay backend {', '.join(repr(name) for name in unknown)};"
            f" installed backends: {', '.join(sorted(installed)) or 'none'}"
        )
    return names


def parse_serial(text: str) -> int:
    """A Phidget device serial number (printed on the board)."""
    try:
        serial = int(text)
    except ValueError:
        raise ValueError("expected the board's serial number, a whole number") from None
    if serial <= 0:
        raise ValueError("expected the board's serial number, a whole number")
    return serial


SETTINGS = (
    Setting(
        "RPYMOSTAT_ENGINE_URL",
        "engine_url",
        "URL",
        parse_engine_url,
        "the engine's address; unset: find it by mDNS/DNS-SD",
    ),
    Setting(
        "RPYMOSTAT_CONTROL_HOST",
        "host",
        "IP address",
        parse_ip_address,
        "address the relay API listens on",
        default="0.0.0.0",
    ),
    Setting(
        "RPYMOSTAT_CONTROL_PORT",
        "port",
        "port",
        parse_port,
        "TCP port of the relay API (0 picks a free one)",
        default=DEFAULT_CONTROL_PORT,
    ),
    Setting(
        "RPYMOSTAT_CONTROL_URL",
        "url",
        "URL",
        parse_unit_url,
        "the URL the engine uses to reach this unit (default: this host's address towards the engine and the port)",
    ),
    Setting(
        "RPYMOSTAT_RELAYS",
        "relays",
        "names",
        parse_relay_backends,
        "relay backends to use, comma-separated (default: every backend that finds relays)",
        default=(),
    ),
    Setting(
        "RPYMOSTAT_CONTROL_LEASE_S",
        "lease",
        "seconds",
        parse_positive_seconds,
        "how long the engine's last command holds; then every output goes to its safe state"
        " (at least RPYMOSTAT_MIN_ON_S and RPYMOSTAT_MIN_OFF_S)",
        default=360.0,
    ),
    Setting(
        "RPYMOSTAT_MIN_ON_S",
        "min_on",
        "seconds",
        parse_seconds,
        "an output stays on at least this long once switched on, unless the engine"
        " switches it off for safety (at most RPYMOSTAT_CONTROL_LEASE_S)",
        default=300.0,
    ),
    Setting(
        "RPYMOSTAT_MIN_OFF_S",
        "min_off",
        "seconds",
        parse_seconds,
        "an output stays off at least this long once switched off (at most RPYMOSTAT_CONTROL_LEASE_S)",
        default=300.0,
    ),
    Setting(
        "RPYMOSTAT_SAFE_STATES",
        "safe_states",
        "relay=on|off list",
        parse_safe_states,
        "outputs whose safe state is on (default: every output's safe state is off)",
        default={},
    ),
    Setting(
        "RPYMOSTAT_DATA_DIR",
        "data_dir",
        "directory",
        parse_directory,
        "where the host id and the outputs' last switch times live",
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
        "RPYMOSTAT_SIM_RELAYS",
        "sim_relays",
        "count",
        parse_count,
        "simulated relays the sim backend provides (for demos and tests)",
        default=0,
    ),
    Setting(
        "RPYMOSTAT_GPIO_PINS",
        "gpio_pins",
        "pin list",
        parse_gpio_pins,
        "BCM pins driving relays, e.g. 17,27 or heat=17,cool=27 (unset: none)",
        default={},
    ),
    Setting(
        "RPYMOSTAT_GPIO_ACTIVE_HIGH",
        "gpio_active_high",
        "bool",
        parse_bool,
        "1: a high pin closes the relay; 0: the board is active-low",
        default=True,
    ),
    Setting(
        "RPYMOSTAT_PHIDGET_SERIAL",
        "phidget_serial",
        "serial",
        parse_serial,
        "the Phidget relay board to use (unset: any attached board)",
    ),
    Setting(
        "RPYMOSTAT_PHIDGET_CHANNELS",
        "phidget_channels",
        "count",
        parse_count,
        "relay channels on the Phidget board (the 1014 kit has 4)",
        default=4,
    ),
    Setting(
        "RPYMOSTAT_PHIDGET_ATTACH_S",
        "phidget_attach_timeout",
        "seconds",
        parse_positive_seconds,
        "how long to wait for the Phidget board at start",
        default=5.0,
    ),
    *TOKEN_SETTINGS,
)


def checked_config(**values) -> ControlConfig:
    """A :class:`ControlConfig` whose settings agree with each other; else ConfigError.

    Pass it as the config class to :func:`~rpymostat.protocol.settings.load`
    (the daemon does), so a lease shorter than a minimum time stops the daemon
    with exit 2 before anything starts.
    """
    config = ControlConfig(**values)
    for variable, minimum in (("RPYMOSTAT_MIN_ON_S", config.min_on), ("RPYMOSTAT_MIN_OFF_S", config.min_off)):
        if config.lease < minimum:
            raise ConfigError(
                f"RPYMOSTAT_CONTROL_LEASE_S={config.lease:g} is invalid: it is shorter than"
                f" {variable}={minimum:g}; a lease expiry would switch an output the engine has"
                f" just switched before its minimum time, so set RPYMOSTAT_CONTROL_LEASE_S to"
                f" at least {max(config.min_on, config.min_off):g}"
            )
    return config


def from_environ(environ) -> ControlConfig:
    """The daemon's configuration; raises ConfigError naming a bad variable."""
    return load(checked_config, SETTINGS, environ)
