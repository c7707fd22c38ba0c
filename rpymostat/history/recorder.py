"""Keeping each zone's decided state as history: what it was, when it changed.

The decision loop holds every zone's latest :class:`~rpymostat.control_loop.loop.ZoneReport`;
this service reads them on its own timer and hands each to storage, which
keeps only changes (:meth:`~rpymostat.storage.interface.IStorage.record_zone_state`).
Reading the reports, not being called by the loop, keeps history out of the
loop's way: a full SD card costs history, never a decision.
"""

from twisted.application.internet import TimerService
from twisted.internet.defer import ensureDeferred
from twisted.logger import Logger

log = Logger()


class ZoneHistoryRecorder(TimerService):
    """Every ``every`` seconds on ``clock``, keeps each zone's effective temperature, setpoints and mode."""

    def __init__(self, storage, reports, clock, every=30.0):
        super().__init__(every, self.record)
        self.clock = clock
        self._storage = storage
        self._reports = reports  # zone -> ZoneReport, the loop's own mapping
        self._recorded = {}  # zone -> decided_at of the report last kept

    def record(self):
        """Keep each zone's report not yet kept; fires when done and never fails."""
        return ensureDeferred(self._record())

    async def _record(self):
        for zone, report in sorted(self._reports.items()):
            if self._recorded.get(zone) == report.decided_at:
                continue
            decision = report.decision
            setpoints = decision.segment.setpoints if decision.segment is not None else None
            try:
                await self._storage.record_zone_state(
                    zone,
                    report.decided_at,
                    decision.temperature.value,
                    None if setpoints is None else setpoints.heat,
                    None if setpoints is None else setpoints.cool,
                    decision.mode,
                )
            except Exception:
                log.failure("zone {zone}: its history could not be kept", zone=zone)
                continue
            self._recorded[zone] = report.decided_at
