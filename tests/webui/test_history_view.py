"""The history page's pure arithmetic: periods in the house's time zone, and what is shown of an answer."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from rpymostat_webui import history_view as view
from rpymostat_webui.units import CELSIUS, FAHRENHEIT

BERLIN = ZoneInfo("Europe/Berlin")
UTC = datetime.UTC
LATER = datetime.datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # "now" for periods chosen by date


def at(text):
    return datetime.datetime.fromisoformat(text)


def test_a_day_ending_now_is_the_same_wall_time_yesterday_23_hours_when_clocks_go_forward():
    chosen = view.period("day", None, at("2026-03-29T10:30:00+00:00"), BERLIN)  # 12:30 CEST
    assert chosen.query() == {"start": "2026-03-28T11:30:00Z", "end": "2026-03-29T10:30:00Z", "step": "PT15M"}
    assert chosen.ends_now and chosen.end_date == datetime.date(2026, 3, 29)
    assert chosen.title() == "Last 24 hours"


def test_a_chosen_day_is_25_hours_when_clocks_go_back():
    chosen = view.period("day", datetime.date(2026, 10, 25), LATER, BERLIN)
    assert chosen.query()["start"] == "2026-10-24T22:00:00Z"
    assert chosen.query()["end"] == "2026-10-25T23:00:00Z"
    assert chosen.end.astimezone(UTC) - chosen.start.astimezone(UTC) == datetime.timedelta(hours=25)
    assert not chosen.ends_now
    assert chosen.title() == "Sun 25 Oct 2026"
    assert chosen.previous_end() == datetime.date(2026, 10, 24)
    assert chosen.next_end(datetime.date(2026, 12, 2)) == datetime.date(2026, 10, 26)


def test_a_start_the_clocks_skipped_is_when_the_gap_ends_as_the_engine_reads_it():
    chosen = view.period("day", None, at("2026-03-30T00:45:00+00:00"), BERLIN)  # 02:45 CEST on the 30th
    assert chosen.query()["start"] == "2026-03-29T01:00:00Z"  # 02:45 on the 29th did not exist: 03:00 CEST
    assert chosen.start.isoformat() == "2026-03-29T03:00:00+02:00"


def test_a_midnight_the_clocks_skipped_starts_the_day_when_the_gap_ends():
    havana = ZoneInfo("America/Havana")  # clocks go from 00:00 to 01:00 on 8 March 2026
    chosen = view.period("day", datetime.date(2026, 3, 8), LATER, havana)
    assert chosen.query()["start"] == "2026-03-08T05:00:00Z"  # 01:00 CDT, the gap's end
    assert chosen.query()["end"] == "2026-03-09T04:00:00Z"


def test_a_week_ending_on_a_date_covers_seven_whole_days_and_the_next_one_is_now():
    chosen = view.period("week", datetime.date(2026, 12, 1), LATER, BERLIN)
    assert chosen.query() == {"start": "2026-11-24T23:00:00Z", "end": "2026-12-01T23:00:00Z", "step": "PT15M"}
    assert chosen.title() == "25 Nov – 1 Dec 2026"
    assert chosen.slug() == "week-2026-12-01"
    assert chosen.previous_end() == datetime.date(2026, 11, 24)
    assert chosen.next_end(datetime.date(2026, 12, 2)) is None  # 2 Dec - 8 Dec would reach past today


def test_a_month_ending_on_its_last_day_is_that_calendar_month_and_steps_by_months():
    march = view.period("month", datetime.date(2026, 3, 31), LATER, BERLIN)
    assert march.query() == {"start": "2026-02-28T23:00:00Z", "end": "2026-03-31T22:00:00Z", "step": "PT1H"}
    assert march.title() == "1 Mar – 31 Mar 2026"
    assert march.previous_end() == datetime.date(2026, 2, 28)
    february = view.period("month", march.previous_end(), LATER, BERLIN)
    assert february.query()["start"] == "2026-01-31T23:00:00Z"  # 1 February, 28 days
    assert february.query()["end"] == "2026-02-28T23:00:00Z"
    assert february.next_end(datetime.date(2026, 12, 2)) == datetime.date(2026, 3, 31)


def test_a_month_ending_now_on_the_31st_starts_on_the_last_day_of_the_shorter_month():
    chosen = view.period("month", None, at("2026-03-31T10:00:00+00:00"), BERLIN)  # 12:00 CEST
    assert chosen.query()["start"] == "2026-02-28T11:00:00Z"  # 12:00 CET
    assert chosen.title() == "Last month"
    assert chosen.previous_end() == datetime.date(2026, 2, 28)


def test_a_year_ending_on_a_leap_day_is_366_days():
    chosen = view.period("year", datetime.date(2024, 2, 29), LATER, BERLIN)
    assert chosen.query() == {"start": "2023-02-28T23:00:00Z", "end": "2024-02-29T23:00:00Z", "step": "P1D"}
    assert chosen.end.astimezone(UTC) - chosen.start.astimezone(UTC) == datetime.timedelta(days=366)
    assert chosen.title() == "1 Mar 2023 – 29 Feb 2024"


def test_a_year_ending_now_on_a_leap_day_starts_on_28_february():
    chosen = view.period("year", None, at("2024-02-29T12:00:00+00:00"), BERLIN)
    assert chosen.query()["start"] == "2023-02-28T12:00:00Z"
    assert chosen.title() == "Last year"


def test_a_date_of_today_or_later_means_ending_now():
    now = at("2026-12-02T23:30:00+00:00")  # 00:30 on 3 December in Berlin
    for chosen_day in (datetime.date(2026, 12, 3), datetime.date(2027, 1, 1)):
        chosen = view.period("week", chosen_day, now, BERLIN)
        assert chosen.ends_now
        assert chosen.query()["end"] == "2026-12-02T23:30:00Z"
    assert not view.period("week", datetime.date(2026, 12, 2), now, BERLIN).ends_now


def test_titles_of_ranges_across_years_and_now():
    assert view.period("year", datetime.date(2026, 1, 15), LATER, BERLIN).title() == "16 Jan 2025 – 15 Jan 2026"
    assert view.period("week", None, LATER, BERLIN).title() == "Last 7 days"


def test_shift_months_keeps_within_the_month():
    assert view.shift_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert view.shift_months(datetime.date(2024, 1, 31), 1) == datetime.date(2024, 2, 29)
    assert view.shift_months(datetime.date(2026, 1, 15), -1) == datetime.date(2025, 12, 15)
    assert view.shift_months(datetime.date(2026, 12, 31), 12) == datetime.date(2027, 12, 31)


@pytest.mark.parametrize("text", ["fortnight", "Day", "", None])
def test_parse_kind(text):
    if text in ("", None):
        assert view.parse_kind(text) == "day"
    else:
        with pytest.raises(view.InvalidPeriod, match="^period: must be day, week, month or year$"):
            view.parse_kind(text)


def test_parse_end():
    assert view.parse_end(None) is None
    assert view.parse_end("") is None
    assert view.parse_end("2026-12-01") == datetime.date(2026, 12, 1)
    for bad in ("yesterday", "2026-13-01", "2026-02-30", "20261201"):
        with pytest.raises(view.InvalidPeriod, match="^end: must be a date like 2026-12-01$"):
            view.parse_end(bad)
    with pytest.raises(view.InvalidPeriod, match="^end: must be in 2000 or later$"):
        view.parse_end("1999-12-31")


def test_csv_filename_keeps_only_safe_characters():
    chosen = view.period("week", datetime.date(2026, 12, 1), LATER, BERLIN)
    assert view.csv_filename('living room/"1"', chosen) == "history-living_room__1_-week-2026-12-01.csv"


SERIES_DOCUMENT = {
    "start": "2026-12-01T00:00:00.000+00:00",
    "end": "2026-12-01T03:00:00.000+00:00",
    "timezone": "Europe/Berlin",
    "at": ["2026-12-01T00:00:00.000+00:00", "2026-12-01T01:00:00.000+00:00", "2026-12-01T02:00:00.000+00:00"],
    "series": [
        {"zone": "living", "count": [0, 0, 0], "min": [None] * 3, "mean": [None] * 3, "max": [None] * 3},
        {
            "sensor": "28-a",
            "count": [2, 0, 1],
            "min": [20.0, None, 21.5],
            "mean": [21.0, None, 21.5],
            "max": [22.0, None, 21.5],
        },
    ],  # fmt: skip
    "setpoints": [
        {"at": "2026-12-01T00:00:00.000+00:00", "heat": 20.0, "cool": None, "mode": "heat"},
        {"at": "2026-12-01T01:30:00.000+00:00", "heat": 21.0, "cool": None, "mode": "heat"},
    ],
    "runs": [
        {"output": "heat", "start": "2026-12-01T00:10:00.000+00:00", "end": "2026-12-01T00:40:00.000+00:00"},
        {"output": "heat", "start": "2026-12-01T02:50:00.000+00:00", "end": None},
    ],
}
MIDNIGHT = 1796083200.0  # 2026-12-01T00:00:00Z


def test_summary_is_one_row_a_series_with_readings_its_mean_weighed_by_readings():
    assert view.summary(SERIES_DOCUMENT, {"28-a": "Sofa"}) == [
        {"label": "Sofa", "kind": "sensor", "count": 3, "min": 20.0, "mean": 21.17, "max": 22.0}
    ]
    assert view.has_readings(SERIES_DOCUMENT)
    empty = {**SERIES_DOCUMENT, "series": SERIES_DOCUMENT["series"][:1]}
    assert view.summary(empty, {}) == []
    assert not view.has_readings(empty)


def test_chart_in_fahrenheit_with_the_latest_target_of_each_step_and_runs_as_bands():
    answer = view.chart(SERIES_DOCUMENT, FAHRENHEIT, {}, "Europe/Berlin")
    assert answer["unit"] == {"code": "F", "symbol": "°F", "step": 1.0, "decimals": 0}
    assert answer["x"] == [MIDNIGHT, MIDNIGHT + 3600, MIDNIGHT + 7200, MIDNIGHT + 10800]
    assert (answer["start"], answer["end"]) == (MIDNIGHT, MIDNIGHT + 10800)
    assert answer["series"] == [
        {"label": "living (zone)", "kind": "zone", "values": [None, None, None, None]},
        {"label": "28-a", "kind": "sensor", "values": [69.8, None, 70.7, None]},
    ]
    assert answer["targets"] == [{"label": "Heat target", "kind": "heat", "values": [68.0, 69.8, 69.8, 69.8]}]
    assert answer["runs"] == [
        {"output": "heat", "start": MIDNIGHT + 600, "end": MIDNIGHT + 2400},
        {"output": "heat", "start": MIDNIGHT + 10200, "end": None},
    ]
    assert answer["timezone"] == "Europe/Berlin"
    assert answer["empty"] is False


def test_chart_in_celsius_of_a_sensor_without_setpoints_or_runs():
    document = {key: value for key, value in SERIES_DOCUMENT.items() if key not in ("setpoints", "runs")}
    answer = view.chart(document, CELSIUS, {}, "UTC")
    assert answer["series"][1]["values"] == [21.0, None, 21.5, None]
    assert answer["targets"] == [] and answer["runs"] == []


def test_a_target_before_the_first_known_setpoint_is_none():
    document = {**SERIES_DOCUMENT, "setpoints": [{"at": "2026-12-01T01:00:00.000+00:00", "heat": None,
                                                  "cool": 25.0, "mode": "cool"}]}  # fmt: skip
    answer = view.chart(document, CELSIUS, {}, "UTC")
    assert answer["targets"] == [{"label": "Cool target", "kind": "cool", "values": [None, 25.0, 25.0, 25.0]}]


def test_run_totals_count_a_running_band_up_to_until():
    assert view.run_totals(SERIES_DOCUMENT, MIDNIGHT + 10800) == {"heat": 1800.0 + 600.0}
    assert view.run_totals({"runs": []}, MIDNIGHT) == {}


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(59, "0 min"), (2400, "40 min"), (7200, "2 h"), (12000, "3 h 20 min"), (48 * 3600, "2 days"),
     (50 * 3600 + 600, "2 days 2 h")],
)  # fmt: skip
def test_duration_words(seconds, words):
    assert view.duration_words(seconds) == words


def test_epoch():
    assert view.epoch(None) is None
    assert view.epoch("") is None
    assert view.epoch("2026-12-01T00:00:00Z") == MIDNIGHT
    assert view.epoch("2026-12-01T01:00:00+01:00") == MIDNIGHT


def test_the_chart_names_the_house_zone_handed_in_not_the_answer_s():
    assert view.chart(SERIES_DOCUMENT, CELSIUS, {}, "America/New_York")["timezone"] == "America/New_York"
