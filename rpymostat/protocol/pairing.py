"""Asking the engine for a token: a daemon's side of pairing (docs/security.rst).

A new sensor host, relay unit or web UI has no token and nobody types one
into it.  It makes its own token and pairing secret, sends the engine only
the token's hash with a short code, and logs that code; an admin approves
the code on the engine, and the daemon, polling, learns its token's name and
stores its credentials.  The token never leaves the daemon, so watching the
pairing request on the network does not give it away.

Nothing here gives up: a code already in use is replaced, an expired request
is made again with a new code and a new token, an engine that is busy
(``429``) is waited for as long as it asks, and an engine that is away or
answers anything else is retried with capped exponential backoff.  All
waiting is on the injected clock, and cancelling the running Deferred (or
:meth:`Pairing.stop`) leaves no delayed call behind, so a daemon shut down
while it waits for an admin stops at once.
"""

from collections.abc import Callable
from urllib.parse import quote

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.task import deferLater
from twisted.logger import Logger

from rpymostat.protocol import PAIR_PATH, below_api_base
from rpymostat.protocol.backoff import Backoff
from rpymostat.protocol.client import Unreachable
from rpymostat.protocol.credentials import CREDENTIALS_FILE, Credentials, save
from rpymostat.protocol.tokens import new_code, new_secret, new_token, token_hash

#: Below the engine URL (which ends in the API path): where requests go and are polled.
PAIR_SUFFIX = below_api_base(PAIR_PATH)

#: Seconds between polls of a pending request.
DEFAULT_POLL_INTERVAL = 3.0


