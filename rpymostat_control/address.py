"""The URL at which the engine can reach this unit.

A unit listening on every address (``0.0.0.0`` or ``::``) does not know which
of them the engine can reach; the one its own traffic to the engine leaves
from is the best guess, and the kernel knows it: ``connect()`` on a UDP
socket picks the route and source address without sending anything.
``RPYMOSTAT_CONTROL_URL`` overrides all this (NAT, a reverse proxy, a name).
"""

import socket
from urllib.parse import urlsplit

from rpymostat.protocol.endpoints import WILDCARD_HOSTS


def http_url(address: str, port: int) -> str:
    """``http://address:port``, IPv6 bracketed and its zone escaped as URLs require."""
    if ":" in address:
        address = "[" + address.replace("%", "%25") + "]"
    return f"http://{address}:{port}"


def local_address_towards(engine_url: str) -> str:
    """This host's source address for traffic to ``engine_url``; OSError if there is no route.

    May block on a DNS lookup when the engine is named, not numbered: call it
    off the reactor thread.
    """
    parts = urlsplit(engine_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    family, kind, protocol, _, target = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.connect(target)
        address = probe.getsockname()[0]
    if address in WILDCARD_HOSTS:  # pragma: no cover - some kernels without a route
        raise OSError(f"no route to the engine at {host}")
    return address
