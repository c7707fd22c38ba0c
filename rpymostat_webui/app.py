"""The web UI's Flask application factory.

``create_app(config, engine=..., household=...)`` builds one app; the
daemon (``rpymostat_webui.service``) serves it in Twisted's WSGI container,
and tests drive it with Flask's test client against a real engine.  The
engine client and the household are injected, so nothing here opens a
socket or reads a file the caller did not choose.

Failures are pages, never tracebacks: no engine found or not answering is
a 503 page with the banner and a retry; an engine error that reaches here
(a form handles its own 422s) shows the engine's own message.
"""

import datetime
from urllib.parse import urlsplit

from flask import Flask, render_template, request, url_for
from twisted.logger import Logger
from werkzeug.exceptions import HTTPException

from rpymostat.protocol import API_BASE_PATH
from rpymostat.protocol.host_id import host_id
from rpymostat_webui import context, guard, templating
from rpymostat_webui.engine import EngineClient, EngineError, EngineUnavailable, Location
from rpymostat_webui.household import Household

log = Logger()

#: Blueprint modules under rpymostat_webui.views; each defines ``blueprint``.
VIEWS = ("auth", "home", "adjust", "kiosk", "away", "schedule", "history", "devices", "settings", "live")


def create_app(config, engine: EngineClient | None = None, household: Household | None = None, role=None):
    """The web UI for ``config`` (a :class:`~rpymostat_webui.config.WebuiConfig`).

    ``engine`` defaults to a client of ``config.engine_url`` with
    ``config.token`` (tests and the service pass their own); ``household``
    to the password files in ``config.data_dir``.  ``role`` is the engine
    token's role as far as the UI knows it (default: ``config.role``).
    """
    app = Flask(__name__)
    if household is None:
        household = Household(config.data_dir, provisioned=provisioned_password(config))
    if engine is None:
        url = config.engine_url and config.engine_url + API_BASE_PATH
        engine = EngineClient(lambda: Location(url, config.token))
    app.extensions[context.EXTENSION] = context.WebuiState(
        engine=engine,
        household=household,
        pacing=guard.LoginPacing(),
        role=role or config.role,
        host_id=host_id(config.data_dir),
    )
    app.secret_key = household.session_key()
    app.session_interface = guard.SessionCookies(config.secure_cookies)
    app.config.update(
        SESSION_COOKIE_NAME="rpymostat_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=datetime.timedelta(days=90),  # a wall kiosk stays logged in
        MAX_CONTENT_LENGTH=64 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    app.before_request(guard.before_request)
    templating.install(app)
    for name in VIEWS:
        module = __import__(f"rpymostat_webui.views.{name}", fromlist=["blueprint"])
        app.register_blueprint(module.blueprint)
    app.add_url_rule("/healthz", "health", lambda: {"status": "ok"})
    app.register_error_handler(EngineUnavailable, _unavailable)
    app.register_error_handler(EngineError, _engine_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    return app


def provisioned_password(config) -> str | None:
    if config.password:
        return config.password
    if config.password_file:
        return config.password_file.read_text(encoding="utf-8").strip("\r\n")
    return None


def _unavailable(error: EngineUnavailable):
    banner = f"Cannot reach the thermostat engine: {error.reason}. Retrying by itself."
    return render_template("unavailable.html", reason=error.reason, banner=banner, retry=_retry_url()), 503


def _retry_url() -> str:
    """Where the page's own retry goes: the same page for a GET; after a form, the page it came from.

    Repeating a form's URL as a GET would answer 405 and leave a wall kiosk on
    an error page for good; the form is not sent again by itself.
    """
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return url_for("home.index")


def _engine_error(error: EngineError):
    if error.status in (401, 403):
        message = (
            "The engine refused the web UI's token: it was revoked or lacks the right for this."
            " A paired web UI pairs again by itself (approve its code with rpymostat-engine pair approve);"
            " a token given in RPYMOSTAT_TOKEN or RPYMOSTAT_TOKEN_FILE must be replaced there."
            if error.status == 401
            else f"The web UI's engine token may not do this: {error.message}"
        )
        return render_template("error.html", title="Not allowed", message=message), 502
    status = error.status if 400 <= error.status < 500 else 502
    return render_template("error.html", title="The engine said no", message=error.message), status


def _http_error(error: HTTPException):
    return render_template("error.html", title=error.name, message=error.description), error.code


def _unexpected(error: Exception):
    log.failure("web UI page failed")
    message = "Something went wrong on the web UI's side; it is logged. Try again, or go back home."
    return render_template("error.html", title="Something went wrong", message=message), 500
