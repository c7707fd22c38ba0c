"""The engine and the relay unit answer a malformed form body themselves, in JSON, over real HTTP."""

import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.web.resource import Resource

from rpymostat.protocol.jsonsite import json_site

BROKEN_MULTIPART = (
    b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n',  # never closed
    {"Content-Type": "multipart/form-data; boundary=xyz"},
)


class Echo(Resource):
    """Says what it was given: the body unread and no parsed form arguments."""

    isLeaf = True

    def render_POST(self, request):
        request.setHeader(b"Content-Type", b"application/json")
        return b'{"args": %d, "body": %d}' % (len(request.args), len(request.content.read()))


@pytest_twisted.ensureDeferred
async def test_a_malformed_multipart_body_reaches_the_resource_unparsed():
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(json_site(Echo()))
    try:
        url = f"http://127.0.0.1:{port.getHost().port}/?q=1"
        body, headers = BROKEN_MULTIPART
        response = await treq.post(url, data=body, headers=headers)
        assert response.code == 200
        assert await response.json() == {"args": 1, "body": len(body)}  # only the query string is parsed
        form = await treq.post(url, data=b"a=1&b=2", headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert await form.json() == {"args": 1, "body": 7}
    finally:
        await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_engine_and_relay_unit_answer_a_broken_multipart_post_with_json_415(tmp_path):
    from twisted.internet.task import Clock

    from rpymostat.api.site import build_site
    from rpymostat.testing import FakeStorage, engine_parts
    from rpymostat_control.api import RelayApi
    from rpymostat_control.config import ControlConfig
    from rpymostat_control.lease import Lease
    from rpymostat_control.relays.sim import SimRelays
    from rpymostat_control.state_file import StateFile
    from rpymostat_control.switchboard import Switchboard
    from rpymostat_control.unit_secret import UnitSecret

    clock = Clock()
    clock.advance(1795608000.0)
    engine = build_site(**engine_parts(FakeStorage(), clock))
    switchboard = Switchboard(
        [SimRelays(ControlConfig(sim_relays=1))], clock, StateFile(tmp_path), 0.0, 0.0, {}, monotonic=clock.seconds
    )
    secret = UnitSecret()
    unit = json_site(RelayApi(switchboard, Lease(clock, 360.0, lambda: None), "pi", secret))
    authorized = {"Authorization": f"Bearer {secret.for_registration()}"}  # the unit's own, as its engine sends
    for site, path, extra in ((engine, "/v1/zones/default/hold", {}), (unit, "/v1/relays/sim-1", authorized)):
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(site)
        try:
            body, headers = BROKEN_MULTIPART
            headers = {**headers, **extra}
            response = await treq.post(f"http://127.0.0.1:{port.getHost().port}{path}", data=body, headers=headers)
            assert response.code == 415
            document = await response.json()
            assert document["status"] == "error" and "application/json" in document["error"]
        finally:
            await port.stopListening()
