"""The away page: one-time overrides ("away from the 21st to the 28th, keep it above 12 °C").

An override is a date range with "keep above" (the heating setpoint) and
"keep below" (the cooling setpoint), either or both.  The times people type
are wall times on the engine's clock (the house's, not the browser's); they
are sent as UTC instants, so the engine and the page can never disagree about
which 08:00 was meant.  An empty end means "until the schedule next changes".
Forms are plain POSTs that redirect; a 422 comes back beside its field.
"""

import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from rpymostat_webui import context, instants, schedule_form, setpoints, week
from rpymostat_webui.engine import EngineError, path

blueprint = Blueprint("away", __name__, url_prefix="/away")

#: Engine fields that are about when an override ends, all shown beside the form's "end".
_END_FIELDS = {"end": "end", "duration": "end", "interval": "end", "until": "end", "body": ""}
FIELDS = ("name", "zone", "start", "end", "heat_setpoint", "cool_setpoint")


@blueprint.route("/")
def index():
    engine = context.engine()
    house = context.timezone()
    overrides = engine.get("/overrides")["overrides"]
    now = datetime.datetime.now(datetime.UTC)
    rows = []
    for rule in sorted(overrides, key=lambda rule: rule.get("start", "")):
        start, end = instants.instant(rule["start"]), rule.get("end")
        if end and instants.instant(end) <= now:
            state = "ended"
        else:
            state = "now" if start <= now else "upcoming"
        rows.append(
            {
                "rule": rule,
                "state": state,
                "start": week.wall_words(rule["start"], house),
                "end": week.wall_words(end, house) if end else "the schedule's next change",
            }
        )
    return render_template("away.html", rows=rows, timezone=house.key)


@blueprint.route("/new", methods=["GET", "POST"])
def new():
    zones = context.engine().get("/zones")["zones"]
    house = context.timezone()
    if request.method == "POST":
        return _save(None, zones, house, None)
    values = {"zone": request.args.get("zone") or "default", "name": "Away"}
    return _form(values, {}, zones, house, None)


@blueprint.route("/<rule_id>/edit", methods=["GET", "POST"])
def edit(rule_id):
    rule = _rule(rule_id)
    zones = context.engine().get("/zones")["zones"]
    house = context.timezone()
    if request.method == "POST":
        return _save(rule_id, zones, house, rule)
    unit = context.unit()
    values = {
        "name": rule.get("name", ""),
        "zone": rule.get("zone", "default"),
        "start": week.wall_text(rule.get("start"), house),
        "end": week.wall_text(rule.get("end"), house),
        "heat_setpoint": setpoints.form_text(rule.get("heat_setpoint"), unit),
        "cool_setpoint": setpoints.form_text(rule.get("cool_setpoint"), unit),
    }
    return _form(values, {}, zones, house, rule)


@blueprint.route("/<rule_id>/delete", methods=["GET", "POST"])
def delete(rule_id):
    rule = _rule(rule_id)
    if request.method == "POST":
        context.engine().delete(path("overrides", rule_id))
        flash(f"Override “{rule.get('name') or 'away'}” deleted.")
        return redirect(url_for("away.index"))
    house = context.timezone()
    return render_template(
        "away_delete.html",
        rule=rule,
        start=week.wall_words(rule.get("start"), house),
        end=week.wall_words(rule.get("end"), house) if rule.get("end") else "the schedule's next change",
    )


def _rule(rule_id: str) -> dict:
    try:
        return context.engine().get(path("overrides", rule_id))
    except EngineError as error:
        if error.status == 404:
            abort(404, "There is no such override; it may have been deleted meanwhile.")
        raise


def body_of(values: dict, house: datetime.tzinfo, unit, stored: dict | None = None) -> dict:
    """The engine's OverrideInput for the typed fields; raises schedule_form.FormProblem.

    Times are typed on ``house``'s clock; ``stored`` is the override being
    edited (None for a new one), whose setpoints are kept when left as shown.
    """
    body = {"name": values.get("name", "").strip() or "Away", "zone": values.get("zone", "").strip() or "default"}
    for field in ("start", "end"):
        text = values.get(field, "").strip()
        if text:
            try:
                body[field] = week.utc_of_typed(text, house)
            except ValueError:
                raise schedule_form.FormProblem(field, "Give a date and time, such as 2026-12-21 08:00.") from None
    if "end" not in body:
        body["until"] = "next_schedule"
    for field in ("heat_setpoint", "cool_setpoint"):
        celsius = schedule_form.setpoint(values.get(field), unit, field, (stored or {}).get(field))
        if celsius is not None:
            body[field] = celsius
    return body


def _save(rule_id: str | None, zones: list, house: datetime.tzinfo, rule: dict | None):
    values = {field: request.form.get(field, "") for field in FIELDS}
    try:
        body = body_of(values, house, context.unit(), rule)
    except schedule_form.FormProblem as problem:
        return _form(values, {problem.field: problem.message}, zones, house, rule, 422)
    if rule is not None and rule.get("sensors") is not None:
        body["sensors"] = rule["sensors"]  # PUT replaces the rule: keep what this form does not show
    engine = context.engine()
    try:
        if rule_id is None:
            engine.post("/overrides", body)
        else:
            engine.put(path("overrides", rule_id), body)
    except EngineError as error:
        if error.status != 422:
            raise
        field = _END_FIELDS.get(error.field or "", error.field or "")
        errors = {field: schedule_form.refusal(field, error.detail, context.unit())}
        return _form(values, errors, zones, house, rule, 422)
    flash(f"Override “{body['name']}” saved.")
    return redirect(url_for("away.index"))


def _form(values: dict, errors: dict, zones: list, house: datetime.tzinfo, rule: dict | None, status: int = 200):
    page = render_template("away_form.html", values=values, errors=errors, zones=zones, timezone=house.key, rule=rule)
    return page, status
