"""ISO 8601 durations as people mean them: days on the wall clock, hours as elapsed time.

"For a day" (``P1D``) means "until this time tomorrow", which on the day
clocks fall back is 25 real hours and on the day they spring forward 23.
"For 24 hours" (``PT24H``) means 24 real hours.  ISO 8601 calls the first
kind *nominal* (weeks and days; months and years are refused earlier, as
their length also depends on the month) and the second *exact* (hours,
minutes, seconds).

So a :class:`Duration` keeps the two apart, and :meth:`Duration.after` adds
the nominal days to the start's wall-clock time in the engine's zone, maps
that wall time to an instant exactly as cron start times are mapped
(:func:`rpymostat.schedule.cron.wall_to_instant`: a time in the hour skipped
in spring takes effect as the gap ends, a time in the repeated autumn hour at
its first occurrence), and then adds the exact part as elapsed time.  This is
the order RFC 5545 and most calendar libraries use.  A fraction of a day or
week (``P1.5D``) counts its whole days on the wall clock and the rest as
elapsed time.

A plain :class:`datetime.timedelta` stands for an exact duration wherever a
duration is accepted, so rules built in code keep their meaning.
"""

import dataclasses
import datetime
import decimal
import math
from zoneinfo import ZoneInfo

from rpymostat.schedule import cron

ONE_DAY = datetime.timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class Duration:
    """``days`` whole days on the wall clock, then ``exact`` elapsed time."""

    days: int = 0
    exact: datetime.timedelta = datetime.timedelta(0)

    @property
    def length(self) -> datetime.timedelta:
        """The length if every day had 24 hours: for limits and "is it positive", not for ends."""
        return self.days * ONE_DAY + self.exact

    def after(self, start: datetime.datetime, zone: ZoneInfo) -> datetime.datetime:
        """When this duration, begun at the instant ``start``, ends (see the module doc)."""
        moment = start
        if self.days:
            wall = cron.instant_to_wall(start, zone) + self.days * ONE_DAY
            moment = cron.wall_to_instant(wall, zone)
        return moment + self.exact

    def before(self, end: datetime.datetime, zone: ZoneInfo) -> datetime.datetime:
        """When this duration must begin to end at the instant ``end`` (``after`` undone)."""
        moment = end - self.exact
        if self.days:
            wall = cron.instant_to_wall(moment, zone) - self.days * ONE_DAY
            moment = cron.wall_to_instant(wall, zone)
        return moment


AnyDuration = Duration | datetime.timedelta


def from_parts(weeks, days, total: datetime.timedelta) -> Duration:
    """The :class:`Duration` of ISO 8601 ``weeks`` and ``days`` (decimal strings or None)
    whose total length, counting 24-hour days, is ``total``."""
    nominal = decimal.Decimal(weeks or 0) * 7 + decimal.Decimal(days or 0)
    whole_days = math.floor(nominal)
    return Duration(whole_days, total - whole_days * ONE_DAY)


def end_after(start: datetime.datetime, duration: AnyDuration, zone: ZoneInfo) -> datetime.datetime:
    """The end of ``duration`` begun at ``start``; a timedelta is exact elapsed time."""
    if isinstance(duration, Duration):
        return duration.after(start, zone)
    return start + duration
