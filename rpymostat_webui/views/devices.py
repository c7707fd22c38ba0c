"""Devices: sensors (rename, remove), relay units with their real relay states, zones, pairing requests.

Everything shown is what the engine reports (``/v1/sensors``, ``/v1/controls``,
``/v1/zones``, ``/v1/pairings``); the UI keeps nothing of its own.  Each form
is a plain POST answered with a redirect (Post/Redirect/Get); a 422 from the
engine re-renders the form with the typed values kept and the message beside
the field it names.  Zone outputs, pairing approvals and removing things are
an admin's (``context.is_admin()``): without an admin token the page says so
instead of offering forms the engine would refuse.

A pairing request names the role it wants; the page says it in words, and a
request for ``admin`` (full control: tokens, pairing, zone outputs) is
approved only from a confirm page of its own, so a stranger on the LAN asking
for it is never let in by the same click that lets in a sensor.
"""

import math

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from rpymostat_webui import context, setpoints
from rpymostat_webui.engine import EngineError, path

blueprint = Blueprint("devices", __name__, url_prefix="/devices")

MODES = (("heat", "Heat"), ("cool", "Cool"), ("auto", "Heat and cool"), ("off", "Off"))
OUTPUTS = (("heat", "Heating"), ("cool", "Cooling"), ("fan", "Fan"))
SETPOINTS = ("default_heat_setpoint", "default_cool_setpoint")
#: What a pairing request asks to become, in words (the engine's roles: docs/security.rst).
PAIRING_ROLES = {
    "sensor": "a sensor daemon",
    "control": "a relay unit",
    "admin": "a web UI or app with full control (admin)",
    "user": "a web UI or app (user)",
}
#: The role whose approval needs the confirm page: it may manage tokens, pairing and zone outputs.
FULL_CONTROL = "admin"


# The overview.


def _overview():
    engine = context.engine()
    sensors = engine.get("/sensors")["sensors"]
    zones = engine.get("/zones")["zones"]
    controls = engine.get("/controls")["controls"]
    pairings = engine.get("/pairings")["pairings"] if context.is_admin() else []
    used_by: dict[str, list[str]] = {}
    wired: dict[str, list[str]] = {}
    reported: dict[str, dict] = {}
    for zone in zones:
        for sensor_id in zone["sensors"]:
            used_by.setdefault(sensor_id, []).append(zone["name"])
        for output, address in zone["outputs"].items():
            wired.setdefault(address, []).append(f"{zone['name']} ({dict(OUTPUTS).get(output, output).lower()})")
        if zone["outputs"]:
            reported.update(_reported_outputs(engine, zone["id"]))
    return {
        "sensors": sorted(sensors, key=lambda sensor: (sensor["name"] or sensor["alias"] or sensor["id"]).lower()),
        "zones": zones,
        "controls": sorted(controls, key=lambda control: control["host_id"]),
        "pairings": pairings,
        "pairing_roles": PAIRING_ROLES,
        "full_control": FULL_CONTROL,
        "used_by": used_by,
        "wired": wired,
        "reported": reported,
    }


def _reported_outputs(engine, zone_id: str) -> dict[str, dict]:
    """``{address: output}`` as the zone's last decision found them: what each relay unit reports now.

    ``/v1/controls`` holds the states a unit registered with, which the
    engine's commands have changed since; a zone's state carries each of its
    outputs' reported state (``on``, ``since``, ``note``).  A zone the engine
    cannot decide right now adds nothing, and its relays show their
    registered state, said as such.
    """
    try:
        state = engine.get(path("zones", zone_id, "state"))
    except EngineError:
        return {}
    return {output["address"]: output for output in (state.get("outputs") or {}).values() if output.get("address")}


@blueprint.route("/")
def index():
    return render_template("devices.html", **_overview(), typed={}, errors={})


@blueprint.route("/sensors/<sensor_id>/name", methods=["POST"])
def rename_sensor(sensor_id):
    """Give a sensor a name people know it by; an empty name clears it (the device's alias shows again)."""
    name = request.form.get("name", "").strip()
    try:
        context.engine().patch(path("sensors", sensor_id), {"name": name or None})
    except EngineError as error:
        if error.status != 422:
            flash(context.refused(error), "error")
            return redirect(url_for("devices.index") + "#sensors")
        errors = {sensor_id: context.form_errors(error, ("name",))}
        return render_template("devices.html", **_overview(), typed={sensor_id: name}, errors=errors), 422
    flash(f"Sensor {sensor_id} is now called {name}." if name else f"Sensor {sensor_id} has no name now.")
    return redirect(url_for("devices.index") + "#sensors")


