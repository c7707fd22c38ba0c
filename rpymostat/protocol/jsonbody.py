"""Reading a JSON request body safely; the engine and the relay unit share this one reader.

A body is refused with 415 unless the request says it is JSON: a
``Content-Type`` of ``application/json``, any parameters allowed
(``; charset=utf-8``), case-insensitive.  This is what keeps other web
sites out: any page a person in the house opens can make the browser send
a form (``application/x-www-form-urlencoded``, ``multipart/form-data``) or a
``text/plain`` fetch to the engine or a relay unit without asking anyone,
but not an ``application/json`` one, which needs a CORS preflight that
neither answers.  A missing ``Content-Type`` is refused too, and so are the
``application/*+json`` types: no client of ours sends them, and one accepted
type is one less thing to get wrong.  The type is checked first, before any
of the body is read.

A body is then refused with 413 when it is over ``max_bytes`` (by any
``Content-Length`` it declares, or as received), and with 400 when it is
empty, not UTF-8, not JSON, nested too deeply for the parser, or holds an
integer with more digits than Python converts (``sys.get_int_max_str_digits()``,
4300 by default).  Anything else :func:`json.loads` accepts is returned as is,
``NaN`` and ``Infinity`` included: each caller's validation decides what to do
with them.  No input makes this raise anything but :class:`BodyRefused`.

Like the rest of :mod:`rpymostat.protocol`, this imports nothing of the
engine: ``request`` is any ``twisted.web`` request (``requestHeaders`` and a
seekable ``content``).
"""

import json
import sys

from rpymostat.protocol import MAX_BODY_BYTES


class BodyRefused(Exception):
    """The body cannot be used: answer ``code`` (400, 413 or 415) with ``message``."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _declares_more_than(value: bytes, max_bytes: int) -> bool:
    """Whether a ``Content-Length`` value is a number over ``max_bytes``.

    Compared by length first: ``int()`` refuses strings of thousands of digits.
    """
    digits = value.strip().lstrip(b"0")
    if not digits.isdigit():
        return False
    return len(digits) > len(str(max_bytes)) or int(digits) > max_bytes


#: The one media type a request body may have (compared without parameters, case-insensitively).
JSON_MEDIA_TYPE = b"application/json"


def check_content_type(request) -> None:
    """Raise a 415 :class:`BodyRefused` unless the request's one ``Content-Type`` is JSON."""
    declared = request.requestHeaders.getRawHeaders(b"content-type", [])
    if len(declared) == 1 and declared[0].split(b";", 1)[0].strip().lower() == JSON_MEDIA_TYPE:
        return
    if declared:
        shown = ", ".join(repr(value.decode("latin-1")[:80]) for value in declared[:3])
    else:
        shown = "none"
    raise BodyRefused(415, f"Content-Type must be application/json, got {shown}")


def read_json_body(request, max_bytes: int = MAX_BODY_BYTES, expected: str = "JSON"):
    """The request's body as a JSON value; raises :class:`BodyRefused` when it is not one.

    ``expected`` completes the message for an empty body ("request body is
    empty; expected ...").
    """
    check_content_type(request)
    too_large = BodyRefused(413, f"request body over {max_bytes} bytes")
    for declared in request.requestHeaders.getRawHeaders(b"content-length", []):
        if _declares_more_than(declared, max_bytes):
            raise too_large
    request.content.seek(0)
    body = request.content.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise too_large
    if not body.strip():
        raise BodyRefused(400, f"request body is empty; expected {expected}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyRefused(400, "request body is not UTF-8") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise BodyRefused(400, "request body is nested too deeply") from None
    except json.JSONDecodeError as error:
        raise BodyRefused(400, f"request body is not valid JSON: {error}") from None
    except ValueError:  # the only other: an integer too long to convert
        limit = sys.get_int_max_str_digits()
        raise BodyRefused(400, f"request body has an integer longer than {limit} digits") from None
