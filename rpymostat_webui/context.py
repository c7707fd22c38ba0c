"""What every page needs for its request: the engine client, the household, the chosen unit.

Views import these accessors instead of reaching into ``current_app`` themselves,
so the app factory is the one place that decides what they are.
"""

import dataclasses
import time
import zoneinfo

from flask import current_app, request

from rpymostat_webui.engine import EngineClient, EngineError
from rpymostat_webui.guard import LoginPacing
from rpymostat_webui.household import Household
from rpymostat_webui.units import COOKIE, Unit, unit_of

EXTENSION = "rpymostat"


@dataclasses.dataclass
class WebuiState:
    """The app's collaborators, made once by ``create_app``; ``role`` is the engine token's role."""

    engine: EngineClient
    household: Household
    pacing: LoginPacing
    role: str = "admin"
    #: This host's id (``<data dir>/host-id``): the UI's paired token is named ``<role>-<host id>``.
    host_id: str | None = None
    monotonic: object = time.monotonic
    _timezone: tuple | None = None  # (zone, when it was asked), refreshed every TIMEZONE_TTL s


#: Seconds the engine's time zone is remembered; a changed zone shows within this.
TIMEZONE_TTL = 600.0


def state() -> WebuiState:
    return current_app.extensions[EXTENSION]


def engine() -> EngineClient:
    """The engine client; its calls raise EngineUnavailable / EngineError (the app renders both)."""
    return state().engine


def timezone() -> zoneinfo.ZoneInfo:
    """The house's time zone, as the engine keeps it (``/v1/status``); times are shown in it.

    Asked at most every :data:`TIMEZONE_TTL` seconds.  UTC when the engine
    does not say or names a zone this host does not know; an unreachable
    engine raises EngineUnavailable like any other call.
    """
    held = state()
    now = held.monotonic()
    if held._timezone is None or now - held._timezone[1] > TIMEZONE_TTL:
        name = (engine().get("/status") or {}).get("timezone") or "UTC"
        try:
            zone = zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        held._timezone = (zone, now)
    return held._timezone[0]


def unit() -> Unit:
    """The unit this browser chose (°C unless its cookie says °F)."""
    return unit_of(request.cookies.get(COOKIE))


def is_admin() -> bool:
    """Whether the UI's own engine token may manage tokens, pairing and zone outputs."""
    return state().role == "admin"


def field_errors(error: EngineError) -> dict[str, str]:
    """A form's errors from an engine error: ``{field: detail}``, or ``{"": message}`` for the form."""
    if error.field and error.field != "body":  # "body: ..." is about the whole form
        return {error.field: error.detail}
    return {"": error.message}


def refused(error: EngineError) -> str:
    """An engine refusal in plain words: a 403 says an admin token is needed."""
    if error.status == 403:
        return f"The web UI's engine token may not do this; it needs an admin token ({error.message})."
    return f"The engine said no: {error.message}."


def form_errors(error: EngineError, names) -> dict[str, str]:
    """:func:`context.field_errors` mapped onto a form showing the fields ``names``.

    Only what the shared helper does not: a refusal other than a 422 in the
    words of :func:`refused`, and an error about a field the form does not
    show becomes the form's own (with the field's name, so it still says which).
    """
    if error.status != 422:
        return {"": refused(error)}
    return {
        field if field in names else "": detail if field in names else error.message
        for field, detail in field_errors(error).items()
    }
