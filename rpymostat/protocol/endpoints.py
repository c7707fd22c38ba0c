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


def listen_endpoint(reactor, description: str | None, host: str, port: int):
    """The endpoint a daemon listens on: ``description`` (a Twisted server endpoint string,
    such as ``ssl:8443:privateKey=key.pem:certKey=cert.pem``) when given, else TCP on ``host:port``.

    An endpoint string that Twisted cannot parse raises ValueError naming it.
    """
    if not description:
        return server_endpoint(reactor, host, port)
    from twisted.internet.endpoints import serverFromString

    try:
        return serverFromString(reactor, description)
    except (ValueError, TypeError, KeyError, ImportError, OSError) as error:
        raise ValueError(f"cannot listen on {description!r}: {error}") from None


def is_tls(description: str | None) -> bool:
    """Whether an endpoint string listens with TLS (Twisted's ``ssl:`` endpoints)."""
    return bool(description) and description.split(":", 1)[0].strip().lower() == "ssl"


def certificate_fingerprint(description: str) -> str | None:
    """SHA-256 (lowercase hex) of the certificate an ``ssl:`` endpoint string names, or None.

    It is what a paired daemon pins (docs/security.rst), so the engine logs it
    at start for an admin to compare.  The certificate is ``certKey=``, or
    ``privateKey=`` when that file holds both, as Twisted reads them.
    """
    import hashlib
    import ssl

    options = dict(part.split("=", 1) for part in description.split(":")[1:] if "=" in part)
    path = options.get("certKey") or options.get("privateKey")
    if path is None:
        return None
    try:
        with open(path, encoding="ascii") as file:
            text = file.read()
        begin = text.index("-----BEGIN CERTIFICATE-----")
        end = text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(text[begin:end])).hexdigest()
    except (OSError, ValueError, UnicodeDecodeError):
        return None
