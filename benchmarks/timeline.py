"""How long the engine takes to compute a zone's timeline from its rules.

``python benchmarks/timeline.py [--schedules 200] [--overrides 50] [--days 7]``
builds a 7-day timeline for one zone with 200 recurring schedules and 50
one-time overrides (a deliberately crowded house), cold, from the rules, then
reads it warm from the engine's timeline cache, and prints both against the
targets (cold < 50 ms, warm < 1 ms).  Rules are generated from a
fixed seed, so every run times the same work.  Figures, not a test.
"""

import argparse
import datetime
import random
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twisted.internet.defer import succeed  # noqa: E402
from twisted.internet.task import Clock  # noqa: E402

from rpymostat.schedule.cache import TimelineCache  # noqa: E402
from rpymostat.schedule.rules import Override, Schedule, Setpoints, Until  # noqa: E402
from rpymostat.schedule.timeline import build  # noqa: E402
from rpymostat.testing import FakeStorage  # noqa: E402

UTC = datetime.UTC
ZONE = ZoneInfo("Europe/Berlin")
BEGIN = datetime.datetime(2026, 11, 23, tzinfo=UTC)
CHANGED = BEGIN - datetime.timedelta(days=30)


def crowded_house(schedules, overrides, seed=2):
    """``schedules`` recurring rules and ``overrides`` one-time ones, from a fixed seed."""
    rng = random.Random(seed)
    days = ["*", "1-5", "0,6", "1", "3", "5"]
    made = []
    for index in range(schedules):
        start = f"{rng.choice([0, 15, 30, 45])} {rng.randrange(24)} * * {rng.choice(days)}"
        if rng.random() < 0.5:
            end, duration = None, datetime.timedelta(minutes=rng.choice([30, 60, 120, 480]))
        else:
            end, duration = f"{rng.choice([0, 30])} {rng.randrange(24)} * * *", None
        made.append(
            Schedule(
                f"s{index}",
                f"schedule {index}",
                "default",
                start,
                Setpoints(heat=rng.choice([17.0, 19.0, 20.5, 21.0])),
                CHANGED,
                end=end,
                duration=duration,
                priority=rng.randrange(3),
            )
        )
    one_time = []
    for index in range(overrides):
        start = BEGIN + datetime.timedelta(minutes=rng.randrange(7 * 24 * 60))
        until = Until.NEXT_SCHEDULE if rng.random() < 0.2 else None
        end = None if until else start + datetime.timedelta(minutes=rng.choice([60, 180, 1440]))
        one_time.append(
            Override(
                f"o{index}",
                f"override {index}",
                "default",
                start,
                Setpoints(heat=rng.choice([12.0, 23.0])),
                CHANGED,
                end=end,
                until=until,
            )
        )
    return made, one_time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=200)
    parser.add_argument("--overrides", type=int, default=50)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    schedules, overrides = crowded_house(args.schedules, args.overrides)
    end = BEGIN + datetime.timedelta(days=args.days)
    timings, segments = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        segments = build(schedules, overrides, [], Setpoints(heat=16.0), ZONE, BEGIN, end)
        timings.append((time.perf_counter() - started) * 1000)
    cold = statistics.median(timings)
    warm = warm_read(schedules, overrides, args.days)
    print(
        f"timeline: {args.schedules} schedules, {args.overrides} overrides, {args.days} days, {len(segments)} segments"
    )
    print(f"cold build, median of {args.repeat}   {cold:9.1f} ms   {'PASS' if cold < 50 else 'FAIL'} (< 50 ms)")
    print(f"warm read from the cache, median   {warm:9.3f} ms   {'PASS' if warm < 1 else 'FAIL'} (< 1 ms)")
    return 0


class PrecomputedRules:
    """A schedule plugin answering from the generated rules, as the rules plugin would."""

    def __init__(self, schedules, overrides):
        self._rules = schedules, overrides

    def timeline(self, zone, default, begin, end):
        return succeed(build(*self._rules, [], default, ZONE, begin, end))


def warm_read(schedules, overrides, days, repeat=200):
    """Median milliseconds to read the whole window from a filled TimelineCache."""
    clock = Clock()
    clock.advance(BEGIN.timestamp())
    cache = TimelineCache(PrecomputedRules(schedules, overrides), FakeStorage(), clock, hours=days * 24 + 1)
    end = BEGIN + datetime.timedelta(days=days)
    cache.timeline("default", BEGIN, end)  # fills the cache
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        read = cache.timeline("default", BEGIN, end)
        timings.append((time.perf_counter() - started) * 1000)
        assert read.called
    return statistics.median(timings)


if __name__ == "__main__":
    sys.exit(main())
