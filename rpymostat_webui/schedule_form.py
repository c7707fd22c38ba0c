"""The schedule form's fields ⇄ the engine's schedule rule (cron underneath).

The engine stores a schedule as a five-field cron ``start`` plus either an
``end`` cron ("until the next match") or an ISO 8601 ``duration``
(docs/scheduling.rst).  People think "Monday to Friday, 06:30 to 08:00", so
the form writes exactly one shape::

    start "30 6 * * 1-5"   end "0 8 * * *"

The end is a cron matched every day, so it is the first 08:00 after the
start: the same day, or the next one for a night rule (22:00 to 06:00), or
24 hours later when start and end are equal.  Being a wall time, it stays
08:00 on the days the clocks change (a duration would not).

Only that shape, and start plus a duration of under a day ("PT2H", as the
API's own examples write), are read back into days and times; any other rule
(a day of the month, names, steps, a duration of a day or more) is shown and
edited in the "advanced" fields as raw cron, and passed to the engine as
typed.  This is deliberately not a cron parser.

Pure: no Flask.  Views hand in the posted fields as a plain dict (``days``
as a list) and get the engine's body back, or errors by form field.
"""

import re

from rpymostat_webui import setpoints, zone_view
from rpymostat_webui.units import Unit

#: Checkbox order (Monday first) with cron's day-of-week numbers (0 = Sunday).
DAYS = ((1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (0, "Sun"))
DAY_ORDER = [number for number, _ in DAYS]
DAY_NAME = dict(DAYS)

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?$")
_SIMPLE_START = re.compile(r"^([0-5]?\d) ([01]?\d|2[0-3]) \* \* ([0-7,\-*]+)$")
_SIMPLE_END = re.compile(r"^([0-5]?\d) ([01]?\d|2[0-3]) \* \* \*$")
_DAY_ITEM = re.compile(r"^([0-7])(?:-([0-7]))?$")
_SHORT_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$")

#: Engine field -> form field, when the rule came from days and times.
SIMPLE_FIELDS = {"start": "start_time", "end": "end_time", "duration": "end_time", "body": ""}
ADVANCED_FIELDS = {"body": ""}


class FormProblem(ValueError):
    """Something typed that cannot become a rule; ``field`` is the form field to show it beside."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def parse_time(text: str, field: str) -> tuple[int, int]:
    """``"06:30"`` -> ``(6, 30)`` (what ``<input type=time>`` sends)."""
    found = _TIME.match((text or "").strip())
    if not found:
        raise FormProblem(field, "Give a time of day, such as 06:30.")
    return int(found.group(1)), int(found.group(2))


def days_field(days) -> str:
    """Cron's day-of-week field for a set of day numbers: ``*``, ``1-5``, ``0,6``, ``1,3,5``.

    Runs of three days or more in cron's order become ranges.
    """
    chosen = sorted(set(days))
    if len(chosen) == 7:
        return "*"
    parts, run = [], []
    for number in chosen + [None]:
        if run and number == run[-1] + 1:
            run.append(number)
            continue
        if run:
            parts.append(f"{run[0]}-{run[-1]}" if len(run) >= 3 else ",".join(map(str, run)))
        run = [number]
    return ",".join(parts)


def parse_days(field: str) -> frozenset[int] | None:
    """The days a cron day-of-week field of the simple shape names (7 is Sunday too), or None."""
    if field == "*":
        return frozenset(range(7))
    days = set()
    for item in field.split(","):
        found = _DAY_ITEM.match(item)
        if not found:
            return None
        first = int(found.group(1))
        last = int(found.group(2) or first)
        if last < first:
            return None
        days.update(number % 7 for number in range(first, last + 1))
    return frozenset(days)


def describe_days(days) -> str:
    """Days for people, Monday first: ``Every day``, ``Mon–Fri``, ``Sat, Sun``, ``Mon, Wed–Fri``."""
    chosen = set(days)
    if len(chosen) == 7:
        return "Every day"
    parts, run = [], []
    for number in DAY_ORDER + [None]:
        if number in chosen:
            run.append(number)
            continue
        if len(run) >= 3:
            parts.append(f"{DAY_NAME[run[0]]}–{DAY_NAME[run[-1]]}")
        else:
            parts.extend(DAY_NAME[day] for day in run)
        run = []
    return ", ".join(parts)


def simple_of(rule: dict) -> dict | None:
    """The form's days and times of an engine schedule, or None when only raw cron can say it.

    ``{"days": frozenset, "start_time": "06:30", "end_time": "08:00"}``.
    """
    start = _SIMPLE_START.match(rule.get("start") or "")
    if not start:
        return None
    days = parse_days(start.group(3))
    if not days:
        return None
    hour, minute = int(start.group(2)), int(start.group(1))
    if rule.get("end") is not None:
        end = _SIMPLE_END.match(rule["end"])
        if not end:
            return None
        end_hour, end_minute = int(end.group(2)), int(end.group(1))
    else:
        duration = _SHORT_DURATION.match(rule.get("duration") or "")
        minutes = int(duration.group(1) or 0) * 60 + int(duration.group(2) or 0) if duration else 0
        if not 0 < minutes < 24 * 60:
            return None
        end_hour, end_minute = divmod((hour * 60 + minute + minutes) % (24 * 60), 60)
    return {"days": days, "start_time": f"{hour:02d}:{minute:02d}", "end_time": f"{end_hour:02d}:{end_minute:02d}"}


def describe(rule: dict) -> tuple[str, str]:
    """``(days, times)`` of a schedule for the list: ``("Mon–Fri", "06:30–08:00")``, or its raw cron."""
    simple = simple_of(rule)
    if simple:
        return describe_days(simple["days"]), f"{simple['start_time']}–{simple['end_time']}"
    until = f"until {rule['end']}" if rule.get("end") is not None else f"for {rule.get('duration')}"
    return f"cron {rule.get('start')}", until


def form_values(rule: dict | None, unit: Unit, zone: str = "default") -> dict:
    """The form's fields for an engine schedule (edit), or an empty form (new) in ``zone``."""
    if rule is None:
        return {"mode": "simple", "zone": zone, "days": [], "enabled": True, "priority": "0"}
    simple = simple_of(rule)
    values = {
        "mode": "simple" if simple else "advanced",
        "name": rule.get("name", ""),
        "zone": rule.get("zone", zone),
        "heat_setpoint": setpoints.form_text(rule.get("heat_setpoint"), unit),
        "cool_setpoint": setpoints.form_text(rule.get("cool_setpoint"), unit),
        "start": rule.get("start", ""),
        "end": rule.get("end") or "",
        "duration": rule.get("duration") or "",
        "priority": str(rule.get("priority", 0)),
        "enabled": rule.get("enabled", True),
        "days": [],
    }
    if simple:
        values.update(simple, days=[str(day) for day in DAY_ORDER if day in simple["days"]])
    return values


def setpoint(text: str | None, unit: Unit, field: str, stored: float | None = None) -> float | None:
    """A typed setpoint in the browser's unit as the Celsius to send (:func:`setpoints.to_send`:
    the ``stored`` Celsius when left as the form showed it); FormProblem beside ``field`` if no number."""
    try:
        return setpoints.to_send(text, stored, unit)
    except ValueError as problem:
        raise FormProblem(field, str(problem)) from None


def body_of(values: dict, unit: Unit, stored: dict | None = None) -> dict:
    """The engine's schedule body (ScheduleInput) for the posted fields; raises FormProblem.

    ``values`` holds the form's strings, ``days`` a list of day numbers as strings
    and ``enabled`` anything truthy when ticked; ``stored`` is the rule being
    edited (None for a new one), whose setpoints are kept when left as shown.
    """
    body = {"name": (values.get("name") or "").strip(), "zone": (values.get("zone") or "default").strip()}
    if values.get("mode") == "advanced":
        body["start"] = (values.get("start") or "").strip()
        end, duration = (values.get("end") or "").strip(), (values.get("duration") or "").strip()
        if end:
            body["end"] = end
        if duration:
            body["duration"] = duration
    else:
        days = {int(day) for day in values.get("days") or () if str(day).isdigit() and int(day) in DAY_NAME}
        if not days:
            raise FormProblem("days", "Tick at least one day.")
        hour, minute = parse_time(values.get("start_time"), "start_time")
        end_hour, end_minute = parse_time(values.get("end_time"), "end_time")
        body["start"] = f"{minute} {hour} * * {days_field(days)}"
        body["end"] = f"{end_minute} {end_hour} * * *"
    for field in ("heat_setpoint", "cool_setpoint"):
        celsius = setpoint(values.get(field), unit, field, (stored or {}).get(field))
        if celsius is not None:
            body[field] = celsius
    priority = (values.get("priority") or "0").strip()
    try:
        body["priority"] = int(priority)
    except ValueError:
        raise FormProblem("priority", "Give a whole number from -100 to 100.") from None
    body["enabled"] = bool(values.get("enabled"))
    return body


def form_field(engine_field: str | None, mode: str) -> str:
    """Where an engine 422 about ``engine_field`` is shown on the form ("" = above the form)."""
    if not engine_field:
        return ""
    fields = ADVANCED_FIELDS if mode == "advanced" else SIMPLE_FIELDS
    return fields.get(engine_field, engine_field)


def refusal(field: str, detail: str, unit: Unit) -> str:
    """An engine refusal for showing beside ``field``: a setpoint's in the browser's unit and in the
    Adjust page's words ("200 °F is above the highest setpoint, 95 °F"), any other as the engine said it."""
    if field in ("heat_setpoint", "cool_setpoint"):
        return zone_view.setpoint_error(detail, unit)
    return detail
