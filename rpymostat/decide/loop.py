"""The decision loop: every interval, each zone's inputs in, its relays' states out.

Per zone it takes the target in force from the timeline cache, the sensors'
newest readings and the outputs' real states; :func:`.evaluate.decide_zone`
turns them into a decision; the dispatcher sends every configured output its
desired state (re-sent each loop, so a restarted unit converges and its lease
stays fresh); what the units report goes to the output ledger and the run
recorder.  A rule change or a unit registering runs the loop at once, so a
hold takes effect in a second, not at the next tick.  Runs never overlap.
Time comes only from the injected clock.
"""

import dataclasses
from typing import Mapping, Optional

from twisted.application.internet import TimerService
from twisted.internet.defer import DeferredLock, ensureDeferred
from twisted.logger import Logger

from rpymostat.decide.dispatch import RelayDispatcher
from rpymostat.decide.evaluate import ZoneDecision, decide_zone
from rpymostat.decide.outputs import OutputLedger
from rpymostat.decide.runs import RunRecorder
from rpymostat.decide.safety import Limits
from rpymostat.decide.state import COOL, FAN, HEAT
from rpymostat.decide.temperature import Sample
from rpymostat.schedule import zones
from rpymostat.schedule.cache import TimelineUnavailable, UnknownZone

log = Logger()


@dataclasses.dataclass(frozen=True)
class ZoneReport:
    """A zone's latest decision and what its outputs did about it."""

    decision: ZoneDecision
    settings: Mapping
    deliveries: Mapping[str, object]  # output name -> Delivery
    following: Optional[object] = None  # the next timeline segment


