"""Reading requests safely: JSON bodies, and query arguments.

The reading itself is :func:`rpymostat.protocol.jsonbody.read_json_body`,
which the relay unit shares: bodies are capped at
:data:`~rpymostat.protocol.MAX_BODY_BYTES` (413 beyond) and must be UTF-8 JSON
(400 otherwise, an integer too long to convert included), sent with a
``Content-Type`` of ``application/json`` (415 otherwise, so that no other web
site a person in the house opens can write to the engine through their
browser).  ``NaN`` and
``Infinity`` literals are parsed rather than refused, so that validation can
answer with a 422 naming the field, which helps a client author more than
"unparseable".
"""

from rpymostat.api.errors import BadJson, PayloadTooLarge, UnsupportedMediaType
from rpymostat.protocol import MAX_BODY_BYTES
from rpymostat.protocol.jsonbody import BodyRefused, read_json_body


def read_json(request):
    """The request's body as a JSON value; raises BadJson, PayloadTooLarge or UnsupportedMediaType."""
    try:
        return read_json_body(request, MAX_BODY_BYTES)
    except BodyRefused as refused:
        error = {413: PayloadTooLarge, 415: UnsupportedMediaType}.get(refused.code, BadJson)
        raise error(refused.message) from None


def query_argument(request, name):
    """The first ``?name=`` of the request's query as text (undecodable bytes replaced), or None."""
    values = request.args.get(name.encode())
    return values[0].decode("utf-8", "replace") if values else None
