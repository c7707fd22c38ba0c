"""Cron on the wall clock and DST: skipped starts move to the end of the gap, repeated ones count once."""

import datetime
import itertools
from zoneinfo import ZoneInfo

import pytest

from rpymostat.schedule import cron

UTC = datetime.UTC


def local(zone, *fields, fold=0):
    return datetime.datetime(*fields, tzinfo=ZoneInfo(zone), fold=fold)


def starts(expression, zone, begin, end):
    tz = ZoneInfo(zone)
    return [s.astimezone(tz).isoformat() for s in cron.starts_between(expression, tz, begin, end)]


@pytest.mark.parametrize(
    "zone, gap_day, wall, takes_effect",
    [
        # Spring forward: 02:00 -> 03:00 in Berlin and New York, 02:00 -> 03:00 in Sydney (October).
        ("Europe/Berlin", (2026, 3, 29), "30 2 * * *", "2026-03-29T03:00:00+02:00"),
        ("America/New_York", (2026, 3, 8), "30 2 * * *", "2026-03-08T03:00:00-04:00"),
        ("Australia/Sydney", (2026, 10, 4), "30 2 * * *", "2026-10-04T03:00:00+11:00"),
        ("Europe/Berlin", (2026, 3, 29), "0 2 * * *", "2026-03-29T03:00:00+02:00"),
    ],
)
def test_start_in_the_skipped_hour_takes_effect_when_the_gap_ends(zone, gap_day, wall, takes_effect):
    begin = local(zone, *gap_day)
    found = starts(wall, zone, begin, begin + datetime.timedelta(days=1))
    assert found == [takes_effect]


def test_several_starts_inside_a_gap_count_once():
    begin = local("Europe/Berlin", 2026, 3, 29, 1, 0)
    found = starts("*/20 1-3 * * *", "Europe/Berlin", begin, local("Europe/Berlin", 2026, 3, 29, 4, 0))
    assert found == [
        "2026-03-29T01:00:00+01:00",
        "2026-03-29T01:20:00+01:00",
        "2026-03-29T01:40:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T03:20:00+02:00",
        "2026-03-29T03:40:00+02:00",
    ]


@pytest.mark.parametrize(
    "zone, fold_day, first",
    [
        ("Europe/Berlin", (2026, 10, 25), "2026-10-25T02:30:00+02:00"),
        ("America/New_York", (2026, 11, 1), "2026-11-01T01:30:00-04:00"),
        ("Australia/Sydney", (2026, 4, 5), "2026-04-05T02:30:00+11:00"),
    ],
)
def test_start_in_the_repeated_hour_takes_effect_once_at_its_first_occurrence(zone, fold_day, first):
    hour = int(first[11:13])
    begin = local(zone, *fold_day)
    found = starts(f"30 {hour} * * *", zone, begin, begin + datetime.timedelta(days=1))
    assert found == [first]


def test_day_of_week_is_read_on_the_local_wall_clock():
    # 06:00 on weekdays in Sydney is Sunday evening to Thursday evening in UTC.
    zone = "Australia/Sydney"
    begin = local(zone, 2026, 11, 23)  # a Monday
    found = starts("0 6 * * 1-5", zone, begin, begin + datetime.timedelta(days=7))
    assert [f[:10] for f in found] == ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]
    assert all(f.endswith("T06:00:00+11:00") for f in found)


def test_window_is_start_inclusive_end_exclusive():
    begin = datetime.datetime(2026, 11, 25, 6, tzinfo=UTC)
    assert starts("0 6 * * *", "UTC", begin, begin + datetime.timedelta(days=1)) == ["2026-11-25T06:00:00+00:00"]
    assert starts("0 6 * * *", "UTC", begin + datetime.timedelta(seconds=1), begin + datetime.timedelta(days=1)) == []


