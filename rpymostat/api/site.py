"""Assembling the engine's HTTP site from its parts."""

from twisted.web.server import Site

from rpymostat.access import OpenAccess
from rpymostat.api.root import RootApi
from rpymostat.api.v1 import V1Api
from rpymostat.events import EventBus


def build_site(storage, clock, events=None, access=None) -> Site:
    """The engine's HTTP site over ``storage``, with time from ``clock``.

    The service tree and the tests build it the same way, so tests exercise
    exactly what the engine serves.
    """
    v1 = V1Api(storage, clock, events or EventBus(), access or OpenAccess())
    site = Site(RootApi(v1).app.resource())
    site.displayTracebacks = False
    return site
