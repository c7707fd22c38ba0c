"""Assembling the engine's HTTP site from its parts."""

from urllib.parse import unquote_to_bytes
from zoneinfo import ZoneInfo

from twisted.web.resource import Resource
from twisted.web.server import Site  # the type build_site returns

from rpymostat.access import OpenAccess
from rpymostat.api.errors import error_bytes
from rpymostat.api.root import RootApi
from rpymostat.api.v1 import V1Api
from rpymostat.control_loop.loop import build_decision_loop
from rpymostat.decide.plugin import load_decision_plugins
from rpymostat.events import EventBus
from rpymostat.protocol.client import JsonClient
from rpymostat.protocol.jsonsite import json_site
from rpymostat.schedule.cache import TimelineCache
from rpymostat.schedule.rules_plugin import RulesSchedule


def build_site(storage, clock, events=None, access=None, timelines=None, zone_info=None,
               decisions=None) -> Site:
    """The engine's HTTP site over ``storage``, with time from ``clock``.

    The service tree and the tests build it the same way, so tests exercise
    exactly what the engine serves.  Without ``timelines``, an unstarted
    cache over the built-in rules plugin is made and subscribed to ``events``;
    without ``decisions``, an unstarted decision loop (it decides when asked
    for a zone's state) whose relay client uses ``clock`` as its reactor.
    """
    events = events or EventBus()
    zone_info = zone_info or ZoneInfo("UTC")
    if timelines is None:
        timelines = TimelineCache(RulesSchedule(storage, zone_info), storage, clock)
        events.subscribe(timelines.on_event)
    if decisions is None:
        decisions = build_decision_loop(
            storage, timelines, events, clock, JsonClient(clock), load_decision_plugins()
        )
    v1 = V1Api(storage, clock, events, access or OpenAccess(), timelines, zone_info, decisions)
    return json_site(Utf8PathGuard(RootApi(v1).app.resource()))


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
