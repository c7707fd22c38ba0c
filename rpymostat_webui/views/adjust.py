"""Adjust one zone: − and +, a typed target, how long it holds, resume the schedule, the mode.

Every change here is a plain form that posts and redirects back to the
page it came from (home, Adjust or the kiosk, named by the form's ``back``
field, never a URL, so nothing here can send a browser elsewhere) with a
flash message in words ("Held at 21.5 °C until the next schedule change").
The kiosk's JavaScript posts the same forms with the header ``X-Fragment:
kiosk`` and gets the zone's card back instead of a redirect, to swap in
without reloading.

Setpoints are typed and shown in the browser's unit and sent in Celsius,
rounded to the unit's step first.  − and + move the target in force now by
one step and keep the current hold's end (a permanent hold stays
permanent).  The engine's 422 (a setpoint out of 5..35 °C, heat not below
cool) is shown beside the field it names, with the form as it was typed.
"""

import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from rpymostat_webui import context, setpoints, zone_view
from rpymostat_webui.engine import EngineError, EngineUnavailable, path
from rpymostat_webui.instants import instant
from rpymostat_webui.views import home

blueprint = Blueprint("adjust", __name__, url_prefix="/adjust")

MODES = ("heat", "cool", "auto", "off")
#: The typed form's duration choices: value -> the engine's HoldInput fields.
DURATIONS = {
    "next": {"until": "next_schedule"},
    "1": {"duration": "PT1H"},
    "2": {"duration": "PT2H"},
    "4": {"duration": "PT4H"},
    "permanent": {"until": "permanent"},
}
DURATION_LABELS = (
    ("next", "Until the next schedule change"),
    ("1", "For 1 hour"),
    ("2", "For 2 hours"),
    ("4", "For 4 hours"),
    ("permanent", "Permanently"),
)
FIELDS = {"heat": "heat_setpoint", "cool": "cool_setpoint"}
#: What a − / + button may send as ``steps``; anything else changes nothing (a form that lost its button).
STEPS = {"-1": -1, "1": 1}


def back_to(zone: str):
    """Where a form returns: the page named by its ``back`` field (Adjust when unknown)."""
    back = request.form.get("back")
    if back == "home":
        return redirect(url_for("home.index"))
    if back == "kiosk":
        return redirect(url_for("kiosk.index", zone=zone))
    return redirect(url_for("adjust.zone", zone=zone))


def wants_fragment() -> bool:
    return request.headers.get("X-Fragment") == "kiosk"


def held_words(heat, cool, unit) -> str:
    """ "21.5 °C", or "21 °C heating and 25 °C cooling" for both."""
    if heat is not None and cool is not None:
        return f"{zone_view.degrees(heat, unit)} heating and {zone_view.degrees(cool, unit)} cooling"
    return zone_view.degrees(heat if cool is None else cool, unit)


def page(zone: dict, view, values=None, errors=None, status=200):
    values = values or {}
    for which in view.setpoints:
        current = view.setpoint(which)
        values.setdefault(FIELDS[which], setpoints.form_text(current, context.unit()))
    values.setdefault("duration", "next")
    html = render_template(
        "adjust.html",
        zone=view,
        stored=zone,
        values=values,
        errors=errors or {},
        durations=DURATION_LABELS,
        modes=MODES,
        fields=FIELDS,
    )
    return html, status


def field_errors(error: EngineError, fields) -> dict[str, str]:
    """The engine's 422 beside the field it names (a setpoint's in the browser's unit), else for the form."""
    ((field, detail),) = context.field_errors(error).items()
    if field in fields:
        return {field: zone_view.setpoint_error(detail, context.unit())}
    return {"": zone_view.capitalised(error.message)}


def send(method: str, engine_path: str, body=None):
    """One change sent to the engine.

    For the kiosk's script an engine that cannot be reached is a short
    sentence it shows (the page's 503 otherwise).  A request that timed out
    may have been applied: it says so instead of "not changed", so nobody
    taps again for a step that was made.
    """
    engine = context.engine()
    try:
        return engine.request(method, engine_path, body=body)
    except EngineUnavailable as error:
        if not wants_fragment():
            raise
        if error.timed_out:
            return abort(plain("Maybe not changed: the engine did not answer in time; see the target", 504))
        return abort(plain("Not changed: the engine did not answer; try again", 503))


def plain(text: str, status: int):
    """A sentence for the kiosk's script to show (text, not a card)."""
    return current_app.response_class(text, status, mimetype="text/plain")


def refused(zone_id: str, zone: dict, view, errors: dict, values=None):
    """A change the engine (or the form) refused: beside its field, wherever the form came from."""
    if wants_fragment():
        return home.render_card(view, "kiosk", errors=errors, status=422)
    if request.form.get("back") in ("home", "kiosk"):
        for message in errors.values():
            flash(f"{view.name}: {message}", "error")
        return back_to(zone_id)
    return page(zone, view, values, errors, status=422)


def done(zone_id: str, message: str):
    """A change made: the kiosk's card, or the page it came from with ``message``.

    The change is stored by now: when the zone cannot be read back, the
    kiosk is told it was made (202, a sentence), never "not changed", so
    nobody repeats a step; its live updates bring the card.
    """
    if wants_fragment():
        try:
            _, view = home.load_zone(zone_id)
        except (EngineError, EngineUnavailable):
            return plain(f"{message}; the view will refresh", 202)
        return home.render_card(view, "kiosk", message=message)
    flash(message)
    return back_to(zone_id)


@blueprint.route("/")
def index():
    return redirect(url_for("home.index"))


