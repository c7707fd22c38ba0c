"""What every schedule plugin promises, checked by asking it for timelines.

A plugin author builds the plugin as the engine would (``Plugin(storage,
zone_info)``, with whatever rules or calendar it needs) and awaits the whole
contract, e.g. with pytest-twisted::

    from rpymostat.schedule.contract import check_schedule_plugin

    @pytest_twisted.ensureDeferred
    async def test_my_plugin_keeps_the_schedule_plugin_contract():
        zone_info = ZoneInfo("Europe/Berlin")
        await check_schedule_plugin(MyPlugin(storage, zone_info), zone_info, zones=["default", "upstairs"])

Each check raises :class:`AssertionError` naming the zone and window that
broke it, so nothing here needs pytest.  The windows are fixed, not random
(a week, a second, ragged instants, and two days around every change of the
zone's UTC offset in one year), so a failure is the same on every run.
"""

import datetime
from collections.abc import Iterable, Sequence

from zope.interface.exceptions import Invalid
from zope.interface.verify import verifyObject

from rpymostat.schedule.plugin import ISchedulePlugin
from rpymostat.schedule.rules import Setpoints

UTC = datetime.UTC
DAY = datetime.timedelta(days=1)

#: What the zone asks for where nothing else applies, unless the caller says.
DEFAULT = Setpoints(heat=18.0, cool=26.0)

#: A zone no plugin has anything for.
UNKNOWN_ZONE = "contract-unknown-zone"


async def check_schedule_plugin(
    plugin, zone_info, zones: Iterable[str] = ("default",), default: Setpoints = DEFAULT, year: int = 2026
) -> None:
    """Every check below on ``plugin``, built with ``zone_info``, for each of ``zones``.

    ``zones`` are those the plugin has something for (their timelines are
    checked to tile each window); :data:`UNKNOWN_ZONE` is checked as well, and
    must be one segment of ``default``.  ``year`` picks the daylight saving
    time changes of ``zone_info`` whose windows are checked.
    """
    check_declaration(plugin)
    for begin, end in windows(zone_info, year):
        for zone in zones:
            check_tiling(await timeline(plugin, zone, default, begin, end), zone, begin, end)
        unknown = await timeline(plugin, UNKNOWN_ZONE, default, begin, end)
        check_tiling(unknown, UNKNOWN_ZONE, begin, end)
        check_unknown_zone(unknown, default, begin, end)


def check_declaration(plugin) -> None:
    """The plugin provides :class:`ISchedulePlugin` and says what it is.

    ``config_schema`` describes an object, as the engine's configuration of
    a plugin is one.
    """
    try:
        verifyObject(ISchedulePlugin, plugin)
    except Invalid as error:
        raise AssertionError(str(error)) from error
    for attribute in ("name", "description"):
        value = getattr(plugin, attribute)
        assert isinstance(value, str) and value.strip(), f"{attribute} must be a non-empty string, not {value!r}"
    schema = plugin.config_schema
    assert isinstance(schema, dict) and schema.get("type") == "object", (
        f"config_schema must be a JSON Schema of an object, not {schema!r}"
    )


async def timeline(plugin, zone, default, begin, end) -> list:
    """What ``plugin.timeline`` fires with; a failure is a broken contract naming the window."""
    try:
        return list(await plugin.timeline(zone, default, begin, end))
    except Exception as error:
        raise AssertionError(f"timeline of {zone!r} for {begin} to {end} failed: {error!r}") from error


def check_tiling(segments: Sequence, zone, begin, end) -> None:
    """Segments in order from ``begin`` to ``end``, none empty, no gap, no overlap, each with setpoints.

    Instants are compared, not wall times: a segment may end at 03:00+02:00
    and the next start at 01:00+00:00, the same instant.
    """
    where = f"timeline of {zone!r} for {begin.isoformat()} to {end.isoformat()}"
    assert segments, f"{where}: no segments"
    for segment in segments:
        for edge in (segment.start, segment.end):
            assert isinstance(edge, datetime.datetime) and edge.utcoffset() is not None, (
                f"{where}: {edge!r} is not an aware datetime"
            )
        assert segment.start < segment.end, f"{where}: empty segment {segment.start} to {segment.end}"
        assert isinstance(segment.setpoints, Setpoints), f"{where}: segment without setpoints: {segment!r}"
    assert segments[0].start == begin, f"{where}: starts at {segments[0].start}, not at the window's start"
    assert segments[-1].end == end, f"{where}: ends at {segments[-1].end}, not at the window's end"
    for before, after in zip(segments, segments[1:]):
        assert before.end == after.start, (
            f"{where}: {'gap' if before.end < after.start else 'overlap'} between {before.end} and {after.start}"
        )


def check_unknown_zone(segments: Sequence, default, begin, end) -> None:
    """A zone the plugin has nothing for is one segment of ``default``, not an error."""
    assert len(segments) == 1 and segments[0].setpoints == default, (
        f"timeline of the unknown zone {UNKNOWN_ZONE!r} for {begin} to {end} is {segments!r},"
        f" not one segment of the default {default!r}"
    )


def windows(zone_info, year) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """``(begin, end)`` pairs in UTC, as the engine asks: plain ones and two days around each offset change.

    Around a change: from local midnight the day before to local midnight the
    day after (a 47- or 49-hour window), and windows beginning and ending
    exactly at the change.
    """
    start = datetime.datetime(year, 1, 5, 6, tzinfo=UTC)
    found = [
        (start, start + 7 * DAY),
        (start, start + datetime.timedelta(seconds=1)),
        (start + datetime.timedelta(seconds=1234, microseconds=5678), start + datetime.timedelta(days=2, seconds=17)),
    ]
    for change in offset_changes(zone_info, year):
        local_day = change.astimezone(zone_info).date()
        midnight_before = datetime.datetime.combine(local_day - DAY, datetime.time(), zone_info)
        midnight_after = datetime.datetime.combine(local_day + DAY, datetime.time(), zone_info)
        found += [
            (midnight_before.astimezone(UTC), midnight_after.astimezone(UTC)),
            (change, change + DAY),
            (change - DAY, change),
        ]
    return found


def offset_changes(zone_info, year) -> list[datetime.datetime]:
    """The instants (UTC) in ``year`` at which ``zone_info``'s UTC offset changes, to the minute."""
    changes = []
    moment = datetime.datetime(year, 1, 1, tzinfo=UTC)
    stop = datetime.datetime(year + 1, 1, 1, tzinfo=UTC)
    hour, minute = datetime.timedelta(hours=1), datetime.timedelta(minutes=1)
    while moment < stop:
        offset = moment.astimezone(zone_info).utcoffset()
        if offset != (moment + hour).astimezone(zone_info).utcoffset():
            changes.append(
                next(
                    moment + minutes * minute
                    for minutes in range(1, 61)
                    if (moment + minutes * minute).astimezone(zone_info).utcoffset() != offset
                )
            )
        moment += hour
    return changes
