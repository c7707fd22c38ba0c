"""Version 1 of the engine API, mounted at ``/v1`` by :mod:`rpymostat.api.root`.

Each family of routes is its own Klein app on the object that does the work,
mounted here with ``branch=True`` as ``/v1`` itself is mounted at the root:
``/sensors``, ``/schedules`` and ``/overrides`` (one rule collection app
each), ``/zones``, ``/timeline``, ``/history``, ``/controls`` and
``/events``.  This app
answers the few routes about the API itself: its OpenAPI document, its
status (with the engine's time zone, in which clients show times) and its
plugins.  What each route accepts and answers is specified in
``openapi.json``.
"""

from rpymostat.api.controls_api import ControlsApi
from rpymostat.api.errors import api_app, json_bytes, mounted, render_failure
from rpymostat.api.event_stream import EventStream
from rpymostat.api.events_api import EventsApi
from rpymostat.api.history_api import HistoryApi
from rpymostat.api.pairing_api import PairingApi
from rpymostat.api.rules_api import RuleCollection
from rpymostat.api.rules_input import RulesInput
from rpymostat.api.sensors_api import SensorsApi
from rpymostat.api.shapes import plugin_document
from rpymostat.api.timeline_api import TimelineApi
from rpymostat.api.tokens_api import PairingsApi, TokensApi
from rpymostat.api.validation import RequestValidator
from rpymostat.api.zones_api import ZonesApi
from rpymostat.auth.tickets import TicketBook


class V1Api:
    """``/v1`` over collaborators built once by the engine's service tree.

    ``schedule_plugins`` and ``decision_plugins`` map names to the installed
    plugins (schedule plugin classes, decision plugin instances), as loaded
    once at start; ``decisions`` is the decision loop; ``event_stream`` is the
    engine's :class:`~rpymostat.api.event_stream.EventStream` (one is made over
    ``events``, its keep-alive not started, when none is given).  Stream
    tickets are the access policy's (``access.tickets``), so the tickets it
    admits are the ones issued here; open access has none and needs none.
    ``history_raw_days`` is how long raw readings are kept (``/history`` asks
    for rollups beyond it).
    """

    app = api_app()

    def __init__(
        self,
        storage,
        clock,
        events,
        access,
        timelines,
        zone_info,
        decisions,
        schedule_plugins,
        decision_plugins,
        validator=None,
        engine_addresses=None,
        event_stream=None,
        history_raw_days=90,
    ):
        self._storage = storage
        self._timezone = zone_info.key
        self._validator = validator or RequestValidator()
        self._schedule_plugins, self._decision_plugins = schedule_plugins, decision_plugins
        rules_input = RulesInput(self._validator, storage, zone_info, clock)
        shared = (storage, clock, events, access)
        rules = (storage, clock, events)
        self._sensors = SensorsApi(*shared, self._validator).app.resource()
        self._schedules = RuleCollection("schedule", "schedules", rules_input.schedule, *rules).app.resource()
        self._overrides = RuleCollection("override", "overrides", rules_input.override, *rules).app.resource()
        self._zones = ZonesApi(rules_input, timelines, zone_info, decisions, decision_plugins, *shared).app.resource()
        self._timeline = TimelineApi(timelines, zone_info, clock).app.resource()
        self._history = HistoryApi(storage, clock, zone_info, history_raw_days).app.resource()
        self._controls = ControlsApi(self._validator, *shared).app.resource()
        throttle = getattr(access, "throttle", None)
        self._pair = PairingApi(self._validator, storage, clock, throttle, engine_addresses).app.resource()
        self._tokens = TokensApi(self._validator, storage, clock, access).app.resource()
        self._pairings = PairingsApi(storage, clock, access).app.resource()
        self.event_stream = event_stream if event_stream is not None else EventStream(events, clock)
        tickets = getattr(access, "tickets", None)
        tickets = tickets if tickets is not None else TicketBook(clock.seconds)
        self._events = EventsApi(self.event_stream, tickets, clock).app.resource()

    @app.handle_errors(Exception)
    def _failed(self, request, failure):
        return render_failure(request, failure)

    @app.route("/openapi.json", methods=["GET"])
    def openapi(self, request):
        return json_bytes(request, 200, self._validator.openapi)

    @app.route("/status", methods=["GET"])
    async def status(self, request):
        database = await self._storage.ping()
        document = {"status": database, "dependencies": {"database": database}, "timezone": self._timezone}
        return json_bytes(request, 200 if database else 503, document)

    @app.route("/plugins", methods=["GET"])
    def plugins(self, request):
        return json_bytes(
            request,
            200,
            {
                "schedule": [plugin_document(p) for _, p in sorted(self._schedule_plugins.items())],
                "decision": [plugin_document(p) for _, p in sorted(self._decision_plugins.items())],
            },
        )

    @app.route("/sensors", branch=True)
    def sensors(self, request):
        return mounted(request, self._sensors)

    @app.route("/schedules", branch=True)
    def schedules(self, request):
        return mounted(request, self._schedules)

    @app.route("/overrides", branch=True)
    def overrides(self, request):
        return mounted(request, self._overrides)

    @app.route("/zones", branch=True)
    def zones(self, request):
        return mounted(request, self._zones)

    @app.route("/timeline", branch=True)
    def timeline(self, request):
        return mounted(request, self._timeline)

    @app.route("/history", branch=True)
    def history(self, request):
        return mounted(request, self._history)

    @app.route("/controls", branch=True)
    def controls(self, request):
        return mounted(request, self._controls)

    @app.route("/pair", branch=True)
    def pair(self, request):
        return mounted(request, self._pair)

    @app.route("/tokens", branch=True)
    def tokens(self, request):
        return mounted(request, self._tokens)

    @app.route("/pairings", branch=True)
    def pairings(self, request):
        return mounted(request, self._pairings)

    @app.route("/events", branch=True)
    def events(self, request):
        return mounted(request, self._events)
