"""Registering the unit with the engine, and again whenever the engine may have lost it.

The unit registers at start, after any lease expiry (the engine went quiet,
so it may have forgotten the unit) and when discovery reports another engine.
A registration is retried with capped exponential backoff
(:class:`~rpymostat.protocol.backoff.Backoff`, as the sensor daemon's
deliveries are) until the engine answers 2xx.  An engine that refuses
the registration (4xx) is logged with its message and retried at the cap: the
document is rebuilt each time, so a fixed setting or a newer engine can succeed.
"""

from collections.abc import Awaitable, Callable

from twisted.internet.defer import Deferred, ensureDeferred, maybeDeferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from rpymostat.protocol import API_BASE_PATH, CONTROLS_REGISTER_PATH
from rpymostat.protocol.backoff import Backoff
from rpymostat.protocol.client import Unreachable

log = Logger()

#: Appended to the engine's API base URL (``http://host:port/v1``).
REGISTER_SUFFIX = CONTROLS_REGISTER_PATH[len(API_BASE_PATH) :]


class Registrar:
    """Sends ``document(engine_url)`` to ``engine_url() + /controls/register`` until accepted.

    ``engine_url()`` returns the engine's API base URL or None while none is
    known; ``document`` may return the registration or a Deferred/awaitable of
    it, and may raise OSError (e.g. no route to the engine) to be retried.
    ``headers()`` authenticates each attempt (empty: not paired yet, so none
    is sent until :meth:`register` is called again; None: an engine that
    needs no token); a 401 calls ``refused()``, an accepted one ``accepted(document)``.
    """

    def __init__(
        self,
        clock,
        client,
        engine_url: Callable[[], str | None],
        document: Callable[[str], dict | Awaitable[dict]],
        first_backoff: float = 1.0,
        max_backoff: float = 300.0,
        headers: Callable[[], dict] | None = None,
        refused: Callable[[], object] = lambda: None,
        accepted: Callable[[dict], object] = lambda document: None,
    ):
        self._clock = clock
        self._client = client
        self._headers = headers
        self._refused = refused
        self._accepted = accepted
        self._engine_url = engine_url
        self._document = document
        self._backoff = Backoff(first_backoff, max_backoff)
        #: The engine URL of the last accepted registration (None until one is).
        self.registered_with: str | None = None
        #: The Deferred of the latest attempt; it fires, never fails, when that attempt ends.
        self.attempt: Deferred = Deferred()
        self.attempt.callback(None)
        self._sending = False
        self._again = False
        self._retry = None
        self._stopped = False

    def register(self) -> Deferred:
        """Register now (a pending retry is dropped, the backoff starts afresh).

        If an attempt is in flight, one more follows it at once, so the engine
        always ends up with a registration sent after this call.
        """
        self._stopped = False
        self._backoff.reset()
        self._cancel_retry()
        if self._sending:
            self._again = True
            return self.attempt
        return self._start_attempt()

    def _start_attempt(self) -> Deferred:
        self._retry = None
        self._sending = True
        self.attempt = ensureDeferred(self._send()).addBoth(self._sent)
        return self.attempt

    def _sent(self, result):
        self._sending = False
        if isinstance(result, Failure):
            log.failure("registering with the engine failed unexpectedly", result)
            self._back_off(self._backoff.next_delay())
        if self._again and not self._stopped:
            self._again = False
            self._cancel_retry()
            self._start_attempt()

    async def _send(self):
        url = self._engine_url()
        if url is None:
            log.info("no engine known yet; will register once one is")
            return self._back_off(self._backoff.next_delay())
        headers = self._headers() if self._headers is not None else {}
        if self._headers is not None and not headers:
            log.info("not paired with the engine yet; registering once an admin approves the pairing")
            return None  # the link calls register() once paired
        try:
            document = await maybeDeferred(self._document, url)
        except OSError as error:
            log.warn("cannot register with the engine at {url}: {error}", url=url, error=error)
            return self._back_off(self._backoff.next_delay())
        try:
            response = await self._client.request("POST", url + REGISTER_SUFFIX, document, headers=headers)
        except Unreachable as error:
            if not self._stopped:
                log.warn("engine unreachable for registration: {error}", error=error)
            return self._back_off(self._backoff.next_delay())
        if 200 <= response.code < 300:
            self._backoff.reset()
            self.registered_with = url
            self._accepted(document)
            log.info(
                "registered with the engine at {url} as {unit_url}; relays {relays}",
                url=url,
                unit_url=document.get("url"),
                relays=", ".join(sorted(document.get("relays", {}))),
            )
        elif response.code == 401:
            log.error("the engine at {url} does not know this unit's token: {message}", url=url, message=response.error)
            self._refused()  # forget it and pair again; registering follows the approval
        elif 400 <= response.code < 500:
            log.error(
                "the engine at {url} refused the registration ({code}): {message}; retrying in {delay} s",
                url=url,
                code=response.code,
                message=response.error,
                delay=self._backoff.cap,
            )
            self._back_off(self._backoff.cap)
        else:
            log.warn(
                "the engine at {url} answered the registration with {code}: {message}",
                url=url,
                code=response.code,
                message=response.error,
            )
            self._back_off(self._backoff.next_delay())

    @property
    def failures(self) -> int:
        """Failed attempts since the last accepted registration (or new reason to register)."""
        return self._backoff.failures

    def _back_off(self, delay: float) -> None:
        if self._stopped:
            return
        self._retry = self._clock.callLater(delay, self._start_attempt)
        log.info("registering again in {delay} s", delay=delay)

    def _cancel_retry(self):
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        self._retry = None

    def stop(self) -> None:
        """No more attempts; one in flight finishes without scheduling another."""
        self._stopped = True
        self._again = False
        self._cancel_retry()
