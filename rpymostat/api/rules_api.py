"""Handlers for the rule routes: schedules and overrides (collections), holds, timelines.

:class:`~rpymostat.api.v1.V1Api` routes requests here.  Every write passes the
access check, is validated by :class:`~rpymostat.api.rules_input.RulesInput`,
stored, and announced with a ``rule.changed`` event (for each zone it touched,
so the timeline cache of both the old and the new zone is recomputed).
"""

import datetime
import uuid

from rpymostat.api.errors import InvalidContent, NotFoundError, json_bytes
from rpymostat.api.jsonio import read_json
from rpymostat.schedule import documents, zone_settings
from rpymostat.schedule.cache import UnknownZone
from rpymostat.storage.interface import RuleRecord

MAX_TIMELINE_HOURS = 14 * 24


def rule_document(record) -> dict:
    """A stored rule as the API shows it: its document, id and when it last changed."""
    document = {**record.document, "changed_at": documents.iso_seconds(record.changed_at)}
    if record.kind != "hold":
        document["id"] = record.rule_id
    return document


def segment_document(segment) -> dict:
    setpoints = segment.setpoints
    return {
        "start": documents.iso(segment.start),
        "end": documents.iso(segment.end),
        "heat_setpoint": setpoints.heat,
        "cool_setpoint": setpoints.cool,
        "sensors": dict(setpoints.sensors) if setpoints.sensors else None,
        "source": {"type": segment.source.kind.label, "id": segment.source.id, "name": segment.source.name},
    }


class RuleCollection:
    """``/v1/schedules`` or ``/v1/overrides``: list, create, read, replace, delete."""

    def __init__(self, kind, plural, normalize, storage, clock, events, access):
        self.kind, self.plural = kind, plural
        self._normalize = normalize
        self._storage, self._clock, self._events, self._access = storage, clock, events, access

    async def list(self, request):
        records = await self._storage.rules(self.kind)
        return json_bytes(request, 200, {self.plural: [rule_document(r) for r in records]})

    async def get(self, request, rule_id):
        return json_bytes(request, 200, rule_document(await self._existing(rule_id)))

    async def create(self, request):
        self._access.authorize(request, f"{self.plural}:write")
        record = await self._store(uuid.uuid4().hex, read_json(request), previous=None)
        request.setHeader(b"Location", f"/v1/{self.plural}/{record.rule_id}".encode())
        return json_bytes(request, 201, rule_document(record))

    async def replace(self, request, rule_id):
        self._access.authorize(request, f"{self.plural}:write")
        previous = await self._existing(rule_id)
        record = await self._store(rule_id, read_json(request), previous)
        return json_bytes(request, 200, rule_document(record))

    async def delete(self, request, rule_id):
        self._access.authorize(request, f"{self.plural}:write")
        previous = await self._existing(rule_id)
        await self._storage.delete_rule(self.kind, rule_id)
        self._changed(previous.zone, rule_id)
        request.setResponseCode(204)
        return b""

    async def _existing(self, rule_id):
        record = await self._storage.rule(self.kind, rule_id)
        if record is None:
            raise NotFoundError(f"no {self.kind} with id {rule_id!r}")
        return record

    async def _store(self, rule_id, body, previous):
        zone, document = await self._normalize(body)
        record = RuleRecord(self.kind, rule_id, zone, document, self._clock.seconds())
        await self._storage.put_rule(record)
        if previous is not None and previous.zone != zone:
            self._changed(previous.zone, rule_id)
        self._changed(zone, rule_id)
        return record

    def _changed(self, zone, rule_id):
        self._events.publish("rule.changed", self._clock.seconds(), zone=zone, kind=self.kind, id=rule_id)


class ZoneRules:
    """A zone's hold (``/v1/zones/{zone}/hold``), target and the timeline."""

    def __init__(self, rules_input, timelines, zone_info, storage, clock, events, access):
        self._input, self._timelines, self._zone_info = rules_input, timelines, zone_info
        self._zone_name = zone_info.key
        self._storage, self._clock, self._events, self._access = storage, clock, events, access

    async def hold(self, request, zone):
        self._access.authorize(request, "holds:write")
        await self._known(zone)
        document = await self._input.hold(zone, read_json(request))
        record = RuleRecord("hold", zone, zone, document, self._clock.seconds())
        await self._storage.put_rule(record)
        self._events.publish("rule.changed", self._clock.seconds(), zone=zone, kind="hold", id=zone)
        return json_bytes(request, 201, rule_document(record))

    async def get_hold(self, request, zone):
        record = await self._storage.rule("hold", zone)
        if record is None:
            raise NotFoundError(f"zone {zone!r} has no hold")
        return json_bytes(request, 200, rule_document(record))

    async def resume(self, request, zone):
        self._access.authorize(request, "holds:write")
        if not await self._storage.delete_rule("hold", zone):
            raise NotFoundError(f"zone {zone!r} has no hold")
        self._events.publish("rule.changed", self._clock.seconds(), zone=zone, kind="hold", id=zone)
        request.setResponseCode(204)
        return b""

    async def target(self, request, zone):
        try:
            now, following = await self._timelines.target(zone)
        except UnknownZone:
            raise NotFoundError(f"no zone {zone!r}") from None
        return json_bytes(request, 200, {
            "zone": zone,
            "timezone": self._zone_name,
            "now": segment_document(now),
            "next": segment_document(following) if following else None,
        })

    async def timeline(self, request):
        zone, begin, end = self._window(request)
        try:
            segments = await self._timelines.timeline(zone, begin, end)
        except UnknownZone:
            raise NotFoundError(f"no zone {zone!r}") from None
        return json_bytes(request, 200, {
            "zone": zone,
            "timezone": self._zone_name,
            "segments": [segment_document(s) for s in segments],
        })

    def _window(self, request):
        """``(zone, begin, end)`` from the query string, checked."""
        def argument(name):
            values = request.args.get(name.encode())
            return values[0].decode("utf-8", "replace") if values else None

        zone = argument("zone") or "default"
        start = argument("start")
        begin = documents.instant(self._clock.seconds())
        if start is not None:
            try:
                begin = documents.parse_instant(start, self._zone_info)
            except ValueError as error:
                raise InvalidContent(f"start: {error}") from None
        hours = argument("hours")
        try:
            length = float(hours) if hours is not None else 48.0
        except ValueError:
            length = -1.0
        if not 0 < length <= MAX_TIMELINE_HOURS:
            raise InvalidContent(f"hours: must be a number above 0 and at most {MAX_TIMELINE_HOURS}")
        end = begin + datetime.timedelta(hours=length)
        if end >= documents.LATEST:
            raise InvalidContent("start: the window must end before the year 2100")
        return zone, begin, end

    async def _known(self, zone):
        if await zone_settings.zone_defaults(self._storage, zone) is None:
            raise NotFoundError(f"no zone {zone!r}")
