"""What the decision loop costs: one zone's pure decision, and a whole loop over real parts.

``python benchmarks/decision.py [--zones 20] [--runs 30] [--iterations 20000]``,
from the repository root, prints two figures:

- the cost of :func:`rpymostat.decide.evaluate.decide` (inputs built and decided) per call, in µs
  (a zone with 3 weighted fresh sensors, the built-in hysteresis plugin and
  the safety review; the median of 5 rounds of ``--iterations`` calls): the
  pure part of every zone's decision;
- one whole ``DecisionLoop.run_all()`` as the engine runs it: the real
  reactor and clock, a real SQLite storage in a temporary directory,
  ``--zones`` zones (the ``default`` zone among them) with 3 weighted sensors
  each, all with fresh readings, and each zone's heat output on a relay of
  one real ``rpymostat-control`` process (20 sim relays, minimum times 0),
  registered in storage as ``POST /v1/controls/register`` would.  Every loop
  reads the zones and sensors, takes each target from the timeline cache,
  decides, and POSTs each relay its desired state over a keep-alive
  connection.  The first loop (half the zones switch their heat on, so the
  output ledger and the runs are written) is shown apart; the median and p95
  of the ``--runs`` loops after it, the cost per zone, this process's CPU
  per loop, and the share of the engine's default 30 s interval a loop takes.

Figures, not a test; the exit status is 1 only when a loop went wrong (a
zone undecided, a relay not reached or not in the state decided).
"""

import argparse
import datetime
import statistics
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from control import ControlUnit, default_script, percentile  # noqa: E402  (beside this script)
from twisted.internet import task  # noqa: E402
from twisted.internet.defer import ensureDeferred  # noqa: E402
from twisted.logger import (  # noqa: E402
    FilteringLogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    textFileLogObserver,
)

from rpymostat.control_loop.loop import build_decision_loop  # noqa: E402
from rpymostat.decide.evaluate import decide  # noqa: E402
from rpymostat.decide.hysteresis import Hysteresis  # noqa: E402
from rpymostat.decide.inputs import zone_inputs  # noqa: E402
from rpymostat.decide.plugin import GROUP as DECISION_GROUP  # noqa: E402
from rpymostat.decide.plugin import IDecisionPlugin
from rpymostat.decide.state import OutputState  # noqa: E402
from rpymostat.decide.temperature import Sample  # noqa: E402
from rpymostat.events import EventBus  # noqa: E402
from rpymostat.protocol.client import JsonClient  # noqa: E402
from rpymostat.protocol.plugins import load_plugins  # noqa: E402
from rpymostat.schedule import zone_settings  # noqa: E402
from rpymostat.schedule.cache import TimelineCache  # noqa: E402
from rpymostat.schedule.rules import Kind, Setpoints, Source  # noqa: E402
from rpymostat.schedule.rules_plugin import RulesSchedule  # noqa: E402
from rpymostat.schedule.timeline import Segment  # noqa: E402
from rpymostat.storage.interface import Reading  # noqa: E402
from rpymostat.storage.sqlite import SQLiteStorage  # noqa: E402

WEIGHTS = (1.0, 0.5, 2.0)  # three sensors per zone
INTERVAL_S = 30.0  # EngineConfig's default decision interval


def pure_cost(iterations, rounds=5):
    """Median µs per decision (``zone_inputs`` then ``decide``) for a cold zone with 3 fresh weighted sensors."""
    now = time.time()
    weights = {f"t{index}": weight for index, weight in enumerate(WEIGHTS)}
    settings = {"name": "bench", **zone_settings.ZONE_DEFAULTS, "sensors": weights, "outputs": {"heat": "unit/sim-1"}}
    begin = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    segment = Segment(
        begin, begin + datetime.timedelta(hours=2), Setpoints(heat=21.0), Source(Kind.DEFAULT, None, "zone default")
    )
    samples = {sensor: Sample(19.0 + index / 10, now - 20) for index, sensor in enumerate(weights)}
    states = {"heat": OutputState(False, now - 3600)}
    decision_plugins = {"hysteresis": Hysteresis()}
    inputs = zone_inputs("bench", settings, segment, samples, states, decision_plugins)
    decision = decide(inputs, now)
    assert decision.outputs["heat"] and "failed" not in decision.final.reason, decision.final.reason
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(iterations):
            decide(zone_inputs("bench", settings, segment, samples, states, decision_plugins), now)
        timings.append((time.perf_counter() - started) / iterations * 1e6)
    return statistics.median(timings)


