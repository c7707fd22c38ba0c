"""The week grid and the engine-clock conversions, with hand-written expectations (DST days included)."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from rpymostat_webui import week

BERLIN = ZoneInfo("Europe/Berlin")


def segment(start, end, heat=18.0, cool=26.0, kind="default", name="zone default"):
    return {
        "start": start,
        "end": end,
        "heat_setpoint": heat,
        "cool_setpoint": cool,
        "sensors": None,
        "source": {"type": kind, "id": None if kind == "default" else "r1", "name": name},
    }


def test_week_window_is_local_midnight_to_midnight_with_dst_lengths():
    assert week.week_window(datetime.date(2026, 12, 14), BERLIN) == (
        datetime.datetime(2026, 12, 13, 23, 0, tzinfo=datetime.UTC),
        168.0,
    )
    assert week.week_window(datetime.date(2026, 3, 23), BERLIN) == (
        datetime.datetime(2026, 3, 22, 23, 0, tzinfo=datetime.UTC),
        167.0,
    )
    assert week.week_window(datetime.date(2026, 10, 19), BERLIN) == (
        datetime.datetime(2026, 10, 18, 22, 0, tzinfo=datetime.UTC),
        169.0,
    )


def test_today_and_monday_are_on_the_engine_clock():
    late = datetime.datetime(2026, 12, 20, 23, 30, tzinfo=datetime.UTC)  # already Monday 00:30 in Berlin
    assert week.today(BERLIN, late) == datetime.date(2026, 12, 21)
    assert week.today(datetime.UTC, late) == datetime.date(2026, 12, 20)
    assert week.monday_of(datetime.date(2026, 12, 20)) == datetime.date(2026, 12, 14)
    assert week.monday_of(datetime.date(2026, 12, 14)) == datetime.date(2026, 12, 14)
    assert isinstance(week.today(BERLIN), datetime.date)


def test_an_ordinary_week_cuts_segments_at_local_midnights():
    timeline = {
        "zone": "default",
        "timezone": "Europe/Berlin",
        "segments": [
            segment("2026-12-13T23:00:00+00:00", "2026-12-14T05:30:00+00:00"),
            segment("2026-12-14T05:30:00+00:00", "2026-12-14T07:00:00+00:00", 21, None, "schedule", "Morning"),
            segment("2026-12-14T07:00:00+00:00", "2026-12-15T21:00:00+00:00"),
            segment("2026-12-15T21:00:00+00:00", "2026-12-16T05:00:00+00:00", 12, None, "override", "Night"),
        ],
    }
    days = week.week(timeline, datetime.date(2026, 12, 14), BERLIN)
    assert [day.label for day in days] == [
        "Mon 14 Dec", "Tue 15 Dec", "Wed 16 Dec", "Thu 17 Dec", "Fri 18 Dec", "Sat 19 Dec", "Sun 20 Dec",
    ]  # fmt: skip
    monday = days[0].blocks
    assert [(b.start, b.end, b.kind, b.name, b.heat, b.cool) for b in monday] == [
        ("00:00", "06:30", "default", "zone default", 18.0, 26.0),
        ("06:30", "08:00", "schedule", "Morning", 21, None),
        ("08:00", "24:00", "default", "zone default", 18.0, 26.0),
    ]
    assert [round(b.left, 5) for b in monday] == [0, 0.27083, 0.33333]
    assert [round(b.width, 5) for b in monday] == [0.27083, 0.0625, 0.66667]
    assert [b.colour for b in monday] == ["heat-low", "heat-high", "heat-low"]
    tuesday, wednesday = days[1].blocks, days[2].blocks
    assert [(b.start, b.end, b.kind) for b in tuesday] == [
        ("00:00", "22:00", "default"),
        ("22:00", "24:00", "override"),
    ]
    assert [(b.start, b.end, b.kind, b.colour) for b in wednesday] == [("00:00", "06:00", "override", "heat-away")]
    assert days[3].blocks == ()


def test_spring_forward_sunday_is_23_hours_and_tiles_its_row():
    timeline = {
        "timezone": "Europe/Berlin",
        "segments": [
            segment("2026-03-22T23:00:00Z", "2026-03-29T04:00:00Z"),
            segment("2026-03-29T04:00:00Z", "2026-03-29T06:00:00Z", 21.5, None, "schedule", "Morning"),
            segment("2026-03-29T06:00:00Z", "2026-03-29T22:00:00Z"),
        ],
    }
    sunday = week.week(timeline, datetime.date(2026, 3, 23), BERLIN)[6]
    assert sunday.label == "Sun 29 Mar"
    assert [(b.start, b.end) for b in sunday.blocks] == [("00:00", "06:00"), ("06:00", "08:00"), ("08:00", "24:00")]
    assert [round(b.left * 23, 6) for b in sunday.blocks] == [0, 5, 7]  # 5 real hours from 00:00 to 06:00 CEST
    assert [round(b.width * 23, 6) for b in sunday.blocks] == [5, 2, 16]


def test_fall_back_sunday_is_25_hours_and_the_repeated_hour_does_not_overlap():
    timeline = {
        "timezone": "Europe/Berlin",
        "segments": [
            segment("2026-10-24T22:00:00Z", "2026-10-25T00:30:00Z"),
            segment("2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z", 23, 27, "hold", "hold"),
            segment("2026-10-25T01:30:00Z", "2026-10-25T23:00:00Z"),
        ],
    }
    sunday = week.week(timeline, datetime.date(2026, 10, 19), BERLIN)[6]
    assert [(b.start, b.end, b.kind) for b in sunday.blocks] == [
        ("00:00", "02:30", "default"),
        ("02:30", "02:30", "hold"),  # 02:30 CEST until 02:30 CET
        ("02:30", "24:00", "default"),
    ]
    assert [round(b.left, 6) for b in sunday.blocks] == [0, 0.1, 0.14]
    assert [round(b.width, 6) for b in sunday.blocks] == [0.1, 0.04, 0.86]
    assert sunday.blocks[1].colour == "heat-max"


@pytest.mark.parametrize(
    ("heat", "cool", "colour"),
    [
        (None, None, "no-wish"),
        (None, 25, "cool-only"),
        (12, None, "heat-away"),
        (15.9, None, "heat-away"),
        (16, 26, "heat-low"),
        (19, None, "heat-mid"),
        (20.5, None, "heat-mid"),
        (21, None, "heat-high"),
        (22.5, None, "heat-high"),
        (23, None, "heat-max"),
    ],
)
def test_colour_bands(heat, cool, colour):
    assert week.colour_of(heat, cool) == colour


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("2026-12-20T08:00", "2026-12-20T07:00:00Z"),  # CET
        ("2026-07-01T12:00", "2026-07-01T10:00:00Z"),  # CEST
        ("2026-12-20T08:00:45", "2026-12-20T07:00:00Z"),  # whole minutes
        ("2026-03-29T02:30", "2026-03-29T01:00:00Z"),  # skipped hour: when the gap ends, 03:00 CEST
        ("2026-03-29T03:00", "2026-03-29T01:00:00Z"),
        ("2026-03-29T01:59", "2026-03-29T00:59:00Z"),
        ("2026-10-25T02:30", "2026-10-25T00:30:00Z"),  # repeated hour: its first occurrence (CEST)
        ("2026-10-25T03:00", "2026-10-25T02:00:00Z"),
        (" 2026-12-20 08:00 ", "2026-12-20T07:00:00Z"),
    ],
)
def test_wall_times_typed_on_the_engine_clock_become_utc(typed, sent):
    assert week.utc_of_typed(typed, BERLIN) == sent


@pytest.mark.parametrize("typed", ["", "tomorrow", "2026-12-20T08:00+01:00", "2026-12-20T25:00"])
def test_text_that_is_no_wall_time_is_refused(typed):
    with pytest.raises(ValueError):
        week.utc_of_typed(typed, BERLIN)


def test_engine_instants_shown_on_the_engine_clock():
    assert week.wall_text("2026-12-20T07:00:00+00:00", BERLIN) == "2026-12-20T08:00"
    assert week.wall_text("2026-10-25T00:30:00Z", BERLIN) == "2026-10-25T02:30"
    assert week.wall_text(None, BERLIN) == ""
    assert week.wall_words("2026-12-27T23:00:00+00:00", BERLIN) == "Mon 28 Dec 2026 00:00"
    assert week.wall_words("", BERLIN) == ""


def test_the_week_is_cut_on_the_zone_handed_in_not_the_timeline_name():
    """The view hands in ``context.timezone()``; a timeline naming a zone this host lacks is no crash."""
    timeline = {"timezone": "Mars/Olympus_Mons", "segments": [segment("2026-12-14T00:00:00Z", "2026-12-21T00:00:00Z")]}
    monday = week.week(timeline, datetime.date(2026, 12, 14), datetime.UTC)[0]
    assert [(b.start, b.end) for b in monday.blocks] == [("00:00", "24:00")]
    assert week.week_window(datetime.date(2026, 12, 14), datetime.UTC) == (
        datetime.datetime(2026, 12, 14, 0, 0, tzinfo=datetime.UTC),
        168.0,
    )


@pytest.mark.parametrize(
    ("text", "day"),
    [
        (None, None),
        ("", None),
        ("2026-12-16", datetime.date(2026, 12, 16)),
        ("2000-01-03", datetime.date(2000, 1, 3)),
        ("2099-12-27", datetime.date(2099, 12, 27)),
    ],
)
def test_parse_week(text, day):
    assert week.parse_week(text) == day


@pytest.mark.parametrize(
    "text", ["0001-01-01", "9999-12-31", "2000-01-02", "2099-12-28", "junk", "2026-02-30", "20261216"]
)
def test_a_week_outside_2000_to_2099_or_no_date_is_refused_naming_the_field(text):
    with pytest.raises(week.InvalidWeek, match="^week: must be a date from 2000-01-03 to 2099-12-27, like 2026-12-14$"):
        week.parse_week(text)


def test_neighbours_stay_within_the_weeks_that_may_be_chosen():
    assert week.neighbours(datetime.date(2026, 12, 14)) == (datetime.date(2026, 12, 7), datetime.date(2026, 12, 21))
    assert week.neighbours(datetime.date(2000, 1, 3)) == (None, datetime.date(2000, 1, 10))
    assert week.neighbours(datetime.date(2000, 1, 10)) == (datetime.date(2000, 1, 3), datetime.date(2000, 1, 17))
    assert week.neighbours(datetime.date(2099, 12, 21)) == (datetime.date(2099, 12, 14), None)
