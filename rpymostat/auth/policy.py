"""Admitting requests by bearer token, and the checks that depend on what a request says.

:meth:`TokenAccess.admit` runs before any handler (see
:class:`~rpymostat.api.gate.AccessGate`): it finds the operation's roles in
the OpenAPI document, the token's record by its SHA-256 hash, and answers
401, 403 or 429 itself.  Handlers then call :meth:`TokenAccess.authorize` for
what only the body tells: a sensor host's token sends readings for its own
``host_id`` only, a relay unit's registers its own unit only, and only an
admin changes a zone's outputs.

Records are cached for :data:`CACHE_S` seconds on the monotonic clock, so a
busy sensor host costs no database read per update; a token revoked through
the API is forgotten at once, one revoked by the command within that time.
While the database does not answer, a token read before is still taken, so
what the engine has cached (targets, zone states) still answers.
Tokens are never logged, only their names.

``GET /v1/events`` alone also takes a stream ticket in its query
(``?ticket=``, see :mod:`rpymostat.auth.tickets`), since a browser's
``EventSource`` cannot send a header; a bad or expired one is a 401 and
counts as a failure, exactly like a bad token.
"""

import dataclasses
import re
from urllib.parse import unquote_to_bytes

from twisted.internet.defer import Deferred, ensureDeferred, succeed
from twisted.logger import Logger
from zope.interface import implementer

from rpymostat.access import IAccessPolicy
from rpymostat.auth.refusals import Forbidden, TooManyFailures, Unauthenticated
from rpymostat.auth.roles import HOST_ROLES, OperationRoles
from rpymostat.auth.throttle import FailureThrottle
from rpymostat.auth.tickets import TicketBook
from rpymostat.protocol.tokens import token_hash
from rpymostat.storage.interface import StorageError

log = Logger()

#: Seconds a token's record is used without reading it again.
CACHE_S = 5.0

#: Seconds a cached record stands in while the database does not answer.
STALE_S = 3600.0

#: The request attribute holding the admitted token's record (None with auth off or exempt).
PRINCIPAL = "rpymostat_token"

#: The one operation a stream ticket opens, matched on the decoded path as the router reads it.
TICKET_METHOD = b"GET"
TICKET_PATH = re.compile(r"/v1/events/?")


def bearer_token(request) -> str | None:
    """The token of ``Authorization: Bearer <token>``, or None when there is none."""
    header = request.getHeader(b"authorization")
    if not header:
        return None
    scheme, _, value = header.decode("latin-1").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def principal(request):
    """The admitted token's record for ``request`` (None with auth off or an exempt operation)."""
    return getattr(request, PRINCIPAL, None)