def test_next_start_is_strictly_after():
    zone = ZoneInfo("Europe/Berlin")
    at_six = local("Europe/Berlin", 2026, 11, 25, 6)
    assert cron.next_start("0 6 * * *", zone, at_six) == local("Europe/Berlin", 2026, 11, 26, 6)
    assert cron.next_start("0 6 * * *", zone, at_six - datetime.timedelta(seconds=1)) == at_six


def test_starts_before_are_newest_first_and_include_the_instant():
    zone = ZoneInfo("UTC")
    at = datetime.datetime(2026, 11, 25, 6, tzinfo=UTC)
    found = list(itertools.islice(cron.starts_before("0 6 * * *", zone, at), 2))
    assert found == [at, at - datetime.timedelta(days=1)]


def test_starts_before_cross_a_gap_once():
    zone = ZoneInfo("Europe/Berlin")
    after_gap = local("Europe/Berlin", 2026, 3, 29, 3, 30)
    found = list(itertools.islice(cron.starts_before("*/20 2-3 * * *", zone, after_gap), 4))
    assert [f.astimezone(zone).isoformat() for f in found] == [
        "2026-03-29T03:20:00+02:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-28T03:40:00+01:00",
        "2026-03-28T03:20:00+01:00",
    ]


@pytest.mark.parametrize(
    "expression, valid",
    [
        ("0 6 * * 1-5", True),
        ("*/15 * * * *", True),
        ("61 * * * *", False),
        ("0 6 * * * *", False),
        ("@daily", False),
        ("", False),
    ],
)
def test_only_five_field_cron_is_valid(expression, valid):
    assert cron.is_valid(expression) is valid


# --- the day-at-a-time matcher agrees with croniter's own stepping ---

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def field(low, high):
    number = st.integers(low, high)
    single = number.map(str)
    span = st.tuples(number, number).map(lambda p: f"{min(p)}-{max(p)}")
    step = st.tuples(st.sampled_from(["*", f"{low}-{high}"]), st.integers(1, max(1, (high - low) // 2))).map(
        lambda p: f"{p[0]}/{p[1]}"
    )
    part = st.one_of(single, span, step)
    listed = st.lists(part, min_size=1, max_size=3).map(",".join)
    return st.one_of(st.just("*"), listed)


EXPRESSIONS = st.tuples(field(0, 59), field(0, 23), field(1, 31), field(1, 12), field(0, 6)).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(EXPRESSIONS, st.datetimes(min_value=datetime.datetime(2020, 1, 1), max_value=datetime.datetime(2030, 1, 1)))
def test_day_matcher_agrees_with_croniter_stepping(expression, start):
    fast = cron.compile_expression(expression)
    assert isinstance(fast, cron._DayMatcher)
    reference = cron._Stepper(expression)
    start = start.replace(second=0, microsecond=0)
    forward = list(itertools.islice(fast.walls_from(start), 12))
    assert forward == list(itertools.islice(reference.walls_from(start), 12))
    backward = list(itertools.islice(fast.walls_until(start), 12))
    assert backward == list(itertools.islice(reference.walls_until(start), 12))


def test_fancy_expressions_are_stepped_by_croniter():
    assert isinstance(cron.compile_expression("0 0 L * *"), cron._Stepper)
    assert isinstance(cron.compile_expression("0 0 * * 1#2"), cron._Stepper)
    zone = ZoneInfo("UTC")
    begin = datetime.datetime(2026, 2, 1, tzinfo=UTC)
    assert [s.day for s in cron.starts_between("0 0 L * *", zone, begin, begin + datetime.timedelta(days=60))] == [
        28,
        31,
    ]


def test_expression_that_never_matches_is_invalid_and_ends_searches():
    assert cron.is_valid("0 0 30 2 *") is False
    assert cron.is_valid("0 0 29 2 *") is True
    zone = ZoneInfo("UTC")
    with pytest.raises(LookupError):
        cron.next_start("0 0 30 2 *", zone, datetime.datetime(2026, 1, 1, tzinfo=UTC))
