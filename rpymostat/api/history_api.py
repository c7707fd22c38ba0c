"""``GET /v1/history``: a sensor's or a zone's temperatures, setpoints and runs over a range of time.

The question is checked and planned by :mod:`rpymostat.history.query`
(which also bounds the answer's size), read with one storage call per part,
and shaped by :mod:`rpymostat.history.answer`.  ``Accept: text/csv`` (or
``?format=csv``, which a download link can carry) gives the same rows as
CSV for a spreadsheet.
"""

import re

from rpymostat.api.errors import InvalidContent, NotFoundError, api_app, json_bytes, render_failure
from rpymostat.history import answer, query
from rpymostat.protocol.times import iso_utc
from rpymostat.schedule import zone_settings
from rpymostat.storage.timeseries import zone_series

#: The query fields this route knows; any other is a 422, so a typo is not silently ignored.
FIELDS = ("sensor", "zone", "start", "end", "step", "format")


class HistoryApi:
    """``GET /v1/history?sensor=ID|zone=NAME&start=&end=&step=&format=``."""

    app = api_app()

    def __init__(self, storage, clock, zone_info, raw_days):
        self._storage, self._clock, self._zone_info, self._raw_days = storage, clock, zone_info, raw_days

    @app.handle_errors(Exception)
    def _failed(self, request, failure):
        return render_failure(request, failure)

    @app.route("/", methods=["GET"])
    async def history(self, request):
        given = _arguments(request)
        sensor, zone = given.get("sensor"), given.get("zone")
        if (sensor is None) == (zone is None):
            raise InvalidContent("zone: give either ?sensor=ID or ?zone=NAME")
        if sensor is not None and "/" in sensor:
            raise InvalidContent("sensor: a sensor id holds no '/'")
        as_csv = _wants_csv(request, given.get("format"))
        try:
            plan = query.plan(
                given.get("start"), given.get("end"), given.get("step"), self._clock.seconds(), self._zone_info,
                self._raw_days,
            )  # fmt: skip
        except query.InvalidQuery as error:
            raise InvalidContent(str(error)) from None
        if sensor is not None:
            document = await self._sensor(sensor, plan)
        else:
            document = await self._zone(zone, plan)
        if as_csv:
            request.setResponseCode(200)
            request.setHeader(b"Content-Type", b"text/csv; charset=utf-8")
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", sensor or zone)  # a header value, quoted: nothing else
            request.setHeader(b"Content-Disposition", f'attachment; filename="history-{safe}.csv"'.encode("ascii"))
            return answer.csv_text(document).encode("utf-8")
        return json_bytes(request, 200, document)

    def _frame(self, plan):
        return {
            "start": iso_utc(plan.start),
            "end": iso_utc(plan.end),
            "step": plan.step,
            "source": plan.resolution,
            "timezone": self._zone_info.key,
            "at": answer.slot_times(plan),
        }

    async def _sensor(self, sensor, plan):
        found = await self._storage.aggregates([sensor], *plan.storage_arguments())
        if not found[sensor] and await self._storage.sensor(sensor) is None:
            raise NotFoundError(f"no sensor {sensor!r} and no history of one")
        return {**self._frame(plan), "series": [answer.series_document("sensor", sensor, found[sensor], plan)]}

    async def _zone(self, zone, plan):
        found = await zone_settings.zone_record(self._storage, zone)
        if found is None:
            raise NotFoundError(f"no zone {zone!r}")
        settings, _ = found
        sensors = sorted(settings.get("sensors") or {})
        effective = zone_series(zone)
        points = await self._storage.aggregates([effective, *sensors], *plan.storage_arguments())
        changes = await self._storage.setpoint_changes(zone, plan.start, plan.end)
        intervals = await self._storage.run_intervals(zone, plan.start, plan.end)
        return {
            **self._frame(plan),
            "zone": zone,
            "series": [answer.series_document("zone", zone, points[effective], plan)]
            + [answer.series_document("sensor", sensor, points[sensor], plan) for sensor in sensors],
            "setpoints": answer.setpoints_document(changes, plan),
            "runs": answer.runs_document(intervals, plan),
        }


def _arguments(request):
    """The query string as ``{field: text}``; an unknown or repeated field is a 422."""
    given = {}
    for raw_name, values in request.args.items():
        name = raw_name.decode("utf-8", "replace")
        if name not in FIELDS:
            raise InvalidContent(f"{name}: not a field of this query; known: {', '.join(FIELDS)}")
        if len(values) != 1:
            raise InvalidContent(f"{name}: give it once")
        text = values[0].decode("utf-8", "replace")
        if not text:
            raise InvalidContent(f"{name}: must not be empty")
        given[name] = text
    return given


def _wants_csv(request, format_field):
    if format_field is not None:
        if format_field not in ("json", "csv"):
            raise InvalidContent("format: must be json or csv")
        return format_field == "csv"
    accept = (request.getHeader(b"Accept") or b"").decode("latin-1").lower()
    return "text/csv" in accept and "application/json" not in accept
