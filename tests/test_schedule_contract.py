"""The schedule plugin contract: the built-in rules plugin keeps it, and it catches plugins that do not."""

import dataclasses
import datetime
from zoneinfo import ZoneInfo

import pytest
import pytest_twisted
from twisted.internet.defer import succeed
from zope.interface import implementer

from rpymostat.schedule.contract import UNKNOWN_ZONE, check_schedule_plugin, offset_changes
from rpymostat.schedule.plugin import ISchedulePlugin
from rpymostat.schedule.rules import Kind, Source
from rpymostat.schedule.rules_plugin import RulesSchedule
from rpymostat.schedule.timeline import Segment
from rpymostat.storage.interface import RuleRecord
from rpymostat.testing import FakeStorage
from tests.conftest import NOW

UTC = datetime.UTC
HOUR = datetime.timedelta(hours=1)


async def house_with_rules():
    """Rules that put boundaries near every daylight saving time change, in two zones."""
    storage = FakeStorage()
    rules = [
        RuleRecord(
            "schedule",
            "night",
            "default",
            {"name": "night", "start": "30 2 * * *", "duration": "PT1H", "heat_setpoint": 17.0},
            NOW,
        ),
        RuleRecord(
            "schedule",
            "evening",
            "default",
            {"name": "evening", "start": "0 18 * * *", "end": "0 22 * * *", "heat_setpoint": 21.0},
            NOW,
        ),
        RuleRecord(
            "schedule",
            "week",
            "upstairs",
            {"name": "week", "start": "0 0 * * 1", "duration": "P1W", "heat_setpoint": 19.0},
            NOW,
        ),
        RuleRecord(
            "override",
            "away",
            "upstairs",
            {
                "name": "away",
                "start": "2026-10-24T12:00:00+00:00",
                "end": "2026-10-26T12:00:00+00:00",
                "heat_setpoint": 12.0,
            },
            NOW,
        ),
        RuleRecord(
            "hold",
            "hold",
            "default",
            {"name": "hold", "start": "2026-03-28T20:00:00+00:00", "until": "next_schedule", "heat_setpoint": 22.0},
            NOW,
        ),
    ]
    for record in rules:
        await storage.put_rule(record)
    return storage


@pytest.mark.parametrize("zone_name", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"])
@pytest_twisted.ensureDeferred
async def test_the_rules_plugin_keeps_the_contract(zone_name):
    zone_info = ZoneInfo(zone_name)
    plugin = RulesSchedule(await house_with_rules(), zone_info)
    await check_schedule_plugin(plugin, zone_info, zones=["default", "upstairs"])


def test_the_windows_cross_every_change_of_the_utc_offset():
    assert offset_changes(ZoneInfo("Europe/Berlin"), 2026) == [
        datetime.datetime(2026, 3, 29, 1, tzinfo=UTC),
        datetime.datetime(2026, 10, 25, 1, tzinfo=UTC),
    ]
    assert offset_changes(ZoneInfo("Australia/Lord_Howe"), 2026)[1] == datetime.datetime(
        2026, 10, 3, 15, 30, tzinfo=UTC
    )
    assert offset_changes(ZoneInfo("UTC"), 2026) == []


@implementer(ISchedulePlugin)
class Hourly:
    """Hour-long segments of the default, correct as far as the contract goes; broken variants below."""

    name = "hourly"
    description = "The default, in hour-long segments."
    config_schema = {"type": "object"}

    def __init__(self, storage, zone_info):
        self.zone_info = zone_info

    def segments(self, zone, default, begin, end):
        found, start = [], begin
        while start < end:
            stop = min(start + HOUR, end)
            found.append(Segment(start, stop, default, Source(Kind.DEFAULT, None, "zone default")))
            start = stop
        return found

    def timeline(self, zone, default, begin, end):
        return succeed(self.merged(zone, self.segments(zone, default, begin, end)))

    def merged(self, zone, found):
        """A zone it has nothing for is one segment of the default, as the contract asks."""
        return [dataclasses.replace(found[0], end=found[-1].end)] if zone == UNKNOWN_ZONE else found


class Gappy(Hourly):
    def segments(self, zone, default, begin, end):
        found = super().segments(zone, default, begin, end)
        return found[:1] + found[2:] if len(found) > 2 else found


class Overlapping(Hourly):
    def segments(self, zone, default, begin, end):
        found = super().segments(zone, default, begin, end)
        if len(found) < 3:
            return found
        return [found[0], dataclasses.replace(found[1], start=found[1].start - HOUR / 2)] + found[2:]


class WallClockWindow(Hourly):
    """Stops at the window's end in wall time: an hour short or long across a change."""

    def segments(self, zone, default, begin, end):
        local_begin = begin.astimezone(self.zone_info)
        wall_end = (local_begin.replace(tzinfo=None) + (end - begin)).replace(tzinfo=self.zone_info)
        return super().segments(zone, default, begin, wall_end.astimezone(UTC))


class Naive(Hourly):
    def segments(self, zone, default, begin, end):
        found = super().segments(zone, default, begin, end)
        return [dataclasses.replace(segment, start=segment.start.replace(tzinfo=None)) for segment in found]


class NoSetpoints(Hourly):
    def segments(self, zone, default, begin, end):
        return [dataclasses.replace(segment, setpoints=None) for segment in super().segments(zone, default, begin, end)]


class FailsForAnUnknownZone(Hourly):
    def timeline(self, zone, default, begin, end):
        if zone == UNKNOWN_ZONE:
            raise KeyError(zone)
        return super().timeline(zone, default, begin, end)


class InventsForAnUnknownZone(Hourly):
    def merged(self, zone, found):
        return found


class Unnamed(Hourly):
    name = ""


class Undeclared:
    name, description, config_schema = Hourly.name, Hourly.description, Hourly.config_schema
    timeline = Hourly.timeline


@pytest_twisted.ensureDeferred
async def test_a_correct_plugin_keeps_the_contract():
    zone_info = ZoneInfo("Europe/Berlin")
    await check_schedule_plugin(Hourly(None, zone_info), zone_info, zones=["default"])


@pytest.mark.parametrize(
    "plugin_class, complaint",
    [
        (Gappy, r"timeline of 'default' for .*: gap between"),
        (Overlapping, r"timeline of 'default' for .*: overlap between"),
        (WallClockWindow, r"timeline of 'default' for 2026-03-2\d.*: ends at .*, not at the window's end"),
        (Naive, "is not an aware datetime"),
        (NoSetpoints, "segment without setpoints"),
        (FailsForAnUnknownZone, f"timeline of '{UNKNOWN_ZONE}' for .* failed: KeyError"),
        (InventsForAnUnknownZone, f"timeline of the unknown zone '{UNKNOWN_ZONE}' .* not one segment of the default"),
        (Unnamed, "name must be a non-empty string"),
        (Undeclared, "failed to implement interface"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_the_contract_catches_a_broken_plugin(plugin_class, complaint):
    zone_info = ZoneInfo("Europe/Berlin")
    plugin = plugin_class(None, zone_info) if plugin_class is not Undeclared else Undeclared()
    with pytest.raises(AssertionError, match=complaint):
        await check_schedule_plugin(plugin, zone_info, zones=["default"])
