"""A small JSON-over-HTTP client for the daemons, on Twisted's own Agent.

Daemons talk to the engine (and the engine to relay units) with a handful of
JSON requests; Twisted's Agent does that without pulling a client library
onto a Pi Zero.  Every request has a timeout on the injected reactor, and
every way a request can fail arrives as one exception type the caller can
retry on.
"""

import json
from io import BytesIO

from twisted.internet.defer import ensureDeferred
from twisted.web.client import Agent, FileBodyProducer, HTTPConnectionPool, readBody
from twisted.web.http_headers import Headers

#: Seconds a request may take, connection included, before it counts as failed.
DEFAULT_TIMEOUT = 10.0


class Unreachable(Exception):
    """The peer did not answer (refused, timed out, dropped); worth retrying later."""


class JsonResponse:
    """An HTTP answer: status ``code``, the decoded JSON ``body`` (None if not JSON) and its
    ``headers`` (Twisted ``Headers``; empty when not given), for ``Retry-After`` and the like."""

    def __init__(self, code, body, headers=None):
        self.code = code
        self.body = body
        self.headers = headers if headers is not None else Headers()

    @property
    def error(self) -> str:
        """The peer's error message, for logs."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), str):
            return self.body["error"]
        return f"HTTP {self.code}"


class JsonClient:
    """Sends JSON requests with persistent connections and a timeout each.

    ``https`` URLs are checked against ``pins`` (a
    :class:`~rpymostat.protocol.pinning.Pins`: the engine's certificate
    fingerprint learned at pairing), not against certificate authorities.
    """

    def __init__(self, reactor, timeout=DEFAULT_TIMEOUT, pins=None):
        self._reactor = reactor
        self._timeout = timeout
        self._pool = HTTPConnectionPool(reactor, persistent=True)
        self.pins = pins
        self._agent = None

    @property
    def agent(self):
        """The Agent, made at first use: pinned TLS needs pyOpenSSL only if an https URL is asked."""
        if self._agent is None:
            if self.pins is not None:
                from rpymostat.protocol.pinning import PinningPolicy

                self._agent = Agent(self._reactor, contextFactory=PinningPolicy(self.pins), pool=self._pool)
            else:
                self._agent = Agent(self._reactor, pool=self._pool)
        return self._agent

    def request(self, method, url, document=None, headers=None):
        """Fire with a :class:`JsonResponse`, or fail with :class:`Unreachable`.

        ``headers`` (``{name: value}``, both str) are added to the request: the
        engine sends a relay unit its secret as ``Authorization`` this way.
        """
        return ensureDeferred(self._request(method, url, document, headers or {}))

    async def _request(self, method, url, document, extra):
        headers = Headers({b"Accept": [b"application/json"]})
        for name, value in extra.items():
            headers.addRawHeader(name.encode("ascii"), value.encode("utf-8"))
        body = None
        if document is not None:
            headers.addRawHeader(b"Content-Type", b"application/json")
            body = FileBodyProducer(BytesIO(json.dumps(document).encode("utf-8")))
        try:
            # Inside the try: Twisted refuses some URLs (a space, a non-ASCII host) by raising at once,
            # and an advertisement is no reason for a daemon to crash.
            sent = self.agent.request(method.encode("ascii"), url.encode("utf-8"), headers, body)
            sent.addTimeout(self._timeout, self._reactor)
            response = await sent
            raw = await readBody(response).addTimeout(self._timeout, self._reactor)
        except Exception as error:
            raise Unreachable(f"{method} {url}: {error.__class__.__name__}: {error}") from None
        try:
            decoded = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (UnicodeDecodeError, ValueError):
            decoded = None
        return JsonResponse(response.code, decoded, response.headers)

    def close(self):
        """Close idle connections; fires when done."""
        return self._pool.closeCachedConnections()
