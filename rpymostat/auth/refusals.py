"""The ways the access layer says no, each with the HTTP status the API answers it with.

They live here, below the API, so that :mod:`rpymostat.auth` needs nothing
from :mod:`rpymostat.api`; :func:`rpymostat.api.errors.render_failure`
answers them as it answers its own errors, with the header each calls for.
"""


class Refused(Exception):
    """Something the request may not do; ``code`` is the HTTP status, ``message`` says why."""

    code = 403

    def __init__(self, message, code=None, retry_after=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.retry_after = retry_after
        """Seconds after which trying again makes sense (``Retry-After``), or None."""


class Unauthenticated(Refused):
    """No token, or one the engine does not know: 401 with ``WWW-Authenticate``."""

    code = 401


class Forbidden(Refused):
    """A known token whose role does not allow this: 403."""

    code = 403


class TooManyFailures(Refused):
    """Too many failed authentications from this address lately: 429 with ``Retry-After``."""

    code = 429


class AdminError(Refused):
    """Something an admin asked for cannot be done (a name taken, no such code)."""

    def __init__(self, code, message, retry_after=None):
        super().__init__(message, code=code, retry_after=retry_after)
