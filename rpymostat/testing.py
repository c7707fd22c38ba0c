"""In-memory fakes of the engine's interfaces, for tests of the code above them.

Each fake passes the same contract suite as the real implementations
(``tests/test_storage_contract.py``), so a test that uses it tests real
behaviour, not a guess.
"""

import dataclasses
import datetime
import functools
import json

from twisted.internet.defer import fail, succeed
from zope.interface import implementer

from rpymostat.storage.interface import (
    IStorage,
    OutputStateRecord,
    RelayUnitRecord,
    RunSample,
    SensorRecord,
    StorageError,
    ZoneRecord,
)
from rpymostat.testing_history import FakeHistory


def _copied(document):
    """A deep copy through JSON, as a real database stores text, not the caller's dict."""
    return json.loads(json.dumps(document))


def _while_available(method):
    """Run ``method`` and fire its result, or fail with StorageError when unavailable."""

    @functools.wraps(method)
    def answer(self, *args, **kwargs):
        if not self.available:
            return fail(StorageError("fake database is unavailable"))
        return succeed(method(self, *args, **kwargs))

    return answer


@implementer(IStorage)
class FakeStorage(FakeHistory):
    """:class:`IStorage` in dictionaries (history: :class:`~rpymostat.testing_history.FakeHistory`).

    Set ``available = False`` to make it behave like a database that stopped
    answering: ``ping`` fires False and every other call fails with
    StorageError, changing nothing.
    """

    description = "memory"

    def __init__(self, timezone=datetime.UTC):
        self.available = True
        self._timezone = timezone
        self._init_history()
        self._sensors = {}
        self._rules = {}
        self._zones = {}
        self._relay_units = {}
        self._output_states = {}
        self._runs = {}
        self._tokens = {}  # name -> TokenRecord
        self._pairings = {}  # pair_id -> PairingRecord

    def open(self):
        return succeed(None)

    def close(self):
        self.available = False
        return succeed(None)

    def ping(self):
        return succeed(self.available)

    @_while_available
    def record_readings(self, host_id, readings, received_at=None):
        readings = list(readings)
        for reading in readings:
            self._store_reading(reading)
            current = self._sensors.get(reading.sensor_id)
            if current is not None and current.last_seen > reading.timestamp:
                continue
            self._sensors[reading.sensor_id] = SensorRecord(
                sensor_id=reading.sensor_id,
                host_id=host_id,
                sensor_type=reading.sensor_type,
                alias=reading.alias,
                extra=reading.extra,
                value=reading.value,
                last_seen=reading.timestamp,
                name=current.name if current else None,
                received_at=reading.timestamp if received_at is None else received_at,
            )
        return [reading.sensor_id for reading in readings]

    @_while_available
    def sensors(self):
        return [self._sensors[key] for key in sorted(self._sensors)]

    @_while_available
    def sensor(self, sensor_id):
        return self._sensors.get(sensor_id)

    @_while_available
    def set_sensor_name(self, sensor_id, name):
        current = self._sensors.get(sensor_id)
        if current is None:
            return None
        self._sensors[sensor_id] = dataclasses.replace(current, name=name)
        return self._sensors[sensor_id]

    @_while_available
    def delete_sensor(self, sensor_id):
        return self._sensors.pop(sensor_id, None) is not None

    history = _while_available(FakeHistory._history)
    aggregates = _while_available(FakeHistory._aggregates)
    prune_readings = _while_available(FakeHistory._prune_readings)
    record_zone_state = _while_available(FakeHistory._record_zone_state)
    setpoint_changes = _while_available(FakeHistory._setpoint_changes)
    run_intervals = _while_available(FakeHistory._run_intervals)

    @_while_available
    def put_rule(self, record):
        self._rules[(record.kind, record.rule_id)] = dataclasses.replace(record, document=_copied(record.document))

    @_while_available
    def rule(self, kind, rule_id):
        return self._rules.get((kind, rule_id))

    @_while_available
    def rules(self, kind, zone=None):
        return [
            record
            for (record_kind, rule_id), record in sorted(self._rules.items())
            if record_kind == kind and (zone is None or record.zone == zone)
        ]

    @_while_available
    def delete_rule(self, kind, rule_id):
        return self._rules.pop((kind, rule_id), None) is not None

    @_while_available
    def put_zone(self, name, document, changed_at):
        self._zones[name] = ZoneRecord(name, _copied(document), float(changed_at))
        return self._zone_copy(name)

    def _zone_copy(self, name):
        """The stored zone with its document copied, so a caller changing it changes nothing stored."""
        found = self._zones.get(name)
        return None if found is None else dataclasses.replace(found, document=_copied(found.document))

    @_while_available
    def zone(self, name):
        return self._zone_copy(name)

    @_while_available
    def zones(self):
        return [self._zone_copy(name) for name in sorted(self._zones)]

    @_while_available
    def delete_zone(self, name):
        return self._zones.pop(name, None) is not None

    @_while_available
    def put_relay_unit(self, host_id, registration, registered_at):
        self._relay_units[host_id] = RelayUnitRecord(host_id, _copied(registration), float(registered_at))
        return self._relay_unit_copy(host_id)

    def _relay_unit_copy(self, host_id):
        found = self._relay_units.get(host_id)
        return None if found is None else dataclasses.replace(found, registration=_copied(found.registration))

    @_while_available
    def relay_unit(self, host_id):
        return self._relay_unit_copy(host_id)

    @_while_available
    def relay_units(self):
        return [self._relay_unit_copy(host_id) for host_id in sorted(self._relay_units)]

    @_while_available
    def put_output_state(self, address, on, since, starts):
        self._output_states[address] = OutputStateRecord(
            address, bool(on), float(since), tuple(float(t) for t in starts)
        )

    @_while_available
    def output_states(self):
        return [self._output_states[address] for address in sorted(self._output_states)]

    @_while_available
    def start_run(self, run):
        self._runs[run.run_id] = dataclasses.replace(run, samples=tuple(run.samples))

    @_while_available
    def add_run_sample(self, run_id, at, temperature):
        run = self._runs.get(run_id)
        if run is None:
            return False
        self._runs[run_id] = dataclasses.replace(run, samples=run.samples + (RunSample(at, temperature),))
        return True

    @_while_available
    def end_run(self, run_id, ended_at, end_temperature):
        run = self._runs.get(run_id)
        if run is None:
            return False
        self._runs[run_id] = dataclasses.replace(run, ended_at=ended_at, end_temperature=end_temperature)
        return True

    @_while_available
    def open_runs(self):
        return [self._runs[run_id] for run_id in sorted(self._runs) if self._runs[run_id].ended_at is None]

    @_while_available
    def runs(self, zone, limit, start=None, end=None):
        found = [
            run
            for run in self._runs.values()
            if run.zone == zone and (start is None or run.started_at >= start) and (end is None or run.started_at < end)
        ]
        return sorted(found, key=lambda run: (run.started_at, run.run_id), reverse=True)[:limit]

    # Tokens and pairing requests: records are frozen, so keeping them is copying them.

    @_while_available
    def put_token(self, record):
        if record.name in self._tokens or any(t.token_hash == record.token_hash for t in self._tokens.values()):
            return False
        self._tokens[record.name] = record
        return True

    @_while_available
    def token(self, name):
        return self._tokens.get(name)

    @_while_available
    def token_by_hash(self, token_hash):
        return next((t for t in self._tokens.values() if t.token_hash == token_hash), None)

    @_while_available
    def tokens(self):
        return [self._tokens[name] for name in sorted(self._tokens)]

    @_while_available
    def delete_token(self, name):
        return self._tokens.pop(name, None) is not None

    @_while_available
    def bind_token_host(self, name, host_id):
        token = self._tokens.get(name)
        if token is not None and token.host_id is None:
            token = self._tokens[name] = dataclasses.replace(token, host_id=host_id)
        return token is not None and token.host_id == host_id

    @_while_available
    def put_pairing(self, record, now):
        for pair_id in [p.pair_id for p in self._pairings.values() if p.expires_at <= now]:
            del self._pairings[pair_id]
        if record.pair_id in self._pairings or any(p.code == record.code for p in self._pairings.values()):
            return False
        self._pairings[record.pair_id] = record
        return True

    @_while_available
    def pairing(self, pair_id):
        return self._pairings.get(pair_id)

    @_while_available
    def pairings(self):
        return sorted(self._pairings.values(), key=lambda p: (p.requested_at, p.pair_id))

    @_while_available
    def approve_pairing(self, pair_id, token):
        request = self._pairings.get(pair_id)
        if request is None or request.approved_as is not None:
            return False
        if token.name in self._tokens or any(t.token_hash == token.token_hash for t in self._tokens.values()):
            return False
        self._tokens[token.name] = token
        self._pairings[pair_id] = dataclasses.replace(request, approved_as=token.name)
        return True

    @_while_available
    def delete_pairing(self, pair_id):
        return self._pairings.pop(pair_id, None) is not None


