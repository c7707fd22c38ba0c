"""The history page's arithmetic, without Flask: which period to ask for, and what to show of the answer.

A period is a day, week, month or year *ending* now or at the end of a
chosen date, counted in the engine's time zone (the house's), so a day is
23 or 25 hours when the clocks change and a month ending on 31 March is
March; a start the clocks skipped is when the gap ends, as the engine reads
wall times (:func:`rpymostat.protocol.times.wall_to_instant`).  :func:`period`
turns that choice into the ``start``/``end``/``step``
of ``GET /v1/history`` (UTC with ``Z``: a ``+`` in a URL would arrive as a
space), and says which periods come before and after it for the
previous/next links.

The engine answers in columns of Celsius (docs/history.rst).  :func:`chart`
converts them to the browser's unit for uPlot (epoch seconds on x, the
setpoints in force at each step for the stepped target line, runs as
bands); :func:`summary` reduces them to one min/mean/max row a series, so
the page says something without JavaScript.
"""

import calendar
import dataclasses
import datetime
import re

from rpymostat.protocol.times import wall_to_instant
from rpymostat_webui import instants

UTC = datetime.UTC

#: The periods a page may show, in the order of its buttons.
PERIODS = ("day", "week", "month", "year")

#: The step asked for each period: whole quarter hours or days, so the engine answers from its
#: rollups (kept forever) and an old period works as well as a recent one.  At most ~750 points.
STEPS = {"day": "PT15M", "week": "PT15M", "month": "PT1H", "year": "P1D"}

#: The length of each period as (days, months): a month or year is a calendar one.
_LENGTHS = {"day": (1, 0), "week": (7, 0), "month": (0, 1), "year": (0, 12)}

#: Words for a period on the page.
NOUNS = {"day": "day", "week": "week", "month": "month", "year": "year"}

#: The title of a period ending now.
UNTIL_NOW = {"day": "Last 24 hours", "week": "Last 7 days", "month": "Last month", "year": "Last year"}


class InvalidPeriod(ValueError):
    """The page was asked for a period it does not know; the message says what it takes."""


@dataclasses.dataclass(frozen=True)
class Period:
    """One period: ``start`` and ``end`` (aware, in the engine's ``zone``), and how it was chosen.

    ``end_date`` is the last day it covers; ``ends_now`` when it runs up to
    the moment it was asked (``end`` is then that moment, not a midnight).
    """

    kind: str
    start: datetime.datetime
    end: datetime.datetime
    end_date: datetime.date
    ends_now: bool

    def query(self) -> dict:
        """The range and step of ``GET /v1/history`` for this period (UTC times with ``Z``)."""
        return {"start": instants.utc_text(self.start), "end": instants.utc_text(self.end), "step": STEPS[self.kind]}

    def previous_end(self) -> datetime.date:
        """The last day of the period before this one: the day before it starts (or the day it
        starts on, when it began mid-day: a little overlap rather than a gap)."""
        return (self.start.astimezone(UTC) - datetime.timedelta(microseconds=1)).astimezone(self.start.tzinfo).date()

    def next_end(self, today: datetime.date) -> datetime.date | None:
        """The last day of the period after this one; None when that is the one ending now."""
        days, months = _LENGTHS[self.kind]
        following = shift_months(self.end_date + datetime.timedelta(days=1 + days), months)
        last = following - datetime.timedelta(days=1)
        return None if last >= today else last

    def title(self) -> str:
        """What the page calls it: ``Last 7 days``, ``Tue 1 Dec 2026``, ``3 Nov – 2 Dec 2026``."""
        if self.ends_now:
            return UNTIL_NOW[self.kind]
        first = self.start.date()
        if self.kind == "day":
            return f"{first:%a} {first.day} {first:%b %Y}"
        same_year = first.year == self.end_date.year
        begin = f"{first.day} {first:%b}" + ("" if same_year else f" {first.year}")
        return f"{begin} – {self.end_date.day} {self.end_date:%b %Y}"

    def slug(self) -> str:
        """A file-name part: ``week-2026-12-02``."""
        return f"{self.kind}-{self.end_date.isoformat()}"


def parse_kind(text: str | None) -> str:
    """The period a page asks for (``day`` when none); InvalidPeriod for another word."""
    kind = text or "day"
    if kind not in PERIODS:
        raise InvalidPeriod("period: must be day, week, month or year")
    return kind


def parse_end(text: str | None) -> datetime.date | None:
    """The chosen last day (``2026-12-01``), or None for "ending now"; InvalidPeriod if not a date."""
    if not text:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise InvalidPeriod("end: must be a date like 2026-12-01")
    try:
        chosen = datetime.date.fromisoformat(text)
    except ValueError:
        raise InvalidPeriod("end: must be a date like 2026-12-01") from None
    if chosen.year < 2000:
        raise InvalidPeriod("end: must be in 2000 or later")
    return chosen


def period(kind: str, end_date: datetime.date | None, now: datetime.datetime, zone) -> Period:
    """The ``kind`` period ending at the end of ``end_date`` (or at ``now`` when None, today or
    later), in ``zone`` (a ``zoneinfo.ZoneInfo``); ``now`` is aware."""
    days, months = _LENGTHS[kind]
    here = now.astimezone(zone)
    if end_date is None or end_date >= here.date():
        wall = here.replace(tzinfo=None)
        start_day = shift_months(wall.date() - datetime.timedelta(days=days), -months)
        start = _local(datetime.datetime.combine(start_day, wall.time()), zone)
        return Period(kind, start, here, here.date(), True)
    after = end_date + datetime.timedelta(days=1)
    start_day = shift_months(after - datetime.timedelta(days=days), -months)
    return Period(kind, _midnight(start_day, zone), _midnight(after, zone), end_date, False)


