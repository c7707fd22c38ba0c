"""Engine times ⇄ Python: the one place that reads the engine's instants, writes them back, and maps wall times.

The engine answers with UTC ISO 8601 text (``...+00:00``, sometimes ``Z``)
and is asked with UTC text ending in ``Z`` (a ``+`` in a URL would arrive as
a space).  People type and read wall times on the house's clock, and two
wall times a year are special: the hour skipped when clocks spring forward,
and the one repeated when they fall back.  :func:`wall_instant` reads them
exactly as the engine reads a cron start or a duration's end
(docs/scheduling.rst, "Daylight saving time"): a time in the skipped hour
takes effect when the gap ends (02:30 on the Berlin spring Sunday is 03:00
CEST), one in the repeated hour at its first occurrence.  Pages, the week
grid and the history periods all use it, so a typed 02:30 means the same
instant everywhere the engine and the UI meet.

Pure: no Flask, no engine.
"""

import datetime

UTC = datetime.UTC


def instant(text) -> datetime.datetime | None:
    """An engine time (ISO 8601, ``Z`` or an offset) as an aware datetime; None for none or for
    text that is not a time.  A time without an offset is UTC (the engine's times always are)."""
    if not text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc_text(moment: datetime.datetime) -> str:
    """An aware instant as the engine is asked for it: ``2026-12-20T07:00:00Z`` (whole seconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wall_instant(wall: datetime.datetime, zone: datetime.tzinfo) -> datetime.datetime:
    """The UTC instant a naive wall time of ``zone`` takes effect at, by the engine's rule.

    The same arithmetic as the engine's ``schedule.cron.wall_to_instant``
    (the UI never imports engine code): an existing time is itself (its
    first occurrence when repeated); a skipped one is the first instant
    after the gap.
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # In a gap, fold=0 reads the time with the offset before the change (an
    # instant after the gap) and fold=1 with the offset after it (an instant
    # before); the gap ends at the first whole second between them whose wall
    # time is not before ``wall``.
    low = int(wall.replace(tzinfo=zone, fold=1).astimezone(UTC).timestamp())
    high = int(first.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.datetime.fromtimestamp(middle, UTC).astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return datetime.datetime.fromtimestamp(high, UTC)
