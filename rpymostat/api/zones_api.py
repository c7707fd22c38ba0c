"""``/v1/zones``: each zone's settings, its hold, its target, and why it does what it does.

A zone's settings live in the storage's zones
(:meth:`~rpymostat.storage.interface.IStorage.put_zone`); the ``default``
zone exists even when nothing is stored, so a house always has one.
Changing a zone or its hold announces ``rule.changed`` for it, since both
shape its timeline, and the decision loop decides it again at once.  For
those who follow the zone rather than its timeline (the event stream), a
zone written or deleted is also ``zone.changed``, and a hold set or removed
``hold.started`` or ``hold.ended``.

``GET /v1/zones/{zone}/state`` answers the question every thermostat user
asks, "why is it (not) heating?", from the loop's latest decision;
``/runs`` lists when its equipment really ran.
"""

import math

from rpymostat.api.errors import (
    Conflict,
    InvalidContent,
    NotFoundError,
    Unavailable,
    api_app,
    json_bytes,
    render_failure,
)
from rpymostat.api.jsonio import query_argument, read_json
from rpymostat.api.shapes import rule_document, run_document, segment_document, state_document, zone_document
from rpymostat.history import query
from rpymostat.schedule import zone_settings
from rpymostat.schedule.cache import UnknownZone
from rpymostat.storage.interface import RuleRecord

#: The rules that belong to a zone: it cannot be deleted while it has any.
RULE_KINDS = ("schedule", "override", "hold")

#: The most runs one answer lists.
MAX_RUNS = 1000


