"""The engine's lease on the outputs: its last command holds only for so long.

An engine that crashed, or a network that failed, must not leave a boiler
running for hours.  Every command the unit accepts renews the lease; when it
runs out with no command, ``on_expiry`` is called once (the service then sends
every output to its safe state and registers again).  The lease starts when
the daemon starts, so a restarted unit holds its outputs for one lease while
the engine finds it.  Time comes only from the injected clocks: the deadline
on a monotonic one, the wake-up on the reactor's.

An exception from ``on_expiry`` is logged and counted (:attr:`Lease.failures`),
never lost in the reactor: the next command still starts a new lease, and
the service's own handler retries what failed.
"""

from collections.abc import Callable

from twisted.logger import Logger

log = Logger()


class Lease:
    """A renewable deadline of ``seconds``, measured on ``monotonic``, woken by ``clock``.

    ``clock`` (an IReactorTime) only wakes the lease up; whether it has run
    out is judged on ``monotonic`` (a callable, default ``clock.seconds``):
    Twisted's timers follow the wall clock, and NTP setting a Pi's clock
    forward at boot must not end the engine's lease early, nor a step back
    stretch it.  A timer that fires early re-arms for what is really left;
    :meth:`check` (the unit's heartbeat calls it) catches one that fires late.
    """

    def __init__(self, clock, seconds: float, on_expiry: Callable[[], None], monotonic=None):
        self._clock = clock
        self._monotonic = monotonic if monotonic is not None else clock.seconds
        self.seconds = seconds
        self._on_expiry = on_expiry
        self._call = None
        self._deadline = None  # on the monotonic clock, while the lease runs
        self._stopped = False
        #: Expiries whose handler raised (each logged with its traceback).
        self.failures = 0

    def start(self) -> None:
        """Start (or restart) the full lease from now."""
        self._stopped = False
        self.renew()

    def renew(self) -> None:
        """The engine spoke: the lease runs ``seconds`` from now, whether it had expired or not.

        Does nothing once stopped: a command racing the daemon's shutdown must
        not arm an expiry after the outputs were released.
        """
        if self._stopped:
            return
        self._deadline = self._monotonic() + self.seconds
        self._arm(self.seconds)

    def _arm(self, delay) -> None:
        if self._call is not None and self._call.active():
            self._call.reset(delay)
        else:
            self._call = self._clock.callLater(delay, self.check)

    def check(self) -> None:
        """Expire the lease if it has really run out; else wait for what is left."""
        if self._deadline is None:
            return
        left = self._deadline - self._monotonic()
        if left > 0:
            self._arm(left)
            return
        self._deadline = None
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        try:
            self._on_expiry()
        except Exception:
            self.failures += 1
            log.failure("handling the lease expiry failed")

    def expires_in(self) -> float | None:
        """Seconds left, or None when the lease has expired (or was stopped)."""
        if self._deadline is None:
            return None
        return max(0.0, self._deadline - self._monotonic())

    def stop(self) -> None:
        """Cancel the lease without calling ``on_expiry`` (the daemon is stopping)."""
        self._stopped = True
        self._deadline = None
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
