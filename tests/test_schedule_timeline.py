"""The timeline: precedence, the most specific rule winning, tiling, and a brute-force check."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rpymostat.schedule import cron, documents
from rpymostat.schedule.durations import Duration
from rpymostat.schedule.rules import Hold, Kind, Override, Schedule, Setpoints, Until
from rpymostat.schedule.timeline import NEXT_SCHEDULE_HORIZON, build, next_schedule_change, occurrences

UTC = datetime.UTC
BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime.datetime(2026, 11, 23, tzinfo=UTC)  # a Monday
CHANGED = T0 - datetime.timedelta(days=30)
HOUR = datetime.timedelta(hours=1)
DEFAULT = Setpoints(heat=16.0)


def schedule(id, start, heat, end=None, duration=None, priority=0, changed=CHANGED, enabled=True):
    return Schedule(
        id,
        id,
        "default",
        start,
        Setpoints(heat=heat),
        changed,
        end=end,
        duration=duration,
        priority=priority,
        enabled=enabled,
    )


def summary(segments, zone=BERLIN):
    return [
        (
            s.start.astimezone(zone).strftime("%a %H:%M"),
            s.end.astimezone(zone).strftime("%a %H:%M"),
            s.setpoints.heat,
            s.source.kind.label,
            s.source.id,
        )
        for s in segments
    ]


def test_no_rules_is_the_zone_default_for_the_whole_window():
    segments = build([], [], [], DEFAULT, BERLIN, T0, T0 + 48 * HOUR)
    assert [(s.start, s.end, s.setpoints, s.source.kind) for s in segments] == [
        (T0, T0 + 48 * HOUR, DEFAULT, Kind.DEFAULT)
    ]


def test_shorter_occurrence_wins_within_schedules():
    day = schedule("day", "0 7 * * *", 20.0, end="0 22 * * *")
    boost = schedule("boost", "0 6 * * 1-5", 22.0, duration=2 * HOUR)
    segments = build([day, boost], [], [], DEFAULT, BERLIN, T0, T0 + 24 * HOUR)
    assert summary(segments) == [
        ("Mon 01:00", "Mon 06:00", 16.0, "default", None),
        ("Mon 06:00", "Mon 08:00", 22.0, "schedule", "boost"),
        ("Mon 08:00", "Mon 22:00", 20.0, "schedule", "day"),
        ("Mon 22:00", "Tue 01:00", 16.0, "default", None),
    ]


def test_priority_then_most_recent_change_break_ties():
    a = schedule("a", "0 8 * * *", 19.0, duration=HOUR, priority=1)
    b = schedule("b", "0 8 * * *", 21.0, duration=HOUR, priority=0, changed=CHANGED + HOUR)
    c = schedule("c", "0 8 * * *", 23.0, duration=HOUR, priority=1, changed=CHANGED + HOUR)
    assert summary(build([a, b], [], [], DEFAULT, BERLIN, T0, T0 + 24 * HOUR))[1][4] == "a"
    assert summary(build([a, b, c], [], [], DEFAULT, BERLIN, T0, T0 + 24 * HOUR))[1][4] == "c"


def test_override_beats_schedule_and_hold_beats_both():
    day = schedule("day", "0 7 * * *", 20.0, end="0 22 * * *")
    away = Override("away", "away", "default", T0 + 9 * HOUR, Setpoints(heat=12.0), CHANGED, end=T0 + 40 * HOUR)
    hold = Hold("hold", "default", T0 + 10 * HOUR, Setpoints(heat=23.0), CHANGED, end=T0 + 11 * HOUR)
    segments = build([day], [away], [hold], DEFAULT, BERLIN, T0, T0 + 24 * HOUR)
    assert summary(segments) == [
        ("Mon 01:00", "Mon 07:00", 16.0, "default", None),
        ("Mon 07:00", "Mon 10:00", 20.0, "schedule", "day"),
        ("Mon 10:00", "Mon 11:00", 12.0, "override", "away"),
        ("Mon 11:00", "Mon 12:00", 23.0, "hold", "hold"),
        ("Mon 12:00", "Tue 01:00", 12.0, "override", "away"),
    ]


def test_hold_until_next_schedule_change_ends_there():
    day = schedule("day", "0 7 * * *", 20.0, end="0 22 * * *")
    hold = Hold("hold", "default", T0 + 12 * HOUR, Setpoints(heat=23.0), CHANGED, until=Until.NEXT_SCHEDULE)
    segments = build([day], [], [hold], DEFAULT, BERLIN, T0, T0 + 24 * HOUR)
    assert ("Mon 13:00", "Mon 22:00", 23.0, "hold", "hold") in summary(segments)


def test_until_next_schedule_without_schedules_ends_at_the_horizon():
    hold = Hold("hold", "default", T0, Setpoints(heat=23.0), CHANGED, until=Until.NEXT_SCHEDULE)
    [found] = occurrences([], [], [hold], BERLIN, T0, T0 + HOUR)
    assert found.end == T0 + NEXT_SCHEDULE_HORIZON


def test_permanent_hold_has_no_end_and_loses_to_a_shorter_hold():
    forever = Hold("forever", "default", T0, Setpoints(heat=18.0), CHANGED, until=Until.PERMANENT)
    short = Hold("short", "default", T0 + HOUR, Setpoints(heat=24.0), CHANGED - HOUR, end=T0 + 2 * HOUR)
    segments = build([], [], [forever, short], DEFAULT, BERLIN, T0, T0 + 3 * HOUR)
    assert [(s.source.id, s.end - s.start) for s in segments] == [("forever", HOUR), ("short", HOUR), ("forever", HOUR)]


def test_disabled_schedule_is_ignored():
    off = schedule("off", "0 7 * * *", 25.0, duration=HOUR, enabled=False)
    assert summary(build([off], [], [], DEFAULT, BERLIN, T0, T0 + 24 * HOUR)) == [
        ("Mon 01:00", "Tue 01:00", 16.0, "default", None)
    ]


def test_occurrence_started_before_the_window_still_counts():
    night = schedule("night", "0 22 * * *", 17.0, end="0 6 * * *")
    start = T0 + 2 * HOUR  # 03:00 Berlin, inside last night's occurrence
    segments = build([night], [], [], DEFAULT, BERLIN, start, start + 4 * HOUR)
    assert summary(segments) == [
        ("Mon 03:00", "Mon 06:00", 17.0, "schedule", "night"),
        ("Mon 06:00", "Mon 07:00", 16.0, "default", None),
    ]


def test_schedule_over_spring_forward_night():
    night = schedule("night", "0 22 * * *", 17.0, end="30 2 * * *")
    begin = datetime.datetime(2026, 3, 28, 12, tzinfo=UTC)
    segments = build([night], [], [], DEFAULT, BERLIN, begin, begin + 24 * HOUR)
    # 02:30 does not exist on 29 March: the night ends when the gap does, at 03:00 CEST.
    assert [(s.start.astimezone(BERLIN).isoformat(), s.source.kind.label) for s in segments] == [
        ("2026-03-28T13:00:00+01:00", "default"),
        ("2026-03-28T22:00:00+01:00", "schedule"),
        ("2026-03-29T03:00:00+02:00", "default"),
    ]


# --- property: every instant's segment is what brute-force precedence says ---

CRONS = st.sampled_from(["0 6 * * *", "30 7 * * 1-5", "0 22 * * *", "15 */6 * * *", "0 12 * * 0,6", "45 1 * * *"])


@st.composite
def schedules(draw, index):
    ends = draw(st.booleans())
    return schedule(
        f"s{index}",
        draw(CRONS),
        draw(st.sampled_from([17.0, 19.0, 21.0])),
        end=draw(CRONS) if ends else None,
        duration=None if ends else draw(st.sampled_from([HOUR / 2, 2 * HOUR, 9 * HOUR, 30 * HOUR])),
        priority=draw(st.integers(0, 2)),
        changed=CHANGED + draw(st.integers(0, 3)) * HOUR,
        enabled=draw(st.sampled_from([True, True, True, False])),
    )


OFFSETS = st.integers(-24 * 4, 72 * 4).map(lambda quarters: T0 + quarters * HOUR / 4)


@st.composite
def one_time(draw, index, kind):
    start = draw(OFFSETS)
    how = draw(st.sampled_from(["end", "next", "permanent"] if kind is Hold else ["end", "next"]))
    end = start + draw(st.integers(1, 60)) * HOUR / 4 if how == "end" else None
    until = {"next": Until.NEXT_SCHEDULE, "permanent": Until.PERMANENT}.get(how)
    setpoints = Setpoints(heat=draw(st.sampled_from([12.0, 23.0])))
    changed = CHANGED + draw(st.integers(0, 3)) * HOUR
    if kind is Hold:
        return Hold(f"h{index}", "default", start, setpoints, changed, end=end, until=until)
    return Override(f"o{index}", f"o{index}", "default", start, setpoints, changed, end=end, until=until)


@st.composite
def rule_sets(draw):
    count = draw(st.integers(0, 4))
    return (
        [draw(schedules(i)) for i in range(count)],
        [draw(one_time(i, Override)) for i in range(draw(st.integers(0, 2)))],
        [draw(one_time(i, Hold)) for i in range(draw(st.integers(0, 2)))],
    )


def covering_schedule_occurrences(schedules_, zone, instant):
    """(rule id, start, end) of every schedule occurrence covering ``instant``, from scratch."""
    covering = set()
    for rule in schedules_:
        if not rule.enabled:
            continue
        for start in cron.starts_before(rule.start, zone, instant):
            end = start + rule.duration if rule.duration else cron.next_start(rule.end, zone, start)
            if end <= instant:
                break
            covering.add((rule.id, start, end))
    return covering


def brute_force(found, instant):
    """Precedence written out plainly, independent of Occurrence.rank."""
    covering = [o for o in found if o.start <= instant and (o.end is None or instant < o.end)]
    if not covering:
        return None
    top_kind = max(o.kind for o in covering)
    covering = [o for o in covering if o.kind == top_kind]
    bounded = [o for o in covering if o.end is not None]
    if bounded:
        shortest = min(o.end - o.start for o in bounded)
        covering = [o for o in bounded if o.end - o.start == shortest]
    best = max(o.priority for o in covering)
    covering = [o for o in covering if o.priority == best]
    latest = max(o.changed_at for o in covering)
    covering = [o for o in covering if o.changed_at == latest]
    return max(covering, key=lambda o: o.rule_id)


@settings(max_examples=150, deadline=None)
@given(
    rule_sets(),
    st.sampled_from([BERLIN, ZoneInfo("America/New_York"), ZoneInfo("Australia/Sydney")]),
    st.lists(st.integers(0, 48 * 60 - 1), min_size=1, max_size=20),
)
def test_every_instant_matches_brute_force_and_segments_tile_the_window(rules, zone, minutes):
    schedules_, overrides, holds = rules
    begin, end = T0, T0 + 48 * HOUR
    segments = build(schedules_, overrides, holds, DEFAULT, zone, begin, end)
    assert segments[0].start == begin and segments[-1].end == end
    for before, after in zip(segments, segments[1:]):
        assert before.end == after.start
        assert before.start < before.end
        assert (before.setpoints, before.source) != (after.setpoints, after.source)
    found = occurrences(schedules_, overrides, holds, zone, begin, end)
    waiting = {rule.id: rule for rule in [*overrides, *holds] if rule.until is Until.NEXT_SCHEDULE}
    for candidate in found:
        if candidate.rule_id in waiting and candidate.kind is not Kind.SCHEDULE:
            expected_end = next_schedule_change(schedules_, zone, waiting[candidate.rule_id].start)
            assert candidate.end == expected_end
    for minute in minutes:
        instant = begin + datetime.timedelta(minutes=minute)
        [segment] = [s for s in segments if s.start <= instant < s.end]
        assert covering_schedule_occurrences(schedules_, zone, instant) == {
            (o.rule_id, o.start, o.end) for o in found if o.kind is Kind.SCHEDULE and o.covers(instant)
        }
        expected = brute_force(found, instant)
        if expected is None:
            assert (segment.setpoints, segment.source.kind) == (DEFAULT, Kind.DEFAULT)
        else:
            assert (segment.source.id, segment.setpoints) == (expected.rule_id, expected.setpoints)


# --- ISO 8601 durations across DST: days on the wall clock, hours elapsed ---
# Expected instants are written out by hand from the zones' rules
# (Berlin: 29 March and 25 October 2026; New York: 8 March and 1 November 2026).

NEW_YORK = ZoneInfo("America/New_York")
ONE_DAY = Duration(days=1)


def at(text):
    return datetime.datetime.fromisoformat(text)


def schedule_spans(rule, zone, begin, end):
    return [(o.start, o.end) for o in occurrences([rule], [], [], zone, begin, end)]


@pytest.mark.parametrize(
    "zone, day_before, dst_day, day_after, next_day",
    [
        # Berlin, autumn: 25 October has 25 hours.
        (
            BERLIN,
            "2026-10-24T00:00+02:00",
            "2026-10-25T00:00+02:00",
            "2026-10-26T00:00+01:00",
            "2026-10-27T00:00+01:00",
        ),
        # Berlin, spring: 29 March has 23 hours.
        (
            BERLIN,
            "2026-03-28T00:00+01:00",
            "2026-03-29T00:00+01:00",
            "2026-03-30T00:00+02:00",
            "2026-03-31T00:00+02:00",
        ),
        # New York, autumn: 1 November has 25 hours.
        (
            NEW_YORK,
            "2026-10-31T00:00-04:00",
            "2026-11-01T00:00-04:00",
            "2026-11-02T00:00-05:00",
            "2026-11-03T00:00-05:00",
        ),
        # New York, spring: 8 March has 23 hours.
        (
            NEW_YORK,
            "2026-03-07T00:00-05:00",
            "2026-03-08T00:00-05:00",
            "2026-03-09T00:00-04:00",
            "2026-03-10T00:00-04:00",
        ),
    ],
)
def test_a_one_day_schedule_runs_from_midnight_to_midnight_across_dst(zone, day_before, dst_day, day_after, next_day):
    all_day = schedule("all-day", "0 0 * * *", 21.0, duration=ONE_DAY)
    begin, end = at(day_before), at(next_day)
    assert schedule_spans(all_day, zone, begin, end) == [
        (at(day_before), at(dst_day)),
        (at(dst_day), at(day_after)),
        (at(day_after), at(next_day)),
    ]
    # So nothing of the DST day falls back to the zone default.
    assert [(s.start, s.end, s.source.id) for s in build([all_day], [], [], DEFAULT, zone, begin, end)] == [
        (at(day_before), at(next_day), "all-day")
    ]


def test_a_24_hour_schedule_is_24_real_hours_on_the_25_hour_day():
    exact = schedule("exact", "0 0 * * *", 21.0, duration=Duration(exact=24 * HOUR))
    segments = build([exact], [], [], DEFAULT, BERLIN, at("2026-10-25T00:00+02:00"), at("2026-10-26T00:00+01:00"))
    assert [(s.start, s.end, s.source.kind.label) for s in segments] == [
        (at("2026-10-25T00:00+02:00"), at("2026-10-25T23:00+01:00"), "schedule"),
        (at("2026-10-25T23:00+01:00"), at("2026-10-26T00:00+01:00"), "default"),
    ]


def test_a_week_schedule_keeps_its_wall_clock_start_across_the_change():
    weekly = schedule("weekly", "0 18 * * 6", 21.0, duration=Duration(days=7))
    assert schedule_spans(weekly, NEW_YORK, at("2026-10-31T12:00-04:00"), at("2026-11-01T12:00-05:00")) == [
        (at("2026-10-24T18:00-04:00"), at("2026-10-31T18:00-04:00")),
        (at("2026-10-31T18:00-04:00"), at("2026-11-07T18:00-05:00")),
    ]


def test_days_then_hours_across_spring_forward():
    # P1DT2H from Saturday 20:00: Sunday 20:00 on the wall clock, then two real hours.
    evening = schedule("evening", "0 20 * * 6", 21.0, duration=Duration(days=1, exact=2 * HOUR))
    assert schedule_spans(evening, BERLIN, at("2026-03-28T12:00+01:00"), at("2026-03-29T12:00+02:00")) == [
        (at("2026-03-28T20:00+01:00"), at("2026-03-29T22:00+02:00")),
    ]


def test_a_day_ending_in_the_skipped_or_repeated_hour_is_mapped_like_a_cron_start():
    night = schedule("night", "30 2 * * *", 17.0, duration=ONE_DAY)
    # 02:30 on 29 March does not exist: the day ends as the gap does, at 03:00 CEST.
    assert schedule_spans(night, BERLIN, at("2026-03-28T12:00+01:00"), at("2026-03-29T02:59+02:00"))[0] == (
        at("2026-03-28T02:30+01:00"),
        at("2026-03-29T03:00+02:00"),
    )
    # 02:30 on 25 October happens twice: the day from Saturday ends at the first.
    assert schedule_spans(night, BERLIN, at("2026-10-24T12:00+02:00"), at("2026-10-25T02:00+01:00")) == [
        (at("2026-10-24T02:30+02:00"), at("2026-10-25T02:30+02:00")),
        (at("2026-10-25T02:30+02:00"), at("2026-10-26T02:30+01:00")),
    ]


def test_stored_schedule_durations_count_days_on_the_wall_clock():
    assert documents.parse_calendar_duration("P1D") == Duration(days=1)
    assert documents.parse_calendar_duration("P2W") == Duration(days=14)
    assert documents.parse_calendar_duration("PT24H") == Duration(exact=24 * HOUR)
    assert documents.parse_calendar_duration("P1DT2H30M") == Duration(days=1, exact=150 * HOUR / 60)
    assert documents.parse_calendar_duration("P1.5D") == Duration(days=1, exact=12 * HOUR)
    assert documents.parse_duration("P1DT2H") == 26 * HOUR


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("P1D", "2026-10-24T12:00+02:00", "2026-10-25T12:00+01:00"),  # a hold "for a day": 25 h
        ("PT24H", "2026-10-24T12:00+02:00", "2026-10-25T11:00+01:00"),  # "for 24 hours": 24 h
        ("PT4H", "2026-10-25T01:00+02:00", "2026-10-25T04:00+01:00"),  # 4 real hours over the repeat
        ("P1D", "2026-03-28T12:00+01:00", "2026-03-29T12:00+02:00"),  # 23 h
        ("P1D", "2026-03-28T02:15+01:00", "2026-03-29T03:00+02:00"),  # into the gap: its end
        ("PT4H", "2026-03-29T00:00+01:00", "2026-03-29T05:00+02:00"),
    ],
)
def test_end_after_a_duration_in_berlin(text, start, end):
    assert documents.end_after(at(start), text, BERLIN) == at(end)


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("2026-10-25T00:00/PT24H", "2026-10-25T00:00+02:00", "2026-10-25T23:00+01:00"),
        ("2026-10-25T00:00/P1D", "2026-10-25T00:00+02:00", "2026-10-26T00:00+01:00"),
        ("2026-10-25T00:00+02:00/P1D", "2026-10-25T00:00+02:00", "2026-10-26T00:00+01:00"),
        ("2026-10-25/P1D", "2026-10-25T00:00+02:00", "2026-10-26T00:00+01:00"),
        ("P1D/2026-10-26", "2026-10-25T00:00+02:00", "2026-10-26T00:00+01:00"),
        ("PT24H/2026-10-26", "2026-10-25T01:00+02:00", "2026-10-26T00:00+01:00"),
        ("2026-03-29/P1D", "2026-03-29T00:00+01:00", "2026-03-30T00:00+02:00"),
        ("2026-03-29/2026-03-30", "2026-03-29T00:00+01:00", "2026-03-30T00:00+02:00"),
    ],
)
def test_interval_durations_count_days_on_the_wall_clock(text, start, end):
    assert documents.parse_interval(text, BERLIN) == (at(start), at(end))


@pytest.mark.parametrize("text", ["2026-10-25/P1M", "P1Y/2026-10-25"])
def test_interval_durations_in_months_or_years_are_refused(text):
    with pytest.raises(ValueError, match="months or years"):
        documents.parse_interval(text, BERLIN)


def test_an_interval_that_is_past_2099_in_utc_is_refused():
    # 22:00 on New Year's Eve 2099 in New York is already 2100 in UTC.
    with pytest.raises(ValueError, match="not between the years 2000 and 2099"):
        documents.parse_interval("2099-12-31T22:00/PT1H", NEW_YORK)
