"""Planning a history question: which source, which slots, and how the answer stays bounded."""

import datetime
import zoneinfo

import pytest

from rpymostat.history.answer import runs_document
from rpymostat.history.query import InvalidQuery, plan
from rpymostat.storage.interface import RunInterval

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")

#: 2026-11-25T12:00:00Z.
NOW = 1795608000.0


def at(text):
    return datetime.datetime.fromisoformat(text).timestamp()


def test_a_day_step_counts_local_days_across_a_clock_change():
    # The clocks went back in Berlin on 2026-10-25: that day had 25 hours.
    chosen = plan("2026-10-24", "2026-10-27", "P1D", NOW, BERLIN, 90)
    assert chosen.storage_arguments() == ("day", 739913, 739916, 1)
    assert [chosen.slot_start(slot) for slot in range(4)] == [
        at("2026-10-24T00:00+02:00"),
        at("2026-10-25T00:00+02:00"),
        at("2026-10-26T00:00+01:00"),
        at("2026-10-27T00:00+01:00"),
    ]
    assert (chosen.start, chosen.end) == (at("2026-10-24T00:00+02:00"), at("2026-10-27T00:00+01:00"))


def test_a_range_ending_within_a_day_answers_that_whole_day_and_weeks_round_up():
    chosen = plan("2026-11-02T10:00", "2026-11-04T00:30", "P1D", NOW, BERLIN, 90)
    assert (chosen.first, chosen.last, chosen.points) == (739922, 739925, 3)
    weekly = plan("2026-11-02", "2026-11-20", "P7D", NOW, BERLIN, 90)
    assert (weekly.first, weekly.last, weekly.unit, weekly.points) == (739922, 739943, 7, 3)


def test_a_quarter_step_starts_at_the_quarter_hour_before_start():
    chosen = plan("2026-11-25T10:07:30Z", "2026-11-25T11:00:00Z", "PT30M", NOW, BERLIN, 90)
    assert chosen.storage_arguments() == ("quarter", at("2026-11-25T10:00:00Z"), at("2026-11-25T11:00:00Z"), 1800)
    assert chosen.resolution == "quarter" and chosen.points == 2


def test_other_steps_read_raw_readings_from_the_start_second():
    chosen = plan("2026-11-25T10:07:30.5Z", "2026-11-25T10:10:00Z", "PT45S", NOW, BERLIN, 90)
    assert chosen.storage_arguments() == (
        "raw",
        int(at("2026-11-25T10:07:30Z")),
        int(at("2026-11-25T10:10:00Z")) + 30,
        45,
    )


def test_auto_without_a_range_is_the_last_day_in_five_minutes():
    chosen = plan(None, None, None, NOW, BERLIN, 90)
    assert (chosen.step, chosen.resolution, chosen.start, chosen.end) == ("PT5M", "raw", NOW - 86400, NOW)


def test_auto_over_ten_years_is_weeks():
    chosen = plan("2017-01-01", "2026-12-31", "auto", NOW, BERLIN, 90)
    assert (chosen.step, chosen.resolution) == ("P7D", "day")
    assert chosen.points <= 1000


def test_auto_skips_raw_steps_where_raw_readings_are_gone():
    recent = plan("2026-11-25T06:00Z", "2026-11-25T08:00Z", "auto", NOW, BERLIN, 90)
    assert (recent.step, recent.resolution) == ("PT1M", "raw")
    old = plan("2026-05-01T06:00Z", "2026-05-01T08:00Z", "auto", NOW, BERLIN, 90)
    assert (old.step, old.resolution) == ("PT15M", "quarter")
    kept_longer = plan("2026-05-01T06:00Z", "2026-05-01T08:00Z", "auto", NOW, BERLIN, 365)
    assert kept_longer.step == "PT1M"


@pytest.mark.parametrize(
    ("start", "end", "step", "message"),
    [
        ("2026-11-25T12:00Z", "2026-11-25T12:00Z", "PT1M", "end: must be after start"),
        ("2026-11-24", None, "PT1S", "step: PT1S over this range gives"),
        ("2026-11-24", None, "P400D", "step: 'P400D' is longer than 366 days, or auto"),
        ("2026-11-24", None, "-PT1M", "step:"),
    ],
)
def test_bad_questions(start, end, step, message):
    with pytest.raises(InvalidQuery, match=message.replace("(", r"\(")):
        plan(start, end, step, NOW, BERLIN, 90)


def test_runs_still_open_swallow_later_ones_and_bands_are_clipped():
    chosen = plan("2026-11-25T10:00Z", "2026-11-25T11:00Z", "PT15M", NOW, BERLIN, 90)
    intervals = [
        RunInterval("heat", at("2026-11-25T09:50Z"), at("2026-11-25T10:05Z")),
        RunInterval("cool", at("2026-11-25T10:20Z"), None),
        RunInterval("cool", at("2026-11-25T10:40Z"), at("2026-11-25T11:30Z")),  # a crash left two open
        RunInterval("heat", at("2026-11-25T10:30Z"), at("2026-11-25T10:35Z")),
    ]
    assert runs_document(intervals, chosen) == [
        {"output": "cool", "start": "2026-11-25T10:20:00.000+00:00", "end": None},
        {"output": "heat", "start": "2026-11-25T10:00:00.000+00:00", "end": "2026-11-25T10:05:00.000+00:00"},
        {"output": "heat", "start": "2026-11-25T10:30:00.000+00:00", "end": "2026-11-25T10:35:00.000+00:00"},
    ]


def test_too_many_runs_close_the_shortest_gaps_first():
    chosen = plan("2026-11-23", "2026-11-26", "P1D", NOW, BERLIN, 90)  # three local days: three bands at most
    intervals = [
        RunInterval("heat", at(f"2026-11-{day}T{hour:02d}:00+01:00"), at(f"2026-11-{day}T{hour:02d}:20+01:00"))
        for day in (23, 24, 25)
        for hour in (6, 7, 8, 9)  # four morning runs a day, 40 minutes apart
    ]
    assert [(band["start"], band["end"]) for band in runs_document(intervals, chosen)] == [
        ("2026-11-23T05:00:00.000+00:00", "2026-11-23T08:20:00.000+00:00"),
        ("2026-11-24T05:00:00.000+00:00", "2026-11-24T08:20:00.000+00:00"),
        ("2026-11-25T05:00:00.000+00:00", "2026-11-25T08:20:00.000+00:00"),
    ]
