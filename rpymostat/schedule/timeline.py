"""From rules to a timeline: which setpoints are in force, from when, and why.

Every rule becomes *occurrences*, intervals during which it asks for
setpoints.  At each instant the winning occurrence is chosen by precedence:

1. kind: hold > override > schedule > zone default;
2. within a kind, the most specific: the occurrence covering that instant
   that is shortest;
3. then the higher ``priority`` (schedules);
4. then the rule changed most recently; then the rule id, so the answer is
   always the same.

The timeline is the sequence of segments between consecutive occurrence
boundaries, each with its winner, adjacent equal segments merged.  It is a
pure function of the rules, the zone default, the time zone and the window:
nothing here reads a clock.  A schedule's duration ends as
:mod:`rpymostat.schedule.durations` says: ``P1D`` from midnight reaches the
next midnight even on a 23- or 25-hour day.
"""

import bisect
import dataclasses
import datetime
import heapq
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from rpymostat.schedule import cron, durations
from rpymostat.schedule.rules import Hold, Kind, Override, Schedule, Setpoints, Source, Until

#: How far after its start "until the next schedule change" looks for one;
#: a hold or override finding none ends there rather than never.
NEXT_SCHEDULE_HORIZON = datetime.timedelta(days=14)

#: The length given to an occurrence without an end, for "shortest wins".
_OPEN_ENDED = datetime.timedelta(days=100000)

#: At most this many occurrences of one schedule are looked at backwards
#: from the window's start for one that still covers it.
_MAX_LOOKBACK = 1000


@dataclasses.dataclass(frozen=True)
class Occurrence:
    """One interval ``[start, end)`` of a rule (``end`` None: until removed)."""

    start: datetime.datetime
    end: datetime.datetime | None
    kind: Kind
    rule_id: str
    name: str
    setpoints: Setpoints
    priority: int
    changed_at: datetime.datetime

    def covers(self, instant) -> bool:
        return self.start <= instant and (self.end is None or instant < self.end)

    def rank(self):
        """Sort key: the highest rank wins (see the module docstring)."""
        length = _OPEN_ENDED if self.end is None else self.end - self.start
        return (self.kind, -length, self.priority, self.changed_at, self.rule_id)


@dataclasses.dataclass(frozen=True)
class Segment:
    """``[start, end)`` during which ``setpoints`` from ``source`` are in force."""

    start: datetime.datetime
    end: datetime.datetime
    setpoints: Setpoints
    source: Source


def schedule_occurrences(schedule: Schedule, zone: ZoneInfo, begin, end):
    """Occurrences of ``schedule`` that overlap ``[begin, end)``."""
    if not schedule.enabled:
        return []
    lookback = list(_lookback_starts(schedule, zone, begin))
    ends = None
    if schedule.duration is None:
        ends = cron.NextMatch(schedule.end, zone, lookback[-1] if lookback else begin)

    def finish(start):
        if ends is None:
            return durations.end_after(start, schedule.duration, zone)
        return ends.after(start)

    def occurrence(start):
        return Occurrence(
            start,
            finish(start),
            Kind.SCHEDULE,
            schedule.id,
            schedule.name,
            schedule.setpoints,
            schedule.priority,
            schedule.changed_at,
        )

    found = [occurrence(start) for start in reversed(lookback)]
    found += [occurrence(start) for start in cron.starts_between(schedule.start, zone, begin, end) if start != begin]
    return [candidate for candidate in found if candidate.end > begin]


def _lookback_starts(schedule, zone, begin):
    """Starts at or before ``begin`` whose occurrence may still cover it, newest first.

    An occurrence's end never comes before that of an earlier start, so the
    walk back stops at the first one that ended by ``begin``.
    """
    for count, start in enumerate(cron.starts_before(schedule.start, zone, begin)):
        if count >= _MAX_LOOKBACK:
            return
        if schedule.duration is not None:
            end = durations.end_after(start, schedule.duration, zone)
        else:
            end = cron.next_start(schedule.end, zone, start)
        yield start
        if end <= begin:
            return


def next_schedule_change(schedules, zone, after):
    """When what the schedules ask for next changes after ``after`` (at most the horizon).

    Looks one day ahead first, then further, since most houses change daily.
    """
    limit = after + NEXT_SCHEDULE_HORIZON
    span = datetime.timedelta(days=1)
    while True:
        stop = min(after + span, limit)
        first = build(schedules, (), (), Setpoints(), zone, after, stop)[0]
        if first.end < stop or stop == limit:
            return first.end
        span *= 2


