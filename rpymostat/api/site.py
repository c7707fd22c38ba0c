"""Assembling the engine's HTTP site from its parts."""

from urllib.parse import unquote_to_bytes

from twisted.web.resource import Resource
from twisted.web.server import Site  # the type build_site returns

from rpymostat.api.errors import error_bytes
from rpymostat.api.gate import AccessGate
from rpymostat.api.root import RootApi
from rpymostat.api.v1 import V1Api
from rpymostat.protocol.jsonsite import json_site


def build_site(
    storage,
    clock,
    events,
    access,
    timelines,
    zone_info,
    decisions,
    schedule_plugins,
    decision_plugins,
    engine_addresses=None,
    event_stream=None,
    history_raw_days=90,
) -> Site:
    """The engine's HTTP site over collaborators built once by the service tree.

    Tests build the same site with the parts :func:`rpymostat.testing.engine_parts`
    makes, so they exercise exactly what the engine serves.  ``engine_addresses``
    (:class:`~rpymostat.api.pairing_api.EngineAddresses`, filled in once the
    engine listens) bounds what the engine proves itself for; ``event_stream``
    (:class:`~rpymostat.api.event_stream.EventStream`) serves ``/v1/events``,
    one over ``events`` being made when none is given; ``history_raw_days``
    is how long raw readings are kept.
    """
    v1 = V1Api(
        storage,
        clock,
        events,
        access,
        timelines,
        zone_info,
        decisions,
        schedule_plugins,
        decision_plugins,
        engine_addresses=engine_addresses,
        event_stream=event_stream,
        history_raw_days=history_raw_days,
    )
    return json_site(Utf8PathGuard(AccessGate(RootApi(v1).app.resource(), access)))


class Utf8PathGuard(Resource):
    """Answers a path that is not UTF-8 with a JSON 400 before Klein sees it.

    Klein would answer such a path in plain text and log a traceback for
    each, which lets any client fill the log; everything else passes through.
    """

    isLeaf = True

    def __init__(self, inner):
        super().__init__()
        self._inner = inner

    def render(self, request):
        try:
            unquote_to_bytes(request.path).decode("utf-8")
        except UnicodeDecodeError:
            return error_bytes(request, 400, "the URL path is not valid UTF-8")
        return self._inner.render(request)
