"""Handlers for ``/v1/zones`` and ``/v1/plugins``.

A zone's settings are stored in the storage's zones
(:meth:`~rpymostat.storage.interface.IStorage.put_zone`); the ``default`` zone
exists even when nothing is stored, so a house always has one.  Changing a
zone announces ``rule.changed`` for it, since its defaults shape its
timeline.
"""

from rpymostat.api.errors import ApiError, NotFoundError, json_bytes
from rpymostat.api.jsonio import read_json
from rpymostat.schedule import documents, zone_settings

RULE_KINDS = ("schedule", "override", "hold")


class Conflict(ApiError):
    code = 409


def zone_document(zone, document, changed_at):
    shown = {"id": zone, **document}
    shown["changed_at"] = documents.iso_seconds(changed_at) if changed_at else None
    return shown


def plugin_document(plugin):
    return {"name": plugin.name, "description": plugin.description, "config_schema": plugin.config_schema}


class Zones:
    """List, read, create or replace, and delete zones; list plugins."""

    def __init__(self, rules_input, schedule_plugins, decision_plugins, storage, clock, events, access):
        self._input = rules_input
        self._schedule_plugins, self._decision_plugins = schedule_plugins, decision_plugins
        self._storage, self._clock, self._events, self._access = storage, clock, events, access

    async def list(self, request):
        shown = []
        for zone in await zone_settings.zone_names(self._storage):
            document, changed_at = await zone_settings.zone_record(self._storage, zone)
            shown.append(zone_document(zone, document, changed_at))
        return json_bytes(request, 200, {"zones": shown})

    async def get(self, request, zone):
        found = await zone_settings.zone_record(self._storage, zone)
        if found is None:
            raise NotFoundError(f"no zone {zone!r}")
        return json_bytes(request, 200, zone_document(zone, *found))

    async def put(self, request, zone):
        self._access.authorize(request, "zones:write")
        self._input.check_zone_name(zone)
        document = await self._input.zone(read_json(request), self._decision_plugins, zone)
        existed = await self._storage.zone(zone) is not None or zone == zone_settings.DEFAULT_ZONE
        record = await self._storage.put_zone(zone, document, self._clock.seconds())
        self._events.publish("rule.changed", self._clock.seconds(), zone=zone, kind="zone", id=zone)
        shown = {"name": zone, **document}  # as GET shows it: a zone without a name is named by its id
        return json_bytes(request, 200 if existed else 201, zone_document(zone, shown, record.changed_at))

    async def delete(self, request, zone):
        self._access.authorize(request, "zones:write")
        if zone == zone_settings.DEFAULT_ZONE:
            raise Conflict("the default zone cannot be deleted")
        if await self._storage.zone(zone) is None:
            raise NotFoundError(f"no zone {zone!r}")
        using = sum([len(await self._storage.rules(kind, zone)) for kind in RULE_KINDS])
        if using:
            raise Conflict(f"zone {zone!r} still has {using} rules; delete or move them first")
        await self._storage.delete_zone(zone)
        self._events.publish("rule.changed", self._clock.seconds(), zone=zone, kind="zone", id=zone)
        request.setResponseCode(204)
        return b""

    def plugins(self, request):
        return json_bytes(request, 200, {
            "schedule": [plugin_document(p) for _, p in sorted(self._schedule_plugins.items())],
            "decision": [plugin_document(p) for _, p in sorted(self._decision_plugins.items())],
        })

