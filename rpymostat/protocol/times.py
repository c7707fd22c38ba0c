"""The one way RPyMostat writes an instant: ISO 8601, UTC, milliseconds.

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