class Pairing:
    """One daemon's pairing with the engine at ``engine_url``, as ``host_id`` in ``role``.

    ``role`` is passed to the engine as it is: ``sensor``, ``control``, or
    the web UI's ``admin`` or ``user``.

    ``engine_url`` is the engine's API base URL, or a callable returning it
    (None while no engine is known: pairing then waits for one), so a
    daemon that finds its engine by mDNS pairs with whichever it currently
    uses.  The approved credentials are stored as ``credentials_file`` in
    ``data_dir``.
    """

    log = Logger()

    def __init__(
        self,
        client,
        engine_url: str | Callable[[], str | None],
        host_id: str,
        role: str,
        clock,
        data_dir,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        first_backoff: float = 1.0,
        max_backoff: float = 300.0,
        credentials_file: str = CREDENTIALS_FILE,
    ):
        self._client = client
        self._engine_url = engine_url if callable(engine_url) else (lambda: engine_url)
        self.host_id, self.role = host_id, role
        self._clock = clock
        self._data_dir, self._credentials_file = data_dir, credentials_file
        self.poll_interval = poll_interval
        self._backoff = Backoff(first_backoff, max_backoff)
        self._running: Deferred | None = None
        self.code: str | None = None
        """The code of the request the engine holds now (to approve), or None."""

    def run(self) -> Deferred:
        """Fires with the stored :class:`Credentials` once approved; cancel it to stop."""
        self._running = ensureDeferred(self._pair())
        return self._running

    def _fingerprint(self) -> str | None:
        """The TLS certificate the engine showed while pairing, to pin (None over plain HTTP)."""
        url = self._engine_url()
        pins = getattr(self._client, "pins", None)
        if url is None or not url.startswith("https:") or pins is None:
            return None
        return pins.seen

    def stop(self) -> None:
        """Stop pairing (on shutdown); the Deferred from :meth:`run` fails with CancelledError."""
        if self._running is not None and not self._running.called:
            self._running.cancel()

    async def _pair(self) -> Credentials:
        while True:
            token, secret = new_token(), new_secret()
            request_id = await self._request(token, secret)
            name = await self._until_approved(request_id)
            if name is not None:
                return self._store(Credentials(token, name, secret, self._fingerprint()))
            self.log.info(
                "pairing request {code} expired or was refused on the engine; asking again with a new code",
                code=self.code,
            )
            self.code = None

    async def _request(self, token: str, secret: str):
        """Send a pairing request until the engine holds it; returns its id."""
        clashes = 0
        while True:
            url = await self._url()
            code = new_code()
            body = {
                "host_id": self.host_id,
                "role": self.role,
                "code": code,
                "token_hash": token_hash(token),
                "secret": secret,
            }
            response, delay = await self._ask("POST", url + PAIR_SUFFIX, body)
            if response is None:
                pass
            elif response.code == 202 and _request_id(response.body) is not None:
                self._backoff.reset()
                self.code = response.body.get("code") if isinstance(response.body.get("code"), str) else code
                self.log.info(
                    "pairing requested as {host_id} ({role}): approve it on the engine with:"
                    " rpymostat-engine pair approve {code}",
                    host_id=self.host_id,
                    role=self.role,
                    code=self.code,
                )
                return _request_id(response.body)
            elif response.code == 409:
                clashes += 1
                self.log.info("pairing code {code} is in use on the engine; trying another", code=code)
                # One clash is chance: retry at once.  More is an engine to go easy on.
                delay = self._backoff.next_delay() if clashes > 1 else 0
            else:
                delay = self._unexpected(response, "pairing request")
            if delay:
                await self._sleep(delay)

    async def _until_approved(self, request_id) -> str | None:
        """Poll the request until approved (returns the token's name) or gone (returns None)."""
        delay = self.poll_interval
        while True:
            await self._sleep(delay)
            url = await self._url()
            response, delay = await self._ask("GET", f"{url}{PAIR_SUFFIX}/{quote(str(request_id), safe='')}")
            if response is None:
                continue
            if response.code == 404:
                return None
            body = response.body if isinstance(response.body, dict) else {}
            if response.code != 200 or body.get("status") not in ("pending", "approved"):
                delay = self._unexpected(response, "pairing poll")
                continue
            self._backoff.reset()
            delay = self.poll_interval
            name = body.get("name")
            if body["status"] == "approved" and isinstance(name, str) and name:
                self.log.info(
                    "pairing approved: this host's token is {name} on the engine at {url}", name=name, url=url
                )
                return name

    async def _url(self) -> str:
        """The engine's URL, waiting (and saying so, once) while none is known."""
        url = self._engine_url()
        if url is None:
            self.log.info("waiting for an engine to pair with")
            while url is None:
                await self._sleep(self.poll_interval)
                url = self._engine_url()
        return url

    async def _ask(self, method: str, url: str, body=None):
        """``(answer, 0)``, or ``(None, seconds to wait)`` when the engine is unreachable or busy."""
        try:
            response = await self._client.request(method, url, body)
        except Unreachable as error:
            delay = self._backoff.next_delay()
            self.log.warn(
                "cannot reach the engine to pair: {error}; trying again in {delay} s", error=error, delay=delay
            )
            return None, delay
        if response.code == 429:
            delay = retry_after(response, self._backoff.next_delay(), self._backoff.cap)
            self.log.warn("the engine is busy with pairing requests; trying again in {delay} s", delay=delay)
            return None, delay
        return response, 0

    def _unexpected(self, response, what: str) -> float:
        """Log an answer the spec does not give; returns the seconds to wait before trying again."""
        delay = self._backoff.next_delay()
        self.log.warn(
            "engine answered the {what} with {code}: {message}; trying again in {delay} s",
            what=what,
            code=response.code,
            message=response.error,
            delay=delay,
        )
        return delay

    def _sleep(self, seconds: float) -> Deferred:
        return deferLater(self._clock, seconds, lambda: None)

    def _store(self, credentials: Credentials) -> Credentials:
        """Keep the approved credentials on disk; without a disk they still work until a restart."""
        try:
            path = save(self._data_dir, credentials, self._credentials_file)
        except OSError as error:
            self.log.error(
                "could not store this host's engine credentials: {error}; they work until the daemon"
                " restarts, then it must pair again",
                error=error,
            )
        else:
            self.log.info("engine credentials stored in {path}", path=str(path))
        return credentials


def _request_id(body):
    """A pairing request's id from the engine's 202 answer, or None if it has none."""
    request_id = body.get("id") if isinstance(body, dict) else None
    return request_id if isinstance(request_id, str | int) and not isinstance(request_id, bool) else None


def retry_after(response, fallback: float, cap: float) -> float:
    """The seconds a ``429`` answer asks to wait (``Retry-After``), else ``fallback``; at most ``cap``.

    Only the delay-seconds form is read: engines send that, and a date would
    need a clock the daemon cannot trust.
    """
    for value in response.headers.getRawHeaders(b"retry-after") or ():
        text = value.decode("ascii", "replace").strip()
        if text.isdigit():
            return float(min(max(int(text), 1), cap))
    return fallback
