"""Rule documents (the JSON users write and storage keeps) to rule objects.

The API checks and normalises a document once, when it is written
(:mod:`rpymostat.api.rules_input`); what is stored is then always turned into
the same rule here, so a restart computes exactly the timeline it had.
Stored overrides and holds carry absolute ``start``/``end`` instants, or an
``until``; schedules keep their cron expressions and ISO 8601 durations.

ISO 8601 durations and intervals are parsed by aniso8601; months and years
are refused because their length depends on when they start.  Days and weeks
are counted on the wall clock of the engine's zone, hours, minutes and
seconds as elapsed time (:mod:`rpymostat.schedule.durations`), so an end
computed from a duration must go through :func:`end_after`.
"""

import datetime

import aniso8601
from aniso8601.builders import TupleBuilder
from aniso8601.builders.python import PythonTimeBuilder

from rpymostat.schedule import cron, durations
from rpymostat.schedule.rules import Hold, Override, Schedule, Setpoints, Until

UTC = datetime.UTC

#: The longest duration a rule may give: long enough for any absence, short
#: enough that a typo (P99999999D) cannot push times out of the calendar.
MAX_DURATION = datetime.timedelta(days=366)

#: Rule times must lie in this range: the engine's clock is in it, and date
#: arithmetic near the ends of the calendar would overflow.
EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime.datetime(2100, 1, 1, tzinfo=UTC)


def _duration(parts, text) -> durations.Duration:
    """The :class:`~rpymostat.schedule.durations.Duration` of aniso8601's tuple ``parts``."""
    if parts.PnY or parts.PnM:
        raise ValueError(f"{text!r} uses months or years, whose length varies; use days or weeks")
    total = PythonTimeBuilder.build_duration(**parts._asdict())
    return durations.from_parts(parts.PnW, parts.PnD, total)


def parse_calendar_duration(text: str) -> durations.Duration:
    """A positive ISO 8601 duration in weeks, days, hours, minutes and seconds, at most
    :data:`MAX_DURATION` (days counted as 24 hours for that limit)."""
    try:
        parts = aniso8601.parse_duration(text, builder=TupleBuilder)
        aniso8601.parse_duration(text)
    except (aniso8601.exceptions.ISOFormatError, ValueError, TypeError, OverflowError):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT2H or P1D") from None
    duration = _duration(parts, text)
    if duration.length <= datetime.timedelta(0):
        raise ValueError(f"{text!r} is not longer than zero")
    if duration.length > MAX_DURATION:
        raise ValueError(f"{text!r} is longer than {MAX_DURATION.days} days")
    return duration


def parse_duration(text: str) -> datetime.timedelta:
    """The length of a checked duration (:func:`parse_calendar_duration`), days as 24 hours.

    Good for limits only: where a duration ends depends on DST, see :func:`end_after`.
    """
    return parse_calendar_duration(text).length


def end_after(start: datetime.datetime, text: str, zone) -> datetime.datetime:
    """When the duration ``text`` begun at the instant ``start`` ends: days on ``zone``'s
    wall clock, hours as elapsed time.  Raises ValueError as :func:`parse_calendar_duration`."""
    return parse_calendar_duration(text).after(start, zone)


def in_range(instant: datetime.datetime, text) -> datetime.datetime:
    """``instant`` if it lies in 2000..2099, else ValueError quoting ``text``."""
    if not EARLIEST <= instant < LATEST:
        raise ValueError(f"{text!r} is not between the years 2000 and 2099")
    return instant


def to_instant(moment, zone) -> datetime.datetime:
    """A date, naive or aware datetime as a UTC instant; naive ones are wall time in ``zone``."""
    if not isinstance(moment, datetime.datetime):
        moment = datetime.datetime.combine(moment, datetime.time())
    if moment.tzinfo is None:
        return cron.wall_to_instant(moment, zone)
    return moment.astimezone(UTC)


