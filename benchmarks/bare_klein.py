"""A bare Klein server: the baseline of what Twisted and Klein cost by themselves.

It answers ``PUT /v1/sensors/update`` with a constant 201 JSON body, served
exactly as the engine serves its API (the default reactor, ``Site`` over a
Klein resource with tracebacks off, a TCP endpoint on one address, Twisted
logging started the way ``rpymostat-engine`` starts it at its default
verbosity), so the difference between the two is what the engine itself adds:
validation, storage, events and its own routing.

Run as ``python benchmarks/bare_klein.py PORT``; it serves on 127.0.0.1 until
SIGTERM or SIGINT.
"""

import sys

from klein import Klein
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.web.server import Site

ANSWER = b'{"status": "created", "ids": []}\n'


class BareApi:
    """One route, same path and method as the engine's, answering a constant."""

    app = Klein()

    @app.route("/v1/sensors/update", methods=["PUT"])
    def update_sensors(self, request):
        request.setResponseCode(201)
        request.setHeader(b"Content-Type", b"application/json")
        return ANSWER


def main(argv) -> int:
    from twisted.internet import reactor

    from rpymostat.protocol.daemon import start_logging

    port = int(argv[1])
    start_logging(0, sys.stderr)
    site = Site(BareApi().app.resource())
    site.displayTracebacks = False
    TCP4ServerEndpoint(reactor, port, interface="127.0.0.1").listen(site)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
