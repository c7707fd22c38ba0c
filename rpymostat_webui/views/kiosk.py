"""The wall kiosk: one zone on an 800×480 touch screen in full-screen Chromium.

No navigation, big − and + (48 px and more), "Resume schedule", live
updates, and a dim overlay after a minute untouched and at night.  The
overlay's timings are data attributes, set here from the kiosk URL so a
kiosk's start script chooses them without a settings page:
``/kiosk/?zone=living&dim=60&night=22:00-06:30`` (browser local time).
Everything also works without JavaScript: the buttons are forms that
redirect back here.
"""

import re

from flask import Blueprint, render_template, request

from rpymostat_webui import context
from rpymostat_webui.views import home

blueprint = Blueprint("kiosk", __name__, url_prefix="/kiosk")

DEFAULT_DIM_AFTER = 60
DEFAULT_NIGHT = ("22:00", "06:30")
_NIGHT = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


def dim_after(text: str | None) -> int:
    """Seconds untouched before the screen dims: 10 to 3600, else the default."""
    try:
        seconds = int(text or DEFAULT_DIM_AFTER)
    except ValueError:
        return DEFAULT_DIM_AFTER
    return seconds if 10 <= seconds <= 3600 else DEFAULT_DIM_AFTER


def night(text: str | None) -> tuple[str, str]:
    """The night's start and end ("22:00-06:30"); the default when absent or malformed."""
    if text and _NIGHT.match(text):
        start, end = text.split("-")
        return start, end
    return DEFAULT_NIGHT


@blueprint.route("/")
def index():
    zone_id = request.args.get("zone")
    if not zone_id:
        zones = context.engine().get("/zones").get("zones", [])
        zone_id = zones[0]["id"] if zones else "default"
    _, view = home.load_zone(zone_id)
    start, end = night(request.args.get("night"))
    return render_template(
        "kiosk.html",
        zone=view,
        dim_after=dim_after(request.args.get("dim")),
        night_start=start,
        night_end=end,
    )
