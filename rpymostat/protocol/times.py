"""The one way RPyMostat writes an instant (ISO 8601, UTC, milliseconds), and reads a wall time.

Every document that carries a time (a reading's timestamp, a relay's
``since``, a record's ``changed_at``, a sensor's ``last_seen``) uses
:func:`iso_utc`, so a client parses one shape and two documents about the same
instant hold the same string.

Milliseconds, not microseconds: they are what the sensor and relay daemons
have always sent and what a browser's ``Date`` holds, and no clock in a house
(a Pi without an RTC, an NTP-disciplined host) is right to better than a
millisecond anyway.  The fixed width also keeps strings of one shape sortable.
"""

import datetime

UTC = datetime.UTC


def iso_utc(seconds: float) -> str:
    """Epoch seconds as ISO 8601 in UTC, to the millisecond (truncated).

    Always ``YYYY-MM-DDTHH:MM:SS.mmm+00:00``, e.g. ``2026-11-25T12:00:00.000+00:00``,
    even on a whole second, so every timestamp has the same width.
    """
    return datetime.datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


def wall_to_instant(wall: datetime.datetime, zone: datetime.tzinfo) -> datetime.datetime:
    """The UTC instant a naive wall-clock time of ``zone`` takes effect at.

    The house's rule, shared by the engine's schedules and every client that
    turns a typed time into an instant: a wall time that exists is itself
    (its first occurrence when the clocks fall back and it happens twice); a
    wall time the clocks skipped when springing forward takes effect at the
    first instant after the gap.
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # In a gap, fold=0 reads the time with the offset before the change
    # (an instant after the gap) and fold=1 with the offset after it (an
    # instant before); the gap ends at the first instant between them whose
    # wall time is past ``wall``.
    low = int(wall.replace(tzinfo=zone, fold=1).astimezone(UTC).timestamp())
    high = int(first.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        moment = datetime.datetime.fromtimestamp(middle, UTC)
        if moment.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return datetime.datetime.fromtimestamp(high, UTC)
