"""The home page: every zone at a glance, and the one-card fragment live updates fetch.

Each card says what people ask a thermostat: how warm it is, what it is
aiming for and why (the rule, the engine's reason), what the equipment
really does, when the next change comes, and whether a sensor is missing.
The wording is :mod:`rpymostat_webui.zone_view`'s; this module only asks
the engine.  The loaders here are shared with the Adjust and kiosk pages,
so all three say the same thing about a zone.

One zone the engine cannot decide (its ``/state`` answers 503) is a card
with the engine's reason, not a broken page; an engine that cannot be
reached at all is the app's 503 page.
"""

import datetime
import functools
from collections.abc import Callable

from flask import Blueprint, abort, render_template, request

from rpymostat_webui import context, zone_view
from rpymostat_webui.engine import EngineError, addressable, path

blueprint = Blueprint("home", __name__, url_prefix="")

#: Card layouts: the home page's, the Adjust page's (no buttons), the kiosk's big one.
VARIANTS = ("home", "adjust", "kiosk")


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def engine_id(text: str, kind: str = "zone") -> str:
    """An id from a URL, checked before it goes into an engine path (a 404 here otherwise).

    ``path()`` escapes ``?`` and ``/``, but urllib3 still removes ``.`` and
    ``..`` segments (``/zones/./hold`` is sent as ``/zones/hold``) and the
    engine decodes ``%2F`` before routing: such an id would address another
    resource.  No zone or rule id the engine makes holds them.
    """
    if not addressable(text):
        abort(404, f"no {kind} {text!r}")
    return text


def ask(engine, path: str, tolerated: tuple[int, ...]):
    """``(answer, None)``, or ``(None, error)`` when the engine answered one of the ``tolerated`` statuses."""
    try:
        return engine.get(path), None
    except EngineError as error:
        if error.status not in tolerated:
            raise
        return None, error


#: A zone the engine cannot decide or schedule right now answers one of these; its card says why.
UNDECIDED = (404, 500, 503)


def sensor_list(engine) -> Callable[[], dict]:
    """The engine's sensors by id, asked for once a page at most, and only when a card names one.

    Cards name sensors only when the engine dropped some (stale, implausible);
    most card refreshes, one per reading, need no sensor list at all.
    """
    return functools.cache(lambda: {sensor["id"]: sensor for sensor in engine.get("/sensors").get("sensors", [])})


def hold_of(engine, zone: str) -> dict | None:
    """The zone's hold, or None (the engine answers 404 when there is none)."""
    return ask(engine, path("zones", zone, "hold"), (404,))[0]


def view_of(engine, zone: dict, sensors: Callable[[], dict], tz) -> zone_view.ZoneView:
    """One zone's view; a zone the engine cannot decide says why instead of failing the page.

    A hold or an override in force is asked for too: the card says when it
    ends and offers to end it.
    """
    if not addressable(zone["id"]):  # kept from before the engine refused such names
        message = f"the zone id {zone['id']!r} cannot be asked for over HTTP; give the zone a new id"
        return zone_view.build(zone, None, None, {}, context.unit(), tz, now(), error=message)
    state, error = ask(engine, path("zones", zone["id"], "state"), UNDECIDED)
    if state is None:
        return zone_view.build(zone, None, None, {}, context.unit(), tz, now(), error=error.message)
    source = (state.get("target") or {}).get("source") or {}
    hold = hold_of(engine, zone["id"]) if source.get("type") == "hold" else None
    override = None
    if source.get("type") == "override" and source.get("id"):
        override = ask(engine, path("overrides", source["id"]), (404,))[0]  # ended meanwhile: the target's end
    names = sensors() if (state.get("temperature") or {}).get("dropped") else {}
    return zone_view.build(zone, state, hold, names, context.unit(), tz, now(), override=override)


def load_zone(zone_id: str) -> tuple[dict, zone_view.ZoneView]:
    """``(zone as the engine stores it, its view)``; the engine's 404 for an unknown zone propagates."""
    engine = context.engine()
    zone = engine.get(path("zones", engine_id(zone_id)))
    return zone, view_of(engine, zone, sensor_list(engine), context.timezone())


def load_zones() -> list[zone_view.ZoneView]:
    """Every zone's view, in the engine's order."""
    engine = context.engine()
    zones = engine.get("/zones").get("zones", [])
    sensors, tz = sensor_list(engine), context.timezone()
    return [view_of(engine, zone, sensors, tz) for zone in zones]


def render_card(view: zone_view.ZoneView, variant: str = "home", errors=None, message=None, status=200):
    """One zone's card alone (live updates and the kiosk's buttons swap it in)."""
    html = render_template("_zone_card.html", zone=view, variant=variant, errors=errors or {}, message=message)
    return html, status


@blueprint.route("/")
def index():
    return render_template("home.html", zones=load_zones())


@blueprint.route("/zones/<zone>/card")
def zone_card(zone):
    variant = request.args.get("variant", "home")
    if variant not in VARIANTS:
        abort(404)
    _, view = load_zone(zone)
    return render_card(view, variant)
