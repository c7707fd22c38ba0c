"""The secret that makes a relay unit obey only the engine it registered with.

Anything on the house network can reach the unit's API, and a web page, a
compromised gadget or a second engine must not be able to switch the boiler.
So each registration carries a secret (:func:`secrets.token_urlsafe`, 32
random bytes as 43 URL-safe characters) that only the engine it went to
learns; the engine sends it back as ``Authorization: Bearer <secret>`` with
every request, and the unit answers any request without it ``401`` before
routing it, so a stranger learns not even which paths exist.  Before the
first registration nobody holds the secret, so every request is refused.

There is one secret per :class:`UnitSecret`, made once per daemon start: a
restarted unit registers again with a new one, so a secret that leaked (a
packet capture on an untrusted network) is worth nothing after a restart.
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


class UnitSecret:
    """This process's secret, and whether a registration has carried it yet.

    ``value`` is for tests that need a known secret; a daemon takes a fresh one.
    """

    def __init__(self, value: str | None = None):
        self._value = value if value is not None else secrets.token_urlsafe(32)
        #: The secret requests must carry, as bytes: None until a registration carried it.
        self._expected: bytes | None = None

    @property
    def value(self) -> str:
        """The secret, for a test playing the engine; it opens nothing until registered."""
        return self._value

    def for_registration(self) -> str:
        """The secret to send in a registration; from then on it opens the API."""
        self._expected = self._value.encode("ascii")
        return self._value

    def refusal(self, request) -> str | None:
        """None if ``request`` carries ``Authorization: Bearer <the secret>``; else why not.

        A refusal is logged as a warning here.  The scheme is matched without
        regard to case (RFC 9110); several Authorization headers are refused,
        as a proxy might have added one.
        """
        presented = request.requestHeaders.getRawHeaders(b"authorization") or []
        if self._expected is None:
            reason = "this unit has not registered with an engine yet"
        elif not presented:
            reason = "no Authorization header"
        elif len(presented) > 1:
            reason = "more than one Authorization header"
        else:
            scheme, _, token = presented[0].strip().partition(b" ")
            if scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._expected):
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
