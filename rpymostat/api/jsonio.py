"""Reading JSON request bodies safely.

Bodies are capped at :data:`~rpymostat.protocol.MAX_BODY_BYTES` (413 beyond),
must be UTF-8 JSON (400 otherwise).  ``NaN`` and ``Infinity`` literals are
parsed rather than refused, so that validation can answer with a 422 naming
the field, which helps a client author more than "unparseable".
"""

import json

from rpymostat.api.errors import BadJson, PayloadTooLarge
from rpymostat.protocol import MAX_BODY_BYTES


def read_json(request):
    """The request's body as a JSON value; raises BadJson or PayloadTooLarge."""
    declared = request.getHeader(b"Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"request body over {MAX_BODY_BYTES} bytes")
    request.content.seek(0)
    body = request.content.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"request body over {MAX_BODY_BYTES} bytes")
    if not body.strip():
        raise BadJson("request body is empty; expected JSON")
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadJson("request body is not UTF-8") from None
    except json.JSONDecodeError as e:
        raise BadJson(f"request body is not valid JSON: {e}") from None
    except RecursionError:
        raise BadJson("request body is nested too deeply") from None