@implementer(IAccessPolicy)
class TokenAccess:
    """Tokens from ``storage``; roles from ``openapi``; time from ``monotonic``."""

    def __init__(self, storage, openapi, monotonic, throttle=None, tickets=None):
        self._storage = storage
        self._roles = OperationRoles(openapi)
        self._monotonic = monotonic
        self.throttle = throttle if throttle is not None else FailureThrottle(monotonic)
        self.tickets = tickets if tickets is not None else TicketBook(monotonic)
        self._cache = {}  # token hash -> (TokenRecord, read at)
        self._epoch = 0  # counts revocations through the API

    def admit(self, request):
        """None when ``request`` may go on now, a Deferred firing when it may, or raise Refused."""
        rule = self._roles.rule(request.method, request.path)
        if rule.exempt:
            return None
        token = bearer_token(request)
        if token is None and (ticket := stream_ticket(request)) is not None:
            return self._admit_ticket(request, ticket, rule)
        digest = token_hash(token) if token is not None else None
        cached = self._cache.get(digest)
        if cached is not None and self._monotonic() - cached[1] < CACHE_S:
            return self._admitted(request, cached[0], rule)
        address = client_address(request)
        if digest is None:
            self._failed(request, address, "no bearer token")
            raise Unauthenticated("this needs a token: send 'Authorization: Bearer <token>' (see docs/security.rst)")
        return ensureDeferred(self._look_up(request, digest, rule, address))

    async def _look_up(self, request, digest, rule, address):
        epoch = self._epoch
        try:
            record = await self._storage.token_by_hash(digest)
        except StorageError:
            stale = self._cache.get(digest)
            if stale is None or self._monotonic() - stale[1] > STALE_S:
                raise
            # The database is down: a token good a moment ago stays good for a while, so
            # cached state still answers the household (nobody can revoke it meanwhile either).
            return self._admitted(request, stale[0], rule)
        if record is None:  # never cached: a token approved a second later must work at once
            self._cache.pop(digest, None)
            self._failed(request, address, "an unknown token")
        elif epoch == self._epoch:  # no token was revoked while this one was read
            self._cache[digest] = (record, self._monotonic())
        self._admitted(request, record, rule)

    def _admit_ticket(self, request, ticket, rule):
        valid, record = self.tickets.redeem(ticket)
        if not valid:
            self._failed(request, client_address(request), "an unknown or expired stream ticket")
            raise Unauthenticated("unknown or expired stream ticket; ask POST /v1/events/ticket for a new one")
        return self._admitted(request, record, rule)

    def _admitted(self, request, record, rule):
        if record is None:
            raise Unauthenticated("unknown or revoked token")
        if record.role not in rule.roles:
            method = request.method.decode("ascii", "replace")
            path = request.path.decode("utf-8", "replace")
            raise Forbidden(
                f"token {record.name!r} has the role {record.role!r}; {method} {path} needs one of: "
                + ", ".join(rule.roles)
            )
        setattr(request, PRINCIPAL, record)
        return None

    def _failed(self, request, address, what):
        """Count a failed authentication; raise 429 once ``address`` failed too often lately.

        A valid token is always looked up and always works: only the answer
        to a failure changes (429 instead of 401), which slows guessing down
        and keeps a neighbour's guesses from locking the household out.
        """
        retry_after = self.throttle.retry_after(address)
        self.throttle.failed(address)
        if retry_after is not None:
            raise TooManyFailures(
                f"too many failed authentications from {address}; try again in {retry_after} s",
                retry_after=retry_after,
            )
        log.info(
            "refused {method} {path} from {address}: {what}",
            method=request.method.decode("ascii", "replace"),
            path=request.path.decode("utf-8", "replace"),
            address=address,
            what=what,
        )

    def authorize(self, request, action, host_id=None) -> Deferred:
        """Fire when the admitted token may do ``action`` (for ``host_id``); fail with Forbidden if not.

        ``"sensors:update"`` and ``"controls:register"`` bind a host role's
        unbound token to the first ``host_id`` it is used for;
        ``"zones:outputs"`` is an admin's alone.
        """
        record = principal(request)
        if record is None or record.role == "admin":
            return succeed(None)
        if action == "zones:outputs":
            raise Forbidden(f"only an admin token changes a zone's outputs; {record.name!r} is {record.role!r}")
        if record.role in HOST_ROLES and host_id is not None:
            return ensureDeferred(self._bind(record, host_id))
        return succeed(None)

    async def _bind(self, record, host_id):
        if record.host_id == host_id:
            return
        if record.host_id is None and await self._storage.bind_token_host(record.name, host_id):
            log.info("token {name!r} is now bound to host {host_id!r}", name=record.name, host_id=host_id)
            self._cache[record.token_hash] = (dataclasses.replace(record, host_id=host_id), self._monotonic())
            return
        bound = record.host_id or (await self._storage.token(record.name) or record).host_id
        raise Forbidden(f"token {record.name!r} belongs to host {bound!r}, not {host_id!r}")

    def forget(self, token_hash_: str) -> None:
        """Drop a token's cached record: a token revoked through the API stops at once."""
        self._epoch += 1  # a lookup under way must not cache it again
        self._cache.pop(token_hash_, None)
        self.tickets.forget_issuer(token_hash_)


def stream_ticket(request) -> str | None:
    """The ``?ticket=`` of a ``GET /v1/events``, or None: no other operation takes one."""
    values = request.args.get(b"ticket")
    if not values or request.method != TICKET_METHOD:
        return None
    if not TICKET_PATH.fullmatch(unquote_to_bytes(request.path).decode("utf-8", "replace")):
        return None
    return values[0].decode("utf-8", "replace")


def client_address(request) -> str:
    """The client's IP address as text (the throttle's key)."""
    client = request.getClientAddress()
    return getattr(client, "host", None) or str(client)
