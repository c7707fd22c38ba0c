"""Version 1 of the engine API, mounted at ``/v1`` by :mod:`rpymostat.api.root`.

Handlers are thin: authorize the write, read and validate the body (in
:mod:`rpymostat.api.validation`), call storage, publish an event, answer JSON.
What each route accepts and answers is specified in ``openapi.json``, which
this app also serves.
"""

import datetime

from klein import Klein

from twisted.logger import Logger

from rpymostat.api.errors import ApiError, NotFoundError, json_bytes, render_failure
from rpymostat.api.jsonio import read_json
from rpymostat.api.rules_api import RuleCollection, ZoneRules
from rpymostat.api.rules_input import RulesInput
from rpymostat.api.validation import RequestValidator
from rpymostat.api.controls_api import Controls
from rpymostat.api.zone_state_api import ZoneStateApi
from rpymostat.api.zones_api import Zones
from rpymostat.decide.plugin import GROUP as DECISION_GROUP
from rpymostat.decide.plugin import IDecisionPlugin
from rpymostat.plugins import load_plugins
from rpymostat.schedule.plugin import GROUP as SCHEDULE_GROUP
from rpymostat.schedule.plugin import ISchedulePlugin

log = Logger()


def iso_utc(seconds: float) -> str:
    """Epoch seconds as ISO 8601 in UTC with microseconds, e.g. ``2026-11-25T12:00:00.000000+00:00``."""
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.isoformat(timespec="microseconds")


def sensor_document(record) -> dict:
    """The JSON shape of a sensor (``#/components/schemas/Sensor``)."""
    return {
        "id": record.sensor_id,
        "host_id": record.host_id,
        "type": record.sensor_type,
        "alias": record.alias,
        "extra": record.extra,
        "value": record.value,
        "last_seen": iso_utc(record.last_seen),
        "name": record.name,
    }


class Conflict(ApiError):
    """The request contradicts what is stored (a sensor still in use)."""

    code = 409


#: The kinds of rule whose documents may weigh sensors (``sensors``), and how to name one.
SENSOR_USING_KINDS = (("schedule", "schedule"), ("override", "override"), ("hold", "the hold on zone"))


async def sensor_users(storage, sensor_id) -> list:
    """``["zone 'living'", "schedule 'night'", ...]``: every zone and rule that weighs ``sensor_id``."""
    users = [f"zone {record.name!r}" for record in await storage.zones()
             if sensor_id in (record.document.get("sensors") or {})]
    for kind, label in SENSOR_USING_KINDS:
        for record in await storage.rules(kind):
            if sensor_id in (record.document.get("sensors") or {}):
                users.append(f"{label} {record.rule_id!r}")
    return users


class ClockWarnings:
    """Logs that a host's clock runs ahead, at most once per host every ``every`` seconds.

    A host whose clock is wrong sends every reading ahead; one line every few
    minutes says so without burying the log.  Times are the engine clock's
    seconds; a clock stepped back simply allows the next warning.
    """

    def __init__(self, every=300.0):
        self._every = every
        self._last = {}

    def warn(self, host_id, ahead, now):
        last = self._last.get(host_id)
        if last is not None and 0 <= now - last < self._every:
            return
        self._last[host_id] = now
        log.warn(
            "host {host_id}'s clock runs {ahead:.0f} s ahead: its readings are stored at the time"
            " received; set its clock (NTP)", host_id=host_id, ahead=ahead,
        )


