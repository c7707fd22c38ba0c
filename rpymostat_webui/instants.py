"""Engine times ⇄ Python: the one place that reads the engine's instants and writes them back.

The engine answers with UTC ISO 8601 text (``...+00:00``, sometimes ``Z``)
and is asked with UTC text ending in ``Z`` (a ``+`` in a URL would arrive as
a space).  People type and read wall times on the house's clock, and two
wall times a year are special: the hour skipped when clocks spring forward,
and the one repeated when they fall back.
:func:`rpymostat.protocol.times.wall_to_instant`, the engine's own code for
it, reads them as the engine reads a cron start or a duration's end
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
