"""Settings: each zone's decision plugin and its settings, its safety limits, engine tokens, the password.

The plugin's settings form is drawn from the JSON Schema the engine states
for it (``GET /v1/plugins``), and the safety limits' form from the engine's
own OpenAPI document, both by :mod:`rpymostat_webui.schema_form`: a new
plugin, or a new limit, gets its form with no change here.  Saving PUTs the
whole zone with its other fields as the engine has them, so this page never
undoes what the Devices page set.

Tokens are an admin's: without an admin token the page says so instead of
offering the forms.  A new token is shown once, on the answer to the form
(not stored, not redirected to), with a warning to copy it now.  The UI's
own paired token is marked, so revoking it is not done by mistake.
"""

import copy

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from rpymostat_webui import context, schema_form, zone_view
from rpymostat_webui.engine import EngineError, path

blueprint = Blueprint("settings", __name__, url_prefix="/settings")

ROLES = (
    ("user", "user: schedules, holds, zones"),
    ("read", "read: look only"),
    ("admin", "admin: everything, tokens too"),
    ("sensor", "sensor: a sensor daemon"),
    ("control", "control: a relay unit"),
)
#: Labels for the safety limits' groups (the engine's schema names them heat and cool).
OUTPUT_TITLES = {"heat": "Heating output", "cool": "Cooling output"}


def own_tokens() -> set[str]:
    """The names the web UI's own paired token may have: ``admin-<host id>`` or ``user-<host id>``.

    The engine names a paired token ``<role>-<host_id>``, and the UI pairs with
    this host's id kept in its data directory (the household's).  A token
    given by hand has a name of the admin's choosing: not recognised.
    """
    host = context.state().host_id
    return {f"admin-{host}", f"user-{host}"} if host else set()


def _safety_fields() -> list[schema_form.Field]:
    """The safety limits' fields, from the schema of ZoneInput.safety in the engine's OpenAPI document."""
    document = context.engine().get("/openapi.json")
    schema = copy.deepcopy(document["components"]["schemas"]["ZoneInput"]["properties"]["safety"])
    for output, node in schema.get("properties", {}).items():
        node.setdefault("title", OUTPUT_TITLES.get(output, schema_form.humanized(output)))
    return schema_form.fields(schema, prefix="safety", root=document)


def _page(zone_id, plugin_name=None, forms=None, status=200, plugins=None, safety_fields=None):
    """The settings page for one zone; ``forms`` holds the values and errors of a re-rendered form.

    ``zone_id`` None is the first zone (``default`` when there is one).
    ``plugins`` and ``safety_fields``, when a form's handler already asked
    the engine for them, are not asked for again.
    """
    engine = context.engine()
    forms = forms or {}
    zones = engine.get("/zones")["zones"]
    if zone_id is None:
        ids = [zone["id"] for zone in zones]
        zone_id = "default" if "default" in ids or not ids else ids[0]
    zone = next((found for found in zones if found["id"] == zone_id), None)
    if zone is None:
        abort(404, f"There is no zone {zone_id!r}.")
    if plugins is None:
        plugins = engine.get("/plugins")["decision"]
    plugin_name = plugin_name or zone["decision"]["plugin"]
    plugin = next((found for found in plugins if found["name"] == plugin_name), None)
    decision_fields = schema_form.fields(plugin["config_schema"]) if plugin else []
    stored_config = zone["decision"].get("config") if plugin_name == zone["decision"]["plugin"] else {}
    if safety_fields is None:
        safety_fields = _safety_fields()
    page = render_template(
        "settings.html",
        zones=zones,
        zone=zone,
        plugins=plugins,
        plugin=plugin,
        plugin_name=plugin_name,
        decision_fields=decision_fields,
        decision=forms.get("decision") or (schema_form.initial(decision_fields, stored_config), {}),
        safety_fields=safety_fields,
        safety=forms.get("safety") or (schema_form.initial(safety_fields, zone["safety"]), {}),
        tokens=engine.get("/tokens")["tokens"] if context.is_admin() else [],
        own_tokens=own_tokens(),
        token_form=forms.get("token") or ({"role": "user"}, {}),
        roles=ROLES,
        provisioned=context.state().household.provisioned,
    )
    return page, status


