"""Every API error is JSON: ``{"status": "error", "error": "<message>"}``.

Handlers raise :class:`ApiError`; :func:`render_failure` turns any failure,
including Klein's own 404 and 405, into that shape.  An unexpected exception is
logged with its traceback and answered with a 500 that leaks nothing, but the
aim is that no input ever reaches that branch.
"""

import json

from klein import Klein
from twisted.logger import Logger
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from rpymostat.auth.refusals import Refused
from rpymostat.schedule.cache import TimelineUnavailable
from rpymostat.storage.interface import StorageError

log = Logger()


class ApiError(Exception):
    """An error with an HTTP status and a message meant for the client."""

    code = 400

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class BadJson(ApiError):
    code = 400


class NotFoundError(ApiError):
    code = 404


class PayloadTooLarge(ApiError):
    code = 413


class UnsupportedMediaType(ApiError):
    """A body that does not say it is JSON: how another web site's form would arrive."""

    code = 415


class Conflict(ApiError):
    """The request contradicts what is stored (a sensor or zone still in use)."""

    code = 409


class InvalidContent(ApiError):
    code = 422


class Unavailable(ApiError):
    """Something the answer depends on failed just now; worth asking again later."""

    code = 503


def json_bytes(request, code, document) -> bytes:
    """Set status and content type on ``request`` and return ``document`` as JSON bytes."""
    request.setResponseCode(code)
    request.setHeader(b"Content-Type", b"application/json")
    return json.dumps(document, allow_nan=False).encode("utf-8") + b"\n"


def error_bytes(request, code, message) -> bytes:
    """The JSON error body for ``code`` with a human-readable ``message``."""
    return json_bytes(request, code, {"status": "error", "error": message})


def refused_bytes(request, refusal: Refused) -> bytes:
    """The JSON answer to an access refusal, with the header its status calls for."""
    if refusal.code == 401:
        request.setHeader(b"WWW-Authenticate", b'Bearer realm="rpymostat"')
    if refusal.retry_after is not None:
        request.setHeader(b"Retry-After", str(refusal.retry_after).encode("ascii"))
    return error_bytes(request, refusal.code, refusal.message)


def render_failure(request, failure) -> bytes:
    """Answer any failure raised while handling ``request`` with a JSON error."""
    error = failure.value
    if isinstance(error, ApiError):
        return error_bytes(request, error.code, error.message)
    if isinstance(error, Refused):
        return refused_bytes(request, error)
    if isinstance(error, StorageError):
        log.error("storage failed: {error}", error=error)
        return error_bytes(request, 503, f"database unavailable: {error}")
    if isinstance(error, TimelineUnavailable):
        return error_bytes(request, 503, f"timeline unavailable: {error}")
    if isinstance(error, MethodNotAllowed):
        allowed = ", ".join(sorted(error.valid_methods or ()))
        request.setHeader(b"Allow", allowed.encode("ascii"))
        method = request.method.decode("ascii", "replace")
        return error_bytes(request, 405, f"method {method} not allowed here; allowed: {allowed}")
    if isinstance(error, NotFound):
        path = request.uri.decode("utf-8", "replace").split("?", 1)[0]
        return error_bytes(request, 404, f"no such resource: {path}")
    if isinstance(error, HTTPException):
        return error_bytes(request, error.code, error.description or error.name)
    log.failure("unexpected error answering {uri}", failure, uri=request.uri)
    return error_bytes(request, 500, "internal error; the engine log has the details")


def api_app() -> Klein:
    """A Klein app for one family of routes, as every API class holds one.

    Slashes are taken as they come: ``/zones//x`` (a zone name holding an
    encoded ``/``) is a 404, never a redirect to somewhere else, and
    ``/schedules/`` is ``/schedules``.  Each class also answers its failures
    with :func:`render_failure` (``@app.handle_errors(Exception)``).
    """
    app = Klein()
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    return app


def mounted(request, resource):
    """``resource`` (a sub-app mounted with ``branch=True``) for the rest of ``request``'s path.

    At the mount point itself the rest is empty, and werkzeug matches an
    empty path for GET but calls it "not found" for any other method; the
    sub-app then sees ``/``, so a POST to ``/v1/sensors`` is a 405, as it
    should be.
    """
    if not request.postpath:
        request.postpath = [b""]
    return resource