class V1Api:
    """The ``/v1`` routes over injected storage, clock, event bus and access policy."""

    app = Klein()

    def __init__(self, storage, clock, events, access, timelines, zone_info, decisions, validator=None):
        self._storage = storage
        self._clock = clock
        self._events = events
        self._access = access
        self._validator = validator or RequestValidator()
        self._clock_warnings = ClockWarnings()
        rules_input = RulesInput(self._validator, storage, zone_info, clock)
        shared = (storage, clock, events, access)
        self._schedules = RuleCollection("schedule", "schedules", rules_input.schedule, *shared)
        self._overrides = RuleCollection("override", "overrides", rules_input.override, *shared)
        self._zones = ZoneRules(rules_input, timelines, zone_info, *shared)
        self._zone_settings = Zones(
            rules_input,
            load_plugins(SCHEDULE_GROUP, ISchedulePlugin),
            load_plugins(DECISION_GROUP, IDecisionPlugin),
            *shared,
        )
        self._controls = Controls(self._validator, *shared)
        self._zone_state = ZoneStateApi(decisions, decisions.ledger, decisions.recorder, storage)

    @app.handle_errors(Exception)
    def _failed(self, request, failure):
        return render_failure(request, failure)

    @app.route("/openapi.json", methods=["GET"])
    def openapi(self, request):
        return json_bytes(request, 200, self._validator.openapi)

    @app.route("/status", methods=["GET"])
    async def status(self, request):
        database = await self._storage.ping()
        document = {"status": database, "dependencies": {"database": database}}
        return json_bytes(request, 200 if database else 503, document)

    @app.route("/sensors/update", methods=["PUT"])
    async def update_sensors(self, request):
        self._access.authorize(request, "sensors:update")
        document = read_json(request)
        received_at = self._clock.seconds()
        update = self._validator.sensor_update(document, now=received_at)
        if update.clock_ahead is not None:
            self._clock_warnings.warn(update.host_id, update.clock_ahead, received_at)
        if not update.readings:
            refused = update.refused
            message = "; ".join(refused[sensor_id] for sensor_id in sorted(refused))
            return json_bytes(request, 422, {"status": "error", "error": message, "refused": refused})
        await self._storage.record_readings(update.host_id, update.readings, received_at=received_at)
        self._events.publish(
            "sensor.readings", self._clock.seconds(), host_id=update.host_id,
            readings=list(update.readings), received_at=received_at,
        )
        answer = {"status": "created", "ids": update.sensor_ids}
        if update.refused:
            answer["refused"] = update.refused
        if update.adjusted:
            answer["adjusted"] = update.adjusted
        return json_bytes(request, 201, answer)

    @app.route("/sensors", methods=["GET"])
    async def list_sensors(self, request):
        records = await self._storage.sensors()
        return json_bytes(request, 200, {"sensors": [sensor_document(r) for r in records]})

    @app.route("/sensors/<sensor_id>", methods=["GET"])
    async def get_sensor(self, request, sensor_id):
        record = await self._storage.sensor(sensor_id)
        if record is None:
            raise NotFoundError(f"no sensor with id {sensor_id!r}")
        return json_bytes(request, 200, sensor_document(record))

    @app.route("/sensors/<sensor_id>", methods=["PATCH"])
    async def patch_sensor(self, request, sensor_id):
        self._access.authorize(request, "sensors:update")
        document = read_json(request)
        self._validator.check("SensorPatch", document)
        record = await self._storage.set_sensor_name(sensor_id, document["name"])
        if record is None:
            raise NotFoundError(f"no sensor with id {sensor_id!r}")
        self._events.publish(
            "sensor.changed", self._clock.seconds(), sensor_id=sensor_id, name=record.name
        )
        return json_bytes(request, 200, sensor_document(record))

    @app.route("/sensors/<sensor_id>", methods=["DELETE"])
    async def delete_sensor(self, request, sensor_id):
        self._access.authorize(request, "sensors:delete")
        users = await sensor_users(self._storage, sensor_id)
        if users:
            raise Conflict(
                f"sensor {sensor_id!r} is still used by {', '.join(users)}; remove it there first"
            )
        if not await self._storage.delete_sensor(sensor_id):
            raise NotFoundError(f"no sensor with id {sensor_id!r}")
        self._events.publish("sensor.deleted", self._clock.seconds(), sensor_id=sensor_id)
        request.setResponseCode(204)
        return b""

    # Schedules and overrides: the same collection routes for each.

    @app.route("/schedules", methods=["GET"])
    def list_schedules(self, request):
        return self._schedules.list(request)

    @app.route("/schedules", methods=["POST"])
    def create_schedule(self, request):
        return self._schedules.create(request)

    @app.route("/schedules/<rule_id>", methods=["GET"])
    def get_schedule(self, request, rule_id):
        return self._schedules.get(request, rule_id)

    @app.route("/schedules/<rule_id>", methods=["PUT"])
    def replace_schedule(self, request, rule_id):
        return self._schedules.replace(request, rule_id)

    @app.route("/schedules/<rule_id>", methods=["DELETE"])
    def delete_schedule(self, request, rule_id):
        return self._schedules.delete(request, rule_id)

    @app.route("/overrides", methods=["GET"])
    def list_overrides(self, request):
        return self._overrides.list(request)

    @app.route("/overrides", methods=["POST"])
    def create_override(self, request):
        return self._overrides.create(request)

    @app.route("/overrides/<rule_id>", methods=["GET"])
    def get_override(self, request, rule_id):
        return self._overrides.get(request, rule_id)

    @app.route("/overrides/<rule_id>", methods=["PUT"])
    def replace_override(self, request, rule_id):
        return self._overrides.replace(request, rule_id)

    @app.route("/overrides/<rule_id>", methods=["DELETE"])
    def delete_override(self, request, rule_id):
        return self._overrides.delete(request, rule_id)

    # A zone's hold and target, and timelines.

    @app.route("/zones/<zone>/hold", methods=["POST"])
    def hold(self, request, zone):
        return self._zones.hold(request, zone)

    @app.route("/zones/<zone>/hold", methods=["GET"])
    def get_hold(self, request, zone):
        return self._zones.get_hold(request, zone)

    @app.route("/zones/<zone>/hold", methods=["DELETE"])
    def resume(self, request, zone):
        return self._zones.resume(request, zone)

    @app.route("/zones/<zone>/target", methods=["GET"])
    def target(self, request, zone):
        return self._zones.target(request, zone)

    @app.route("/zones/<zone>/state", methods=["GET"])
    def zone_state(self, request, zone):
        return self._zone_state.state(request, zone)

    @app.route("/zones/<zone>/runs", methods=["GET"])
    def zone_runs(self, request, zone):
        return self._zone_state.runs(request, zone)

    @app.route("/timeline", methods=["GET"])
    def timeline(self, request):
        return self._zones.timeline(request)

    # Zones and plugins.

    @app.route("/zones", methods=["GET"])
    def list_zones(self, request):
        return self._zone_settings.list(request)

    @app.route("/zones/<zone>", methods=["GET"])
    def get_zone(self, request, zone):
        return self._zone_settings.get(request, zone)

    @app.route("/zones/<zone>", methods=["PUT"])
    def put_zone(self, request, zone):
        return self._zone_settings.put(request, zone)

    @app.route("/zones/<zone>", methods=["DELETE"])
    def delete_zone(self, request, zone):
        return self._zone_settings.delete(request, zone)

    @app.route("/plugins", methods=["GET"])
    def plugins(self, request):
        return self._zone_settings.plugins(request)

    # Relay units.

    @app.route("/controls/register", methods=["POST"])
    def register_control(self, request):
        return self._controls.register(request)

    @app.route("/controls", methods=["GET"])
    def list_controls(self, request):
        return self._controls.list(request)
