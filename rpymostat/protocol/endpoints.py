"""Where a daemon listens: one server endpoint for an IPv4 or IPv6 address."""

from twisted.internet.endpoints import TCP4ServerEndpoint, TCP6ServerEndpoint


def server_endpoint(reactor, host: str, port: int):
    """A TCP server endpoint on ``host`` (an IP address, IPv6 if it holds a colon) and ``port``."""
    endpoint_class = TCP6ServerEndpoint if ":" in host else TCP4ServerEndpoint
    return endpoint_class(reactor, port, interface=host)
