"""Use only an engine that proves it is the one this host paired with.

Anything on the LAN can advertise ``_rpymostat._tcp``; a paired daemon asks
each candidate to prove it holds the pairing secret before sending it a
token or a reading (docs/security.rst).  :class:`Vetting` picks among
candidate URLs in their order of preference: the first that passes the
``vet`` is used; one that fails is skipped for :data:`REFUSAL_S` (or until it
is advertised at another address or port, which is another URL); one that
cannot be asked (:class:`~rpymostat.protocol.client.Unreachable`) is not held
against it and is asked again after :data:`RETRY_S`.  Refusals expire so that
a real engine that failed once, say while its database was down, is not
ignored forever.

While a better candidate is being asked, the engine in use stays in use if it
is still offered: a rogue advertising a lower name never interrupts delivery.
The engine in use is not asked again while its URL stays offered; a move is a
new URL and is asked before it is followed.

:class:`FixedEngine` is the same for the one engine given by
``RPYMOSTAT_ENGINE_URL``.
"""

from collections.abc import Callable, Sequence

from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred, maybeDeferred
from twisted.logger import Logger

from rpymostat.protocol.client import Unreachable

#: Seconds an engine that failed its proof is skipped (unless its URL changes).
REFUSAL_S = 60.0

#: Seconds before an engine that could not be asked for its proof is asked again.
RETRY_S = 10.0


def accept_all(url: str) -> bool:
    """The vet of a daemon that checks nothing (today's behaviour without pairing)."""
    return True


class Vetting:
    """Which of the offered URLs to use, given ``vet(url) -> bool | Deferred[bool]``.

    ``changed()`` is called (never from inside :meth:`pick`) when a verdict
    or an expiry may change the pick; the caller then calls :meth:`pick`
    again with what it offers now.  Time comes from ``clock``.
    """

    log = Logger()

    def __init__(
        self,
        vet: Callable[[str], object],
        clock,
        changed: Callable[[], None],
        refusal_s: float = REFUSAL_S,
        retry_s: float = RETRY_S,
    ):
        self._vet, self._clock, self._changed = vet, clock, changed
        self.refusal_s, self.retry_s = refusal_s, retry_s
        self.chosen: str | None = None
        self._skip: dict[str, float] = {}  # url -> until when it is not asked again
        self._asking: tuple[str, Deferred] | None = None
        self._timer = None
        self._picking = False

    def pick(self, urls: Sequence[str]) -> str | None:
        """The URL to use now among ``urls`` (best first), or None; asks the best untried one."""
        self._picking = True
        try:
            self._expire()
            self.chosen = self._pick(tuple(urls))
        finally:
            self._picking = False
        self._schedule()
        return self.chosen

    def _pick(self, urls: tuple[str, ...]) -> str | None:
        for url in urls:
            if url in self._skip:
                continue
            if url != self.chosen:
                self._ask(url)  # a verdict may arrive at once, and is seen below
            if url == self.chosen:
                self._stop_asking()
                return url
            if url in self._skip:
                continue
            # ``url`` is being asked: meanwhile keep the engine in use if it is still offered.
            return self.chosen if self.chosen in urls else None
        self._stop_asking()
        return None

    def _ask(self, url: str) -> None:
        if self._asking is not None and self._asking[0] == url:
            return
        self._stop_asking()
        asking = maybeDeferred(self._vet, url)
        self._asking = (url, asking)
        asking.addCallbacks(self._verdict, self._failed, (url, asking), None, (url, asking))

    def _stop_asking(self) -> None:
        asking, self._asking = self._asking, None
        if asking is not None:
            asking[1].cancel()

    def _current(self, url: str, asking: Deferred) -> bool:
        """Whether a verdict on ``url`` still matters (it was not cancelled or superseded)."""
        if self._asking is None or self._asking[1] is not asking:
            return False
        self._asking = None
        return True

    def _verdict(self, passed, url: str, asking: Deferred) -> None:
        if not self._current(url, asking):
            return
        if passed:
            self.chosen = url
        else:
            self._skip[url] = self._clock.seconds() + self.refusal_s
        self._settled()

    def _failed(self, failure, url: str, asking: Deferred) -> None:
        if failure.check(CancelledError) or not self._current(url, asking):
            return
        if failure.check(Unreachable):
            self.log.info(
                "cannot ask the engine at {url} to prove itself ({error}); asking again in {delay:g} s",
                url=url,
                error=failure.value,
                delay=self.retry_s,
            )
        else:
            self.log.failure("asking the engine at {url} to prove itself failed", failure, url=url)
        self._skip[url] = self._clock.seconds() + self.retry_s
        self._settled()

    def _settled(self) -> None:
        if not self._picking:
            self._changed()

    def _expire(self) -> None:
        now = self._clock.seconds()
        for url in [url for url, until in self._skip.items() if until <= now]:
            del self._skip[url]

    def _schedule(self) -> None:
        """One delayed call, at the earliest expiry: an engine skipped may then be asked again."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._skip:
            delay = max(min(self._skip.values()) - self._clock.seconds(), 0)
            self._timer = self._clock.callLater(delay, self._changed)

    def stop(self) -> None:
        """Forget every verdict and leave nothing pending (on stop)."""
        self._stop_asking()
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer, self.chosen, self._skip = None, None, {}


class FixedEngine(Service):
    """The engine at a configured ``url``, in use (:meth:`current`) once it passes ``vet``."""

    log = Logger()

    def __init__(self, url: str, vet: Callable[[str], object], clock, **vetting):
        self.url = url
        self._vetting = Vetting(vet, clock, self._pick, **vetting)

    def current(self) -> str | None:
        """The engine's URL once it proved itself, else None."""
        return self._vetting.chosen

    def startService(self):
        super().startService()
        self._pick()

    def _pick(self) -> None:
        before = self._vetting.chosen
        if self._vetting.pick([self.url]) != before:
            self.log.info("using the engine at {url}", url=self.url)

    def stopService(self):
        super().stopService()
        self._vetting.stop()
