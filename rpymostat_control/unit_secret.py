"""The secret that makes a relay unit obey only the engine it registered with.

Anything on the house network can reach the unit's API, and a web page, a
compromised gadget or a second engine must not be able to switch the boiler.
So each registration carries a secret (:func:`secrets.token_urlsafe`, 32
random bytes as 43 URL-safe characters) that only the engine it went to
learns; the engine sends it back as ``Authorization: Bearer <secret>`` with
every request, and the unit answers any request without it ``401`` before
routing it, so a stranger learns not even which paths exist.  Before the
first registration nobody holds the secret, so every request is refused.

Every registration the engine confirms brings a new secret, and then only
that one opens the API: an engine the unit registered with earlier (one
that was replaced, or a rogue it once registered with) loses command as soon
as the unit's next registration is confirmed, and a secret that leaked (a
packet capture on an untrusted network) is worth nothing after it, a
restart's included.
The comparison takes constant time (:func:`hmac.compare_digest`), and a
refusal is logged with the client's address and the path, never with what
the client presented, which might be a secret of another unit.
"""

import hmac
import secrets

from twisted.logger import Logger

log = Logger()

#: The ``WWW-Authenticate`` header of a 401 (RFC 6750): the scheme and realm to use.
CHALLENGE = b'Bearer realm="rpymostat-control"'

#: The most of a refused request's path that is logged, so a huge path cannot flood the log.
MAX_LOGGED_PATH = 200


def new_unit_secret() -> str:
    """A fresh secret: 32 random bytes as 43 URL-safe characters."""
    return secrets.token_urlsafe(32)


class UnitSecret:
    """The secrets that open this unit's API: the latest confirmed registration's, and the one on its way.

    ``for_registration()`` gives the secret a registration carries: a new one
    after each registration the engine confirmed, the same one while
    attempts fail (the engine is away).  It opens the API at once (the
    engine may command before the unit reads the engine's answer), beside
    the confirmed one; ``confirm(secret)`` on the engine's 201 makes it the
    only one.  So an engine the unit registered with before loses command as
    soon as a new registration is confirmed, and while the engine is away the
    last confirmed secret still opens the unit.  ``value`` is the newest
    secret, for a test playing the engine.
    """

    def __init__(self, value: str | None = None):
        self._first = value
        self._confirmed: bytes | None = None
        self._pending: bytes | None = None

    @property
    def value(self) -> str:
        """The newest secret: the one on its way, else the confirmed one (before any: the first to send)."""
        newest = self._pending or self._confirmed
        if newest is None:
            if self._first is None:
                self._first = new_unit_secret()
            return self._first
        return newest.decode("ascii")

    def for_registration(self) -> str:
        """The secret to send in a registration (see the class)."""
        if self._pending is None:
            fresh = self._first if self._first is not None and self._confirmed is None else new_unit_secret()
            self._pending = fresh.encode("ascii")
        return self._pending.decode("ascii")

    def confirm(self, secret: str) -> None:
        """The engine accepted the registration that carried ``secret``: from now on only it opens the API."""
        if self._pending is not None and hmac.compare_digest(self._pending, secret.encode("ascii")):
            self._confirmed, self._pending = self._pending, None

    def _accepts(self, token: bytes) -> bool:
        # Both compared, always, so the time taken says nothing of which matched.
        results = [hmac.compare_digest(token, known) for known in (self._confirmed, self._pending) if known]
        return any(results)

    def refusal(self, request) -> str | None:
        """None if ``request`` carries ``Authorization: Bearer <the secret>``; else why not.

        A refusal is logged as a warning here.  The scheme is matched without
        regard to case (RFC 9110); several Authorization headers are refused,
        as a proxy might have added one.
        """
        presented = request.requestHeaders.getRawHeaders(b"authorization") or []
        if self._confirmed is None and self._pending is None:
            reason = "this unit has not registered with an engine yet"
        elif not presented:
            reason = "no Authorization header"
        elif len(presented) > 1:
            reason = "more than one Authorization header"
        else:
            scheme, _, token = presented[0].strip().partition(b" ")
            if scheme.lower() == b"bearer" and self._accepts(token.strip()):
                return None
            reason = "not the secret of this unit's latest registration"
        address = request.getClientAddress()
        log.warn(
            "refused {method} {path} from {client}: {reason}",
            method=request.method.decode("ascii", "backslashreplace"),
            path=request.path[:MAX_LOGGED_PATH].decode("ascii", "backslashreplace"),
            client=getattr(address, "host", address),
            reason=reason,
        )
        return (
            f"{reason}: this unit obeys only the engine it registered with, which sends"
            " Authorization: Bearer <the secret of that registration>"
        )
