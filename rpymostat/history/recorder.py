"""Keeping each zone's decided state as history: what it was, when it changed.

The decision loop holds every zone's latest :class:`~rpymostat.control_loop.loop.ZoneReport`;
this service reads them on its own timer and hands each to storage
(:meth:`~rpymostat.storage.interface.IStorage.record_zone_state`), which
keeps the setpoints and mode only when they changed.  The effective
temperature is sampled once every :data:`SAMPLE_S`, whatever the decision
interval: kept only when it changed, a steady temperature would look like a
gap on a chart and its mean would weigh each change, not each minute;
sampled evenly, its rollups weigh time as a sensor's do, at the cost of one
small row a minute.  Reading the reports, not being called by the loop,
keeps history out of the loop's way: a full SD card costs history, never a
decision.
"""

from twisted.application.internet import TimerService
from twisted.internet.defer import ensureDeferred
from twisted.logger import Logger

log = Logger()

#: Seconds between two kept samples of a zone's effective temperature.
SAMPLE_S = 60.0


class ZoneHistoryRecorder(TimerService):
    """Every ``every`` seconds on ``clock``, keeps each zone's effective temperature, setpoints and mode."""

    def __init__(self, storage, reports, clock, every=30.0):
        super().__init__(every, self.record)
        self.clock = clock
        self._storage = storage
        self._reports = reports  # zone -> ZoneReport, the loop's own mapping
        self._recorded = {}  # zone -> decided_at of the report last kept
        self._sampled = {}  # zone -> decided_at of the temperature last kept

    def record(self):
        """Keep each zone's report not yet kept; fires when done and never fails."""
        return ensureDeferred(self._record())

    async def _record(self):
        for zone, report in sorted(self._reports.items()):
            if self._recorded.get(zone) == report.decided_at:
                continue
            decision = report.decision
            setpoints = decision.segment.setpoints if decision.segment is not None else None
            sample = report.decided_at - self._sampled.get(zone, float("-inf")) >= SAMPLE_S
            temperature = decision.temperature.value if sample else None
            try:
                await self._storage.record_zone_state(
                    zone,
                    report.decided_at,
                    temperature,
                    None if setpoints is None else setpoints.heat,
                    None if setpoints is None else setpoints.cool,
                    decision.mode,
                )
            except Exception:
                log.failure("zone {zone}: its history could not be kept", zone=zone)
                continue
            self._recorded[zone] = report.decided_at
            if temperature is not None:
                self._sampled[zone] = report.decided_at
