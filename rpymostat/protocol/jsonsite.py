"""A ``twisted.web`` site for JSON APIs: request bodies reach the API unparsed.

By default ``twisted.web`` parses a POST whose Content-Type is a form
(``application/x-www-form-urlencoded``, ``multipart/form-data``) before any
resource sees it, holding the whole upload in memory, and answers a malformed
multipart body with a bare, non-JSON 400 of its own.  Our APIs take only JSON
(anything else is a JSON 415, see :mod:`rpymostat.protocol.jsonbody`), so the
engine and the relay unit serve through :func:`json_site`, which turns that
parsing off (``parsePOSTFormSubmission``, Twisted 25.5 and later): every
answer, to any body, is then the API's own.

Its access log line is Twisted's combined log format with the value of every
``ticket=`` query parameter replaced by ``[redacted]``: a stream ticket
(``GET /v1/events?ticket=...``) is a credential for a few minutes, and a log
is read by more people, for longer.
"""

import re

from twisted.web.http import combinedLogFormatter
from twisted.web.server import Site

#: A ``ticket`` query parameter's value, wherever a URL shows up in the line (request or referrer).
_TICKET = re.compile(r"([?&;]ticket=)[^&;#\s\"]*", re.IGNORECASE)


def redacted(text: str) -> str:
    """``text`` with the value of every ``ticket=`` query parameter in it replaced by ``[redacted]``."""
    return _TICKET.sub(r"\1[redacted]", text)


def access_log_line(timestamp, request) -> str:
    """Twisted's combined log line for ``request``, stream tickets redacted."""
    return redacted(combinedLogFormatter(timestamp, request))


def json_site(resource) -> Site:
    """A :class:`Site` serving ``resource``: no form parsing, no tracebacks shown, no tickets logged."""
    site = Site(resource, parsePOSTFormSubmission=False, logFormatter=access_log_line)
    site.displayTracebacks = False
    return site
