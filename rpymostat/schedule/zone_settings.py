"""A zone's settings as the rest of the engine reads them: stored settings with defaults filled in.

The ``default`` zone always exists, so a house with no configuration still
has a target: it has settings even when none are stored.  Settings live in
the storage's zones (:meth:`~rpymostat.storage.interface.IStorage.zone`); a
setting the user did not give takes its value from :data:`ZONE_DEFAULTS`, so
a zone stored before a setting existed reads as if it had the default.
"""

from rpymostat.schedule.rules import Setpoints

DEFAULT_ZONE = "default"

#: What the ``default`` zone asks for until the user says otherwise: warm
#: enough to live in, cool enough not to waste energy.
BUILT_IN_DEFAULTS = {"default_heat_setpoint": 18.0, "default_cool_setpoint": 26.0}

#: Every field of a zone that the user did not give: heating mode (frost-safe),
#: no sensors or outputs yet, the built-in decision plugin.
ZONE_DEFAULTS = {
    "mode": "heat",
    "sensors": {},
    "quorum": 1,
    **BUILT_IN_DEFAULTS,
    "outputs": {},
    "decision": {"plugin": "hysteresis", "config": {}},
    "safety": {},
}


async def zone_record(storage, zone):
    """``(settings with defaults filled in, changed_at)`` of the zone, or None if there is no such zone.

    ``default`` always exists; its ``changed_at`` is None until it is stored.
    """
    record = await storage.zone(zone)
    if record is None:
        if zone != DEFAULT_ZONE:
            return None
        return {"name": DEFAULT_ZONE, **ZONE_DEFAULTS}, None
    return {"name": zone, **ZONE_DEFAULTS, **record.document}, record.changed_at


async def zone_defaults(storage, zone):
    """The zone's default :class:`Setpoints`, or None when there is no such zone."""
    found = await zone_record(storage, zone)
    if found is None:
        return None
    document, _ = found
    return Setpoints(heat=document["default_heat_setpoint"], cool=document["default_cool_setpoint"])


async def zone_names(storage):
    """Every zone's name, ``default`` included, sorted."""
    return sorted({DEFAULT_ZONE} | {record.name for record in await storage.zones()})
