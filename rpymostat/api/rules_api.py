"""``/v1/schedules`` and ``/v1/overrides``: one rule collection app, mounted once for each.

Every write passes the access check, is validated by
:class:`~rpymostat.api.rules_input.RulesInput`, stored, and announced with a
``rule.changed`` event (for each zone it touched, so the timeline cache of
both the old and the new zone is recomputed).
"""

import uuid

from rpymostat.api.errors import NotFoundError, api_app, json_bytes, render_failure
from rpymostat.api.jsonio import read_json
from rpymostat.api.shapes import rule_document
from rpymostat.storage.interface import RuleRecord


class RuleCollection:
    """A collection of rules of one ``kind``: list, create, read, replace, delete.

    ``normalize(body)`` validates a body and returns ``(zone, stored document)``.
    """

    app = api_app()

    def __init__(self, kind, plural, normalize, storage, clock, events):
        self.kind, self.plural = kind, plural
        self._normalize = normalize
        self._storage, self._clock, self._events = storage, clock, events

    @app.handle_errors(Exception)
    def _failed(self, request, failure):
        return render_failure(request, failure)

    @app.route("/", methods=["GET"])
    async def list(self, request):
        records = await self._storage.rules(self.kind)
        return json_bytes(request, 200, {self.plural: [rule_document(r) for r in records]})

    @app.route("/<rule_id>", methods=["GET"])
    async def get(self, request, rule_id):
        return json_bytes(request, 200, rule_document(await self._existing(rule_id)))

    @app.route("/", methods=["POST"])
    async def create(self, request):
        record = await self._store(uuid.uuid4().hex, read_json(request), previous=None)
        request.setHeader(b"Location", f"/v1/{self.plural}/{record.rule_id}".encode())
        return json_bytes(request, 201, rule_document(record))

    @app.route("/<rule_id>", methods=["PUT"])
    async def replace(self, request, rule_id):
        previous = await self._existing(rule_id)
        record = await self._store(rule_id, read_json(request), previous)
        return json_bytes(request, 200, rule_document(record))

    @app.route("/<rule_id>", methods=["DELETE"])
    async def delete(self, request, rule_id):
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
