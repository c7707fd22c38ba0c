"""The decision loop: every interval, each zone's inputs in, its relays' states out.

Per zone it takes the target in force from the timeline cache, the sensors'
newest readings (kept in memory from the readings events, see
:mod:`.samples`) and the outputs' real states, read once into a frozen
:class:`~rpymostat.decide.inputs.ZoneInputs`; :func:`rpymostat.decide.evaluate.decide`
turns them into a decision; the dispatcher sends every configured output its
desired state (re-sent each loop, so a restarted unit converges and its lease
stays fresh); what the units report goes to the output ledger and the run
recorder.  A rule change or a unit registering runs the loop at once, so a
hold takes effect in a second, not at the next tick; requests arriving during
a run are coalesced into one more run.  What it finds is announced on the
event bus: ``zone.decided`` (when a zone's outputs or reason change),
``output.switched``, ``sensor.stale``/``sensor.back`` and ``plugin.error``.

It fails safe: a zone that cannot be decided (its settings unreadable, the
database down, any exception) has its outputs sent to their safe state as a
safety off, and its state says why; a run that cannot even list the zones
does the same for every zone it knew.  Nothing raised here stops the loop.
Wall-clock time comes from the injected ``clock`` (schedules, display);
every duration is measured on the injected ``monotonic`` clock.
"""

import dataclasses
from collections.abc import Mapping

from twisted.application.internet import TimerService
from twisted.logger import Logger

from rpymostat.control_loop.coalesce import EVERY_ZONE, CoalescingRunner
from rpymostat.control_loop.dispatch import RelayDispatcher
from rpymostat.control_loop.outputs import OutputLedger
from rpymostat.control_loop.runs import RunRecorder
from rpymostat.control_loop.samples import SensorSamples
from rpymostat.decide.evaluate import ZoneDecision, decide
from rpymostat.decide.inputs import zone_inputs
from rpymostat.decide.safety import Limits
from rpymostat.decide.state import COOL, FAN, HEAT
from rpymostat.protocol.watchdog import Watchdog
from rpymostat.schedule import zone_settings
from rpymostat.schedule.cache import TimelineUnavailable, UnknownZone

log = Logger()


@dataclasses.dataclass(frozen=True)
class ZoneReport:
    """A zone's latest decision (``decided_at`` in wall-clock epoch seconds) and what its outputs did."""

    decision: ZoneDecision
    settings: Mapping
    deliveries: Mapping[str, object]  # output name -> Delivery
    following: object | None = None  # the next timeline segment
    decided_at: float = 0.0