@blueprint.route("/sensors/<sensor_id>/delete", methods=["POST"])
def delete_sensor(sensor_id):
    """Take a replaced sensor off the list; its history stays, and it comes back if it reports again."""
    try:
        context.engine().delete(path("sensors", sensor_id))
    except EngineError as error:
        flash(context.refused(error), "error")
    else:
        flash(f"Sensor {sensor_id} is off the list; its history is kept.")
    return redirect(url_for("devices.index") + "#sensors")


def _gone(code: str):
    flash(f"No request with code {code} is waiting any more.", "error")
    return redirect(url_for("devices.index") + "#pairing")


def _pending(code: str) -> dict | None:
    """The waiting request with this code, as the engine has it now (what is approved is what was shown)."""
    return next((found for found in context.engine().get("/pairings")["pairings"] if found["code"] == code), None)


def _confirmed(pairing: dict, form) -> bool:
    """Whether the form approves what the engine holds: full control only from the confirm page's form.

    The confirm page sends ``confirm=admin`` with the host it showed; any
    form that says which role it showed must match the request too, so a
    request replaced between the page and the click is shown again.
    """
    if form.get("role", pairing["role"]) != pairing["role"]:
        return False
    if pairing["role"] != FULL_CONTROL:
        return True
    return form.get("confirm") == FULL_CONTROL and form.get("host_id") == pairing["host_id"]


@blueprint.route("/pairings/<code>/approve", methods=["GET", "POST"])
def approve_pairing(code):
    """Let a waiting daemon in: its own token starts working.

    GET is the confirm page (the code, host and what approving grants); a
    request for full control is approved only by its form, a POST without
    that confirmation is sent to it instead.
    """
    try:
        pairing = _pending(code)
    except EngineError as error:
        flash(context.refused(error), "error")
        return redirect(url_for("devices.index") + "#pairing")
    if pairing is None:
        return _gone(code)
    if request.method == "GET" or not _confirmed(pairing, request.form):
        grants = PAIRING_ROLES.get(pairing["role"], pairing["role"])
        return render_template("devices_pairing.html", pairing=pairing, grants=grants, full_control=FULL_CONTROL)
    try:
        made = context.engine().post(path("pairings", code, "approve"))
    except EngineError as error:
        if error.status == 404:
            return _gone(code)
        flash(context.refused(error), "error")
    else:
        flash(f"Approved {code}: {pairing['host_id']} may now send as {made['role']} (token {made['name']}).")
    return redirect(url_for("devices.index") + "#pairing")


@blueprint.route("/pairings/<code>/reject", methods=["POST"])
def reject_pairing(code):
    try:
        context.engine().delete(path("pairings", code))
    except EngineError as error:
        flash(
            context.refused(error) if error.status != 404 else f"No request with code {code} is waiting any more.",
            "error",
        )
    else:
        flash(f"Rejected the request with code {code}.")
    return redirect(url_for("devices.index") + "#pairing")


# The zone editor.


def _zone_values(zone: dict) -> tuple[dict, set]:
    """The editor's strings for a stored zone (setpoints in the browser's unit), and its sensors."""
    unit = context.unit()
    values = {
        "zone": zone.get("id", ""),
        "name": zone.get("name", ""),
        "mode": zone.get("mode", "heat"),
        "quorum": str(zone.get("quorum", 1)),
    }
    for key in SETPOINTS:  # as the cards show it, which is what setpoints.to_send compares with
        values[key] = setpoints.form_text(zone.get(key), unit)
    for sensor_id, weight in zone.get("sensors", {}).items():
        values[f"sensors.{sensor_id}"] = f"{weight:g}"
    for output, address in zone.get("outputs", {}).items():
        values[f"outputs.{output}"] = address
    return values, set(zone.get("sensors", {}))


def _zone_page(zone_id, values, chosen, errors, status=200, stored=None):
    engine = context.engine()
    sensors = engine.get("/sensors")["sensors"]
    known = {sensor["id"] for sensor in sensors}
    missing = [
        {"id": sensor_id, "name": None, "alias": None, "value": None, "last_seen": None}
        for sensor_id in sorted(chosen - known)
    ]
    relays = []
    for control in sorted(engine.get("/controls")["controls"], key=lambda found: found["host_id"]):
        for relay_id, relay in sorted(control["relays"].items()):
            label = f"{control['host_id']} · {relay.get('alias') or relay_id} ({'on' if relay['state'] else 'off'})"
            relays.append((f"{control['host_id']}/{relay_id}", label))
    page = render_template(
        "devices_zone.html",
        zone_id=zone_id,
        stored=stored,
        sensors=sensors + missing,
        relays=relays,
        values=values,
        chosen=chosen,
        errors=errors,
        modes=MODES,
        outputs=OUTPUTS,
    )
    return page, status


