"""A history question (a range and a step) turned into one storage read, checked first.

The answer must stay small whatever is asked, so a step never gives more
than :data:`MAX_POINTS` points a series, and ``auto`` picks the shortest
step of :data:`AUTO_STEPS` that gives at most :data:`AUTO_POINTS`.  Where
the data comes from follows from the step:

* a step in whole days (``P1D``, ``P7D``) reads the daily rollups, counted
  in the engine's local days, so a day on the chart is a day in the house;
* a step in whole quarter hours reads the 15-minute rollups (exact: a
  rollup holds count, min, max and sum), from the quarter hour at or before
  ``start``;
* any other step reads the raw readings, which exist only for the last
  ``RPYMOSTAT_HISTORY_RAW_DAYS``: older ranges need a step of whole quarter
  hours, and the error says so.

Times without an offset are wall time in the engine's zone, as everywhere
in the API (:func:`rpymostat.schedule.documents.parse_instant`).
"""

import dataclasses
import datetime
import math

from rpymostat.schedule import documents
from rpymostat.storage.timeseries import DAY, QUARTER

#: The most points one series may have in an answer.
MAX_POINTS = 2000

#: The most points ``auto`` aims for: about one per pixel of a wide chart.
AUTO_POINTS = 1000

#: The steps ``auto`` chooses from, shortest first: ``(ISO 8601, seconds or None, days or None)``.
AUTO_STEPS = (
    ("PT1M", 60, None),
    ("PT5M", 300, None),
    ("PT15M", 900, None),
    ("PT30M", 1800, None),
    ("PT1H", 3600, None),
    ("PT3H", 3 * 3600, None),
    ("PT6H", 6 * 3600, None),
    ("PT12H", 12 * 3600, None),
    ("P1D", None, 1),
    ("P7D", None, 7),
)

#: The longest range one question may cover.
MAX_RANGE_DAYS = 3660

#: A range when none is given: the last day.
DEFAULT_RANGE = datetime.timedelta(days=1)


class InvalidQuery(ValueError):
    """The question cannot be answered as asked; the message starts with the field at fault."""


@dataclasses.dataclass(frozen=True)
class Plan:
    """What to read and how to label it.

    ``start`` and ``end`` are the answered range in epoch seconds (``start``
    moved back to the first rollup or day it reads); ``resolution``,
    ``first``, ``last`` and ``unit`` are what storage's ``aggregates`` takes.
    """

    resolution: str
    start: float
    end: float
    step: str
    first: int
    last: int
    unit: int
    zone: object

    def storage_arguments(self):
        """``(resolution, start, end, step)`` for :meth:`IStorage.aggregates`."""
        return self.resolution, self.first, self.last, self.unit

    def slot_start(self, slot) -> float:
        """When the step numbered ``slot`` begins, in epoch seconds."""
        if self.resolution != "day":
            return float(self.first + slot * self.unit)
        day = datetime.date.fromordinal(self.first + slot * self.unit)
        return documents.to_instant(day, self.zone).timestamp()

    @property
    def points(self) -> int:
        return math.ceil((self.last - self.first) / self.unit)


def plan(start_text, end_text, step_text, now, zone, raw_days) -> Plan:
    """The :class:`Plan` answering ``start``/``end``/``step`` (texts or None) at ``now`` (epoch
    seconds) in ``zone`` when raw readings are kept ``raw_days``; raises :class:`InvalidQuery`."""
    end = parse_time("end", end_text, zone) if end_text is not None else documents.instant(now)
    start = parse_time("start", start_text, zone) if start_text is not None else end - DEFAULT_RANGE
    if start >= end:
        raise InvalidQuery("end: must be after start")
    if end - start > datetime.timedelta(days=MAX_RANGE_DAYS):
        raise InvalidQuery(f"end: a history range may cover at most {MAX_RANGE_DAYS} days")
    raw_since = now - raw_days * DAY
    if step_text is None or step_text == "auto":
        for text, seconds, days in AUTO_STEPS[:-1]:
            chosen = _plan(start, end, text, seconds, days, zone)
            if chosen.points <= AUTO_POINTS and (chosen.resolution != "raw" or chosen.start >= raw_since):
                return chosen
        return _plan(start, end, *AUTO_STEPS[-1], zone)  # weeks: MAX_RANGE_DAYS is 523 of them
    text, seconds, days = _step(step_text)
    chosen = _plan(start, end, text, seconds, days, zone)
    if chosen.points > MAX_POINTS:
        raise InvalidQuery(
            f"step: {text} over this range gives {chosen.points} points, more than {MAX_POINTS};"
            " use a longer step, or auto"
        )
    if chosen.resolution == "raw" and chosen.start < raw_since:
        raise InvalidQuery(
            f"step: raw readings are kept {raw_days:g} days; for older times use a step of whole"
            " quarter hours (PT15M, PT1H) or days, or auto"
        )
    return chosen


def parse_time(field, text, zone):
    """The instant ``text`` gives (wall time in ``zone`` without an offset); InvalidQuery naming ``field``."""
    try:
        return documents.parse_instant(text, zone)
    except ValueError as error:
        raise InvalidQuery(f"{field}: {error}") from None


def _step(text):
    """``(text, seconds, days)`` of a step: exactly one of seconds and days is given."""
    try:
        duration = documents.parse_calendar_duration(text)
    except ValueError as error:
        raise InvalidQuery(f"step: {error}, or auto") from None
    if duration.days and not duration.exact:
        return text, None, duration.days
    seconds = duration.length.total_seconds()
    if seconds != int(seconds):
        raise InvalidQuery(f"step: {text!r} is not a whole number of seconds")
    return text, int(seconds), None


def _plan(start, end, text, seconds, days, zone) -> Plan:
    begin, finish = start.timestamp(), end.timestamp()
    if days is not None:
        first = documents.instant(begin).astimezone(zone).date().toordinal()
        last_date = documents.instant(finish).astimezone(zone).date()
        last = last_date.toordinal() + (documents.to_instant(last_date, zone).timestamp() < finish)
        last = first + math.ceil((last - first) / days) * days
        answered = Plan("day", 0, 0, text, first, last, days, zone)
        return dataclasses.replace(answered, start=answered.slot_start(0), end=answered.slot_start(answered.points))
    resolution = "quarter" if seconds % QUARTER == 0 else "raw"
    first = math.floor(begin) // QUARTER * QUARTER if resolution == "quarter" else math.floor(begin)
    last = first + math.ceil((finish - first) / seconds) * seconds
    return Plan(resolution, float(first), float(last), text, first, last, seconds, zone)
