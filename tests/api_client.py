"""A small JSON client over ``treq.testing.StubTreq`` for the API tests."""

import json

from treq.testing import StubTreq

from rpymostat.api.site import build_site
from rpymostat.testing import engine_parts

BASE = "http://engine.test"


class ApiClient:
    """Talks HTTP to the engine's real resource tree, in memory."""

    def __init__(self, storage, clock, access=None, zone_info=None, timelines=None, events=None, decisions=None):
        parts = engine_parts(storage, clock, events, access, timelines, zone_info, decisions)
        self.events = parts["events"]
        self.published = []
        self.events.subscribe(self.published.append)
        site = build_site(**parts)
        self.treq = StubTreq(site.resource)

    async def request(self, method, path, body=None, raw=None, headers=None):
        """Send a request; return ``(status, decoded JSON or text, response)``.

        A request with a body says it is JSON, as every real client must; pass
        ``headers`` with another ``Content-Type`` (or ``{"Content-Type": []}``
        for none) to send something else.
        """
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = dict(headers or {})
        if data is not None and not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = ["application/json"]
        response = await self._settled(self.treq.request(method, BASE + path, data=data, headers=headers))
        content = await self._settled(response.content())
        kind = response.headers.getRawHeaders(b"content-type", [b""])[0]
        decoded = json.loads(content) if kind.startswith(b"application/json") else content.decode()
        return response.code, decoded, response

    async def _settled(self, pending):
        """Wait for ``pending``, pumping StubTreq's in-memory connection while a handler
        waits on real I/O (a relay unit on loopback); fake storage answers at once."""
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        settled = []
        pending.addBoth(lambda result: settled.append(True) or result)
        while not settled:
            self.treq.flush()
            if not settled:
                await deferLater(reactor, 0.001, lambda: None)
        return await pending

    async def get(self, path):
        return await self.request("GET", path)

    async def put(self, path, body=None, raw=None):
        return await self.request("PUT", path, body, raw)

    async def patch(self, path, body=None, raw=None):
        return await self.request("PATCH", path, body, raw)

    async def post(self, path, body=None, raw=None):
        return await self.request("POST", path, body, raw)

    async def delete(self, path):
        return await self.request("DELETE", path)
