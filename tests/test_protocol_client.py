"""JsonClient's extra request headers: how the engine sends a relay unit its secret."""

import json

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.web.resource import Resource
from twisted.web.server import Site

from rpymostat.protocol.client import JsonClient, Unreachable


class Headers(Resource):
    """Answers with the request's headers, ``{lower-case name: [values]}``."""

    isLeaf = True

    def render(self, request):
        request.setHeader(b"Content-Type", b"application/json")
        seen = {
            name.decode().lower(): [v.decode() for v in values]
            for name, values in request.requestHeaders.getAllRawHeaders()
        }
        return json.dumps(seen).encode()


@pytest_twisted.async_yield_fixture
async def echo():
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(Headers()))
    client = JsonClient(reactor, timeout=5)
    yield client, f"http://127.0.0.1:{port.getHost().port}/"
    await client.close()
    await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_extra_headers_go_with_the_request_beside_the_client_s_own(echo):
    client, url = echo
    response = await client.request("POST", url, {"state": True}, headers={"Authorization": "Bearer s3cr3t-_x"})
    assert response.code == 200
    assert response.body["authorization"] == ["Bearer s3cr3t-_x"]
    assert response.body["accept"] == ["application/json"]
    assert response.body["content-type"] == ["application/json"]


@pytest_twisted.ensureDeferred
async def test_without_extra_headers_none_is_added(echo):
    client, url = echo
    for headers in (None, {}):
        response = await client.request("GET", url, headers=headers)
        assert "authorization" not in response.body
        assert response.body["accept"] == ["application/json"]
    assert "authorization" not in (await client.request("GET", url)).body


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/v 1",  # a space, e.g. from an advertised API path
        "http://engine host:8088/v1",
        "http://énergie:8088/v1",  # not ASCII
        "http://127.0.0.1:9/v1\n",
        "ftp://127.0.0.1:9/v1",
        "http://127.0.0.1:9/v1",  # nothing listens
    ],
)
@pytest_twisted.ensureDeferred
async def test_every_failure_to_send_is_unreachable_never_another_exception(url):
    """Twisted refuses some URLs by raising at once; a caller retries on Unreachable alone."""
    client = JsonClient(reactor, timeout=5)
    try:
        requesting = client.request("POST", url, {"nonce": "ab"})  # does not raise here either
        with pytest.raises(Unreachable, match="^POST "):
            await requesting
    finally:
        await client.close()
