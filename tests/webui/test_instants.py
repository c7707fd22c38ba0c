"""The one reader and writer of engine times, and wall times read by the engine's rule (hand-written instants)."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from rpymostat.protocol.times import wall_to_instant
from rpymostat_webui import instants

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
UTC = datetime.UTC


def wall(text):
    return datetime.datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-20T07:00:00Z", datetime.datetime(2026, 12, 20, 7, 0, tzinfo=UTC)),
        ("2026-12-20T07:00:00+00:00", datetime.datetime(2026, 12, 20, 7, 0, tzinfo=UTC)),
        ("2026-12-20T08:00:00+01:00", datetime.datetime(2026, 12, 20, 7, 0, tzinfo=UTC)),
        ("2026-12-20T07:00:00", datetime.datetime(2026, 12, 20, 7, 0, tzinfo=UTC)),  # no offset: UTC
        ("", None),
        (None, None),
        ("yesterday", None),
    ],
)
def test_instant_reads_engine_times(text, expected):
    found = instants.instant(text)
    assert found == expected
    if found is not None:
        assert found.tzinfo is not None


def test_utc_text_is_whole_seconds_with_z():
    moment = datetime.datetime(2026, 12, 20, 8, 0, 5, 999999, tzinfo=BERLIN)
    assert instants.utc_text(moment) == "2026-12-20T07:00:05Z"


@pytest.mark.parametrize(
    ("typed", "zone", "expected"),
    [
        ("2026-12-20T08:00", BERLIN, "2026-12-20T07:00:00+00:00"),  # CET
        ("2026-07-01T12:00", BERLIN, "2026-07-01T10:00:00+00:00"),  # CEST
        ("2026-03-29T01:59", BERLIN, "2026-03-29T00:59:00+00:00"),  # just before the gap
        ("2026-03-29T02:00", BERLIN, "2026-03-29T01:00:00+00:00"),  # skipped: when the gap ends, 03:00 CEST
        ("2026-03-29T02:30", BERLIN, "2026-03-29T01:00:00+00:00"),
        ("2026-03-29T02:59:59", BERLIN, "2026-03-29T01:00:00+00:00"),
        ("2026-03-29T03:00", BERLIN, "2026-03-29T01:00:00+00:00"),
        ("2026-10-25T02:30", BERLIN, "2026-10-25T00:30:00+00:00"),  # repeated: its first occurrence (CEST)
        ("2026-10-25T03:00", BERLIN, "2026-10-25T02:00:00+00:00"),
        ("2026-03-08T02:30", NEW_YORK, "2026-03-08T07:00:00+00:00"),  # skipped: 03:00 EDT
        ("2026-11-01T01:30", NEW_YORK, "2026-11-01T05:30:00+00:00"),  # repeated: 01:30 EDT
        ("2026-12-20T08:00:30.250000", BERLIN, "2026-12-20T07:00:30.250000+00:00"),  # kept as given
    ],
)
def test_wall_instant_follows_the_engine_rule(typed, zone, expected):
    found = wall_to_instant(wall(typed), zone)
    assert found.isoformat() == expected
    assert found.tzinfo == UTC
