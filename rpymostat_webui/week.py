"""The engine's wall clock for pages: a week of its timeline as rows of blocks, and local ⇄ UTC times.

People read a schedule as "Monday 06:30 to 08:00", on the clock of the
house, which is the engine's time zone (``context.timezone()`` in a view,
handed in here as a ``ZoneInfo``), not the browser's or the server's.  So
the week is cut into days at the house's local midnights, and each block
says its wall times in words as well as drawing a bar: colour is never the
only way to read it.

A day is 23 or 25 hours long when the clocks change; a block's position
(``left``/``width``, fractions of the day) is measured in elapsed time of
that day, so blocks always tile the row without overlapping, even in the
repeated autumn hour, while their labels keep the wall times.  Wall times
become instants by the engine's rule (:func:`rpymostat.protocol.times.wall_to_instant`).

Pure: no Flask, no engine; the view asks the engine and hands the answer in.
"""

import dataclasses
import datetime
import re

from rpymostat.protocol.times import wall_to_instant
from rpymostat_webui import instants

UTC = datetime.UTC
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

#: The days a week may be chosen by: the engine's timeline covers 2000 to 2099 only, so the first
#: week is the one of Monday 3 January 2000 and the last ends on Sunday 27 December 2099 (and a
#: year 1 or 9999 would overflow Python's dates).
FIRST_DAY, LAST_DAY = datetime.date(2000, 1, 3), datetime.date(2099, 12, 27)

#: Colour classes by heating setpoint (upper bound exclusive, Celsius), so a glance tells warm from setback.
HEAT_CLASSES = ((16.0, "heat-away"), (19.0, "heat-low"), (21.0, "heat-mid"), (23.0, "heat-high"))
HEAT_TOP = "heat-max"


@dataclasses.dataclass(frozen=True)
class Block:
    """One stretch of a day with the same target: where it sits in the row and what it says."""

    start: str  # wall time "06:30"
    end: str  # wall time "08:00"; "24:00" when it runs to the day's end
    left: float  # fraction of the day (elapsed time) where it begins
    width: float  # fraction of the day it lasts
    heat: float | None
    cool: float | None
    kind: str  # schedule, override, hold or default
    name: str | None
    colour: str


@dataclasses.dataclass(frozen=True)
class Day:
    date: datetime.date
    label: str  # "Mon 14 Dec"
    blocks: tuple[Block, ...]


class InvalidWeek(ValueError):
    """The page was asked for a week it cannot show; the message names the field and what it takes."""


def parse_week(text: str | None) -> datetime.date | None:
    """The day a ``?week=`` names (``2026-12-16``), None when not given.

    InvalidWeek for text that is no such date or is outside
    :data:`FIRST_DAY`–:data:`LAST_DAY`.
    """
    if not text:
        return None
    problem = f"week: must be a date from {FIRST_DAY} to {LAST_DAY}, like 2026-12-14"
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise InvalidWeek(problem)
    try:
        chosen = datetime.date.fromisoformat(text)
    except ValueError:
        raise InvalidWeek(problem) from None
    if not FIRST_DAY <= chosen <= LAST_DAY:
        raise InvalidWeek(problem)
    return chosen


def neighbours(monday: datetime.date) -> tuple[datetime.date | None, datetime.date | None]:
    """The Mondays of the weeks before and after ``monday``'s, None beyond the weeks that may be chosen."""
    before, after = monday - datetime.timedelta(days=7), monday + datetime.timedelta(days=7)
    return (before if before >= FIRST_DAY else None), (after if after <= LAST_DAY else None)


def monday_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def today(zone: datetime.tzinfo, now: datetime.datetime | None = None) -> datetime.date:
    """The house's local date at ``now`` (default: the real now)."""
    return (now or datetime.datetime.now(UTC)).astimezone(zone).date()


