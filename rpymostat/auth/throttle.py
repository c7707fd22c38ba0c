"""Slowing down guessing without locking out the household.

Each client address may fail to authenticate :data:`LIMIT` times within
:data:`WINDOW_S` seconds; after that, its requests without a token known to
be good are answered 429 with ``Retry-After`` until the oldest failure is a
window old.  A household device's token stays good (see
:class:`~rpymostat.auth.policy.TokenAccess`), so a neighbour's guessing from
the same address never locks it out.  Time comes from an injected monotonic
clock; addresses whose failures have all aged out are forgotten, so the table
cannot grow without bound.
"""

import collections
import math

#: Failed authentications one address may make within :data:`WINDOW_S`.
LIMIT = 10

#: The window, in seconds.
WINDOW_S = 60.0

#: Addresses tracked at most; the quietest are forgotten first beyond it.
MAX_ADDRESSES = 4096


class FailureThrottle:
    """Counts failed authentications per address on ``monotonic()``."""

    def __init__(self, monotonic, limit=LIMIT, window=WINDOW_S, max_addresses=MAX_ADDRESSES):
        self._monotonic = monotonic
        self._limit = limit
        self._window = window
        self._max_addresses = max_addresses
        self._failures = collections.OrderedDict()  # address -> deque of times, least recent first

    def failed(self, address: str) -> None:
        """Count one failed authentication from ``address``."""
        now = self._monotonic()
        times = self._recent(address, now)
        times.append(now)
        self._failures[address] = times
        self._failures.move_to_end(address)
        while len(self._failures) > self._max_addresses:
            self._failures.popitem(last=False)

    def retry_after(self, address: str) -> int | None:
        """Whole seconds until ``address`` may try again, or None if it may now."""
        now = self._monotonic()
        times = self._recent(address, now)
        if len(times) < self._limit:
            return None
        return max(1, math.ceil(times[-self._limit] + self._window - now))

    def _recent(self, address, now):
        times = self._failures.pop(address, None) or collections.deque()
        while times and times[0] <= now - self._window:
            times.popleft()
        if times:
            self._failures[address] = times
        return times

    def tracked(self) -> int:
        """Addresses with failures still counted (bounded by :data:`MAX_ADDRESSES`)."""
        return len(self._failures)