class NoRelayUnits:
    """A relay client for engines under test that have no relay units: every request is unreachable."""

    def request(self, method, url, document=None, headers=None):
        from rpymostat.protocol.client import Unreachable

        return fail(Unreachable(f"{method} {url}: this test engine reaches no relay unit"))

    def close(self):
        return succeed(None)


def engine_parts(storage, clock, events=None, access=None, timelines=None, zone_info=None, decisions=None):
    """The collaborators :func:`rpymostat.api.site.build_site` takes, built as the engine builds them.

    Whatever a test passes is used; the rest is made over ``storage`` and
    ``clock``: an event bus, open access, the installed plugins, an unstarted
    timeline cache over the built-in rules plugin (in UTC unless ``zone_info``
    says otherwise), and an unstarted decision loop that decides when a
    zone's state is asked for and reaches no relay unit.  Returns the
    keyword arguments of ``build_site``.
    """
    from zoneinfo import ZoneInfo

    from rpymostat.access import OpenAccess
    from rpymostat.control_loop.loop import build_decision_loop
    from rpymostat.decide.plugin import GROUP as DECISION_GROUP
    from rpymostat.decide.plugin import IDecisionPlugin
    from rpymostat.events import EventBus
    from rpymostat.protocol.plugins import load_plugins
    from rpymostat.schedule.cache import TimelineCache
    from rpymostat.schedule.plugin import GROUP as SCHEDULE_GROUP
    from rpymostat.schedule.plugin import ISchedulePlugin

    events = events if events is not None else EventBus()
    zone_info = zone_info or ZoneInfo("UTC")
    schedule_plugins = load_plugins(SCHEDULE_GROUP, ISchedulePlugin)
    decision_plugins = {name: plugin() for name, plugin in load_plugins(DECISION_GROUP, IDecisionPlugin).items()}
    if timelines is None:
        timelines = TimelineCache(schedule_plugins["rules"](storage, zone_info), storage, clock)
        events.subscribe(timelines.on_event)
    if decisions is None:
        decisions = build_decision_loop(storage, timelines, events, clock, NoRelayUnits(), decision_plugins)
    return dict(
        storage=storage,
        clock=clock,
        events=events,
        access=access if access is not None else OpenAccess(),
        timelines=timelines,
        zone_info=zone_info,
        decisions=decisions,
        schedule_plugins=schedule_plugins,
        decision_plugins=decision_plugins,
    )
