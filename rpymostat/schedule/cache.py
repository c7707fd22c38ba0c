"""The cached timeline of every zone, kept fresh as rules change and time passes.

The decision loop and the API ask "what is in force now, and what next?"
often; computing that from the rules each time would be wasteful, so each
zone's timeline from a day before now to ``hours`` ahead is kept (the past
day so that the segment in force now shows when it really began).  It is
recomputed when a rule of the zone changes (the ``rule.changed`` event) and
by a timer every ``refresh`` seconds, so the cache always reaches at least
``hours - refresh`` ahead.  Windows the cache does not hold are computed on
demand and not kept.  Time comes only from the injected clock.
"""

import bisect
import dataclasses
import datetime

from twisted.application.internet import TimerService
from twisted.internet.defer import ensureDeferred
from twisted.logger import Logger

from rpymostat.schedule import documents, zone_settings

log = Logger()


class UnknownZone(LookupError):
    """No zone has that name."""


class TimelineUnavailable(Exception):
    """The schedule plugin could not compute a timeline; the message says why."""


class TimelineCache(TimerService):
    """Per-zone timelines from ``plugin`` over storage, refreshed every ``refresh`` seconds."""

    def __init__(self, plugin, storage, clock, hours=48.0, refresh=900.0):
        super().__init__(refresh, self.refresh_all)
        self.clock = clock
        self._plugin = plugin
        self._storage = storage
        self._ahead = datetime.timedelta(hours=hours)
        self._refresh = datetime.timedelta(seconds=refresh)
        # A day of the past is kept too, so "in force since" is known.
        self._behind = self._refresh + datetime.timedelta(days=1)
        self._cached = {}  # zone -> (begin, end, segments, starts)
        # Rule changes seen per zone: a computation that began before a change
        # read the rules from before it, and must not be cached after it.
        self._changes = {}

    def now(self) -> datetime.datetime:
        return documents.instant(self.clock.seconds())

    def on_event(self, event):
        """Subscribe this to the event bus: rule changes drop and recompute their zone."""
        if event.topic == "rule.changed":
            zone = event.data["zone"]
            self._changes[zone] = self._changes.get(zone, 0) + 1
            self._cached.pop(zone, None)
            ensureDeferred(self._fill(zone)).addErrback(self._failed)

    def refresh_all(self):
        """Recompute every zone's cached window from now (the timer's job)."""
        self._cached.clear()
        return ensureDeferred(self._refresh_all()).addErrback(self._failed)

    async def _refresh_all(self):
        for zone in await zone_settings.zone_names(self._storage):
            await self._fill(zone)

    def _failed(self, failure):
        if failure.check(UnknownZone, TimelineUnavailable):
            return None  # a deleted zone, or a failure already logged where it happened
        log.failure("recomputing the timeline failed; will retry", failure)

    async def _fill(self, zone):
        changes = self._changes.get(zone, 0)
        begin = self.now() - self._behind
        end = self.now() + self._ahead
        segments = await self._compute(zone, begin, end)
        filled = (begin, end, segments, [s.start for s in segments])
        if self._changes.get(zone, 0) == changes:  # else a newer fill, from the new rules, caches its own
            self._cached[zone] = filled
        return filled

    async def _compute(self, zone, begin, end):
        defaults = await zone_settings.zone_defaults(self._storage, zone)
        if defaults is None:
            raise UnknownZone(zone)
        try:
            return await self._plugin.timeline(zone, defaults, begin, end)
        except Exception as error:
            log.failure("the {plugin} schedule plugin failed for zone {zone}", plugin=self._plugin.name, zone=zone)
            raise TimelineUnavailable(
                f"the {self._plugin.name} schedule plugin failed for zone {zone!r}: {error}"
            ) from None

    def timeline(self, zone, begin, end):
        """Fire with the segments of ``zone`` tiling ``[begin, end)``, from the cache if it has them."""
        return ensureDeferred(self._timeline(zone, begin, end))

    async def _timeline(self, zone, begin, end):
        cached = self._cached.get(zone)
        if cached is None or not (cached[0] <= begin and end <= cached[1]):
            if begin >= self.now() - self._behind and end <= self.now() + self._ahead:
                cached = await self._fill(zone)
            else:
                return await self._compute(zone, begin, end)
        return _window(cached, begin, end)

    def target(self, zone):
        """Fire with ``(segment in force now, the next segment)`` of ``zone`` (next may be None)."""
        return ensureDeferred(self._target(zone))

    async def _target(self, zone):
        now = self.now()
        window = await self._timeline(zone, now - self._behind + self._refresh, now + self._ahead - self._refresh)
        index = bisect.bisect_right([segment.start for segment in window], now) - 1
        following = window[index + 1] if index + 1 < len(window) else None
        return window[index], following


def _window(cached, begin, end):
    """The cached segments cut to ``[begin, end)``."""
    _, _, segments, starts = cached
    first = max(bisect.bisect_right(starts, begin) - 1, 0)
    last = bisect.bisect_left(starts, end)
    chosen = list(segments[first:last])
    if chosen:
        chosen[0] = dataclasses.replace(chosen[0], start=max(chosen[0].start, begin))
        chosen[-1] = dataclasses.replace(chosen[-1], end=min(chosen[-1].end, end))
    return chosen
