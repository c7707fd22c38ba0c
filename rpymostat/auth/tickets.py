"""Short-lived stream tickets: how a browser's ``EventSource`` authenticates.

``EventSource`` cannot send an ``Authorization`` header, so a client holding a
token asks for a ticket (``POST /v1/events/ticket``) and puts it in the URL
(``GET /v1/events?ticket=...``).  A URL ends up in places a header does not
(a browser's history, a proxy's log), so a ticket is worth as little as
possible: it is valid for :data:`TICKET_S` seconds, only for that one
read-only operation (:class:`~rpymostat.auth.policy.TokenAccess` admits it
nowhere else), dies with the token that asked for it when that is revoked
through the API, and is never logged
(:func:`rpymostat.protocol.jsonsite.json_site` redacts it from the access log).
It is not single-use: an ``EventSource`` reconnects by itself with the same
URL, and it must find its stream again within the ticket's life.

Tickets are kept in memory only (a restart ends them, as it ends every
stream) and only as their SHA-256, at most :data:`MAX_TICKETS`, the oldest
dropped first, so a client asking in a loop cannot grow the table.  Their
lifetime is measured on the injected monotonic clock; the wall clock only
says, in the answer, when that will be.
"""

import collections

from rpymostat.protocol.tokens import new_secret, token_hash

#: Seconds a ticket is valid.
TICKET_S = 300.0

#: Tickets held at most; the oldest are dropped beyond it.
MAX_TICKETS = 1024

#: What every ticket starts with, so a leaked one is recognisable as what it is.
PREFIX = "rpyt_"


class TicketBook:
    """Issues tickets and admits them while they last, on ``monotonic()``."""

    def __init__(self, monotonic, lifetime=TICKET_S, limit=MAX_TICKETS):
        self._monotonic = monotonic
        self._lifetime = lifetime
        self._limit = limit
        self._tickets = collections.OrderedDict()  # ticket hash -> (expires, issuer record), oldest first

    def issue(self, record) -> tuple[str, float]:
        """A new ticket for the token ``record`` (None with auth off) and its lifetime in seconds."""
        self._expire()
        ticket = PREFIX + new_secret()
        self._tickets[token_hash(ticket)] = (self._monotonic() + self._lifetime, record)
        while len(self._tickets) > self._limit:
            self._tickets.popitem(last=False)
        return ticket, self._lifetime

    def redeem(self, ticket: str):
        """``(True, the issuing token's record)`` while ``ticket`` is valid, else ``(False, None)``."""
        held = self._tickets.get(token_hash(ticket))
        if held is None or held[0] <= self._monotonic():
            return False, None
        return True, held[1]

    def forget_issuer(self, issuer_hash: str) -> None:
        """The token with this hash was revoked: its tickets end with it."""
        for key in [
            k for k, (_, record) in self._tickets.items() if getattr(record, "token_hash", None) == issuer_hash
        ]:
            del self._tickets[key]

    def _expire(self):
        now = self._monotonic()
        while self._tickets:
            key, (expires, _) = next(iter(self._tickets.items()))
            if expires > now:
                break  # issued in order with one lifetime: the rest are younger
            del self._tickets[key]

    def __len__(self) -> int:
        return len(self._tickets)
