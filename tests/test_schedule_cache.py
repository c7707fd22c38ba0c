"""The cached timeline: served from cache, recomputed on rule changes and as time passes."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import pytest_twisted

from rpymostat.events import EventBus
from rpymostat.schedule.cache import TimelineCache, UnknownZone
from rpymostat.schedule.rules import Kind
from rpymostat.schedule.rules_plugin import RulesSchedule
from rpymostat.storage.interface import RuleRecord
from rpymostat.testing import FakeStorage
from tests.conftest import NOW

UTC = datetime.UTC
HOUR = datetime.timedelta(hours=1)
START = datetime.datetime.fromtimestamp(NOW, UTC)  # Wednesday 2026-11-25 12:00 UTC


class CountingPlugin(RulesSchedule):
    """The real rules plugin, counting how often the timeline is computed."""

    computed = 0

    def timeline(self, zone, default, begin, end):
        self.computed += 1
        return super().timeline(zone, default, begin, end)


@pytest.fixture
def storage():
    return FakeStorage()


@pytest.fixture
def cache(storage, clock):
    plugin = CountingPlugin(storage, ZoneInfo("Europe/Berlin"))
    timelines = TimelineCache(plugin, storage, clock, hours=48, refresh=900)
    timelines.plugin = plugin
    timelines.startService()
    yield timelines
    timelines.stopService()


def evening_schedule(changed_at=NOW):
    document = {"name": "evening", "start": "0 18 * * *", "duration": "PT4H", "heat_setpoint": 21.0}
    return RuleRecord("schedule", "evening", "default", document, changed_at)


@pytest_twisted.ensureDeferred
async def test_default_zone_has_a_target_without_any_rules(cache):
    now, following = await cache.target("default")
    assert (now.setpoints.heat, now.setpoints.cool, now.source.kind) == (18.0, 26.0, Kind.DEFAULT)
    assert following is None


@pytest_twisted.ensureDeferred
async def test_rule_change_recomputes_and_later_reads_come_from_cache(cache, storage):
    await storage.put_rule(evening_schedule())
    bus = EventBus()
    bus.subscribe(cache.on_event)
    bus.publish("rule.changed", NOW, zone="default", kind="schedule", id="evening")
    computed = cache.plugin.computed
    now, following = await cache.target("default")
    assert now.source.kind is Kind.DEFAULT
    assert following.start == START + 5 * HOUR  # 18:00 Berlin
    assert (following.setpoints.heat, following.source.id) == (21.0, "evening")
    await cache.timeline("default", START, START + 24 * HOUR)
    assert cache.plugin.computed == computed


@pytest_twisted.ensureDeferred
async def test_time_moving_on_refreshes_the_window(cache, storage, clock):
    await storage.put_rule(evening_schedule())
    cache.refresh_all()
    clock.advance(6 * 3600)  # 18:00 UTC: the evening schedule is running (19:00 Berlin)
    now, following = await cache.target("default")
    assert (now.source.id, now.start, now.end) == ("evening", START + 5 * HOUR, START + 9 * HOUR)
    assert following.source.kind is Kind.DEFAULT


@pytest_twisted.ensureDeferred
async def test_window_outside_the_cache_is_computed_on_demand(cache, storage):
    await storage.put_rule(evening_schedule())
    later = START + 10 * 24 * HOUR
    segments = await cache.timeline("default", later, later + 24 * HOUR)
    assert segments[0].start == later and segments[-1].end == later + 24 * HOUR
    assert [s.source.kind for s in segments] == [Kind.DEFAULT, Kind.SCHEDULE, Kind.DEFAULT]


@pytest_twisted.ensureDeferred
async def test_cut_to_the_asked_window(cache, storage):
    await storage.put_rule(evening_schedule())
    cache.refresh_all()
    segments = await cache.timeline("default", START + 6 * HOUR, START + 7 * HOUR)
    assert [(s.start, s.end, s.source.id) for s in segments] == [(START + 6 * HOUR, START + 7 * HOUR, "evening")]


@pytest_twisted.ensureDeferred
async def test_zone_defaults_and_unknown_zones(cache, storage):
    await storage.put_zone("upstairs", {"default_heat_setpoint": 16.5}, NOW)
    now, _ = await cache.target("upstairs")
    assert (now.setpoints.heat, now.setpoints.cool) == (16.5, 26.0)
    with pytest.raises(UnknownZone):
        await cache.target("cellar")


@pytest_twisted.ensureDeferred
async def test_a_rule_written_without_an_event_shows_at_the_next_refresh(cache, storage, clock):
    await storage.put_rule(evening_schedule())
    assert (await cache.timeline("default", START + 6 * HOUR, START + 7 * HOUR))[0].source.id is None
    clock.advance(900)
    assert (await cache.timeline("default", START + 6 * HOUR, START + 7 * HOUR))[0].source.id == "evening"


class BrokenPlugin(RulesSchedule):
    def timeline(self, zone, default, begin, end):
        raise ValueError("calendar server is down")


@pytest_twisted.ensureDeferred
async def test_a_failing_plugin_is_reported_not_raised_raw(storage, clock):
    from rpymostat.schedule.cache import TimelineUnavailable

    broken = TimelineCache(BrokenPlugin(storage, ZoneInfo("UTC")), storage, clock)
    with pytest.raises(
        TimelineUnavailable, match="the rules schedule plugin failed for zone 'default': calendar server is down"
    ):
        await broken.target("default")
    await broken.refresh_all()  # the timer's failure is logged, not raised


class GatedPlugin(RulesSchedule):
    """The real rules plugin, each computation held until the test releases it (a slow database)."""

    def __init__(self, storage, zone_info):
        super().__init__(storage, zone_info)
        self.gates = []

    async def timeline(self, zone, default, begin, end):
        from twisted.internet.defer import Deferred

        segments = await super().timeline(zone, default, begin, end)
        gate = Deferred()
        self.gates.append(gate)
        await gate
        return segments


@pytest_twisted.ensureDeferred
async def test_a_computation_begun_before_a_rule_change_is_never_cached_after_it(storage, clock):
    from rpymostat.events import Event

    plugin = GatedPlugin(storage, ZoneInfo("UTC"))
    timelines = TimelineCache(plugin, storage, clock)
    timelines.on_event(Event("rule.changed", NOW, {"zone": "default"}))  # reads the rules as they are: none
    await storage.put_rule(
        RuleRecord(
            "hold",
            "default",
            "default",
            {"zone": "default", "start": START.isoformat(), "until": "permanent", "heat_setpoint": 23.0},
            NOW,
        )
    )
    timelines.on_event(Event("rule.changed", NOW, {"zone": "default"}))  # the hold: a second computation
    first, second = plugin.gates
    second.callback(None)  # the newer one finishes first ...
    first.callback(None)  # ... and the older one, from before the hold, after it
    now, _ = await timelines.target("default")
    assert (now.source.kind, now.setpoints.heat) == (Kind.HOLD, 23.0)