def local_midnight(day: datetime.date, zone: datetime.tzinfo) -> datetime.datetime:
    """The instant ``day`` begins on ``zone``'s clock (UTC)."""
    return wall_to_instant(datetime.datetime.combine(day, datetime.time()), zone)


def week_window(monday: datetime.date, zone: datetime.tzinfo) -> tuple[datetime.datetime, float]:
    """The week from ``monday``'s local midnight to the next one: its start (UTC) and length in hours.

    A week with a clock change is 167 or 169 hours long.
    """
    begin = local_midnight(monday, zone)
    end = local_midnight(monday + datetime.timedelta(days=7), zone)
    return begin, (end - begin).total_seconds() / 3600


def colour_of(heat: float | None, cool: float | None) -> str:
    """The CSS class for a block's setpoints: bands of heating setpoint, or cooling only, or no wish."""
    if heat is None:
        return "no-wish" if cool is None else "cool-only"
    for bound, name in HEAT_CLASSES:
        if heat < bound:
            return name
    return HEAT_TOP


def week(timeline: dict, monday: datetime.date, zone: datetime.tzinfo) -> list[Day]:
    """The seven days from ``monday`` of a ``/v1/timeline`` answer, cut at ``zone``'s local midnights.

    Parts of the week the timeline does not cover stay empty.
    """
    segments = [
        (instants.instant(segment["start"]), instants.instant(segment["end"]), segment)
        for segment in timeline.get("segments", ())
    ]
    days = []
    for offset in range(7):
        day = monday + datetime.timedelta(days=offset)
        begin = local_midnight(day, zone)
        end = local_midnight(day + datetime.timedelta(days=1), zone)
        length = (end - begin).total_seconds()
        blocks = []
        for start, stop, segment in segments:
            start, stop = max(start, begin), min(stop, end)
            if start >= stop:
                continue
            heat, cool = segment.get("heat_setpoint"), segment.get("cool_setpoint")
            source = segment.get("source") or {}
            blocks.append(
                Block(
                    start=_wall(start, zone),
                    end="24:00" if stop == end else _wall(stop, zone),
                    left=(start - begin).total_seconds() / length,
                    width=(stop - start).total_seconds() / length,
                    heat=heat,
                    cool=cool,
                    kind=source.get("type", "default"),
                    name=source.get("name"),
                    colour=colour_of(heat, cool),
                )
            )
        days.append(Day(day, f"{DAY_NAMES[day.weekday()]} {day.day} {day:%b}", tuple(blocks)))
    return days


def _wall(instant: datetime.datetime, zone: datetime.tzinfo) -> str:
    return instant.astimezone(zone).strftime("%H:%M")


def utc_of_typed(text: str, zone: datetime.tzinfo) -> str:
    """``2026-12-20T08:00`` typed on the house's clock as the UTC text sent: ``2026-12-20T07:00:00Z``.

    Pages work in whole minutes (seconds typed are dropped); a time in the
    skipped spring hour is when the gap ends, one in the repeated autumn hour
    its first occurrence (:func:`rpymostat.protocol.times.wall_to_instant`).  Raises ValueError
    for text that is not a date and time, or that has a UTC offset.
    """
    wall = datetime.datetime.fromisoformat(text.strip())
    if wall.tzinfo is not None:
        raise ValueError("give a wall time without a UTC offset")
    return instants.utc_text(wall_to_instant(wall.replace(second=0, microsecond=0), zone))


def wall_text(instant_text: str | None, zone: datetime.tzinfo) -> str:
    """An engine instant as ``<input type=datetime-local>`` wants it on the house's clock: ``2026-12-20T08:00``."""
    moment = instants.instant(instant_text)
    return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def wall_words(instant_text: str | None, zone: datetime.tzinfo) -> str:
    """An engine instant for people, on the house's clock: ``Sun 20 Dec 2026 08:00``."""
    moment = instants.instant(instant_text)
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return f"{DAY_NAMES[local.weekday()]} {local.day} {local:%b %Y %H:%M}"
