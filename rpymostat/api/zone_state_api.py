"""Handlers for ``/v1/zones/{zone}/state`` and ``/v1/zones/{zone}/runs``: why the house does what it does.

The state answers the question every thermostat user asks, "why is it (not)
heating?": the effective temperature and which sensors made it, the target
and the rule it came from, the plugin's wish and reason, every safety
adjustment, and each output's real state and since when.
"""

from rpymostat.api.errors import InvalidContent, NotFoundError, Unavailable, json_bytes
from rpymostat.api.rules_api import segment_document
from rpymostat.schedule import documents, zone_settings

#: The most runs one answer lists.
MAX_RUNS = 1000


def _iso(seconds):
    return documents.iso_seconds(seconds) if seconds is not None else None


def state_document(report, ledger) -> dict:
    """The JSON shape of a :class:`~rpymostat.control_loop.loop.ZoneReport` (``#/components/schemas/ZoneState``)."""
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
            "since": _iso(known.since) if known is not None else None,
            "safety_off": decision.final.safety_off.get(name),
            "note": delivery.note if delivery is not None else None,
        }
    return {
        "zone": decision.zone,
        "decided_at": _iso(report.decided_at),
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


class ZoneStateApi:
    """A zone's latest decision, and its recorded runs."""

    def __init__(self, loop, ledger, recorder, storage):
        self._loop, self._ledger, self._recorder, self._storage = loop, ledger, recorder, storage

    async def state(self, request, zone):
        await self._known(zone)
        await self._loop.settled()  # a change just written is decided before it is shown
        if zone not in self._loop.reports:
            await self._loop.run_zones([zone])  # a zone created since the last tick
        report = self._loop.reports.get(zone)
        if zone in self._loop.failures:
            raise Unavailable(self._loop.failures[zone])
        if report is None:
            raise NotFoundError(f"no zone {zone!r}")  # deleted meanwhile
        return json_bytes(request, 200, state_document(report, self._ledger))

    async def runs(self, request, zone):
        await self._known(zone)
        given = request.args.get(b"limit")
        limit = given[0].decode("utf-8", "replace") if given else "100"
        if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= MAX_RUNS):
            raise InvalidContent(f"limit: must be a whole number from 1 to {MAX_RUNS}")
        shown = []
        for run in await self._recorder.runs(zone, int(limit)):
            samples = [{"at": _iso(at), "temperature": value} for at, value in run["samples"]]
            shown.append({
                "zone": run["zone"], "output": run["output"],
                "started_at": _iso(run["started_at"]), "ended_at": _iso(run["ended_at"]),
                "start_temperature": run["start_temperature"],
                "end_temperature": run.get("end_temperature"),
                "target": run["target"], "samples": samples,
            })
        return json_bytes(request, 200, {"zone": zone, "runs": shown})

    async def _known(self, zone):
        if await zone_settings.zone_record(self._storage, zone) is None:
            raise NotFoundError(f"no zone {zone!r}")