async def house(storage, unit, relays, count, now):
    """``count`` zones with 3 fresh sensors each, zone i heating through sim-i; half are cold."""
    await storage.put_relay_unit(
        relays["host_id"],
        {
            "host_id": relays["host_id"],
            "url": unit.url,
            "relays": {relay: {"type": "sim", "state": found["state"]} for relay, found in relays["relays"].items()},
            "secret": unit.secret,
        },
        now,
    )
    readings = []
    for number in range(1, count + 1):
        name = zone_settings.DEFAULT_ZONE if number == 1 else f"zone-{number:02d}"
        sensors = {f"{name}-t{index}": weight for index, weight in enumerate(WEIGHTS)}
        base = 19.0 if number % 2 else 22.0  # heat target 21 C: odd zones heat, even ones do not
        readings += [Reading(sensor, "DS18B20", base + index / 10, now) for index, sensor in enumerate(sensors)]
        document = {
            **zone_settings.ZONE_DEFAULTS,
            "default_heat_setpoint": 21.0,
            "sensors": sensors,
            "outputs": {"heat": f"{relays['host_id']}/sim-{number}"},
        }
        await storage.put_zone(name, document, now)
    await storage.record_readings("bench-sensors", readings)


def check(loop, count):
    """Why the last loop went wrong, or None: every zone decided, every relay as decided."""
    if len(loop.reports) != count:
        return f"{len(loop.reports)} of {count} zones decided"
    for zone, report in loop.reports.items():
        if "failed" in report.decision.final.reason:
            return f"{zone}: {report.decision.final.reason}"
        for delivery in report.deliveries.values():
            if delivery.on is None or delivery.on != delivery.desired:
                return f"{zone}: {delivery}"
    return None


async def loop_cost(reactor, unit, relays, args, data_dir):
    """Wall and CPU seconds of each ``run_all()``, the first one included."""
    storage = SQLiteStorage(Path(data_dir) / "engine.sqlite3", reactor)
    await storage.open()
    client = JsonClient(reactor)
    try:
        await house(storage, unit, relays, args.zones, reactor.seconds())
        timelines = TimelineCache(RulesSchedule(storage, ZoneInfo("UTC")), storage, reactor)
        events = EventBus()
        events.subscribe(timelines.on_event)
        loop = build_decision_loop(
            storage,
            timelines,
            events,
            reactor,
            client,
            {name: plugin() for name, plugin in load_plugins(DECISION_GROUP, IDecisionPlugin).items()},
        )
        await loop.load()
        await timelines.refresh_all()  # as the engine's timeline timer does at start
        runs = []
        for _ in range(args.runs + 1):
            wall, cpu = time.perf_counter(), time.process_time()
            await loop.run_all()
            runs.append((time.perf_counter() - wall, time.process_time() - cpu))
            problem = check(loop, args.zones)
            if problem:
                raise RuntimeError(f"the decision loop went wrong: {problem}")
        heating = sum(report.decision.outputs["heat"] for report in loop.reports.values())
        return runs, heating
    finally:
        await client.close()
        await storage.close()


def report(pure_us, runs, heating, args):
    (first_wall, first_cpu), steady = runs[0], runs[1:]
    walls = [wall * 1000 for wall, _ in steady]
    median, p95 = statistics.median(walls), percentile(walls, 0.95)
    cpu = statistics.median(cpu * 1000 for _, cpu in steady)
    print(f"decide, 3 weighted sensors            {pure_us:8.1f} µs a call (median of 5 x {args.iterations})")
    print(f"DecisionLoop.run_all(): {args.zones} zones x 3 sensors, SQLite, one rpymostat-control, {heating} heating")
    print(f"  first loop (switches, writes)       {first_wall * 1000:8.1f} ms (CPU {first_cpu * 1000:.1f} ms)")
    print(f"  loop median / p95 of {args.runs:<3}            {median:8.1f} / {p95:.1f} ms")
    print(f"  per zone (median)                   {median / args.zones:8.2f} ms")
    print(f"  engine CPU a loop (median)          {cpu:8.1f} ms")
    print(f"  share of the {INTERVAL_S:g} s interval (p95)      {p95 / 1000 / INTERVAL_S:8.3%}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zones", type=int, default=20, help="zones, one relay each (20)")
    parser.add_argument("--runs", type=int, default=30, help="loops timed after the first (30)")
    parser.add_argument("--iterations", type=int, default=20000, help="decisions a round (20000)")
    parser.add_argument("--script", default=None, help="the rpymostat-control to run (default: beside python)")
    args = parser.parse_args(argv)
    # Warnings and failures the loop logs (it never raises) go to stderr; stdout stays ours.
    globalLogBeginner.beginLoggingTo(
        [FilteringLogObserver(textFileLogObserver(sys.stderr), [LogLevelFilterPredicate(LogLevel.warn)])],
        redirectStandardIO=False,
    )
    pure_us = pure_cost(args.iterations)
    with tempfile.TemporaryDirectory(prefix="rpymostat-bench-decision-") as data_dir:
        unit = ControlUnit(args.script or default_script(), Path(data_dir) / "control", relays=args.zones)
        try:
            relays = unit.start()

            async def measure(reactor):
                runs, heating = await loop_cost(reactor, unit, relays, args, data_dir)
                report(pure_us, runs, heating, args)

            task.react(lambda reactor: ensureDeferred(measure(reactor)))
        except RuntimeError as error:
            print(f"benchmark broke: {error}", file=sys.stderr)
            return 1
        finally:
            unit.stop()


if __name__ == "__main__":
    sys.exit(main())
