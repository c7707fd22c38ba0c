"""Moving records that older engines kept in ``rules`` to the collections named for them.

Until issue 14 the ``rules`` collection held zones (kind ``zone``), relay unit
registrations (``control``), output states (``output``), runs (``run``) and
pointers to open runs (``run.open``) beside the user's rules.  On every open
the backend moves any such document to its own collection, then deletes it
from ``rules``; a database without them costs one query per kind.

It is idempotent: each document is written to its new home with an upsert
on its key before any is deleted, and the ``run.open`` pointers go last, so
an engine stopped half-way repeats the same writes on the next open and
arrives at the same state.  A run left unended without a pointer was
abandoned by a crash between the old engine's two writes: it ends when it
was last written, as the SQLite upgrade to schema version 4 does.
"""

from pymongo import ReplaceOne

from rpymostat.storage.interface import RunRecord, RunSample
from rpymostat.storage.mongo_runs import run_document

#: The old index for "a zone's newest runs", which only runs used.
OLD_RULES_INDEX = "kind_1_zone_1_changed_at_1"


def _zone(rule, _open):
    return {"name": rule["rule_id"], "document": rule["document"], "changed_at": rule["changed_at"]}


def _relay_unit(rule, _open):
    return {"host_id": rule["rule_id"], "registration": rule["document"], "registered_at": rule["changed_at"]}


def _output_state(rule, _open):
    document = rule["document"]
    return {
        "address": rule["rule_id"],
        "on": bool(document["on"]),
        "since": document["since"],
        "starts": list(document.get("starts", [])),
    }


def _run(rule, open_run_ids):
    document = rule["document"]
    ended_at = document.get("ended_at")
    if ended_at is None and rule["rule_id"] not in open_run_ids:
        ended_at = rule["changed_at"]
    return run_document(
        RunRecord(
            run_id=rule["rule_id"],
            zone=rule["zone"],
            output=document["output"],
            started_at=document["started_at"],
            start_temperature=document.get("start_temperature"),
            target=document.get("target"),
            ended_at=ended_at,
            end_temperature=document.get("end_temperature"),
            samples=tuple(RunSample(at, temperature) for at, temperature in document.get("samples", [])),
        )
    )


#: ``(old kind, new collection, key field, converter)``, in the order they move.
MOVES = (
    ("zone", "zones", "name", _zone),
    ("control", "relay_units", "host_id", _relay_unit),
    ("output", "output_states", "address", _output_state),
    ("run", "runs", "run_id", _run),
)


async def move_records_out_of_rules(database):
    """Move every old-kind document of ``database.rules`` home; fire with how many moved."""
    rules = database["rules"]
    pointers = await rules.find({"kind": "run.open"}, projection={"document": True, "_id": False})
    open_run_ids = {pointer["document"].get("run_id") for pointer in pointers}
    moved = 0
    for kind, collection, key, convert in MOVES:
        found = await rules.find({"kind": kind}, projection={"_id": False})
        if not found:
            continue
        homes = [convert(rule, open_run_ids) for rule in found]
        await database[collection].bulk_write(
            [ReplaceOne({key: home[key]}, home, upsert=True) for home in homes], ordered=True
        )
        await rules.delete_many({"kind": kind})
        moved += len(homes)
    await rules.delete_many({"kind": "run.open"})
    if OLD_RULES_INDEX in await rules.index_information():
        # The command by its current name: txmongo's drop_index sends the long-deprecated "deleteIndexes".
        await database.command("dropIndexes", "rules", index=OLD_RULES_INDEX)
    return moved
