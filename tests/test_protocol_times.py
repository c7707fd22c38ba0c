"""Every daemon writes an instant the same way: ISO 8601, UTC, milliseconds."""

import datetime

import pytest

from rpymostat.protocol.times import iso_utc
from tests.conftest import NOW


@pytest.mark.parametrize(
    "seconds, text",
    [
        (NOW, "2026-11-25T12:00:00.000+00:00"),
        (NOW + 0.25, "2026-11-25T12:00:00.250+00:00"),
        (NOW + 0.9999, "2026-11-25T12:00:00.999+00:00"),  # truncated, never rounded into the next second
        (946684800, "2000-01-01T00:00:00.000+00:00"),
    ],
)
def test_an_instant_is_written_in_utc_to_the_millisecond(seconds, text):
    assert iso_utc(seconds) == text


def test_what_is_written_reads_back_as_the_same_instant_to_the_millisecond():
    seconds = NOW + 1234.5678
    assert datetime.datetime.fromisoformat(iso_utc(seconds)).timestamp() == pytest.approx(seconds, abs=0.001)