def parse_instant(text: str, zone) -> datetime.datetime:
    """An ISO 8601 date or date-time; without an offset it is wall time in ``zone``."""
    try:
        moment = datetime.datetime.fromisoformat(text)
    except (ValueError, TypeError):
        # A "+01:00" typed into a URL's query arrives as " 01:00": say so.
        hint = " (in a URL, write '+' as %2B, or give the time in UTC with Z)" if " " in str(text) else ""
        raise ValueError(f"{text!r} is not an ISO 8601 date and time{hint}") from None
    if not 2000 <= moment.year <= 2099:
        raise ValueError(f"{text!r} is not between the years 2000 and 2099")
    return in_range(to_instant(moment, zone), text)


def parse_interval(text: str, zone):
    """An ISO 8601 interval (``start/end``, ``start/duration`` or ``duration/end``) as instants.

    A duration side is counted as :func:`end_after` counts it, from the
    other side's instant (aniso8601 would add it to a naive wall time, making
    ``PT24H`` a calendar day, or to a fixed UTC offset, making ``P1D`` 24 hours).
    """
    try:
        parts = aniso8601.parse_interval(text, builder=TupleBuilder)
        given, other = aniso8601.parse_interval(text)
    except (aniso8601.exceptions.ISOFormatError, ValueError, TypeError, OverflowError):
        raise ValueError(f"{text!r} is not an ISO 8601 interval such as 2026-12-21/2026-12-28") from None
    if not all(2000 <= moment.year <= 2099 for moment in (given, other)):
        raise ValueError(f"{text!r} is not between the years 2000 and 2099")
    if parts.duration is None:
        start, end = sorted((to_instant(given, zone), to_instant(other, zone)))
    elif parts.start is not None:
        start = to_instant(given, zone)
        end = _duration(parts.duration, text).after(start, zone)
    else:
        end = to_instant(given, zone)
        start = _duration(parts.duration, text).before(end, zone)
    return in_range(start, text), in_range(end, text)


def iso(instant: datetime.datetime) -> str:
    """A UTC instant as stored: ISO 8601 with ``+00:00``."""
    return instant.astimezone(UTC).isoformat()


def instant(seconds: float) -> datetime.datetime:
    """Epoch seconds (as clocks and storage give them) as an aware UTC datetime."""
    return datetime.datetime.fromtimestamp(seconds, UTC)


def setpoints_from(document) -> Setpoints:
    return Setpoints(
        heat=document.get("heat_setpoint"),
        cool=document.get("cool_setpoint"),
        sensors=document.get("sensors"),
    )


def changed(record) -> datetime.datetime:
    return instant(record.changed_at)


def schedule_from(record) -> Schedule:
    """The :class:`Schedule` of a stored schedule document."""
    document = record.document
    duration = document.get("duration")
    return Schedule(
        id=record.rule_id,
        name=document["name"],
        zone=record.zone,
        start=document["start"],
        end=document.get("end"),
        duration=parse_calendar_duration(duration) if duration else None,
        setpoints=setpoints_from(document),
        priority=document.get("priority", 0),
        enabled=document.get("enabled", True),
        changed_at=changed(record),
    )


def _one_time_fields(record):
    document = record.document
    end = document.get("end")
    until = document.get("until")
    return dict(
        id=record.rule_id,
        zone=record.zone,
        start=datetime.datetime.fromisoformat(document["start"]),
        end=datetime.datetime.fromisoformat(end) if end else None,
        until=Until(until) if until else None,
        setpoints=setpoints_from(document),
        changed_at=changed(record),
    )


def override_from(record) -> Override:
    """The :class:`Override` of a stored (normalised) override document."""
    return Override(name=record.document.get("name") or "override", **_one_time_fields(record))


def hold_from(record) -> Hold:
    """The :class:`Hold` of a stored (normalised) hold document."""
    return Hold(name=record.document.get("name") or "hold", **_one_time_fields(record))
