"""The web UI's client of the engine's ``/v1`` API: blocking, for Flask's request threads.

Pages are rendered on WSGI worker threads, so this client blocks (urllib3's
thread-safe connection pool, kept alive between requests) instead of
returning Deferreds.  It is the UI's only way to the engine: the UI never
imports engine code.  Where the engine is, and the token to send, come from
``locate`` on every request, so a rediscovered engine or a new pairing is
used at once.

Every failure arrives as one of two exceptions a page can show in plain
words: :class:`EngineUnavailable` (no engine found yet, not paired, refused
connection, timeout: the banner "cannot reach the engine") and
:class:`EngineError` (the engine answered with an error; a 422 names the
field it is about, so a form can show it beside that field).
"""

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from urllib.parse import quote, urlencode

import urllib3

#: Seconds a request to the engine may take before the page says it cannot reach it.
DEFAULT_TIMEOUT = 5.0

# "sensors.0.weight: must be ..." -> "sensors.0.weight": the engine's 422 messages name the field first.
_FIELD = re.compile(r"^([A-Za-z_][\w.\[\]-]*): ")


def addressable(segment: str) -> bool:
    """Whether ``segment`` can be one segment of an engine path and address only itself.

    Escaping is not enough for two cases: urllib3 removes ``.`` and ``..``
    segments (``/zones/./hold`` is sent as ``/zones/hold``), and the engine
    decodes ``%2F`` before routing.  No id the engine accepts holds either.
    """
    return segment not in ("", ".", "..") and "/" not in segment


def path(*parts: str) -> str:
    """An engine path from its segments, each escaped: ``path("zones", "spare?", "hold")``.

    A zone, rule or sensor id is the household's text; unescaped, a ``?`` in
    it would make the engine act on another resource (``DELETE
    /zones/spare?/hold`` deletes the zone).  Every view builds its engine
    paths with this.  A segment that cannot be addressed (:func:`addressable`)
    raises :class:`EngineError` 404 before anything is sent: there is no such
    thing on the engine.
    """
    for part in parts:
        if not addressable(str(part)):
            raise EngineError(404, f"there is nothing called {str(part)!r}")
    return "".join("/" + quote(str(part), safe="") for part in parts)


@dataclasses.dataclass(frozen=True)
class Location:
    """Where the engine's API is (``url``, ending in ``/v1``) and the ``token`` to send.

    ``url`` is None while no engine is known; ``reason`` then says why
    ("looking for the engine by mDNS", "waiting for pairing approval: code K7M2QX").
    """

    url: str | None
    token: str | None = dataclasses.field(default=None, repr=False)
    reason: str = "no engine configured"
    #: The SHA-256 (hex) of the engine's TLS certificate, pinned at pairing; None: the CAs decide.
    fingerprint: str | None = None


class EngineUnavailable(Exception):
    """The engine could not be asked: not found, not paired, not answering.

    ``timed_out``: the engine did not answer in time, so a request it was
    sent may still have been applied (a kiosk must not say "not changed").
    """

    def __init__(self, reason: str, timed_out: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


class EngineError(Exception):
    """The engine answered with an error status; ``message`` is its own words."""

    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        found = _FIELD.match(message) if status == 422 else None
        #: The field a 422 names ("heat", "sensors.0.weight"), or None.
        self.field = found.group(1) if found else None
        #: The message without the field's name, for showing beside that field.
        self.detail = message[found.end() :] if found else message


@dataclasses.dataclass(frozen=True)
class Download:
    """A non-JSON answer (a CSV file): its bytes and the headers to pass on."""

    body: bytes
    content_type: str
    disposition: str | None


class EngineClient:
    """Sends one request at a time per calling thread; safe to share between threads.

    ``on_refused`` is called (from the request's thread) when the engine
    answers 401 to the UI's own token, so the service can pair again.
    """

    def __init__(
        self,
        locate: Callable[[], Location],
        timeout: float = DEFAULT_TIMEOUT,
        on_refused: Callable[[], object] | None = None,
        pool: urllib3.PoolManager | None = None,
    ):
        self._locate = locate
        self._timeout = urllib3.Timeout(total=timeout)
        self._on_refused = on_refused
        self._pool = pool or urllib3.PoolManager(num_pools=4, maxsize=8, retries=False)

    def location(self) -> Location:
        """Where the engine is now (for the status line and the live relay)."""
        return self._locate()

    def get(self, path: str, query: Mapping | None = None):
        return self.request("GET", path, query=query)

    def post(self, path: str, body=None, query: Mapping | None = None):
        return self.request("POST", path, body=body, query=query)

    def put(self, path: str, body):
        return self.request("PUT", path, body=body)

    def patch(self, path: str, body):
        return self.request("PATCH", path, body=body)

    def delete(self, path: str):
        return self.request("DELETE", path)

    def request(self, method: str, path: str, body=None, query: Mapping | None = None):
        """The decoded JSON answer of ``method`` on ``/v1`` + ``path`` (None for an empty body)."""
        response = self._send(method, path, body, query, "application/json")
        if not response.data:
            return None
        try:
            return json.loads(response.data)
        except ValueError:
            raise EngineUnavailable(f"the engine answered {path} with something that is not JSON") from None

    def download(self, path: str, query: Mapping | None, accept: str) -> Download:
        """A GET answered in another format (``accept``: ``text/csv``), passed through as bytes."""
        response = self._send("GET", path, None, query, accept)
        return Download(
            response.data,
            response.headers.get("Content-Type", accept),
            response.headers.get("Content-Disposition"),
        )

    def _send(self, method, path, body, query, accept):
        where = self._locate()
        if where.url is None:
            raise EngineUnavailable(where.reason)
        url = where.url + path + (f"?{urlencode(query, doseq=True)}" if query else "")
        headers = {"Accept": accept}
        if where.token:
            headers["Authorization"] = f"Bearer {where.token}"
        data = None
        if body is not None:
            data = json.dumps(body, allow_nan=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        pinned = {}
        if where.fingerprint and url.startswith("https:"):
            # The certificate pinned at pairing is the engine's identity; no CA vouches for it.
            pinned = {"pool_kwargs": {"assert_fingerprint": where.fingerprint, "cert_reqs": "CERT_NONE"}}
        try:
            pool = self._pool.connection_from_url(url, **pinned)
            response = pool.urlopen(  # the pool wants the path only: a full URL is a proxy request
                method,
                urllib3.util.parse_url(url).request_uri,
                body=data,
                headers=headers,
                timeout=self._timeout,
                redirect=False,
                retries=False,
            )
        except urllib3.exceptions.HTTPError as error:
            reason = _plain(error)
            raise EngineUnavailable(
                f"cannot reach the engine at {where.url}: {reason}", timed_out=reason == NO_ANSWER
            ) from None
        if response.status >= 400:
            if response.status == 401 and self._on_refused is not None:
                self._on_refused()
            raise EngineError(response.status, _error_message(response))
        return response


def _error_message(response) -> str:
    """The engine's own error message (``{"error": "..."}``), or the status when it sent none."""
    try:
        document = json.loads(response.data)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("error"), str):
        return document["error"]
    return f"the engine answered HTTP {response.status}"


#: The reason given for a request the engine did not answer in time.
NO_ANSWER = "no answer in time"


def _plain(error: Exception) -> str:
    """A short reason for a connection failure (urllib3's own text repeats the pool's repr)."""
    reason = getattr(error, "reason", None) or error
    text = str(reason)
    if "Connection refused" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return NO_ANSWER
    return text.split(": ", 1)[-1][:200]