class DecisionLoop(TimerService):
    """Decides every zone every ``interval`` seconds on ``clock``."""

    def __init__(self, storage, timelines, dispatcher, ledger, recorder, events, clock, plugins,
                 limits=Limits(), interval=30.0, stale_after=300.0):
        super().__init__(interval, self.run_all)
        self.clock = clock
        self._storage, self._timelines = storage, timelines
        self._dispatcher, self.ledger, self.recorder = dispatcher, ledger, recorder
        self._events, self._plugins = events, plugins
        self._limits, self._stale_after = limits, stale_after
        self._lock = DeferredLock()
        self.reports = {}  # zone -> ZoneReport
        self.failures = {}  # zone -> why its last decision failed
        # When the engine last received each sensor's reading: a sensor whose clock runs
        # ahead must not look fresh for longer than it really is.
        self._received = {}

    def on_event(self, event):
        """Subscribe this to the event bus: decide again at once when rules or units change."""
        if event.topic == "sensor.readings":
            for reading in event.data["readings"]:
                self._received[reading.sensor_id] = event.at
        elif event.topic == "rule.changed":
            self.run_zones([event.data["zone"]])
        elif event.topic == "control.registered":
            self.run_all()

    def run_all(self):
        """Decide every zone (the timer's job); fires when done, never fails."""
        return self._locked(self._run_all)

    def run_zones(self, names):
        """Decide the named zones now; fires when done, never fails."""
        return self._locked(lambda: self._run_zones(names))

    def settled(self):
        """Fires once every run started before this call has finished (runs queue in order)."""
        return self._lock.run(lambda: None)

    def _locked(self, work):
        running = self._lock.run(lambda: ensureDeferred(work()))
        return running.addErrback(lambda failure: log.failure("the decision loop failed; next tick retries", failure))

    async def load(self):
        """Read the outputs' real states and open runs; await it before starting the loop."""
        await self.ledger.load()
        await self.recorder.load()

    async def _run_all(self):
        named = await self._run_zones(await zones.zone_names(self._storage))
        await self._release_abandoned(named)

    async def _run_zones(self, names):
        """Decide each zone; returns the output addresses the zones name."""
        samples, named = None, set()
        self._dispatcher.begin_run()
        for zone in names:
            found = await zones.zone_record(self._storage, zone)
            if found is None:
                self.reports.pop(zone, None)
                continue
            named.update(found[0].get("outputs", {}).values())
            if samples is None:
                samples = {
                    s.sensor_id: Sample(s.value, min(s.last_seen, self._received.get(s.sensor_id, s.last_seen)))
                    for s in await self._storage.sensors()
                }
            try:
                await self._decide(zone, found[0], samples)
                self.failures.pop(zone, None)
            except Exception as error:
                log.failure("deciding zone {zone} failed; next tick retries", zone=zone)
                self.reports.pop(zone, None)  # never show an old decision as the current one
                self.failures[zone] = f"deciding zone {zone!r} failed: {error}"
        return named

    async def _decide(self, zone, settings, samples):
        now = self.clock.seconds()
        segment = following = target_error = None
        try:
            segment, following = await self._timelines.target(zone)
        except (TimelineUnavailable, UnknownZone) as error:
            target_error = str(error)
        addresses = settings.get("outputs", {})
        states = {name: self.ledger.state(addresses[name]) for name in (HEAT, COOL) if name in addresses}
        decision = decide_zone(
            zone, settings, segment, samples, {k: v for k, v in states.items() if v is not None},
            now, self._plugins, self._limits, self._stale_after, target_error,
        )
        deliveries = {}
        # Every "off" goes out before any "on": heating is told to stop before cooling may start.
        for name, address in sorted(addresses.items(), key=lambda item: (decision.outputs[item[0]], item[0])):
            deliveries[name] = await self._deliver(zone, name, address, decision.outputs[name],
                                                   lambda output=name: _reason(decision, output))
            state = self.ledger.state(address)
            if state is not None:
                await self.recorder.observe(zone, name, state, self.clock.seconds(),
                                            decision.temperature.value, _target(decision, name))
        previous = self.reports.get(zone)
        self.reports[zone] = ZoneReport(decision, settings, deliveries, following)
        if previous is None or previous.decision.outputs != decision.outputs or \
                previous.decision.final.reason != decision.final.reason:
            self._events.publish("zone.decided", now, zone=zone, outputs=dict(decision.outputs),
                                 reason=decision.final.reason)

    async def _deliver(self, zone, name, address, desired, reason):
        """Send one output its state and record what its unit reports; returns the Delivery."""
        now = self.clock.seconds()  # before asking: a slow answer then makes the switch look earlier, never later
        delivery = await self._dispatcher.send(address, desired)
        if delivery.reached and await self.ledger.observe(address, delivery.on, delivery.seconds_in_state, now):
            log.info("zone {zone} {output} is now {state}: {reason}", zone=zone, output=name,
                     state="on" if delivery.on else "off", reason=reason())
            self._events.publish("output.switched", now, zone=zone, output=name, address=address,
                                 on=delivery.on)
        elif not delivery.reached:
            log.warn("zone {zone} {output} ({address}): {note}", zone=zone, output=name,
                     address=address, note=delivery.note)
        return delivery

    async def _release_abandoned(self, named):
        """Switch off outputs still on that no zone names any more (a zone deleted or re-wired)."""
        for address in self.ledger.addresses():
            state = self.ledger.state(address)
            if address not in named and state.on:
                await self._deliver(None, "released", address, False,
                                    lambda: "no zone uses this output any more")


def _target(decision, output):
    if decision.segment is None:
        return None
    return {HEAT: decision.segment.setpoints.heat, COOL: decision.segment.setpoints.cool}.get(output)


def _reason(decision, output):
    for adjustment in decision.final.adjustments:
        if adjustment.output == output:
            return adjustment.reason
    if output == FAN:
        return "the fan follows heating and cooling"
    return decision.final.reason


def build_decision_loop(storage, timelines, events, clock, client, plugins, limits=Limits(),
                        interval=30.0, stale_after=300.0, run_sample=300.0) -> DecisionLoop:
    """The loop with its ledger, recorder and dispatcher (``client`` is a JsonClient), subscribed to ``events``."""
    loop = DecisionLoop(
        storage, timelines, RelayDispatcher(storage, client), OutputLedger(storage),
        RunRecorder(storage, run_sample), events, clock, plugins, limits, interval, stale_after,
    )
    events.subscribe(loop.on_event)
    return loop
