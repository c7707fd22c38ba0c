"""Where a daemon listens: one server endpoint for an IPv4 or IPv6 address."""

from twisted.internet.endpoints import TCP4ServerEndpoint, TCP6ServerEndpoint

#: Listening addresses that mean "every address of this host": Twisted's
#: default interface ``""`` and the IPv4 and IPv6 unspecified addresses.  A
#: daemon listening on one of them must find out which address others reach
#: it at (the engine advertises its host's addresses, a relay unit asks the
#: kernel for its route to the engine).
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})


def server_endpoint(reactor, host: str, port: int):
    """A TCP server endpoint on ``host`` (an IP address, IPv6 if it holds a colon) and ``port``."""
    endpoint_class = TCP6ServerEndpoint if ":" in host else TCP4ServerEndpoint
    return endpoint_class(reactor, port, interface=host)
