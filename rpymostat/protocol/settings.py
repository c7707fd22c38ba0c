"""Typed settings read once from environment variables.

Every RPyMostat daemon is configured the same way: a table of
:class:`Setting` rows (variable name, type, default, description) is turned
into one frozen dataclass before anything starts.  A bad value stops the daemon
with a message naming the variable, instead of surfacing later as a strange
failure in a running house.  The same table prints itself for
``--show-config``, so the documentation cannot drift from the code.
"""

import dataclasses
import ipaddress
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """A setting has a value the daemon cannot use; the message names the variable."""


@dataclasses.dataclass(frozen=True)
class Setting:
    """One environment variable and the config field it fills.

    ``default`` is either a value or, when ``default_factory`` is given, computed
    at load time (for things such as the host's time zone).  ``parse`` turns the
    variable's text into the field's value and raises ``ValueError`` with a
    human-readable reason when it cannot.  A ``secret`` setting (a token) is
    never printed by ``--show-config`` or in an error: only whether it is set.
    """

    env: str
    field: str
    type_name: str
    parse: Callable[[str], Any]
    description: str
    default: Any = None
    default_factory: Callable[[Mapping[str, str]], Any] | None = None
    secret: bool = False

    def default_value(self, environ: Mapping[str, str]):
        """The value used when the variable is unset or empty.

        A ``default_factory`` receives the same environment, so a default such
        as the data directory follows ``XDG_DATA_HOME`` in that environment.
        """
        if self.default_factory is not None:
            return self.default_factory(environ)
        return self.default


def load(config_class, settings: Sequence[Setting], environ: Mapping[str, str]):
    """Build ``config_class`` from ``environ``; raise :class:`ConfigError` naming the culprit."""
    values = {}
    for setting in settings:
        raw = environ.get(setting.env, "").strip()
        if not raw:
            values[setting.field] = setting.default_value(environ)
            continue
        try:
            values[setting.field] = setting.parse(raw)
        except ValueError as e:
            shown = "(hidden)" if setting.secret else repr(raw)  # an almost-right token is still a secret
            raise ConfigError(f"{setting.env}={shown} is invalid: {e}") from None
    return config_class(**values)


def describe(settings: Sequence[Setting], config) -> str:
    """A plain-text table of every setting with its default and effective value."""
    rows = [("VARIABLE", "TYPE", "DEFAULT", "VALUE", "DESCRIPTION")]
    for setting in settings:
        default = "(computed)" if setting.default_factory else _show(setting.default)
        rows.append(
            (
                setting.env,
                setting.type_name,
                default,
                _show_value(setting, getattr(config, setting.field)),
                setting.description,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        lines.append("  ".join(cells + [row[4]]).rstrip())
    return "\n".join(lines) + "\n"


def _show_value(setting: Setting, value) -> str:
    """A setting's effective value as ``--show-config`` prints it: a secret's only as ``(hidden)``."""
    if setting.secret and value is not None:
        return "(hidden)"
    return _show(value)


def _show(value) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        # An empty list setting means "no restriction" (all interfaces, all readers).
        return ",".join(str(item) for item in value) or "(all)"
    return str(value)


# Parsers: each takes the variable's text and returns a value or raises ValueError.


def parse_bool(text: str) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off``, case-insensitively."""
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected 1 or 0 (or true/false, yes/no, on/off)")


def parse_port(text: str) -> int:
    """A TCP port, 0 (any free port) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise ValueError("expected a whole number from 0 to 65535") from None
    if not 0 <= port <= 65535:
        raise ValueError("expected a whole number from 0 to 65535")
    return port


def parse_ip_address(text: str) -> str:
    """An IPv4 or IPv6 address to bind to."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError("expected an IP address such as 0.0.0.0 or 127.0.0.1") from None


def parse_ip_list(text: str) -> tuple:
    """A comma-separated list of IP addresses."""
    return tuple(parse_ip_address(part.strip()) for part in text.split(",") if part.strip())


def parse_positive_seconds(text: str) -> float:
    """A number of seconds greater than zero."""
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError("expected a number of seconds") from None
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError("expected a number of seconds greater than 0")
    return seconds


def parse_directory(text: str) -> Path:
    """A directory path; ``~`` is expanded.  It is created when the daemon starts."""
    path = Path(os.path.expanduser(text))
    if path.exists() and not path.is_dir():
        raise ValueError("exists and is not a directory")
    return path


def parse_seconds(text: str) -> float:
    """A number of seconds, zero or more."""
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError("expected a number of seconds") from None
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError("expected a number of seconds, zero or more")
    return seconds


def parse_engine_url(text: str) -> str:
    """``http://host:port`` of the engine (its API base path comes from the engine)."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected http://host:port, e.g. http://192.168.1.10:8088")
    try:
        parts.port  # noqa: B018 - reading it is the check: a bad port raises ValueError
    except ValueError:
        raise ValueError("the port is not a number from 0 to 65535") from None
    return text.rstrip("/")


def parse_names(text: str) -> tuple:
    """A comma-separated list of plugin names (readers, relay backends)."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    for name in names:
        if not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"{name!r} is not a plugin name")
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


def default_data_dir(environ: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/rpymostat``, else ``$HOME/.local/share/rpymostat``."""
    home = environ.get("HOME") or os.path.expanduser("~")
    base = environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    return Path(base) / "rpymostat"
