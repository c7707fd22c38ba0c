"""The MongoDB backend's small records: rules, zones, relay units and output states.

Each kind has a collection named for what it holds, one document per record,
unique on its key (see ``INDEXES``): ``rules`` (``(kind, rule_id)``, the
user's rule document nested whole in ``document``), ``zones`` (``name``, the
settings in ``document``), ``relay_units`` (``host_id``, the posted
registration in ``registration``) and ``output_states`` (``address``).
Documents are copied when a write is asked for: the write may wait for the
lock, and the caller may change its dict before the write encodes it.

:class:`MongoRecords` is a part of :class:`~.mongo.MongoStorage`, kept apart
so each module stays one subject; it uses that class's ``_call``, ``_writes``
and ``_database``.
"""

import copy
import dataclasses

from rpymostat.storage.interface import OutputStateRecord, RelayUnitRecord, RuleRecord, ZoneRecord

#: ``(collection, key fields, unique)`` of every index these collections need.
INDEXES = (
    ("rules", ["kind", "rule_id"], True),
    ("rules", ["kind", "zone"], False),
    ("zones", ["name"], True),
    ("relay_units", ["host_id"], True),
    ("output_states", ["address"], True),
)


def projection(record_class):
    """Fetch exactly the fields of ``record_class``, so a document is its keyword arguments."""
    return {field.name: True for field in dataclasses.fields(record_class)} | {"_id": False}


def _output_state(document):
    return OutputStateRecord(**{**document, "starts": tuple(document["starts"])})


class MongoRecords:
    """The rule, zone, relay unit and output state methods of :class:`~.interface.IStorage`."""

    def _replace(self, collection, key, document):
        """Create or replace the one document of ``collection`` matching ``key``; fire with None."""
        replaced = self._call(
            "write", lambda: self._writes.run(self._database[collection].replace_one, key, document, upsert=True)
        )
        return replaced.addCallback(lambda _: None)

    def _find(self, collection, query, record_class, order, parse=None, limit=0):
        """Every document of ``collection`` matching ``query`` in ``order``, as records."""
        parse = parse or (lambda document: record_class(**document))
        found = self._call(
            "read",
            lambda: (
                self._database[collection].find(query, projection=projection(record_class), limit=limit).sort(order)
            ),
        )
        return found.addCallback(lambda documents: [parse(document) for document in documents])

    def _find_one(self, collection, key, record_class, parse=None):
        parse = parse or (lambda document: record_class(**document))
        found = self._call(
            "read", lambda: self._database[collection].find_one(key, projection=projection(record_class))
        )
        return found.addCallback(lambda document: None if document is None else parse(document))

    def _delete(self, collection, key):
        """Delete the one document matching ``key``; fire with True if there was one."""
        deleted = self._call("write", lambda: self._writes.run(self._database[collection].delete_one, key))
        return deleted.addCallback(lambda result: result.deleted_count == 1)

    def put_rule(self, record):
        stored = {
            "kind": record.kind,
            "rule_id": record.rule_id,
            "zone": record.zone,
            "document": copy.deepcopy(record.document),
            "changed_at": float(record.changed_at),
        }
        return self._replace("rules", {"kind": record.kind, "rule_id": record.rule_id}, stored)

    def rule(self, kind, rule_id):
        return self._find_one("rules", {"kind": kind, "rule_id": rule_id}, RuleRecord)

    def rules(self, kind, zone=None):
        query = {"kind": kind} if zone is None else {"kind": kind, "zone": zone}
        return self._find("rules", query, RuleRecord, {"rule_id": 1})

    def delete_rule(self, kind, rule_id):
        return self._delete("rules", {"kind": kind, "rule_id": rule_id})

    def put_zone(self, name, document, changed_at):
        record = ZoneRecord(name, copy.deepcopy(document), float(changed_at))
        stored = self._replace("zones", {"name": name}, dataclasses.asdict(record))
        return stored.addCallback(lambda _: dataclasses.replace(record, document=copy.deepcopy(record.document)))

    def zone(self, name):
        return self._find_one("zones", {"name": name}, ZoneRecord)

    def zones(self):
        return self._find("zones", {}, ZoneRecord, {"name": 1})

    def delete_zone(self, name):
        return self._delete("zones", {"name": name})

    def put_relay_unit(self, host_id, registration, registered_at):
        record = RelayUnitRecord(host_id, copy.deepcopy(registration), float(registered_at))
        stored = self._replace("relay_units", {"host_id": host_id}, dataclasses.asdict(record))
        return stored.addCallback(
            lambda _: dataclasses.replace(record, registration=copy.deepcopy(record.registration))
        )

    def relay_unit(self, host_id):
        return self._find_one("relay_units", {"host_id": host_id}, RelayUnitRecord)

    def relay_units(self):
        return self._find("relay_units", {}, RelayUnitRecord, {"host_id": 1})

    def put_output_state(self, address, on, since, starts):
        stored = {"address": address, "on": bool(on), "since": float(since), "starts": [float(t) for t in starts]}
        return self._replace("output_states", {"address": address}, stored)

    def output_states(self):
        return self._find("output_states", {}, OutputStateRecord, {"address": 1}, parse=_output_state)
