"""A minimal relay unit speaking the documented protocol, for the engine's loop tests.

It keeps relay states in a dict, reports ``seconds_in_state`` from its own
clock, and can be told to refuse (409, like a unit enforcing its minimum
times) or to fail.  The real control daemon is tested on its own; this keeps
the engine's tests about the engine.
"""

import json

from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.web.resource import Resource
from twisted.web.server import Site


class RelayUnit(Resource):
    isLeaf = True

    def __init__(self, clock, relays):
        super().__init__()
        self.clock = clock
        self.relays = {relay_id: {"state": False, "since": clock.seconds()} for relay_id in relays}
        self.commands = []
        self.refuse = False
        self.answer = None  # (code, body) to answer instead, e.g. (500, b"oops")

    def doc(self, relay_id):
        relay = self.relays[relay_id]
        return {"type": "test", "state": relay["state"], "alias": None, "safe_state": False,
                "seconds_in_state": self.clock.seconds() - relay["since"]}

    def render_POST(self, request):
        relay_id = request.postpath[-1].decode()
        wanted = json.loads(request.content.read())["state"]
        self.commands.append((relay_id, wanted))
        request.setHeader(b"content-type", b"application/json")
        if self.answer is not None:
            request.setResponseCode(self.answer[0])
            return self.answer[1]
        if relay_id not in self.relays:
            request.setResponseCode(404)
            return json.dumps({"status": "error", "error": f"no relay {relay_id}"}).encode()
        relay = self.relays[relay_id]
        if self.refuse and relay["state"] != wanted:
            request.setResponseCode(409)
            return json.dumps({"status": "error", "error": "minimum off time", "retry_after_s": 60,
                               "relay": {"relay_id": relay_id, **self.doc(relay_id)}}).encode()
        if relay["state"] != wanted:
            relay.update(state=wanted, since=self.clock.seconds())
        return json.dumps({"relay_id": relay_id, **self.doc(relay_id), "changed": True}).encode()


async def start_unit(reactor, clock, relays):
    """A listening :class:`RelayUnit`; returns ``(unit, port, url)``."""
    unit = RelayUnit(clock, relays)
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(unit))
    return unit, port, f"http://127.0.0.1:{port.getHost().port}"
