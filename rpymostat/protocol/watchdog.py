"""systemd's service notifications (``sd_notify``), so a stuck daemon is restarted.

A daemon whose process is alive but whose loop has stopped (a hung thread, a
deadlocked library) looks healthy to ``Restart=on-failure``.  systemd's
watchdog catches it: with ``Type=notify`` and ``WatchdogSec=`` in the unit,
systemd expects ``WATCHDOG=1`` at least that often and restarts the service
when it stops coming.  The pings must come from the daemon's own loop (never
from a timer of their own), so that they stop exactly when the loop does.

The protocol is a datagram of ``KEY=value`` lines to the Unix socket named by
``$NOTIFY_SOCKET`` (``@`` at its start means the abstract namespace).  It is
written here with the standard library, so no host needs libsystemd bindings.
Without ``$NOTIFY_SOCKET`` (tests, a shell, another service manager) every
call does nothing.  Sending never raises: a watchdog that cannot speak must
not stop the loop it watches.
"""

import os
import socket
from collections.abc import Mapping

from twisted.logger import Logger

log = Logger()


class Watchdog:
    """Notifications for the service manager named by ``environ`` (``os.environ`` by default).

    ``interval`` is the watchdog period systemd asked for, in seconds
    (``$WATCHDOG_USEC``, honoured only when ``$WATCHDOG_PID`` is unset or this
    process), or None when no watchdog is running.  A loop must ping well
    within it; :meth:`check_period` says whether a loop period does.
    """

    def __init__(self, environ: Mapping[str, str] | None = None):
        environ = os.environ if environ is None else environ
        address = environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]
        self._address = address or None
        self.interval = _watchdog_interval(environ)
        self.sent = 0  # datagrams sent, for tests and status
        self._socket = None

    @property
    def enabled(self) -> bool:
        """Whether a service manager listens (``$NOTIFY_SOCKET`` is set)."""
        return self._address is not None

    def check_period(self, name: str, period: float) -> bool:
        """Whether a loop of ``period`` seconds pings often enough; logs a warning if not.

        A ping every period must fit twice in the watchdog interval, so one
        slow iteration does not get a healthy daemon killed.
        """
        if self.interval is None or period * 2 <= self.interval:
            return True
        log.warn(
            "{name} runs every {period:g} s but systemd's WatchdogSec is {interval:g} s;"
            " set WatchdogSec to at least {needed:g} s or the daemon will be restarted",
            name=name,
            period=period,
            interval=self.interval,
            needed=period * 2,
        )
        return False

    def ready(self, status: str = "") -> None:
        """Start-up is done (``Type=notify`` units wait for this)."""
        self._send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def ping(self) -> None:
        """The loop went round once: the process is alive and working."""
        self._send("WATCHDOG=1")

    def status(self, text: str) -> None:
        """A line ``systemctl status`` shows."""
        self._send(f"STATUS={text}")

    def stopping(self) -> None:
        """Shutdown has begun; systemd stops expecting pings."""
        self._send("STOPPING=1")

    def _send(self, message: str) -> None:
        if self._address is None:
            return
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._socket.sendto(message.encode("utf-8"), self._address)
            self.sent += 1
        except OSError as error:
            log.warn("could not notify systemd ({message}): {error}", message=message.split("\n")[0], error=error)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _watchdog_interval(environ) -> float | None:
    """``$WATCHDOG_USEC`` in seconds when it is meant for this process, else None."""
    pid = environ.get("WATCHDOG_PID")
    if pid and pid.strip() != str(os.getpid()):
        return None
    try:
        microseconds = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return microseconds / 1e6 if microseconds > 0 else None