def _typed_zone(form, stored: dict | None) -> tuple[dict, dict[str, str]]:
    """The ZoneInput for the submitted editor, and errors found before sending anything."""
    unit = context.unit()
    errors: dict[str, str] = {}
    body: dict = {"name": form.get("name", "").strip(), "mode": form.get("mode", "heat"), "sensors": {}}
    for sensor_id in form.getlist("use"):
        text = form.get(f"sensors.{sensor_id}", "").strip() or "1"
        try:
            body["sensors"][sensor_id] = weight = float(text.replace(",", "."))
        except ValueError:
            errors[f"sensors.{sensor_id}"] = f"{text!r} is not a number"
        else:
            if not math.isfinite(weight):  # "inf" parses, but JSON has no infinity
                errors[f"sensors.{sensor_id}"] = "must be a number"
    try:
        body["quorum"] = int(form.get("quorum", "").strip() or "1")
    except ValueError:
        errors["quorum"] = "needs a whole number of sensors"
    for key in SETPOINTS:
        text = form.get(key, "").strip()
        try:  # left as shown, 18 °C stays 18, not 64 °F's 17.78 (rpymostat_webui.setpoints)
            body[key] = setpoints.to_send(text, (stored or {}).get(key), unit)
        except ValueError as problem:
            errors[key] = str(problem)
    if context.is_admin():
        body["outputs"] = {output: form[f"outputs.{output}"] for output, _ in OUTPUTS if form.get(f"outputs.{output}")}
    elif stored is not None:
        body["outputs"] = stored["outputs"]
    if stored is not None:  # the other settings (plugin, safety limits) are the Settings page's: kept as they are
        body["decision"] = stored["decision"]
        body["safety"] = stored["safety"]
    return body, errors


def _form_names(form) -> set[str]:
    names = {"zone", "name", "mode", "quorum", *SETPOINTS, *(f"outputs.{output}" for output, _ in OUTPUTS)}
    return names | {f"sensors.{sensor_id}" for sensor_id in form.getlist("use")} | set(form)


def _save_zone(zone_id: str, stored: dict | None):
    form = request.form
    body, errors = _typed_zone(form, stored)
    chosen = set(form.getlist("use"))
    if not zone_id:
        errors["zone"] = "needs a short id: letters, digits, '.', '_' or '-'"
    if errors:
        return _zone_page(zone_id if stored else None, form.to_dict(), chosen, errors, 422, stored)
    try:
        context.engine().put(path("zones", zone_id), body)
    except EngineError as error:
        found = context.form_errors(error, _form_names(form))
        status = error.status if error.status in (403, 404, 409, 422) else 502
        return _zone_page(zone_id if stored else None, form.to_dict(), chosen, found, status, stored)
    flash(f"Zone {body['name'] or zone_id} is saved.")
    return redirect(url_for("devices.index") + "#zones")


@blueprint.route("/zones/new", methods=["GET", "POST"])
def new_zone():
    if request.method == "POST":
        return _save_zone(request.form.get("zone", "").strip(), None)
    values, chosen = _zone_values({"quorum": 1, "default_heat_setpoint": 18.0, "default_cool_setpoint": 26.0})
    return _zone_page(None, values, chosen, {})


def _stored_zone(zone_id: str) -> dict:
    try:
        return context.engine().get(path("zones", zone_id))
    except EngineError as error:
        if error.status == 404:
            abort(404, f"There is no zone {zone_id!r}.")
        raise


@blueprint.route("/zones/<zone_id>", methods=["GET", "POST"])
def edit_zone(zone_id):
    stored = _stored_zone(zone_id)
    if request.method == "POST":
        return _save_zone(zone_id, stored)
    values, chosen = _zone_values(stored)
    return _zone_page(zone_id, values, chosen, {}, stored=stored)


@blueprint.route("/zones/<zone_id>/delete", methods=["GET", "POST"])
def delete_zone(zone_id):
    """Asks first (a page of its own, so it works without JavaScript); the engine refuses if rules use it."""
    stored = _stored_zone(zone_id)
    if request.method == "GET":
        return render_template("devices_zone_delete.html", zone=stored, error=None)
    try:
        context.engine().delete(path("zones", zone_id))
    except EngineError as error:
        return render_template("devices_zone_delete.html", zone=stored, error=context.refused(error)), error.status
    flash(f"Zone {stored['name']} is deleted.")
    return redirect(url_for("devices.index") + "#zones")
