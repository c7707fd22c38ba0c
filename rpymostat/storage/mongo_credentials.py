"""The MongoDB backend's tokens and pairing requests (collections ``tokens`` and ``pairings``).

One document per record, its fields those of the record.  Unique indexes do
the refusing: a token's ``name`` and ``token_hash``, a request's ``pair_id``
and ``code``; an insert that breaks one answers False.  Approving a request
marks it first (only if still pending), then inserts the token, and unmarks
it again if the token's name or hash is taken, so a refused approval
changes nothing; the backend's write lock keeps the engine's own writes from
interleaving, and a standalone server needs no transaction for that.

:class:`MongoCredentials` is a part of :class:`~.mongo.MongoStorage`, kept
apart so each module stays one subject; it uses that class's ``_call``,
``_writes`` and ``_database`` and :class:`~.mongo_records.MongoRecords`' helpers.
"""

import dataclasses

from pymongo.errors import DuplicateKeyError
from twisted.internet.defer import ensureDeferred

from rpymostat.storage.interface import PairingRecord, TokenRecord

INDEXES = (
    ("tokens", ["name"], True),
    ("tokens", ["token_hash"], True),
    ("pairings", ["pair_id"], True),
    ("pairings", ["code"], True),
)


class MongoCredentials:
    """The token and pairing methods of :class:`~.interface.IStorage` on MongoDB."""

    def _insert_unique(self, collection, document):
        """Insert ``document``; fire with True, or False when a unique key is taken."""

        async def insert():
            try:
                await self._database[collection].insert_one(dict(document))
            except DuplicateKeyError:
                return False
            return True

        return self._call("write", lambda: self._writes.run(lambda: ensureDeferred(insert())))

    def put_token(self, record):
        return self._insert_unique("tokens", dataclasses.asdict(record))

    def token(self, name):
        return self._find_one("tokens", {"name": name}, TokenRecord)

    def token_by_hash(self, token_hash):
        return self._find_one("tokens", {"token_hash": token_hash}, TokenRecord)

    def tokens(self):
        return self._find("tokens", {}, TokenRecord, {"name": 1})

    def delete_token(self, name):
        return self._delete("tokens", {"name": name})

    def bind_token_host(self, name, host_id):
        async def bind():
            tokens = self._database["tokens"]
            await tokens.update_one({"name": name, "host_id": None}, {"$set": {"host_id": host_id}})
            found = await tokens.find_one({"name": name}, projection={"host_id": True, "_id": False})
            return found is not None and found["host_id"] == host_id

        return self._call("write", lambda: self._writes.run(lambda: ensureDeferred(bind())))

    def put_pairing(self, record, now):
        async def store():
            pairings = self._database["pairings"]
            await pairings.delete_many({"expires_at": {"$lte": float(now)}})
            try:
                await pairings.insert_one(dataclasses.asdict(record))
            except DuplicateKeyError:
                return False
            return True

        return self._call("write", lambda: self._writes.run(lambda: ensureDeferred(store())))

    def pairing(self, pair_id):
        return self._find_one("pairings", {"pair_id": pair_id}, PairingRecord)

    def pairings(self):
        return self._find("pairings", {}, PairingRecord, {"requested_at": 1, "pair_id": 1})

    def approve_pairing(self, pair_id, token):
        async def approve():
            pairings = self._database["pairings"]
            marked = await pairings.update_one(
                {"pair_id": pair_id, "approved_as": None}, {"$set": {"approved_as": token.name}}
            )
            if marked.modified_count != 1:
                return False
            try:
                await self._database["tokens"].insert_one(dataclasses.asdict(token))
            except DuplicateKeyError:
                await pairings.update_one({"pair_id": pair_id}, {"$set": {"approved_as": None}})
                return False
            return True

        return self._call("write", lambda: self._writes.run(lambda: ensureDeferred(approve())))

    def delete_pairing(self, pair_id):
        return self._delete("pairings", {"pair_id": pair_id})
