"""Cron expressions on a wall clock, turned into instants, DST included.

croniter parses each expression; matches are found on the *wall clock*
(naive times, which never skip or repeat), and :func:`wall_to_instant` names
the instant each one means in the zone:

- a wall time that does not exist (the hour skipped when clocks spring
  forward) takes effect at the first valid instant after the gap;
- a wall time that happens twice (the hour repeated when clocks fall back)
  takes effect once, at its first occurrence.

Several wall times inside one gap land on the same instant; they count once.

Stepping croniter costs tens of microseconds a match, too slow for a
crowded week of schedules, so plain expressions (lists, ranges and steps of
numbers) are matched a day at a time against croniter's own expansion of
the fields, with its day-of-month/day-of-week "or" rule.  Anything fancier
(``L``, ``#``) is stepped by croniter itself.  A property test checks both
ways agree.
"""

import datetime
import functools
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from croniter import croniter

from rpymostat.protocol.times import wall_to_instant  # the house's rule, shared with the web UI

UTC = datetime.UTC
ONE_DAY = datetime.timedelta(days=1)

#: The most a wall clock moves at a DST transition (most zones move an hour;
#: two hours covers historical double summer time).
MAX_SHIFT = datetime.timedelta(hours=2)

#: How far to look for a match before deciding an expression never matches
#: (eight years covers the leap-day cycle, as "0 0 29 2 *").
SEARCH_DAYS = 8 * 366


def is_valid(expression: str) -> bool:
    """A five-field cron expression croniter understands, that matches at some time."""
    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        return False
    start = datetime.datetime(2000, 1, 1)
    return next(compile_expression(expression).walls_from(start), None) is not None


def instant_to_wall(instant: datetime.datetime, zone: ZoneInfo) -> datetime.datetime:
    """The naive wall-clock time of ``zone`` at ``instant``."""
    return instant.astimezone(zone).replace(tzinfo=None)


class _DayMatcher:
    """A plain cron expression, matched a day at a time from croniter's expansion."""

    def __init__(self, expanded):
        minutes, hours, days, months, weekdays = expanded
        minutes = range(60) if minutes == ["*"] else minutes
        hours = range(24) if hours == ["*"] else hours
        self._times = sorted(datetime.time(h, m) for h in hours for m in minutes)
        self._days = None if days == ["*"] else frozenset(days)
        self._months = None if months == ["*"] else frozenset(months)
        self._weekdays = None if weekdays == ["*"] else frozenset(d % 7 for d in weekdays)

    def matches(self, day: datetime.date) -> bool:
        if self._months is not None and day.month not in self._months:
            return False
        day_ok = self._days is None or day.day in self._days
        weekday_ok = self._weekdays is None or (day.weekday() + 1) % 7 in self._weekdays
        if self._days is not None and self._weekdays is not None:
            return day_ok or weekday_ok  # cron's rule when both are restricted
        return day_ok and weekday_ok

    def walls_from(self, wall: datetime.datetime) -> Iterator[datetime.datetime]:
        day = wall.date()
        for _ in range(SEARCH_DAYS):
            if self.matches(day):
                for moment in self._times:
                    candidate = datetime.datetime.combine(day, moment)
                    if candidate >= wall:
                        yield candidate
            day += ONE_DAY

    def walls_until(self, wall: datetime.datetime) -> Iterator[datetime.datetime]:
        day = wall.date()
        for _ in range(SEARCH_DAYS):
            if self.matches(day):
                for moment in reversed(self._times):
                    candidate = datetime.datetime.combine(day, moment)
                    if candidate <= wall:
                        yield candidate
            day -= ONE_DAY


class _Stepper:
    """Any other expression, stepped by croniter (at most ``SEARCH_DAYS`` of matches)."""

    def __init__(self, expression):
        self._expression = expression

    def walls_from(self, wall):
        matches = croniter(self._expression, wall - datetime.timedelta(seconds=1))
        limit = wall + SEARCH_DAYS * ONE_DAY
        while True:
            candidate = matches.get_next(datetime.datetime)
            if candidate > limit:
                return
            yield candidate

    def walls_until(self, wall):
        matches = croniter(self._expression, wall + datetime.timedelta(seconds=1))
        limit = wall - SEARCH_DAYS * ONE_DAY
        while True:
            candidate = matches.get_prev(datetime.datetime)
            if candidate < limit:
                return
            yield candidate


@functools.lru_cache(maxsize=1024)
def compile_expression(expression: str):
    """A matcher of wall-clock times for ``expression`` (``walls_from``/``walls_until``)."""
    expanded, nth_weekdays = croniter.expand(expression)
    plain = not nth_weekdays and all(
        field == ["*"] or all(isinstance(value, int) for value in field) for field in expanded
    )
    return _DayMatcher(expanded) if plain else _Stepper(expression)


def starts_between(
    expression: str, zone: ZoneInfo, begin: datetime.datetime, end: datetime.datetime
) -> Iterator[datetime.datetime]:
    """Instants in ``[begin, end)`` at which ``expression`` matches, in order, each once."""
    last = None
    for wall in compile_expression(expression).walls_from(instant_to_wall(begin, zone) - MAX_SHIFT):
        instant = wall_to_instant(wall, zone)
        if instant >= end:
            return
        if instant >= begin and instant != last:
            last = instant
            yield instant


def starts_before(expression: str, zone: ZoneInfo, before: datetime.datetime) -> Iterator[datetime.datetime]:
    """Instants at or before ``before`` at which ``expression`` matches, newest first."""
    last = None
    for wall in compile_expression(expression).walls_until(instant_to_wall(before, zone) + MAX_SHIFT):
        instant = wall_to_instant(wall, zone)
        if instant <= before and instant != last:
            last = instant
            yield instant


def next_start(expression: str, zone: ZoneInfo, after: datetime.datetime) -> datetime.datetime:
    """The first instant strictly after ``after`` at which ``expression`` matches."""
    return NextMatch(expression, zone, after).after(after)


class NextMatch:
    """Answers "first match strictly after t" for non-decreasing t with one walk.

    A schedule's ends are found by walking its end expression forward
    alongside its starts rather than searching afresh for each.
    """

    def __init__(self, expression: str, zone: ZoneInfo, earliest: datetime.datetime):
        walls = compile_expression(expression).walls_from(instant_to_wall(earliest, zone) - MAX_SHIFT)
        self._instants = (wall_to_instant(wall, zone) for wall in walls)
        self._current = None

    def after(self, moment: datetime.datetime) -> datetime.datetime:
        """The first match strictly after ``moment``; raises LookupError if there is none."""
        while self._current is None or self._current <= moment:
            self._current = next(self._instants, None)
            if self._current is None:
                raise LookupError("the cron expression never matches again")
        return self._current
