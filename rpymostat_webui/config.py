"""The web UI's configuration: one frozen object built once from the environment.

Like every RPyMostat daemon, a bad value stops ``rpymostat-webui`` before it
starts, with exit status 2 and the variable's name (``rpymostat.protocol.settings``).
"""

import dataclasses
from pathlib import Path

from rpymostat.protocol.credentials import TOKEN_SETTINGS
from rpymostat.protocol.settings import (
    Setting,
    default_data_dir,
    load,
    parse_directory,
    parse_engine_url,
    parse_ip_address,
    parse_ip_list,
    parse_port,
)
from rpymostat_webui.household import MIN_PASSWORD_LENGTH


def parse_password(text: str) -> str:
    """A household password given in the environment: as long as one set on the setup page."""
    if len(text) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a household password needs at least {MIN_PASSWORD_LENGTH} characters")
    return text


def parse_password_file(text: str) -> Path:
    """A file holding the household password, read now so a bad one stops the daemon at once."""
    path = Path(text).expanduser()
    try:
        parse_password(path.read_text(encoding="utf-8").strip("\r\n"))
    except OSError as error:
        raise ValueError(f"cannot read {str(path)!r}: {error.strerror}") from None
    return path


def parse_role(text: str) -> str:
    """The role the UI asks for when it pairs: ``admin`` (everything) or ``user``."""
    if text not in ("admin", "user"):
        raise ValueError("expected admin or user")
    return text


def parse_cookie_security(text: str) -> str:
    """``auto`` (Secure when the page came over https), ``always`` or ``never``."""
    if text not in ("auto", "always", "never"):
        raise ValueError("expected auto, always or never")
    return text


@dataclasses.dataclass(frozen=True)
class WebuiConfig:
    """Everything ``rpymostat-webui`` reads from its environment, validated."""

    engine_url: str | None = None
    host: str = "0.0.0.0"
    port: int = 8080
    data_dir: Path = Path("/var/lib/rpymostat")
    mdns_interfaces: tuple[str, ...] = ()
    password: str | None = dataclasses.field(default=None, repr=False)
    password_file: Path | None = None
    role: str = "admin"
    secure_cookies: str = "auto"
    token: str | None = dataclasses.field(default=None, repr=False)
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
        "RPYMOSTAT_WEBUI_HOST",
        "host",
        "IP address",
        parse_ip_address,
        "the address the web UI listens on",
        default="0.0.0.0",
    ),
    Setting("RPYMOSTAT_WEBUI_PORT", "port", "port", parse_port, "the web UI's TCP port", default=8080),
    Setting(
        "RPYMOSTAT_DATA_DIR",
        "data_dir",
        "directory",
        parse_directory,
        "where the password hash, the setup code, the session key and the engine credentials live",
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
        "RPYMOSTAT_WEBUI_PASSWORD",
        "password",
        "password",
        parse_password,
        "the household password (never shown); unset: set it on the first visit with the setup code",
        secret=True,
    ),
    Setting(
        "RPYMOSTAT_WEBUI_PASSWORD_FILE",
        "password_file",
        "file",
        parse_password_file,
        "a file holding the household password (RPYMOSTAT_WEBUI_PASSWORD wins)",
    ),
    Setting(
        "RPYMOSTAT_WEBUI_ROLE",
        "role",
        "admin|user",
        parse_role,
        "the role the UI asks for when it pairs with the engine (user: no tokens, pairing or outputs)",
        default="admin",
    ),
    Setting(
        "RPYMOSTAT_WEBUI_SECURE_COOKIES",
        "secure_cookies",
        "auto|always|never",
        parse_cookie_security,
        "mark the session cookie Secure: auto does so for pages served over https",
        default="auto",
    ),
    *TOKEN_SETTINGS,
)


def from_environ(environ) -> WebuiConfig:
    """The daemon's configuration; raises ConfigError naming a bad variable."""
    return load(WebuiConfig, SETTINGS, environ)