@blueprint.route("/<zone>")
def zone(zone):
    stored, view = home.load_zone(zone)
    return page(stored, view)


@blueprint.route("/<zone>/hold", methods=["POST"])
def hold(zone):
    """The typed target(s) and the chosen duration."""
    stored, view = home.load_zone(zone)
    unit = context.unit()
    fields = [FIELDS[which] for which in view.setpoints]
    values = {field: request.form.get(field, "").strip() for field in fields}
    choice = request.form.get("duration", "next")
    values["duration"] = choice
    errors, body = {}, dict(DURATIONS.get(choice, {}))
    if choice not in DURATIONS:
        errors["duration"] = "Choose how long to hold."
    for which in view.setpoints:
        field = FIELDS[which]
        if not values[field]:
            continue
        try:
            # A setpoint left as shown keeps its value: 24 °C is not re-sent as 75 °F's 23.89.
            body[field] = setpoints.to_send(values[field], view.setpoint(which), unit)
        except (ValueError, OverflowError):  # not a number, nan / inf, or too big to round
            example = unit.shown(view.setpoint(which) or 21)
            errors[field] = f"Type a number of degrees, such as {example}."
    if not errors and not any(field in body for field in fields):
        errors[fields[0]] = "Type the temperature to hold."
    if errors:
        return refused(zone, stored, view, errors, values)
    try:
        send("POST", path("zones", zone, "hold"), body)
    except EngineError as error:
        if error.status != 422:
            raise
        return refused(zone, stored, view, field_errors(error, fields), values)
    held = held_words(body.get("heat_setpoint"), body.get("cool_setpoint"), unit)
    return done(zone, f"Held at {held} {zone_view.duration_words(choice)}")


def kept_duration(current: dict | None, now: datetime.datetime) -> tuple[dict, str | None]:
    """The HoldInput fields that keep the current hold's end, and its end time (None: not timed)."""
    if not current or current.get("until") == "next_schedule":
        return {"until": "next_schedule"}, None
    if current.get("until") == "permanent":
        return {"until": "permanent"}, None
    end = instant(current.get("end"))
    seconds = int((end - now).total_seconds()) if end else 0
    if seconds < 60:
        return {"until": "next_schedule"}, None
    return {"duration": f"PT{seconds}S"}, current["end"]


@blueprint.route("/<zone>/nudge", methods=["POST"])
def nudge(zone):
    """− or +: the target in force now, one step of the browser's unit lower or higher.

    ``steps`` must be the button's own "-1" or "1": a form sent without its
    button (a script's resubmission) is refused before the engine is asked,
    never taken as a +.
    """
    steps = STEPS.get(request.form.get("steps", ""))
    if steps is None:
        abort(400, "nothing was changed: press − or + again")
    stored, view = home.load_zone(zone)
    unit = context.unit()
    which = request.form.get("which", view.primary)
    if which not in view.setpoints:
        which = view.primary
    engine = context.engine()
    current = home.hold_of(engine, zone)
    now = home.now()
    body, end = kept_duration(current, now)
    for name in view.setpoints:
        setpoint = view.setpoint(name)
        if setpoint is None:
            setpoint = stored.get(f"default_{name}_setpoint")
        if name == which and setpoint is not None:
            setpoint = unit.nudged(setpoint, steps)
        if setpoint is not None:
            body[FIELDS[name]] = setpoint
    try:
        send("POST", path("zones", zone, "hold"), body)
    except EngineError as error:
        if error.status != 422:
            raise
        return refused(zone, stored, view, field_errors(error, list(FIELDS.values())))
    if end:
        words = f"until {zone_view.moment_words(end, context.timezone(), now)}"
    else:
        words = zone_view.duration_words("permanent" if body.get("until") == "permanent" else "next")
    return done(zone, f"Held at {held_words(body.get('heat_setpoint'), body.get('cool_setpoint'), unit)} {words}")


@blueprint.route("/<zone>/resume", methods=["POST"])
def resume(zone):
    """Resume schedule: end the hold."""
    try:
        send("DELETE", path("zones", home.engine_id(zone), "hold"))
    except EngineError as error:
        if error.status != 404:
            raise
        return done(zone, "There was no hold: the schedule is in force")
    return done(zone, "Resumed the schedule")


@blueprint.route("/<zone>/overrides/<rule>/end", methods=["POST"])
def end_override(zone, rule):
    """End the override in force now (the engine deletes the one-time rule); the schedule takes over."""
    home.engine_id(zone)
    name = request.form.get("name", "").strip()
    called = f"\u201c{name}\u201d" if name else "the override"
    try:
        send("DELETE", path("overrides", home.engine_id(rule, "override")))
    except EngineError as error:
        if error.status != 404:
            raise
        return done(zone, f"{zone_view.capitalised(called)} had already ended")
    return done(zone, f"Ended {called}: the schedule is in force")


@blueprint.route("/<zone>/mode", methods=["POST"])
def mode(zone):
    """Heat, cool, auto or off: the zone written back as read, with only its mode changed."""
    stored, view = home.load_zone(zone)
    chosen = request.form.get("mode", "")
    if chosen not in MODES:
        return page(stored, view, errors={"mode": "Choose heat, cool, auto or off."}, status=422)
    body = {**zone_view.zone_input(stored), "mode": chosen}
    try:
        context.engine().put(path("zones", zone), body)
    except EngineError as error:
        if error.status != 422:
            raise
        return page(stored, view, errors=field_errors(error, ["mode"]), status=422)
    flash(f"{view.name}: mode set to {chosen}")
    return back_to(zone)
