"""How history keeps values, shared by every backend so they answer alike.

A year of one-minute readings from five sensors is 2.6 million values; kept
as floats under text keys they would fill an SD card for nothing.  History
therefore keeps each value as an integer number of hundredths (a DS18B20
resolves 0.0625 °C, so nothing a sensor can tell is lost) at an integer
millisecond (the precision of every time the API shows, see
:mod:`rpymostat.protocol.times`), and sums them in rollups: per
:data:`QUARTER` (15 minutes, aligned to UTC, which fits every time zone's
offset) and per local day in the engine's time zone, so a year is 365 rows a
series however many readings it had.

A zone's effective temperature is a series like a sensor's, named by
:func:`zone_series`; sensor ids cannot hold ``/``, so the names never meet.
"""

import datetime
import math

from rpymostat.storage.interface import Aggregate

#: Seconds in one rollup quarter.
QUARTER = 900

#: Seconds in a day, for the units of day numbers.
DAY = 86400


def to_hundredths(value):
    """``value`` as whole hundredths (None stays None), rounded half away from zero."""
    if value is None:
        return None
    scaled = abs(value) * 100
    rounded = math.floor(scaled + 0.5)
    return int(math.copysign(rounded, value)) if rounded else 0


def from_hundredths(hundredths):
    """Hundredths back to a float with two decimals (None stays None)."""
    return None if hundredths is None else hundredths / 100


def millis(timestamp):
    """Epoch seconds as the integer millisecond history keeps: the nearest, a half rounded up
    (as SQLite's ``round`` does for the times the schema upgrade converts), so a float
    holding a whole millisecond is never a hair below it and a reading sent again after
    the upgrade lands where the upgrade put it."""
    return math.floor(timestamp * 1000 + 0.5)


def seconds(ms):
    """A kept millisecond back to epoch seconds."""
    return ms / 1000


def quarter(ms):
    """The start (epoch seconds) of the 15-minute rollup that holds the millisecond ``ms``."""
    return ms // (QUARTER * 1000) * QUARTER


def local_day(ms, timezone):
    """The day number (proleptic Gregorian ordinal) of the millisecond ``ms``'s date in ``timezone``."""
    return datetime.datetime.fromtimestamp(ms // 1000, timezone).date().toordinal()


def zone_series(zone):
    """The series name of ``zone``'s effective temperature."""
    return f"zone/{zone}"


class Rollup:
    """Count, min, max and sum of hundredths: one rollup row while it is being summed."""

    __slots__ = ("count", "low", "high", "total")

    def __init__(self):
        self.count, self.low, self.high, self.total = 0, None, None, 0

    def add(self, hundredths):
        self.count += 1
        self.total += hundredths
        self.low = hundredths if self.low is None else min(self.low, hundredths)
        self.high = hundredths if self.high is None else max(self.high, hundredths)

    def merge(self, count, low, high, total):
        self.count += count
        self.total += total
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)


def aggregate_rows(rows, start, step):
    """``[Aggregate]`` from ``(key, count, low, high, total)`` rows in hundredths, slots of
    ``step`` counted from ``start``, in slot order; a mean is rounded to hundredths, half up."""
    slots = {}
    for key, count, low, high, total in rows:
        slot = (key - start) // step
        found = slots.get(slot)
        if found is None:
            slots[slot] = [count, low, high, total]
        else:
            found[0] += count
            found[1] = min(found[1], low)
            found[2] = max(found[2], high)
            found[3] += total
    return [
        Aggregate(slot, count, low / 100, math.floor(total / count + 0.5) / 100, high / 100)
        for slot, (count, low, high, total) in sorted(slots.items())
        if count
    ]


def aggregate_values(rows, start, step):
    """``[Aggregate]`` from ``(key, hundredths)`` rows in key order, slots of ``step`` from ``start``.

    The raw readings of a range come ordered by their key already, so a slot
    is summed as its rows pass, with no sort: this is the path of every chart
    at one-minute steps.
    """
    answer = []
    slot, count, low, high, total = None, 0, 0, 0, 0
    for key, value in rows:
        this = (key - start) // step
        if this != slot:
            if slot is not None:
                answer.append(Aggregate(slot, count, low / 100, math.floor(total / count + 0.5) / 100, high / 100))
            slot, count, low, high, total = this, 0, value, value, 0
        count += 1
        total += value
        if value < low:
            low = value
        elif value > high:
            high = value
    if slot is not None:
        answer.append(Aggregate(slot, count, low / 100, math.floor(total / count + 0.5) / 100, high / 100))
    return answer
