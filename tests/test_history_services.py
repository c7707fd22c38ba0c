"""The history services: a zone's decided state kept as changes, raw readings pruned in small steps."""

import types

from twisted.internet.task import Clock

from rpymostat.history.pruning import RawPruner
from rpymostat.history.recorder import ZoneHistoryRecorder
from rpymostat.schedule.rules import Setpoints
from rpymostat.storage.interface import HistoryEntry, Reading, SetpointChange
from rpymostat.testing import FakeStorage
from tests.conftest import NOW

DAY = 86400


def report(at, temperature, heat=None, cool=None, mode="heat", segment=True):
    """What the recorder reads of a :class:`~rpymostat.control_loop.loop.ZoneReport`."""
    decision = types.SimpleNamespace(
        temperature=types.SimpleNamespace(value=temperature),
        segment=types.SimpleNamespace(setpoints=Setpoints(heat=heat, cool=cool)) if segment else None,
        mode=mode,
    )
    return types.SimpleNamespace(decision=decision, decided_at=at)


def test_the_temperature_is_sampled_each_minute_and_setpoints_kept_as_changes(clock):
    storage = FakeStorage()
    reports = {"hall": report(NOW, 19.5, heat=21.0)}
    recorder = ZoneHistoryRecorder(storage, reports, clock, every=30.0)
    recorder.startService()
    reports["hall"] = report(NOW + 30, 19.75, heat=21.0)  # within the minute: not sampled
    clock.advance(30)
    storage.available = False  # no new report: nothing is written, so nothing fails
    clock.advance(30)
    storage.available = True
    reports["hall"] = report(NOW + 90, 19.5, segment=False, mode="off")  # the same temperature is sampled again
    reports["attic"] = report(NOW + 90, None, heat=16.0)
    clock.advance(30)
    recorder.stopService()
    assert storage.history("zone/hall").result == [
        HistoryEntry("zone/hall", NOW, 19.5, None),
        HistoryEntry("zone/hall", NOW + 90, 19.5, None),
    ]
    assert storage.setpoint_changes("hall", NOW, NOW + 120).result == [
        SetpointChange(NOW, 21.0, None, "heat"),
        SetpointChange(NOW + 90, None, None, "off"),
    ]
    assert storage.history("zone/attic").result == []
    assert storage.setpoint_changes("attic", NOW, NOW + 120).result == [SetpointChange(NOW + 90, 16.0, None, "heat")]


def test_a_failing_storage_costs_history_never_the_timer(clock):
    storage = FakeStorage()
    reports = {"hall": report(NOW, 19.5, heat=21.0)}
    recorder = ZoneHistoryRecorder(storage, reports, clock, every=30.0)
    storage.available = False
    recorder.startService()  # the first tick fails and is logged
    storage.available = True
    clock.advance(30)  # the same report is kept on the next tick
    recorder.stopService()
    assert storage.history("zone/hall").result == [HistoryEntry("zone/hall", NOW, 19.5, None)]


def readings(storage, count, start):
    storage.record_readings("h", [Reading("28-a", "DS18B20", 20.0, start + minute * 60) for minute in range(count)])


def test_old_raw_readings_go_in_steps_and_recent_ones_stay():
    clock = Clock()
    clock.advance(NOW)
    storage = FakeStorage()
    readings(storage, 7, NOW - 91 * DAY)  # older than 90 days
    readings(storage, 2, NOW - 89 * DAY)
    pruner = RawPruner(storage, clock, keep_days=90, batch=3, pause=1.0, idle=600.0)
    pruner.startService()
    left = []
    for _ in range(4):
        clock.advance(1.0)
        left.append(len(storage.history("28-a").result))
    assert left == [6, 3, 2, 2]  # 3, 3, then 1 (not a full batch): idle after it
    readings(storage, 1, NOW - 91 * DAY + 3600)
    clock.advance(598.0)
    assert len(storage.history("28-a").result) == 3
    clock.advance(1.0)
    assert len(storage.history("28-a").result) == 2
    pruner.stopService()
    assert not clock.getDelayedCalls()


def test_a_failing_prune_waits_and_tries_again():
    clock = Clock()
    clock.advance(NOW)
    storage = FakeStorage()
    readings(storage, 2, NOW - 91 * DAY)
    pruner = RawPruner(storage, clock, keep_days=90, batch=10, pause=1.0, idle=600.0)
    storage.available = False
    pruner.startService()
    clock.advance(1.0)
    storage.available = True
    clock.advance(599.0)
    assert len(storage.history("28-a").result) == 2
    clock.advance(1.0)
    assert storage.history("28-a").result == []
    assert pruner.stopService() is None