class ScheduleChanges:
    """ "When do the schedules next change after t?" answered from one shared timeline.

    The schedule-only timeline of ``[begin, end)`` is built once from
    ``found`` (those schedules' occurrences); an answer that lies beyond it
    is searched for afresh.
    """

    def __init__(self, schedules, zone, found, begin, end):
        self._schedules, self._zone, self._end = schedules, zone, end
        self._segments = _segments(found, Setpoints(), begin, end)
        self._starts = [segment.start for segment in self._segments]

    def after(self, moment):
        index = bisect.bisect_right(self._starts, moment) - 1
        if index >= 0 and self._segments[index].end < self._end:
            return self._segments[index].end
        return next_schedule_change(self._schedules, self._zone, moment)


def occurrences(schedules, overrides, holds, zone, begin, end):
    """Every occurrence of every rule overlapping ``[begin, end)``."""
    one_time = [
        (kind, rule)
        for kind, rules in ((Kind.OVERRIDE, overrides), (Kind.HOLD, holds))
        for rule in rules
        # A rule that began a horizon or more before the window cannot reach it.
        if rule.start < end and (rule.end or rule.start + NEXT_SCHEDULE_HORIZON) > begin
    ]
    waiting = [rule.start for _, rule in one_time if rule.until is Until.NEXT_SCHEDULE]
    low = min([begin] + waiting)
    high = max([end] + [start + datetime.timedelta(days=1) for start in waiting])
    scheduled = [candidate for schedule in schedules for candidate in schedule_occurrences(schedule, zone, low, high)]
    changes = ScheduleChanges(schedules, zone, scheduled, low, high) if waiting else None
    found = [c for c in scheduled if c.start < end and c.end > begin]
    for kind, rule in one_time:
        stop = changes.after(rule.start) if rule.until is Until.NEXT_SCHEDULE else rule.end
        if stop is None or stop > begin:
            found.append(Occurrence(rule.start, stop, kind, rule.id, rule.name, rule.setpoints, 0, rule.changed_at))
    return found


def winners(found: Sequence[Occurrence], instants):
    """The occurrence in force at each of the ascending ``instants`` (None: the default).

    A sweep: occurrences join a heap, best rank on top, as the instants pass
    their starts, and leave it lazily once they have ended.
    """
    by_rank = sorted(found, key=Occurrence.rank, reverse=True)
    place = {id(candidate): index for index, candidate in enumerate(by_rank)}
    by_start = sorted(found, key=lambda candidate: candidate.start)
    heap, joined = [], 0
    for instant in instants:
        while joined < len(by_start) and by_start[joined].start <= instant:
            heapq.heappush(heap, (place[id(by_start[joined])], by_start[joined]))
            joined += 1
        while heap and heap[0][1].end is not None and heap[0][1].end <= instant:
            heapq.heappop(heap)
        yield heap[0][1] if heap else None


def build(
    schedules: Sequence[Schedule],
    overrides: Sequence[Override],
    holds: Sequence[Hold],
    default: Setpoints,
    zone: ZoneInfo,
    begin: datetime.datetime,
    end: datetime.datetime,
):
    """The timeline of ``[begin, end)``: contiguous segments, adjacent equal ones merged."""
    return _segments(occurrences(schedules, overrides, holds, zone, begin, end), default, begin, end)


def _segments(found, default, begin, end):
    """Segments of ``[begin, end)`` from the occurrences ``found`` (see the module doc)."""
    boundaries = {begin, end}
    for candidate in found:
        boundaries.update(
            moment for moment in (candidate.start, candidate.end) if moment is not None and begin < moment < end
        )
    ordered = sorted(boundaries)
    segments = []
    for start, stop, chosen in zip(ordered, ordered[1:], winners(found, ordered)):
        if chosen is None:
            setpoints, source = default, Source(Kind.DEFAULT, None, "zone default")
        else:
            setpoints = chosen.setpoints
            source = Source(chosen.kind, chosen.rule_id, chosen.name)
        previous = segments[-1] if segments else None
        if previous and previous.setpoints == setpoints and previous.source == source:
            segments[-1] = dataclasses.replace(previous, end=stop)
        else:
            segments.append(Segment(start, stop, setpoints, source))
    return segments
