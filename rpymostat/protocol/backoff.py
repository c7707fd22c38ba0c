"""Capped exponential backoff, as every daemon retries the engine.

The delays double from ``first`` up to ``cap`` and stay there: with the
defaults 1, 2, 4 … 256, then 300 s between tries until :meth:`Backoff.reset`.
Only the next delay is kept, not ``first * 2 ** failures``, so an engine gone
for weeks never makes the arithmetic overflow.
"""


class Backoff:
    """The delays before successive retries; ``failures`` counts them since the last reset."""

    def __init__(self, first: float = 1.0, cap: float = 300.0):
        self.first, self.cap = first, cap
        self.reset()

    def reset(self) -> None:
        """It worked: the next failure waits ``first`` again."""
        self.failures = 0
        self._next = min(self.first, self.cap)

    def next_delay(self) -> float:
        """One more failure: the seconds to wait before the next try."""
        delay = self._next
        self._next = min(delay * 2, self.cap)
        self.failures += 1
        return delay