class ZonesApi:
    """The ``/v1/zones`` routes.

    ``rules_input`` validates bodies, ``timelines`` answers targets,
    ``decisions`` is the decision loop (its reports, ledger and recorder),
    ``decision_plugins`` are the installed decision plugins a zone may name.
    """

    app = api_app()

    def __init__(self, rules_input, timelines, zone_info, decisions, decision_plugins, storage, clock, events, access):
        self._input, self._timelines, self._zone_info, self._timezone = rules_input, timelines, zone_info, zone_info.key
        self._loop, self._decision_plugins = decisions, decision_plugins
        self._storage, self._clock, self._events, self._access = storage, clock, events, access

    @app.handle_errors(Exception)
    def _failed(self, request, failure):
        return render_failure(request, failure)

    # The zones and their settings.

    @app.route("/", methods=["GET"])
    async def list(self, request):
        shown = []
        for zone in await zone_settings.zone_names(self._storage):
            document, changed_at = await zone_settings.zone_record(self._storage, zone)
            shown.append(zone_document(zone, document, changed_at))
        return json_bytes(request, 200, {"zones": shown})

    @app.route("/<zone>", methods=["GET"])
    async def get(self, request, zone):
        found = await zone_settings.zone_record(self._storage, zone)
        if found is None:
            raise NotFoundError(f"no zone {zone!r}")
        return json_bytes(request, 200, zone_document(zone, *found))

    @app.route("/<zone>", methods=["PUT"])
    async def put(self, request, zone):
        self._input.check_zone_name(zone)
        document = await self._input.zone(read_json(request), self._decision_plugins, zone)
        existing = await zone_settings.zone_record(self._storage, zone)
        before = existing[0] if existing is not None else {}
        if document.get("outputs", {}) != before.get("outputs", {}):
            await self._access.authorize(request, "zones:outputs")  # the boiler's wiring: an admin's
        existed = existing is not None  # the default zone always exists
        record = await self._storage.put_zone(zone, document, self._clock.seconds())
        self._changed(zone, "zone")
        self._events.publish(
            "zone.changed", self._clock.seconds(), zone=zone, change="updated" if existed else "created"
        )
        return json_bytes(request, 200 if existed else 201, zone_document(zone, document, record.changed_at))

    @app.route("/<zone>", methods=["DELETE"])
    async def delete(self, request, zone):
        if zone == zone_settings.DEFAULT_ZONE:
            raise Conflict("the default zone cannot be deleted")
        if await self._storage.zone(zone) is None:
            raise NotFoundError(f"no zone {zone!r}")
        using = sum([len(await self._storage.rules(kind, zone)) for kind in RULE_KINDS])
        if using:
            raise Conflict(f"zone {zone!r} still has {using} rules; delete or move them first")
        await self._storage.delete_zone(zone)
        self._changed(zone, "zone")
        self._events.publish("zone.changed", self._clock.seconds(), zone=zone, change="deleted")
        request.setResponseCode(204)
        return b""

    # Its hold and its target.

    @app.route("/<zone>/hold", methods=["POST"])
    async def hold(self, request, zone):
        await self._known(zone)
        document = await self._input.hold(zone, read_json(request))
        record = RuleRecord("hold", zone, zone, document, self._clock.seconds())
        await self._storage.put_rule(record)
        self._changed(zone, "hold")
        self._events.publish("hold.started", self._clock.seconds(), zone=zone, hold=rule_document(record))
        return json_bytes(request, 201, rule_document(record))

    @app.route("/<zone>/hold", methods=["GET"])
    async def get_hold(self, request, zone):
        record = await self._storage.rule("hold", zone)
        if record is None:
            raise NotFoundError(f"zone {zone!r} has no hold")
        return json_bytes(request, 200, rule_document(record))

    @app.route("/<zone>/hold", methods=["DELETE"])
    async def resume(self, request, zone):
        if not await self._storage.delete_rule("hold", zone):
            raise NotFoundError(f"zone {zone!r} has no hold")
        self._changed(zone, "hold")
        self._events.publish("hold.ended", self._clock.seconds(), zone=zone, reason="deleted")
        request.setResponseCode(204)
        return b""

    @app.route("/<zone>/target", methods=["GET"])
    async def target(self, request, zone):
        try:
            now, following = await self._timelines.target(zone)
        except UnknownZone:
            raise NotFoundError(f"no zone {zone!r}") from None
        return json_bytes(
            request,
            200,
            {
                "zone": zone,
                "timezone": self._timezone,
                "now": segment_document(now),
                "next": segment_document(following) if following else None,
            },
        )

    # Why it does what it does.

    @app.route("/<zone>/state", methods=["GET"])
    async def state(self, request, zone):
        await self._known(zone)
        await self._loop.settled()  # a change just written is decided before it is shown
        if zone not in self._loop.reports:
            await self._loop.run_zones([zone])  # a zone created since the last tick
        report = self._loop.reports.get(zone)
        if zone in self._loop.failures:
            raise Unavailable(self._loop.failures[zone])
        if report is None:
            raise NotFoundError(f"no zone {zone!r}")  # deleted meanwhile
        return json_bytes(request, 200, state_document(report, self._loop.ledger))

    @app.route("/<zone>/runs", methods=["GET"])
    async def runs(self, request, zone):
        await self._known(zone)
        limit = query_argument(request, "limit")
        limit = "100" if limit is None else limit
        if not (limit.isascii() and limit.isdigit() and len(limit) <= 4 and 1 <= int(limit) <= MAX_RUNS):
            raise InvalidContent(f"limit: must be a whole number from 1 to {MAX_RUNS}")
        window = {}
        for field in ("start", "end"):
            text = query_argument(request, field)
            if text is not None:
                try:
                    window[field] = query.parse_time(field, text, self._zone_info).timestamp()
                except query.InvalidQuery as error:
                    raise InvalidContent(str(error)) from None
        if "start" in window and "end" in window and window["start"] >= window["end"]:
            raise InvalidContent("end: must be after start")
        recorder = self._loop.recorder
        runs = await recorder.runs(zone, int(limit), window.get("start"), window.get("end"))
        if len(runs) == int(limit):
            # A page never splits runs that started at the same moment (heat and its fan):
            # the next page, ending where this one ends, would never show the rest.
            oldest, shown = runs[-1].started_at, {run.run_id for run in runs}
            tied = await recorder.runs(zone, MAX_RUNS, oldest, math.nextafter(oldest, math.inf))
            runs += [run for run in tied if run.run_id not in shown]
        return json_bytes(request, 200, {"zone": zone, "runs": [run_document(run) for run in runs]})

    async def _known(self, zone):
        if await zone_settings.zone_record(self._storage, zone) is None:
            raise NotFoundError(f"no zone {zone!r}")

    def _changed(self, zone, kind):
        self._events.publish("rule.changed", self._clock.seconds(), zone=zone, kind=kind, id=zone)