class DecisionLoop(TimerService):
    """Decides every zone every ``interval`` seconds on ``clock``; pings ``watchdog`` after each tick."""

    def __init__(
        self,
        storage,
        timelines,
        dispatcher,
        ledger,
        recorder,
        events,
        clock,
        plugins,
        limits=Limits(),
        interval=30.0,
        stale_after=300.0,
        monotonic=None,
        watchdog=None,
    ):
        super().__init__(interval, self._tick)
        self.clock = clock
        self._monotonic = monotonic if monotonic is not None else clock.seconds
        self._storage, self._timelines = storage, timelines
        self._dispatcher, self.ledger, self.recorder = dispatcher, ledger, recorder
        self._events, self._plugins = events, plugins
        self._limits, self._stale_after = limits, stale_after
        self._watchdog = watchdog if watchdog is not None else Watchdog({})
        self._runner = CoalescingRunner(self._run)
        self.samples = SensorSamples()
        self.reports = {}  # zone -> ZoneReport
        self.failures = {}  # zone -> why its last decision failed
        self.failed_runs = 0  # runs in which some zone could not be decided
        self._zone_outputs = {}  # zone -> {output: address}, from the last successful read
        self._last_errors = {}  # zone ("" for listing them) -> the failure logged last, with its traceback
        self._stale = set()  # sensors announced stale and not back since
        self._plugin_errors = {}  # zone -> its decision plugin's failure, announced

    def on_event(self, event):
        """Subscribe this to the event bus: take readings, and decide again when rules or units change."""
        if event.topic == "sensor.readings":
            self.samples.received(event.data["readings"], self._monotonic())
        elif event.topic == "sensor.deleted":
            self.samples.forget(event.data["sensor_id"])
            self._stale.discard(event.data["sensor_id"])
        elif event.topic == "rule.changed":
            self.run_zones([event.data["zone"]])
        elif event.topic == "control.registered":
            self.run_all()

    def run_all(self):
        """Decide every zone; fires when a run started after this call is done, never fails."""
        return self._runner.request(EVERY_ZONE)

    def run_zones(self, names):
        """Decide the named zones soon; fires when done, never fails."""
        return self._runner.request(names)

    def settled(self):
        """Fires once every run asked for before this call has finished."""
        return self._runner.settled()

    def _tick(self):
        """The timer's job: a run of every zone, then a watchdog ping (only once it completed)."""
        return self.run_all().addCallback(lambda _: self._watchdog.ping())

    async def load(self):
        """Read the outputs' real states, open runs and sensors; await it before starting the loop."""
        await self.ledger.load()
        await self.recorder.load()
        await self.samples.load(self._storage, self.clock.seconds(), self._monotonic())

    async def _run(self, names):
        self._dispatcher.begin_run()
        try:
            listed = await zone_settings.zone_names(self._storage)
        except Exception as error:
            self._log_failure("listing the zones failed; every known zone goes to its safe state", error)
            self.failed_runs += 1
            for zone in sorted(self._zone_outputs):
                await self._fail_safe(zone, error)
            return
        self._last_errors.pop("", None)
        chosen = listed if names is EVERY_ZONE else [zone for zone in listed if zone in names]
        for zone in set(names or ()) - set(listed):  # deleted since it was asked for
            self.reports.pop(zone, None)
        for zone in chosen:
            await self._decide_or_fail_safe(zone)
        if names is EVERY_ZONE:
            await self._release_abandoned(set(listed))

    async def _decide_or_fail_safe(self, zone):
        try:
            settings = await zone_settings.zone_record(self._storage, zone)
            if settings is None:  # deleted meanwhile
                self.reports.pop(zone, None)
                return
            self._zone_outputs[zone] = dict(settings[0].get("outputs", {}))
            await self._decide(zone, settings[0])
            self.failures.pop(zone, None)
            self._last_errors.pop(zone, None)
        except Exception as error:
            self._log_failure(f"deciding zone {zone!r} failed; its outputs go to their safe state", error, zone)
            self.failed_runs += 1
            await self._fail_safe(zone, error)

    def _log_failure(self, what, error, zone=None):
        """The traceback the first time; one line on each tick the same failure goes on (a database outage)."""
        key = zone if zone is not None else ""
        if self._last_errors.get(key) == str(error):
            log.warn("{what}: {error} (still)", what=what, error=error)
        else:
            log.failure(what)
        self._last_errors[key] = str(error)

    async def _fail_safe(self, zone, error):
        """``zone`` could not be decided: every output it has to its safe state, and say so."""
        self.reports.pop(zone, None)  # never show an old decision as the current one
        reason = f"deciding zone {zone!r} failed: {error}"
        self.failures[zone] = f"{reason}; its outputs were sent to their safe state"
        for name, address in sorted(self._zone_outputs.get(zone, {}).items()):
            try:
                await self._deliver(zone, name, address, False, reason, safety=reason)
            except Exception:
                log.failure(
                    "zone {zone} {output} ({address}) could not be sent to its safe state; its unit's lease will",
                    zone=zone,
                    output=name,
                    address=address,
                )

    async def _decide(self, zone, settings):
        now, now_wall = self._monotonic(), self.clock.seconds()
        segment = following = target_error = None
        try:
            segment, following = await self._timelines.target(zone)
        except (TimelineUnavailable, UnknownZone) as error:
            target_error = str(error)
        except Exception as error:
            log.failure("the timeline of zone {zone} could not be read", zone=zone)
            target_error = f"the timeline could not be read: {error!r}"
        addresses = settings.get("outputs", {})
        states = {name: self.ledger.state(addresses[name]) for name in (HEAT, COOL) if name in addresses}
        inputs = zone_inputs(
            zone,
            settings,
            segment,
            self.samples.samples(),
            {k: v for k, v in states.items() if v is not None},
            self._plugins,
            self._limits,
            self._stale_after,
            target_error,
        )
        decision = decide(inputs, now)
        deliveries = {}
        # Every "off" goes out before any "on": heating is told to stop before cooling may start.
        for name, address in sorted(addresses.items(), key=lambda item: (decision.outputs[item[0]], item[0])):
            deliveries[name] = await self._deliver(
                zone,
                name,
                address,
                decision.outputs[name],
                _reason(decision, name),
                decision.final.safety_off.get(name),
            )
            shown = self.ledger.shown(address)
            if shown is not None:
                try:
                    await self.recorder.observe(
                        zone, name, shown, self.clock.seconds(), decision.temperature.value, _target(decision, name)
                    )
                except Exception:  # history is lost, not control: the decision stands
                    log.failure("zone {zone} {output}: the run could not be recorded", zone=zone, output=name)
        previous = self.reports.get(zone)
        self.reports[zone] = ZoneReport(decision, settings, deliveries, following, now_wall)
        self._note_sensors(inputs, now, now_wall)
        self._note_plugin(zone, decision, now_wall)
        if (
            previous is None
            or previous.decision.outputs != decision.outputs
            or previous.decision.final.reason != decision.final.reason
        ):
            segment = decision.segment
            self._events.publish(
                "zone.decided",
                now_wall,
                zone=zone,
                outputs=dict(decision.outputs),
                reason=decision.final.reason,
                mode=decision.mode,
                temperature=decision.temperature.value,
                heat_setpoint=segment.setpoints.heat if segment is not None else None,
                cool_setpoint=segment.setpoints.cool if segment is not None else None,
            )

    def _note_sensors(self, inputs, now, now_wall):
        """Announce each of the zone's sensors going stale (``sensor.stale``) or fresh again (``sensor.back``).

        Judged as the decision judges it (:func:`~rpymostat.decide.temperature.effective_temperature`:
        received more than ``stale_after`` s ago on the monotonic clock), once per sensor however
        many zones weigh it; a sensor that never reported is neither.
        """
        for sensor_id in sorted({**inputs.zone_sensors, **inputs.weights}):
            sample = inputs.samples.get(sensor_id)
            if sample is None:
                continue
            age = now - sample.seen_at
            if age > self._stale_after and sensor_id not in self._stale:
                self._stale.add(sensor_id)
                self._events.publish("sensor.stale", now_wall, sensor_id=sensor_id, seconds_since=round(age, 1))
            elif age <= self._stale_after and sensor_id in self._stale:
                self._stale.discard(sensor_id)
                self._events.publish("sensor.back", now_wall, sensor_id=sensor_id)

    def _note_plugin(self, zone, decision, now_wall):
        """Announce ``plugin.error`` when the zone's decision plugin starts failing (or fails anew).

        :func:`~rpymostat.decide.evaluate.decide` catches the failure, logs it
        and decides by the built-in hysteresis; its wish's reason is how it says so.
        """
        failed = f"decision plugin {decision.plugin!r} failed ("
        error = decision.wish.reason if decision.wish.reason.startswith(failed) else None
        if error == self._plugin_errors.get(zone):
            return
        if error is None:
            del self._plugin_errors[zone]
            return
        self._plugin_errors[zone] = error
        self._events.publish("plugin.error", now_wall, zone=zone, plugin=decision.plugin, error=error)

    async def _deliver(self, zone, name, address, desired, reason, safety=None):
        """Send one output its state and record what its unit reports; returns the Delivery."""
        asked = self._monotonic()  # before asking: a slow answer then makes the switch look earlier, never later
        delivery = await self._dispatcher.send(address, desired, safety)
        if delivery.reached and await self._observed(address, delivery, asked):
            log.info(
                "zone {zone} {output} is now {state}: {reason}",
                zone=zone,
                output=name,
                state="on" if delivery.on else "off",
                reason=reason,
            )
            self._events.publish(
                "output.switched", self.clock.seconds(), zone=zone, output=name, address=address, on=delivery.on
            )
        elif not delivery.reached:
            log.warn(
                "zone {zone} {output} ({address}): {note}", zone=zone, output=name, address=address, note=delivery.note
            )
        return delivery

    async def _observed(self, address, delivery, asked):
        """Note what the unit reported; True if the output switched.

        The ledger holds the new state in memory before it stores it, so a
        failing write (a full SD card) loses only persistence: it must not
        turn a successful switch into an undecidable zone and a safety off,
        which would short-cycle the boiler at every minimum off time.
        """
        try:
            return await self.ledger.observe(address, delivery.on, delivery.seconds_in_state, asked)
        except Exception:
            log.failure("{address}: its state could not be stored; it is kept in memory", address=address)
            return False

    async def _release_abandoned(self, listed):
        """Switch off outputs still on that no zone names any more, and end the runs of removed outputs."""
        for zone in set(self._zone_outputs) - listed:
            del self._zone_outputs[zone]
        for gone in (self.reports, self.failures, self._plugin_errors):
            for zone in set(gone) - listed:
                del gone[zone]
        named = {address for outputs in self._zone_outputs.values() for address in outputs.values()}
        for address in self.ledger.addresses():
            if address not in named and self.ledger.state(address).on:
                reason = "no zone uses this output any more"
                await self._deliver(None, "released", address, False, reason, safety=reason)
        active = {(zone, name) for zone, outputs in self._zone_outputs.items() for name in outputs}
        await self.recorder.close_others(active, self.clock.seconds())


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


def build_decision_loop(
    storage,
    timelines,
    events,
    clock,
    client,
    plugins,
    limits=Limits(),
    interval=30.0,
    stale_after=300.0,
    run_sample=300.0,
    monotonic=None,
    watchdog=None,
) -> DecisionLoop:
    """The loop with its ledger, recorder and dispatcher (``client`` is a JsonClient), subscribed to ``events``.

    ``monotonic`` (a callable) measures every duration; it defaults to
    ``clock.seconds``, right for tests on a Clock; the engine passes
    :func:`time.monotonic`.
    """
    monotonic = monotonic if monotonic is not None else clock.seconds
    loop = DecisionLoop(
        storage,
        timelines,
        RelayDispatcher(storage, client),
        OutputLedger(storage, clock, monotonic),
        RunRecorder(storage, run_sample),
        events,
        clock,
        plugins,
        limits,
        interval,
        stale_after,
        monotonic,
        watchdog,
    )
    events.subscribe(loop.on_event)
    return loop