@blueprint.route("/")
def index():
    return _page(request.args.get("zone") or None, request.args.get("plugin"))


def _status(error: EngineError) -> int:
    return error.status if error.status in (403, 404, 409, 422) else 502


def _save_zone(zone_id, key, value, forms, plugin_name=None, **asked):
    """PUT the zone with ``key`` replaced; on a refusal the page again with ``forms`` and the errors.

    ``asked`` passes on to :func:`_page` what the handler already asked the engine for.
    """
    engine = context.engine()
    zone = engine.get(path("zones", zone_id))
    try:
        engine.put(path("zones", zone_id), {**zone_view.zone_input(zone), key: value})
    except EngineError as error:
        values, _ = forms[key]
        names = set(values) | {"plugin"}
        errors = context.form_errors(error, {f"{key}.{name}" for name in names} | names)
        errors = {name.removeprefix("decision."): message for name, message in errors.items()}
        return _page(zone_id, plugin_name, {key: (values, errors)}, _status(error), **asked)
    return None


@blueprint.route("/zones/<zone_id>/decision", methods=["POST"])
def save_decision(zone_id):
    """The zone's decision plugin and its settings, checked here against the plugin's schema first."""
    plugin_name = request.form.get("plugin", "")
    plugins = context.engine().get("/plugins")["decision"]
    plugin = next((found for found in plugins if found["name"] == plugin_name), None)
    values = request.form.to_dict()
    if plugin is None:
        forms = {"decision": (values, {"plugin": "choose one of the installed plugins"})}
        return _page(zone_id, None, forms, 422, plugins=plugins)
    fields = schema_form.fields(plugin["config_schema"])
    config, errors = schema_form.parse(fields, request.form)
    if errors:
        return _page(zone_id, plugin_name, {"decision": (values, errors)}, 422, plugins=plugins)
    decision = {"plugin": plugin_name, "config": config}
    refusal = _save_zone(zone_id, "decision", decision, {"decision": (values, {})}, plugin_name, plugins=plugins)
    if refusal:
        return refusal
    flash(f"The {plugin_name} settings of this zone are saved.")
    return redirect(url_for("settings.index", zone=zone_id) + "#decision")


@blueprint.route("/zones/<zone_id>/safety", methods=["POST"])
def save_safety(zone_id):
    """Short-cycle limits per output; an empty field takes the engine's own setting."""
    fields = _safety_fields()
    values = request.form.to_dict()
    safety, errors = schema_form.parse(fields, request.form)
    if errors:
        return _page(zone_id, None, {"safety": (values, errors)}, 422, safety_fields=fields)
    refusal = _save_zone(zone_id, "safety", safety, {"safety": (values, {})}, safety_fields=fields)
    if refusal:
        return refusal
    flash("The safety limits of this zone are saved.")
    return redirect(url_for("settings.index", zone=zone_id) + "#safety")


@blueprint.route("/tokens", methods=["POST"])
def create_token():
    """Make an engine token and show it this once (the engine keeps only its hash)."""
    values = {key: request.form.get(key, "").strip() for key in ("name", "role", "host_id")}
    body = {"name": values["name"], "role": values["role"]}
    if values["host_id"]:
        body["host_id"] = values["host_id"]
    try:
        made = context.engine().post("/tokens", body)
    except EngineError as error:
        errors = (
            {"name": error.message} if error.status == 409 else context.form_errors(error, ("name", "role", "host_id"))
        )
        return _page(request.form.get("zone") or None, None, {"token": (values, errors)}, _status(error))
    response = render_template("settings_token.html", token=made)
    return response, 201, {"Cache-Control": "no-store"}


@blueprint.route("/tokens/<name>/revoke", methods=["GET", "POST"])
def revoke_token(name):
    """Asks first; a revoked token stops working at once (its daemon must pair again)."""
    if request.method == "GET":
        return render_template("settings_revoke.html", name=name, own=name in own_tokens())
    try:
        context.engine().delete(path("tokens", name))
    except EngineError as error:
        flash(context.refused(error), "error")
    else:
        flash(f"The token {name} is revoked.")
    return redirect(url_for("settings.index") + "#tokens")
