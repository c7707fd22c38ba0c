"""TLS to the engine by the certificate's fingerprint, learned at pairing (trust on first use).

A house has no certificate authority, and an engine's certificate is usually
self-signed, so a daemon cannot check it the way a browser does.  Instead it
pins it: at pairing it notes the SHA-256 of the certificate the engine
showed, keeps it with its credentials, and from then on refuses any engine
whose certificate differs, before a byte of the request is sent.  Until it
has a pin (pairing, or a token given by hand) it takes what it is shown.

pyOpenSSL is imported only when an ``https`` engine is used, so a sensor host
on plain HTTP does not pay for it (``pip install "rpymostat[tls]"``).
"""

import hmac
import ipaddress

from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer


class Pins:
    """What this host expects of its engine's certificate, and the last one it saw.

    ``expected()`` returns the pinned SHA-256 (lowercase hex) or None to take
    any; ``seen`` is the fingerprint of the last certificate accepted, which
    pairing stores as the pin.
    """

    def __init__(self, expected=lambda: None):
        self.expected = expected
        self.seen: str | None = None


@implementer(IPolicyForHTTPS)
class PinningPolicy:
    """Twisted's ``contextFactory`` for an Agent: TLS that checks ``pins`` instead of a CA."""

    def __init__(self, pins: Pins):
        self._pins = pins

    def creatorForNetloc(self, hostname: bytes, port: int):
        return _PinnedCreator(hostname.decode("ascii"), self._pins)


@implementer(IOpenSSLClientConnectionCreator)
class _PinnedCreator:
    def __init__(self, hostname: str, pins: Pins):
        self._hostname = hostname
        self._pins = pins

    def clientConnectionForTLS(self, tlsProtocol):
        from OpenSSL import SSL

        context = SSL.Context(SSL.TLS_CLIENT_METHOD)
        context.set_min_proto_version(SSL.TLS1_2_VERSION)
        context.set_verify(SSL.VERIFY_PEER, self._verify)
        connection = SSL.Connection(context, None)
        connection.set_app_data(tlsProtocol)
        if not _is_address(self._hostname):
            connection.set_tlsext_host_name(self._hostname.encode("idna"))
        connection.set_connect_state()
        return connection

    def _verify(self, connection, certificate, error, depth, ok) -> bool:
        """Accept the chain's leaf by its fingerprint alone; the CA checks do not apply here."""
        if depth != 0:
            return True
        fingerprint = certificate.digest("sha256").decode("ascii").replace(":", "").lower()
        expected = self._pins.expected()
        if expected is not None and not hmac.compare_digest(fingerprint, expected):
            return False  # not the engine this host paired with: the handshake fails, nothing is sent
        self._pins.seen = fingerprint
        return True


def _is_address(hostname: str) -> bool:
    try:
        ipaddress.ip_address(hostname.strip("[]"))
    except ValueError:
        return False
    return True
