"""What templates may use beyond Jinja's own: the CSRF token, the unit, temperatures and ages.

``{{ 21.5|temp }}`` shows a Celsius value in the browser's unit with its
symbol; ``{{ 21.5|degrees }}`` without it; ``{{ "2026-12-02T14:00:00Z"|ago }}``
says "2 min ago"; ``{{ at|clock }}`` shows a time of day in the engine's
words.  ``csrf_token()``, ``unit`` and ``is_admin`` are globals.
"""

import datetime

from flask import request

from rpymostat_webui import context, guard, instants, zone_view


def install(app) -> None:
    app.jinja_env.globals.update(csrf_token=guard.csrf_token, is_admin=context.is_admin, logged_in=guard.logged_in)
    app.jinja_env.filters.update(temp=temperature, degrees=degrees, ago=ago, clock=clock, when=when, local=local)
    app.context_processor(lambda: {"unit": context.unit(), "path": request.path})


def temperature(celsius) -> str:
    """``21.5 °C`` / ``71 °F``; a dash when there is no value."""
    return zone_view.degrees(celsius, context.unit())


def degrees(celsius) -> str:
    return context.unit().shown(celsius)


def ago(text, now: datetime.datetime | None = None) -> str:
    """ "12 s ago", "5 min ago", "3 h ago", "2 days ago" for an ISO instant."""
    instant = instants.instant(text)
    if instant is None:
        return "never"
    now = now or datetime.datetime.now(datetime.UTC)
    seconds = max(0, int((now - instant).total_seconds()))
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 90 * 60:
        return f"{seconds // 60} min ago"
    if seconds < 36 * 3600:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def local(text) -> datetime.datetime | None:
    """An ISO instant from the engine as the house's wall time (the engine's time zone)."""
    instant = instants.instant(text)
    return None if instant is None else instant.astimezone(context.timezone())


def clock(text) -> str:
    """The house's time of day of an ISO instant: ``22:30``."""
    instant = local(text)
    return instant.strftime("%H:%M") if instant else "–"


def when(text) -> str:
    """Day and time of an ISO instant in the house's time: ``Wed 2 Dec 22:30``."""
    instant = local(text)
    return instant.strftime("%a %-d %b %H:%M") if instant else "–"
