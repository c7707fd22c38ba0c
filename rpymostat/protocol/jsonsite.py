"""A ``twisted.web`` site for JSON APIs: request bodies reach the API unparsed.

By default ``twisted.web`` parses a POST whose Content-Type is a form
(``application/x-www-form-urlencoded``, ``multipart/form-data``) before any
resource sees it, holding the whole upload in memory, and answers a malformed
multipart body with a bare, non-JSON 400 of its own.  Our APIs take only JSON
(anything else is a JSON 415, see :mod:`rpymostat.protocol.jsonbody`), so the
engine and the relay unit serve through :func:`json_site`, which turns that
parsing off (``parsePOSTFormSubmission``, Twisted 25.5 and later): every
answer, to any body, is then the API's own.
"""

from twisted.web.server import Site


def json_site(resource) -> Site:
    """A :class:`Site` serving ``resource``: no form parsing, no tracebacks shown."""
    site = Site(resource, parsePOSTFormSubmission=False)
    site.displayTracebacks = False
    return site
