"""Checking and normalising rule documents (schedules, overrides, holds) as they arrive.

The JSON Schemas in ``openapi.json`` check shapes and ranges
(:class:`~rpymostat.api.validation.RequestValidator`); this module checks
what needs the rules' meaning or the engine's state: cron expressions, ISO
8601 durations, intervals and times, "exactly one way to end", a heat
setpoint at least 1 C below the cool one, known zones and sensors.  Each
failure is a 422 naming the field.  What comes out is the document as it
is stored: overrides and holds with absolute ``start`` and ``end`` instants.
"""

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from rpymostat.api.errors import InvalidContent
from rpymostat.decide.state import MIN_DEADBAND_C
from rpymostat.schedule import cron, documents, zone_settings

#: The least gap between a heat and a cool setpoint set together, so the
#: equipment cannot chase itself between heating and cooling.


class RulesInput:
    """Turns request bodies into stored rule documents, or raises InvalidContent."""

    def __init__(self, validator, storage, zone_info, clock):
        self._validator = validator
        self._storage = storage
        self._zone_info = zone_info
        self._clock = clock

    def now(self):
        return documents.instant(self._clock.seconds())

    async def schedule(self, document):
        """A schedule body; returns ``(zone, stored document)``."""
        self._validator.check("ScheduleInput", document)
        stored = {"zone": zone_settings.DEFAULT_ZONE, "priority": 0, "enabled": True, **document}
        for field in ("start", "end"):
            if field in stored and not cron.is_valid(stored[field]):
                raise InvalidContent(
                    f"{field}: {stored[field]!r} is not a five-field cron expression that ever matches"
                )
        _exactly_one(stored, ("end", "duration"))
        if "duration" in stored:
            _checked(lambda: documents.parse_duration(stored["duration"]), "duration")
        await self._check_targets(stored)
        return stored["zone"], stored

    async def override(self, document):
        """An override body; returns ``(zone, stored document)`` with absolute times."""
        self._validator.check("OverrideInput", document)
        zone = document.get("zone", zone_settings.DEFAULT_ZONE)
        if "start" in document:
            start = _checked(lambda: documents.parse_instant(document["start"], self._zone_info), "start")
        else:
            start = self.now()
        how = _exactly_one(document, ("end", "duration", "interval", "until"))
        stored = {k: v for k, v in document.items() if k not in ("end", "duration", "interval")}
        stored["zone"] = zone
        if how == "interval":
            start, end = _checked(lambda: documents.parse_interval(document["interval"], self._zone_info), "interval")
            if "start" in document:
                raise InvalidContent("start: give the start inside interval, not beside it")
        elif how == "duration":
            # days on the wall clock, hours as elapsed time (a day of an override is a day)
            end = _checked(lambda: documents.end_after(start, document["duration"], self._zone_info), "duration")
            if end >= documents.LATEST:
                raise InvalidContent(f"duration: {document['duration']!r} would end after 2099")
        elif how == "end":
            end = _checked(lambda: documents.parse_instant(document["end"], self._zone_info), "end")
        else:
            end = None
        if end is not None and end <= start:
            raise InvalidContent(f"end: {documents.iso(end)} is not after start {documents.iso(start)}")
        stored["start"] = documents.iso(start)
        if end is not None:
            stored["end"] = documents.iso(end)
        await self._check_targets(stored)
        return zone, stored

    async def hold(self, zone, document):
        """A hold body for ``zone``; returns the stored document, starting now."""
        self._validator.check("HoldInput", document)
        if "duration" in document and "until" in document:
            raise InvalidContent("body: give until or duration, not both")
        start = self.now()
        stored = {**document, "zone": zone, "start": documents.iso(start)}
        if "duration" in document:
            end = _checked(lambda: documents.end_after(start, document["duration"], self._zone_info), "duration")
            if end >= documents.LATEST:
                raise InvalidContent(f"duration: {document['duration']!r} would end after 2099")
            stored["end"] = documents.iso(end)
            del stored["duration"]
        else:
            stored["until"] = document.get("until", "next_schedule")
        await self._check_targets(stored)
        return stored

    def check_zone_name(self, zone):
        """A zone name from a path, checked like one in a body."""
        try:
            self._validator.check("ZoneName", zone)
        except InvalidContent as error:
            raise InvalidContent("zone" + error.message[len("body") :]) from None

    async def zone(self, document, decision_plugins, zone_name):
        """A zone body; returns the stored document (absent fields take their defaults)."""
        self._validator.check("ZoneInput", document)
        stored = {**zone_settings.ZONE_DEFAULTS, **document}
        _check_deadband(stored, "default_heat_setpoint", "default_cool_setpoint")
        await self._check_sensors(stored["sensors"])
        await self._check_outputs(stored["outputs"], zone_name)
        if stored["quorum"] > max(len(stored["sensors"]), 1):
            raise InvalidContent(f"quorum: {stored['quorum']} is more than the zone's sensors")
        decision = {"config": {}, **stored["decision"]}
        plugin = decision_plugins.get(decision["plugin"])
        if plugin is None:
            raise InvalidContent(
                f"decision.plugin: no decision plugin {decision['plugin']!r};"
                f" installed: {', '.join(sorted(decision_plugins))}"
            )
        problem = best_match(Draft202012Validator(plugin.config_schema).iter_errors(decision["config"]))
        if problem is not None:
            where = ".".join(str(part) for part in ("decision", "config", *problem.absolute_path))
            raise InvalidContent(f"{where}: {problem.message}")
        stored["decision"] = decision
        return stored

    async def _check_targets(self, stored):
        """Setpoints present and apart, the zone and every sensor known."""
        heat, cool = stored.get("heat_setpoint"), stored.get("cool_setpoint")
        if heat is None and cool is None:
            raise InvalidContent("body: give heat_setpoint, cool_setpoint or both")
        _check_deadband(stored, "heat_setpoint", "cool_setpoint")
        if await zone_settings.zone_defaults(self._storage, stored["zone"]) is None:
            raise InvalidContent(f"zone: there is no zone {stored['zone']!r}")
        await self._check_sensors(stored.get("sensors") or {})

    async def _check_outputs(self, outputs, zone_name):
        """Each relay drives one output of one zone: two masters would switch it back and forth."""
        seen = {}
        for name, address in sorted(outputs.items()):
            if address in seen:
                raise InvalidContent(f"outputs.{name}: {address} is already this zone's {seen[address]} output")
            seen[address] = name
        for record in await self._storage.zones():
            if record.name == zone_name:
                continue
            for name, address in sorted(record.document.get("outputs", {}).items()):
                if address in seen:
                    raise InvalidContent(
                        f"outputs.{seen[address]}: {address} is already the {name} output of zone {record.name!r}"
                    )

    async def _check_sensors(self, weights):
        """Every sensor id in ``weights`` is one the engine knows."""
        for sensor_id in weights:
            if await self._storage.sensor(sensor_id) is None:
                raise InvalidContent(f"sensors.{sensor_id}: no sensor has this id")


def _check_deadband(stored, heat_field, cool_field):
    """A heat setpoint at least :data:`MIN_DEADBAND_C` below the cool one, when both are set."""
    heat, cool = stored.get(heat_field), stored.get(cool_field)
    if heat is not None and cool is not None and heat > cool - MIN_DEADBAND_C:
        raise InvalidContent(f"{heat_field}: {heat} must be at least {MIN_DEADBAND_C} below {cool_field} {cool}")


def _exactly_one(document, fields):
    """The one of ``fields`` that ``document`` has; InvalidContent unless exactly one."""
    present = [field for field in fields if field in document]
    if len(present) != 1:
        raise InvalidContent(f"body: give exactly one of {', '.join(fields)}")
    return present[0]


def _checked(parse, field):
    """``parse()``, its ValueError (or a date past datetime's range) turned into a 422 naming ``field``."""
    try:
        return parse()
    except (ValueError, OverflowError) as error:
        raise InvalidContent(f"{field}: {error}") from None
