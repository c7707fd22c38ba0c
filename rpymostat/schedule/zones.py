"""Zones as far as scheduling needs them: which exist, and their default setpoints.

The ``default`` zone always exists, so a house with no configuration still
has a target.  Zones are stored as rule records of kind ``"zone"`` (their
document holds ``default_heat_setpoint`` and ``default_cool_setpoint``);
zone management proper arrives with the decision loop.
"""

from rpymostat.schedule.rules import Setpoints

DEFAULT_ZONE = "default"
KIND = "zone"

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
    """The zone's full stored document with defaults filled in, or None; ``default`` always exists."""
    record = await storage.rule(KIND, zone)
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
    return sorted({DEFAULT_ZONE} | {record.rule_id for record in await storage.rules(KIND)})
