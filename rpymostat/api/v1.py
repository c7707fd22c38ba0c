"""Version 1 of the engine API, mounted at ``/v1`` by :mod:`rpymostat.api.root`.

Handlers are thin: authorize the write, read and validate the body (in
:mod:`rpymostat.api.validation`), call storage, publish an event, answer JSON.
What each route accepts and answers is specified in ``openapi.json``, which
this app also serves.
"""

import datetime

from klein import Klein

from rpymostat.api.errors import NotFoundError, json_bytes, render_failure
from rpymostat.api.jsonio import read_json
from rpymostat.api.validation import RequestValidator


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


class V1Api:
    """The ``/v1`` routes over injected storage, clock, event bus and access policy."""

    app = Klein()

    def __init__(self, storage, clock, events, access, validator=None):
        self._storage = storage
        self._clock = clock
        self._events = events
        self._access = access
        self._validator = validator or RequestValidator()

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
        host_id, readings = self._validator.sensor_update(document, now=self._clock.seconds())
        ids = await self._storage.record_readings(host_id, readings)
        self._events.publish(
            "sensor.readings", self._clock.seconds(), host_id=host_id, readings=readings
        )
        return json_bytes(request, 201, {"status": "created", "ids": ids})

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
