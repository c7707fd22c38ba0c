"""The schedule page: the week at a glance from ``/v1/timeline``, and the schedules to add, edit and delete.

The week is one zone's (``?zone=``, default ``default``), Monday to Sunday on
the house's clock (``?week=`` any date in it, from 2000 to 2099); the list below shows every
schedule, or the chosen zone's when there are several zones.  Forms are plain
POSTs that redirect (Post/Redirect/Get); a 422 from the engine comes back
beside the field it names with what was typed kept.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from rpymostat_webui import context, schedule_form, week
from rpymostat_webui.engine import EngineError, path

blueprint = Blueprint("schedule", __name__, url_prefix="/schedule")


@blueprint.route("/")
def index():
    engine = context.engine()
    zones = engine.get("/zones")["zones"]
    zone = request.args.get("zone") or "default"
    if zone not in {item["id"] for item in zones}:
        zone = "default"
    house = context.timezone()
    monday = week.monday_of(week.parse_week(request.args.get("week")) or week.today(house))
    begin, hours = week.week_window(monday, house)
    timeline = engine.get("/timeline", {"zone": zone, "start": begin.isoformat(), "hours": f"{hours:g}"})
    schedules = engine.get("/schedules")["schedules"]
    if request.args.get("zone"):
        schedules = [rule for rule in schedules if rule.get("zone") == zone]
    previous, following = week.neighbours(monday)
    rows = [_row(rule) for rule in sorted(schedules, key=lambda rule: (rule.get("zone", ""), rule.get("name", "")))]
    return render_template(
        "schedule.html",
        zones=zones,
        zone=zone,
        filtered=bool(request.args.get("zone")),
        days=week.week(timeline, monday, house),
        timezone=house.key,
        monday=monday,
        previous=previous,
        next=following,
        rows=rows,
    )


@blueprint.errorhandler(week.InvalidWeek)
def _invalid_week(error):
    return render_template("error.html", title="Cannot show this week", message=str(error)), 400


def _row(rule: dict) -> dict:
    days, times = schedule_form.describe(rule)
    return {"rule": rule, "days": days, "times": times}


@blueprint.route("/new", methods=["GET", "POST"])
def new():
    zones = context.engine().get("/zones")["zones"]
    if request.method == "POST":
        return _save(None, zones, None)
    values = schedule_form.form_values(None, context.unit(), request.args.get("zone") or "default")
    return _form(values, {}, zones, None)


@blueprint.route("/<rule_id>/edit", methods=["GET", "POST"])
def edit(rule_id):
    engine = context.engine()
    rule = _rule(rule_id)
    zones = engine.get("/zones")["zones"]
    if request.method == "POST":
        return _save(rule_id, zones, rule)
    return _form(schedule_form.form_values(rule, context.unit()), {}, zones, rule)


@blueprint.route("/<rule_id>/delete", methods=["GET", "POST"])
def delete(rule_id):
    rule = _rule(rule_id)
    if request.method == "POST":
        context.engine().delete(path("schedules", rule_id))
        flash(f"Schedule “{rule.get('name')}” deleted.")
        return redirect(url_for("schedule.index"))
    days, times = schedule_form.describe(rule)
    return render_template("schedule_delete.html", rule=rule, days=days, times=times)


def _rule(rule_id: str) -> dict:
    try:
        return context.engine().get(path("schedules", rule_id))
    except EngineError as error:
        if error.status == 404:
            abort(404, "There is no such schedule; it may have been deleted meanwhile.")
        raise


def _posted() -> dict:
    form = request.form
    values = {key: form.get(key, "") for key in form if key not in ("days", "csrf_token")}
    values["days"] = form.getlist("days")
    values["enabled"] = bool(form.get("enabled"))
    values.setdefault("mode", "simple")
    return values


def _save(rule_id: str | None, zones: list, rule: dict | None):
    values = _posted()
    try:
        body = schedule_form.body_of(values, context.unit(), rule)
    except schedule_form.FormProblem as problem:
        return _form(values, {problem.field: problem.message}, zones, rule, 422)
    if rule is not None and rule.get("sensors") is not None:
        body["sensors"] = rule["sensors"]  # PUT replaces the rule: keep what this form does not show
    engine = context.engine()
    try:
        if rule_id is None:
            engine.post("/schedules", body)
        else:
            engine.put(path("schedules", rule_id), body)
    except EngineError as error:
        if error.status != 422:
            raise
        field = schedule_form.form_field(error.field, values["mode"])
        return _form(values, {field: schedule_form.refusal(field, error.detail, context.unit())}, zones, rule, 422)
    flash(f"Schedule “{body['name']}” saved.")
    return redirect(url_for("schedule.index", zone=body["zone"] if len(zones) > 1 else None))


def _form(values: dict, errors: dict, zones: list, rule: dict | None, status: int = 200):
    return (
        render_template(
            "schedule_form.html",
            values=values,
            errors=errors,
            zones=zones,
            rule=rule,
            days=schedule_form.DAYS,
        ),
        status,
    )
