"""The history page: a day, week, month or year of a zone's (or a sensor's) temperatures, from ``/v1/history``.

Everything is a GET link, so the page works without JavaScript: the
period buttons, previous/next, the zone and sensor choice, and the CSV
download.  The page itself shows a min/mean/max table made on the server;
``static/js/history.js`` draws the chart from :func:`data`, which answers
the same question as JSON already in the browser's unit.  The arithmetic
(which range, what to show of the answer) is in
:mod:`rpymostat_webui.history_view`; this module only asks the engine and
renders.
"""

import dataclasses
import datetime

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for

from rpymostat_webui import context
from rpymostat_webui import history_view as view
from rpymostat_webui.engine import EngineError, EngineUnavailable, path

blueprint = Blueprint("history", __name__, url_prefix="/history")


@dataclasses.dataclass(frozen=True)
class Choice:
    """What the request asks for: a zone, maybe one of the sensors, a period."""

    zone: str
    sensor: str | None
    period: view.Period

    def args(self, **changed) -> dict:
        """The query string of this choice (``changed`` replacing parts), for links."""
        args = {
            "zone": self.zone,
            "sensor": self.sensor,
            "period": self.period.kind,
            "end": None if self.period.ends_now else self.period.end_date.isoformat(),
        }
        args.update(changed)
        return {key: value for key, value in args.items() if value}

    def engine_query(self) -> dict:
        subject = {"sensor": self.sensor} if self.sensor else {"zone": self.zone}
        return {**subject, **self.period.query()}


@blueprint.route("/")
def index():
    engine = context.engine()
    zones = engine.get("/zones")["zones"]
    if not zones:
        return render_template("history.html", choice=None, zones=[], sensors=[], rows=[], ran=[])
    zone = request.args.get("zone") or zones[0]["id"]
    if zone not in {known["id"] for known in zones}:
        abort(404, f"There is no zone {zone!r}; choose one of the zones on the history page.")
    choice = _choice(zone, engine, known=True)
    sensors = engine.get("/sensors")["sensors"]
    names = _names(sensors)
    document = engine.get("/history", choice.engine_query())
    until = min(view.epoch(document["end"]), datetime.datetime.now(datetime.UTC).timestamp())
    ran = sorted(view.run_totals(document, until).items())
    today = datetime.datetime.now(choice.period.start.tzinfo).date()
    following = choice.period.next_end(today)
    links = {
        "periods": [(kind, url_for(".index", **choice.args(period=kind))) for kind in view.PERIODS],
        "previous": url_for(".index", **choice.args(end=choice.period.previous_end().isoformat())),
        "next": None
        if choice.period.ends_now
        else url_for(".index", **choice.args(end=following.isoformat() if following else None)),
        "now": None if choice.period.ends_now else url_for(".index", **choice.args(end=None)),
        "data": url_for(".data", **choice.args()),
        "csv": url_for(".csv", **choice.args()),
    }
    return render_template(
        "history.html",
        choice=choice,
        zones=zones,
        sensors=sensors,
        rows=view.summary(document, names),
        ran=[(output, view.duration_words(seconds)) for output, seconds in ran],
        empty=not view.has_readings(document),
        links=links,
        noun=view.NOUNS[choice.period.kind],
        document=document,
    )


@blueprint.route("/data")
def data():
    """The chart's data as JSON in the browser's unit; errors as ``{"error"}`` so the script can say them."""
    try:
        engine = context.engine()
        choice = _choice(request.args.get("zone") or "", engine)
        names = _names(engine.get("/sensors")["sensors"])
        document = engine.get("/history", choice.engine_query())
    except EngineUnavailable as error:
        return jsonify(error=f"Cannot reach the thermostat engine: {error.reason}."), 503
    except EngineError as error:
        return jsonify(error=error.message), error.status if 400 <= error.status < 500 else 502
    answer = view.chart(document, context.unit(), names, context.timezone().key)
    answer["title"] = choice.period.title()
    return jsonify(answer)


@blueprint.route("/csv")
def csv():
    """The engine's CSV of the same question, as a download named after the zone (or sensor) and period."""
    engine = context.engine()
    choice = _choice(request.args.get("zone") or "", engine)
    download = engine.download("/history", {**choice.engine_query(), "format": "csv"}, "text/csv")
    filename = view.csv_filename(choice.sensor or choice.zone, choice.period)
    return Response(
        download.body,
        content_type=download.content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@blueprint.errorhandler(view.InvalidPeriod)
def _invalid(error):
    if request.endpoint == "history.data":
        return jsonify(error=str(error)), 400
    return render_template("error.html", title="Cannot show this history", message=str(error)), 400


def _choice(zone: str, engine, known: bool = False) -> Choice:
    """The request's choice, its period counted in the house's time zone (``context.timezone()``).

    A zone not ``known`` to exist is asked for (``GET /v1/zones/<zone>``), so an
    unknown one is the engine's clean 404 even when a sensor is charted
    instead of the zone.
    """
    kind = view.parse_kind(request.args.get("period"))
    end = view.parse_end(request.args.get("end"))
    if not zone:
        raise view.InvalidPeriod("zone: choose a zone")
    if not known:
        engine.get(path("zones", zone))
    chosen = view.period(kind, end, datetime.datetime.now(datetime.UTC), context.timezone())
    return Choice(zone, request.args.get("sensor") or None, chosen)


def _names(sensors: list) -> dict:
    """``{sensor id: the name people gave it (or its alias)}``."""
    return {sensor["id"]: sensor.get("name") or sensor.get("alias") or sensor["id"] for sensor in sensors}
