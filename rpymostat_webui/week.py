"""The engine's wall clock for pages: a week of its timeline as rows of blocks, and local ⇄ UTC times.

People read a schedule as "Monday 06:30 to 08:00", on the clock of the
house, which is the engine's time zone (``timezone`` in every timeline
answer), not the browser's or the server's.  So the week is cut into days
at the engine's local midnights, and each block says its wall times in
words as well as drawing a bar: colour is never the only way to read it.

A day is 23 or 25 hours long when the clocks change; a block's position
(``left``/``width``, fractions of the day) is measured in elapsed time of
that day, so blocks always tile the row without overlapping, even in the
repeated autumn hour, while their labels keep the wall times.

Pure: no Flask, no engine; the view asks the engine and hands the answer in.
"""

import dataclasses
import datetime
from zoneinfo import ZoneInfo

UTC = datetime.UTC
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

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


def parse_instant(text: str) -> datetime.datetime:
    """An aware instant from the engine's ISO text (``Z`` or an offset)."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def monday_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def today(zone_name: str, now: datetime.datetime | None = None) -> datetime.date:
    """The engine's local date at ``now`` (default: the real now)."""
    return (now or datetime.datetime.now(UTC)).astimezone(ZoneInfo(zone_name)).date()


def local_midnight(day: datetime.date, zone: ZoneInfo) -> datetime.datetime:
    """The instant ``day`` begins on ``zone``'s clock (UTC)."""
    return wall_instant(datetime.datetime.combine(day, datetime.time()), zone)


def week_window(monday: datetime.date, zone_name: str) -> tuple[datetime.datetime, float]:
    """The week from ``monday``'s local midnight to the next one: its start (UTC) and length in hours.

    A week with a clock change is 167 or 169 hours long.
    """
    zone = ZoneInfo(zone_name)
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


def week(timeline: dict, monday: datetime.date) -> list[Day]:
    """The seven days from ``monday`` of a ``/v1/timeline`` answer, cut at the engine's local midnights.

    Parts of the week the timeline does not cover stay empty.
    """
    zone = ZoneInfo(timeline["timezone"])
    segments = [
        (parse_instant(segment["start"]), parse_instant(segment["end"]), segment)
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


def _wall(instant: datetime.datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%H:%M")


def wall_instant(wall: datetime.datetime, zone: ZoneInfo) -> datetime.datetime:
    """The UTC instant a naive wall time of ``zone`` means, read as the engine reads it.

    A time in the repeated autumn hour is its first occurrence; a time in the
    skipped spring hour takes effect when the gap ends (02:30 -> 03:00 CEST).
    """
    wall = wall.replace(second=0, microsecond=0)  # pages work in whole minutes
    for minutes in range(0, 24 * 60 + 1):
        candidate = wall + datetime.timedelta(minutes=minutes)
        instant = candidate.replace(tzinfo=zone, fold=0).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == candidate:
            return instant
    raise ValueError(f"{wall} never exists in {zone.key}")  # pragma: no cover - no zone skips a whole day now


def utc_text(wall_text: str, zone_name: str) -> str:
    """``2026-12-20T08:00`` typed on the engine's clock as the UTC text sent: ``2026-12-20T07:00:00Z``.

    Raises ValueError for text that is not a date and time.
    """
    wall = datetime.datetime.fromisoformat(wall_text.strip())
    if wall.tzinfo is not None:
        raise ValueError("give a wall time without a UTC offset")
    return wall_instant(wall, ZoneInfo(zone_name)).strftime("%Y-%m-%dT%H:%M:%SZ")


def wall_text(instant_text: str | None, zone_name: str) -> str:
    """An engine instant as ``<input type=datetime-local>`` wants it on the engine's clock: ``2026-12-20T08:00``."""
    if not instant_text:
        return ""
    return parse_instant(instant_text).astimezone(ZoneInfo(zone_name)).strftime("%Y-%m-%dT%H:%M")


def wall_words(instant_text: str | None, zone_name: str) -> str:
    """An engine instant for people, on the engine's clock: ``Sun 20 Dec 2026 08:00``."""
    if not instant_text:
        return ""
    local = parse_instant(instant_text).astimezone(ZoneInfo(zone_name))
    return f"{DAY_NAMES[local.weekday()]} {local.day} {local:%b %Y %H:%M}"
