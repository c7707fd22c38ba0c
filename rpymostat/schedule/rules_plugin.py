"""The built-in schedule plugin: the timeline from the user's stored rules."""

from twisted.internet.defer import ensureDeferred
from zope.interface import implementer

from rpymostat.schedule import documents, timeline
from rpymostat.schedule.plugin import ISchedulePlugin


@implementer(ISchedulePlugin)
class RulesSchedule:
    """Schedules, overrides and holds from storage, by the precedence of :mod:`.timeline`."""

    name = "rules"
    description = "Recurring schedules, one-time overrides and holds; the most specific rule wins."
    config_schema = {"type": "object", "additionalProperties": False, "properties": {}}

    def __init__(self, storage, zone_info):
        self._storage = storage
        self._zone_info = zone_info

    def timeline(self, zone, default, begin, end):
        return ensureDeferred(self._timeline(zone, default, begin, end))

    async def _timeline(self, zone, default, begin, end):
        schedules = [documents.schedule_from(r) for r in await self._storage.rules("schedule", zone)]
        overrides = [documents.override_from(r) for r in await self._storage.rules("override", zone)]
        holds = [documents.hold_from(r) for r in await self._storage.rules("hold", zone)]
        return timeline.build(schedules, overrides, holds, default, self._zone_info, begin, end)
