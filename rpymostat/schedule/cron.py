"""Cron expressions on a wall clock, turned into instants, DST included.

croniter iterates *wall-clock* (naive) times, which never skips or repeats;
:func:`wall_to_instant` then names the instant each one means in the zone:

- a wall time that does not exist (the hour skipped when clocks spring
  forward) takes effect at the first valid instant after the gap;
- a wall time that happens twice (the hour repeated when clocks fall back)
  takes effect once, at its first occurrence.

Several wall times inside one gap land on the same instant; they count once.
"""

import datetime
from typing import Iterator
from zoneinfo import ZoneInfo

from croniter import croniter

UTC = datetime.timezone.utc

#: The most a wall clock moves at a DST transition (Lord Howe moves 30 min,
#: most zones an hour; two hours covers historical double summer time).
MAX_SHIFT = datetime.timedelta(hours=2)


def is_valid(expression: str) -> bool:
    """A five-field cron expression croniter understands."""
    return len(expression.split()) == 5 and croniter.is_valid(expression)


def wall_to_instant(wall: datetime.datetime, zone: ZoneInfo) -> datetime.datetime:
    """The UTC instant a naive wall-clock time of ``zone`` takes effect at (see module doc)."""
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


def instant_to_wall(instant: datetime.datetime, zone: ZoneInfo) -> datetime.datetime:
    """The naive wall-clock time of ``zone`` at ``instant``."""
    return instant.astimezone(zone).replace(tzinfo=None)


def starts_between(
    expression: str, zone: ZoneInfo, begin: datetime.datetime, end: datetime.datetime
) -> Iterator[datetime.datetime]:
    """Instants in ``[begin, end)`` at which ``expression`` matches, in order, each once."""
    wall = instant_to_wall(begin, zone) - MAX_SHIFT - datetime.timedelta(minutes=1)
    matches = croniter(expression, wall)
    last = None
    while True:
        instant = wall_to_instant(matches.get_next(datetime.datetime), zone)
        if instant >= end:
            return
        if instant >= begin and instant != last:
            last = instant
            yield instant


def next_start(
    expression: str, zone: ZoneInfo, after: datetime.datetime
) -> datetime.datetime:
    """The first instant strictly after ``after`` at which ``expression`` matches."""
    return NextMatch(expression, zone, after).after(after)


class NextMatch:
    """Answers "first match strictly after t" for non-decreasing t with one croniter.

    Building a croniter costs as much as several steps, so a schedule's ends
    are found by walking one iterator forward alongside its starts.
    """

    def __init__(self, expression: str, zone: ZoneInfo, earliest: datetime.datetime):
        wall = instant_to_wall(earliest, zone) - MAX_SHIFT - datetime.timedelta(minutes=1)
        self._matches = croniter(expression, wall)
        self._zone = zone
        self._current = None

    def after(self, moment: datetime.datetime) -> datetime.datetime:
        """The first match strictly after ``moment`` (never earlier than the last asked)."""
        while self._current is None or self._current <= moment:
            wall = self._matches.get_next(datetime.datetime)
            self._current = wall_to_instant(wall, self._zone)
        return self._current


def starts_before(
    expression: str, zone: ZoneInfo, before: datetime.datetime
) -> Iterator[datetime.datetime]:
    """Instants at or before ``before`` at which ``expression`` matches, newest first."""
    wall = instant_to_wall(before, zone) + MAX_SHIFT + datetime.timedelta(minutes=1)
    matches = croniter(expression, wall)
    last = None
    while True:
        instant = wall_to_instant(matches.get_prev(datetime.datetime), zone)
        if instant <= before and instant != last:
            last = instant
            yield instant
