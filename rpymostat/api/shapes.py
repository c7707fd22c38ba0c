"""The JSON shapes the API answers with, one function per schema of ``openapi.json``.

Handlers fetch records and hand them here; keeping every shape in one place
keeps the answers and the document that describes them side by side (a test
validates real answers against the schemas).  Times are ISO 8601 in UTC,
from the one formatter every RPyMostat part uses.
"""

from rpymostat.protocol.times import iso_utc
from rpymostat.schedule import documents


def iso_or_none(seconds):
    return iso_utc(seconds) if seconds is not None else None


def sensor_document(record) -> dict:
    """``#/components/schemas/Sensor``."""
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


def rule_document(record) -> dict:
    """A stored rule as the API shows it: its document, id and when it last changed."""
    document = {**record.document, "changed_at": iso_utc(record.changed_at)}
    if record.kind != "hold":
        document["id"] = record.rule_id
    return document


def segment_document(segment) -> dict:
    """``#/components/schemas/Segment``: a stretch of the timeline and the rule it comes from."""
    setpoints = segment.setpoints
    return {
        "start": documents.iso(segment.start),
        "end": documents.iso(segment.end),
        "heat_setpoint": setpoints.heat,
        "cool_setpoint": setpoints.cool,
        "sensors": dict(setpoints.sensors) if setpoints.sensors else None,
        "source": {"type": segment.source.kind.label, "id": segment.source.id, "name": segment.source.name},
    }


def zone_document(zone, document, changed_at) -> dict:
    """``#/components/schemas/Zone``; a zone stored without a name is named by its id."""
    return {"id": zone, "name": zone, **document, "changed_at": iso_or_none(changed_at)}


def plugin_document(plugin) -> dict:
    return {"name": plugin.name, "description": plugin.description, "config_schema": plugin.config_schema}


def control_document(record) -> dict:
    """``#/components/schemas/Control``: a relay unit's registration and when it came.

    The registration's ``secret`` is left out: it is what lets the engine, and
    only the engine, command the unit, so no API answer ever shows it.
    """
    shown = {key: value for key, value in record.registration.items() if key != "secret"}
    return {**shown, "registered_at": iso_utc(record.registered_at)}


def run_document(run) -> dict:
    """``#/components/schemas/Run`` of a :class:`~rpymostat.storage.interface.RunRecord`."""
    return {
        "zone": run.zone,
        "output": run.output,
        "started_at": iso_utc(run.started_at),
        "ended_at": iso_or_none(run.ended_at),
        "start_temperature": run.start_temperature,
        "end_temperature": run.end_temperature,
        "target": run.target,
        "samples": [{"at": iso_utc(sample.at), "temperature": sample.temperature} for sample in run.samples],
    }


def state_document(report, ledger) -> dict:
    """``#/components/schemas/ZoneState`` of a :class:`~rpymostat.control_loop.loop.ZoneReport`."""
    decision = report.decision
    temperature = decision.temperature
    outputs = {}
    for name, address in sorted(report.settings.get("outputs", {}).items()):
        delivery = report.deliveries.get(name)
        known = ledger.shown(address)
        outputs[name] = {
            "address": address,
            "desired": decision.outputs[name],
            "on": known.on if known is not None else None,
            "since": iso_utc(known.since) if known is not None else None,
            "safety_off": decision.final.safety_off.get(name),
            "note": delivery.note if delivery is not None else None,
        }
    return {
        "zone": decision.zone,
        "decided_at": iso_utc(report.decided_at),
        "mode": decision.mode,
        "temperature": {
            "value": temperature.value,
            "reason": temperature.reason,
            "used": dict(temperature.used),
            "dropped": dict(temperature.dropped),
        },
        "target": segment_document(decision.segment) if decision.segment is not None else None,
        "next": segment_document(report.following) if report.following is not None else None,
        "target_error": decision.target_error,
        "decision": {
            "plugin": decision.plugin,
            "outputs": {name: bool(on) for name, on in sorted(decision.wish.outputs.items())},
            "reason": decision.wish.reason,
        },
        "safety": [
            {"output": a.output, "wished": a.wished, "decided": a.decided, "reason": a.reason}
            for a in decision.final.adjustments
        ],
        "outputs": outputs,
    }
