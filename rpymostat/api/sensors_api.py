"""``/v1/sensors``: readings in from sensor daemons, and the sensors the engine knows.

``PUT /v1/sensors/update`` is the hot path: the body is validated on a
compiled fast path (:mod:`rpymostat.api.validation`), each reading on its
own, so one bad value costs only itself; the good ones are stored with the
engine's receipt time and announced as ``sensor.readings``.  Sensors are
listed, read, renamed, and deleted (their history stays).
"""

import dataclasses

from twisted.logger import Logger

from rpymostat.api.errors import Conflict, NotFoundError, api_app, json_bytes, render_failure
from rpymostat.api.jsonio import read_json
from rpymostat.api.shapes import sensor_document
from rpymostat.auth.policy import principal

log = Logger()

#: The kinds of rule whose documents may weigh sensors (``sensors``), and how to name one.
SENSOR_USING_RULES = (("schedule", "schedule"), ("override", "override"), ("hold", "the hold on zone"))


async def sensor_users(storage, sensor_id) -> list:
    """``["zone 'living'", "schedule 'night'", ...]``: every stored zone or rule that weighs ``sensor_id``."""
    users = [
        f"zone {zone.name!r}" for zone in await storage.zones() if sensor_id in (zone.document.get("sensors") or {})
    ]
    for kind, label in SENSOR_USING_RULES:
        for record in await storage.rules(kind):
            if sensor_id in (record.document.get("sensors") or {}):
                users.append(f"{label} {record.rule_id!r}")
    return users


class HostClocks:
    """Hosts found with their clock running ahead: how far, and a warning at most every ``every`` s.

    The lead a host showed is remembered for ``remember`` seconds, so the
    backlog it sends after its newest readings is moved back by the clock's
    real lead, not by the smaller one its older readings seem to show.
    Hosts not seen ahead for that long are forgotten: made-up host ids cannot
    grow this without bound.  Times are the engine clock's seconds.
    """

    def __init__(self, every=300.0, remember=900.0):
        self._every, self._remember = every, remember
        self._ahead = {}  # host_id -> (seconds ahead, when found)
        self._warned = {}  # host_id -> when last warned

    def ahead(self, host_id, now):
        """How far ``host_id``'s clock was found ahead within ``remember`` s, or None."""
        found = self._ahead.get(host_id)
        return found[0] if found is not None and 0 <= now - found[1] < self._remember else None

    def found(self, host_id, ahead, now):
        """``host_id``'s update ran ``ahead`` s ahead: remember it, and warn unless warned lately."""
        self._ahead = {host: (lead, at) for host, (lead, at) in self._ahead.items() if 0 <= now - at < self._remember}
        self._ahead[host_id] = (ahead, now)
        last = self._warned.get(host_id)
        if last is not None and 0 <= now - last < self._every:
            return
        self._warned = {host: at for host, at in self._warned.items() if 0 <= now - at < self._every}
        self._warned[host_id] = now
        log.warn(
            "host {host_id}'s clock runs {ahead:.0f} s ahead: its readings are stored {ahead:.0f} s"
            " earlier; set its clock (NTP)",
            host_id=host_id,
            ahead=ahead,
        )


class SensorsApi:
    """The ``/v1/sensors`` routes over storage, clock, event bus, access policy and validator."""

    app = api_app()

    def __init__(self, storage, clock, events, access, validator):
        self._storage, self._clock, self._events, self._access = storage, clock, events, access
        self._validator = validator
        self._host_clocks = HostClocks()

    @app.handle_errors(Exception)
    def _failed(self, request, failure):
        return render_failure(request, failure)

    @app.route("/update", methods=["PUT"])
    async def update(self, request):
        document = read_json(request)
        received_at = self._clock.seconds()
        update = self._validator.sensor_update(
            document, now=received_at, known_ahead=lambda host_id: self._host_clocks.ahead(host_id, received_at)
        )
        await self._access.authorize(request, "sensors:update", host_id=update.host_id)
        update = await self._own_sensors_only(request, update)
        if update.clock_ahead is not None:
            self._host_clocks.found(update.host_id, update.clock_ahead, received_at)
        if not update.readings:
            refused = update.refused
            message = "; ".join(refused[sensor_id] for sensor_id in sorted(refused))
            return json_bytes(request, 422, {"status": "error", "error": message, "refused": refused})
        await self._storage.record_readings(update.host_id, update.readings, received_at=received_at)
        self._events.publish(
            "sensor.readings",
            self._clock.seconds(),
            host_id=update.host_id,
            readings=list(update.readings),
            received_at=received_at,
        )
        answer = {"status": "created", "ids": update.sensor_ids}
        if update.refused:
            answer["refused"] = update.refused
        if update.adjusted:
            answer["adjusted"] = update.adjusted
        return json_bytes(request, 201, answer)

    @app.route("/", methods=["GET"])
    async def list(self, request):
        records = await self._storage.sensors()
        return json_bytes(request, 200, {"sensors": [sensor_document(r) for r in records]})

    @app.route("/<sensor_id>", methods=["GET"])
    async def get(self, request, sensor_id):
        record = await self._storage.sensor(sensor_id)
        if record is None:
            raise NotFoundError(f"no sensor with id {sensor_id!r}")
        return json_bytes(request, 200, sensor_document(record))

    async def _own_sensors_only(self, request, update):
        """A sensor host's token reports its own sensors only: one another host reports is refused.

        Sensor ids are global, so without this a host's token could feed a
        made-up temperature into the zone of a sensor on another host.  An
        admin's token may move a sensor (the engine follows it, as before).
        """
        record = principal(request)
        if record is None or record.role != "sensor":
            return update
        refused = dict(update.refused)
        kept = []
        for reading in update.readings:
            stored = await self._storage.sensor(reading.sensor_id)
            if stored is None or stored.host_id == update.host_id:
                kept.append(reading)
            else:
                refused[reading.sensor_id] = (
                    f"sensors.{reading.sensor_id}: belongs to host {stored.host_id!r}; an admin can delete it"
                    " to let another host report it"
                )
        return dataclasses.replace(update, readings=tuple(kept), refused=refused)

    @app.route("/<sensor_id>", methods=["PATCH"])
    async def rename(self, request, sensor_id):
        document = read_json(request)
        self._validator.check("SensorPatch", document)
        record = await self._storage.set_sensor_name(sensor_id, document["name"])
        if record is None:
            raise NotFoundError(f"no sensor with id {sensor_id!r}")
        self._events.publish("sensor.changed", self._clock.seconds(), sensor_id=sensor_id, name=record.name)
        return json_bytes(request, 200, sensor_document(record))

    @app.route("/<sensor_id>", methods=["DELETE"])
    async def delete(self, request, sensor_id):
        users = await sensor_users(self._storage, sensor_id)
        if users:
            raise Conflict(f"sensor {sensor_id!r} is still used by {', '.join(users)}; remove it there first")
        if not await self._storage.delete_sensor(sensor_id):
            raise NotFoundError(f"no sensor with id {sensor_id!r}")
        self._events.publish("sensor.deleted", self._clock.seconds(), sensor_id=sensor_id)
        request.setResponseCode(204)
        return b""