def shift_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` moved by whole ``months``, kept within the month (31 March - 1 month = 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return datetime.date(year, month + 1, min(day.day, last))


def _midnight(day: datetime.date, zone) -> datetime.datetime:
    return _local(datetime.datetime.combine(day, datetime.time()), zone)


def _local(wall: datetime.datetime, zone) -> datetime.datetime:
    """A wall time in ``zone`` as an aware time there; one the clocks skipped is when the gap ends."""
    return wall_to_instant(wall, zone).astimezone(zone)


def epoch(text: str | None) -> float | None:
    """Epoch seconds of an engine time (``...+00:00`` or ``Z``), None for none."""
    moment = instants.instant(text)
    return None if moment is None else moment.timestamp()


def series_label(series: dict, names: dict) -> str:
    """``Living room (zone)`` for a zone's effective temperature; a sensor by its name, or its id."""
    if "zone" in series:
        return f"{series['zone']} (zone)"
    return names.get(series["sensor"]) or series["sensor"]


def has_readings(document: dict) -> bool:
    """Whether any series had a reading in the answered range."""
    return any(any(series["count"]) for series in document.get("series", []))


def summary(document: dict, names: dict) -> list[dict]:
    """One row a series that had readings: ``{label, kind, count, min, mean, max}`` in Celsius.

    The mean weighs each step by its number of readings, so it is the mean of
    all readings, not of the steps' means.
    """
    rows = []
    for series in document.get("series", []):
        counted = [(n, low, mean, high) for n, low, mean, high in _columns(series) if n]
        if not counted:
            continue
        total = sum(n for n, *_ in counted)
        rows.append(
            {
                "label": series_label(series, names),
                "kind": "zone" if "zone" in series else "sensor",
                "count": total,
                "min": min(low for _, low, _, _ in counted),
                "mean": round(sum(n * mean for n, _, mean, _ in counted) / total, 2),
                "max": max(high for *_, high in counted),
            }
        )
    return rows


def _columns(series):
    return zip(series["count"], series["min"], series["mean"], series["max"], strict=True)


def run_totals(document: dict, until: float) -> dict:
    """Seconds each output ran in the range (``{"heat": 4500.0}``); a run still going counts to ``until``."""
    totals = {}
    for band in document.get("runs", []):
        end = epoch(band["end"]) if band["end"] is not None else until
        totals[band["output"]] = totals.get(band["output"], 0.0) + max(0.0, end - epoch(band["start"]))
    return totals


def duration_words(seconds: float) -> str:
    """``3 h 20 min``, ``45 min``, ``2 days 4 h``: how long, for people."""
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


def chart(document: dict, unit, names: dict, timezone: str) -> dict:
    """The answer as the chart draws it: x in epoch seconds (the steps' starts, then the end, so the
    target's last step reaches it), temperatures (each step's mean) and targets in ``unit`` (a :class:`~units.Unit`),
    runs as ``{output, start, end}`` bands (``end`` None while running); times are labelled on the
    house's clock, ``timezone`` (the name of ``context.timezone()``)."""
    start, end = epoch(document["start"]), epoch(document["end"])
    x = [epoch(at) for at in document["at"]] + [end]
    series = [
        {
            "label": series_label(one, names),
            "kind": "zone" if "zone" in one else "sensor",
            "values": [_converted(value, unit) for value in one["mean"]] + [None],
        }
        for one in document.get("series", [])
    ]
    targets = []
    for field, label in (("heat", "Heat target"), ("cool", "Cool target")):
        values = _steps(document.get("setpoints", []), field, x)
        if any(value is not None for value in values):
            targets.append({"label": label, "kind": field, "values": [_converted(v, unit) for v in values]})
    runs = [
        {"output": band["output"], "start": epoch(band["start"]), "end": epoch(band["end"])}
        for band in document.get("runs", [])
    ]
    return {
        "unit": {"code": unit.code, "symbol": unit.symbol, "step": unit.step, "decimals": unit.decimals},
        "timezone": timezone,
        "start": start,
        "end": end,
        "x": x,
        "series": series,
        "targets": targets,
        "runs": runs,
        "empty": not has_readings(document),
    }


def _steps(setpoints: list, field: str, x: list) -> list:
    """The ``field`` setpoint of each step of ``x``: the latest set before the next step begins (so
    one set mid-step, like the one just recorded, shows from that step on), None before the first."""
    changes = [(epoch(change["at"]), change[field]) for change in setpoints]
    values, index, current = [], 0, None
    for slot in range(len(x)):
        following = x[slot + 1] if slot + 1 < len(x) else float("inf")
        while index < len(changes) and changes[index][0] < following:
            current = changes[index][1]
            index += 1
        values.append(current)
    return values


def _converted(celsius, unit):
    return None if celsius is None else round(unit.from_celsius(celsius), 2)


def csv_filename(name: str, chosen: Period) -> str:
    """``history-living-week-2026-12-02.csv``: only characters safe in a quoted header value."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:80]
    return f"history-{safe}-{chosen.slug()}.csv"
