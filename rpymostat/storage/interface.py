"""The one storage interface the engine talks to, and the records it hands back.

Each kind of record has its own home, named for what it holds: sensors and
their readings, the user's rules (schedules, overrides, holds), zones, relay
unit registrations, the outputs' real states, and heating/cooling runs with
their samples.  A home stores only its own kind, so reading the zones never
reads a year of runs, and a new kind of record never changes another's.

Every backend (SQLite, MongoDB, the in-memory fake in :mod:`rpymostat.testing`)
implements :class:`IStorage` and passes the same contract suite
(``tests/test_storage_contract.py``), so the API cannot tell them apart.  All
methods return Deferreds and never block the reactor.

Times are floats of seconds since the epoch (UTC) everywhere below: the API
turns them into ISO 8601 text at its edge.
"""

import dataclasses

from zope.interface import Attribute, Interface


class StorageError(Exception):
    """The database could not do what was asked; nothing was changed."""


@dataclasses.dataclass(frozen=True)
class Reading:
    """One validated reading from a sensor daemon, ready to store.

    ``timestamp`` is when it was measured: the daemon's own timestamp for a
    reading it buffered, else the time the engine received it.  ``value`` is
    ``None`` when the device reported that it could not measure.
    """

    sensor_id: str
    sensor_type: str
    value: float | None
    timestamp: float
    alias: str | None = None
    extra: str | None = None


@dataclasses.dataclass(frozen=True)
class SensorRecord:
    """What the engine knows about one sensor: the device's data and the user's name."""

    sensor_id: str
    host_id: str
    sensor_type: str
    alias: str | None
    extra: str | None
    value: float | None
    last_seen: float
    name: str | None = None
    received_at: float | None = None
    """When the engine received the current value, by its own clock (None for a
    row stored before the engine kept it).  Freshness is judged on this, not on
    ``last_seen``, which comes from the sending host's clock."""


@dataclasses.dataclass(frozen=True)
class HistoryEntry:
    """One stored raw reading of a sensor, as history keeps it: to the millisecond, the
    value in hundredths of a degree (see :mod:`.timeseries`); ``extra`` is the device's
    reason when ``value`` is None."""

    sensor_id: str
    timestamp: float
    value: float | None
    extra: str | None = None


@dataclasses.dataclass(frozen=True)
class Aggregate:
    """A series over one step of a history query: how many values, their min, mean and max.

    ``slot`` numbers the step from the query's start (0 is the first), in the
    query's own units, so a daily answer needs no clock arithmetic here.
    """

    slot: int
    count: int
    low: float
    mean: float
    high: float


@dataclasses.dataclass(frozen=True)
class SetpointChange:
    """A zone's heat and cool setpoints and mode from ``at`` until the next change."""

    at: float
    heat: float | None
    cool: float | None
    mode: str | None


@dataclasses.dataclass(frozen=True)
class RunInterval:
    """When an output of a zone ran (``ended_at`` None: still running), without its samples."""

    output: str
    started_at: float
    ended_at: float | None


@dataclasses.dataclass(frozen=True)
class RuleRecord:
    """A stored rule: its kind (``"schedule"``, ``"override"`` or ``"hold"``), id, zone,
    the validated JSON document the user wrote, and when it was last written.

    Storage keeps documents as they are, so new rule fields need no schema
    change; :mod:`rpymostat.schedule` turns them into rule objects.
    """

    kind: str
    rule_id: str
    zone: str
    document: dict
    changed_at: float


@dataclasses.dataclass(frozen=True)
class ZoneRecord:
    """A zone's settings as the user wrote them (sensors, outputs, default setpoints, plugin...),
    and when they were last written.

    The document is kept whole, so a new zone setting needs no schema change;
    :mod:`rpymostat.schedule.zone_settings` fills in the defaults.
    """

    name: str
    document: dict
    changed_at: float


@dataclasses.dataclass(frozen=True)
class RelayUnitRecord:
    """A relay unit's latest registration: the document it posted (``host_id``, ``url``,
    ``relays``...), kept whole, and when the engine received it."""

    host_id: str
    registration: dict
    registered_at: float


@dataclasses.dataclass(frozen=True)
class OutputStateRecord:
    """What a relay output really did, as its unit last reported it, in wall-clock seconds:
    on or off, since when, and when it switched on within the last hour (``starts``),
    which the safety layer's starts-per-hour limit counts across restarts."""

    address: str
    on: bool
    since: float
    starts: tuple[float, ...] = ()


@dataclasses.dataclass(frozen=True)
class RunSample:
    """The zone's effective temperature (None: unknown) at ``at`` during a run."""

    at: float
    temperature: float | None


@dataclasses.dataclass(frozen=True)
class RunRecord:
    """One time an output of a zone ran: from when to when, the temperature and
    target at its start, the temperature at its end, and samples taken while it ran
    (in the order they were added).  ``ended_at`` is None while it runs."""

    run_id: str
    zone: str
    output: str
    started_at: float
    start_temperature: float | None
    target: float | None
    ended_at: float | None = None
    end_temperature: float | None = None
    samples: tuple[RunSample, ...] = ()


@dataclasses.dataclass(frozen=True)
class TokenRecord:
    """An API token as the engine keeps it: never the token, only its SHA-256 (hex).

    ``host_id`` binds a ``sensor`` or ``control`` token to one host (None: not
    yet bound, or a role that needs no host).  ``peer_secret`` is the pairing
    secret of a token made by pairing, with which the engine proves itself to
    that daemon (None for a token made by hand).
    """

    name: str
    role: str
    token_hash: str
    created_at: float
    host_id: str | None = None
    peer_secret: str | None = None


@dataclasses.dataclass(frozen=True)
class PairingRecord:
    """A daemon's request to pair, waiting for an admin (see docs/security.rst).

    ``code`` is what the admin approves by; ``token_hash`` is the hash of the
    token the daemon made itself; ``approved_as`` names the token approval
    created (None while pending).
    """

    pair_id: str
    code: str
    host_id: str
    role: str
    token_hash: str
    peer_secret: str
    address: str
    requested_at: float
    expires_at: float
    approved_as: str | None = None


class IStorage(Interface):
    """Asynchronous storage of everything the engine must not lose."""

    description = Attribute("Human-readable name of the backend, e.g. 'sqlite:/path'.")

    def open():
        """Connect and bring the schema or indexes up to date.

        Fires with None when ready; fails with StorageError when the database
        cannot be used, in which case the engine must not start.
        """

    def close():
        """Finish pending writes and release the database; fires with None."""

    def ping():
        """Fire with True if the database answers now, False if not; never fails."""

    def record_readings(host_id, readings, received_at=None):
        """Store a batch of :class:`Reading` from one host, all or nothing.

        Each reading is appended to its sensor's history; a reading with the
        same sensor id and timestamp as a stored one is a re-delivery and is
        not stored twice.  A sensor's current value, ``last_seen`` and
        ``received_at`` only move forward in time, so a buffered old reading
        arriving late never replaces a newer one; a batch may hold several
        readings of one sensor, and the newest becomes its current value.
        ``received_at`` is the engine's clock when the batch arrived (None:
        each reading's own timestamp).  Fires with the sensor id of each
        reading in the batch, in order (an id as often as it has readings).
        """

    def sensors():
        """Fire with every known :class:`SensorRecord`, ordered by sensor id."""

    def sensor(sensor_id):
        """Fire with the :class:`SensorRecord` for ``sensor_id``, or None."""

    def set_sensor_name(sensor_id, name):
        """Set the user's name (``None`` clears it); fire with the record, or None if unknown."""

    def delete_sensor(sensor_id):
        """Forget the sensor (it leaves the list); fire with True if it existed, False if not.

        Its history is kept: removing a sensor from the list must not erase
        last winter's data, and a sensor that reports again reappears with it.
        """

    def history(sensor_id, start=None, end=None):
        """Fire with the raw :class:`HistoryEntry` list of a sensor, oldest first.

        ``start`` is inclusive and ``end`` exclusive; either may be None.
        Raw readings older than the retention are gone (:meth:`prune_readings`);
        their rollups stay.
        """

    def aggregates(names, resolution, start, end, step):
        """Fire with ``{name: [Aggregate, ...]}`` (slots in order, empty slots left out) for
        each series in ``names``: sensor ids, or :func:`.timeseries.zone_series` names.

        ``resolution`` says what is read and in which units ``start``
        (inclusive), ``end`` (exclusive) and ``step`` are: ``"raw"`` the raw
        readings, in epoch seconds; ``"quarter"`` the 15-minute rollups, in
        epoch seconds (multiples of 900); ``"day"`` the daily rollups, in
        local day numbers (:func:`.timeseries.local_day`).  A rollup slot
        covers the rollups that start in it.
        """

    def prune_readings(before, most):
        """Delete at most ``most`` raw readings (of every series) taken before ``before``, in
        one short write; fire with how many went.  Rollups are kept forever."""

    def record_zone_state(zone, at, temperature, heat, cool, mode):
        """Keep a zone's decided state at ``at``: the effective temperature (None: unknown,
        or not sampled this time) joins the series :func:`.timeseries.zone_series` like a
        sensor's reading, and the setpoints and mode are kept as changes, a
        :class:`SetpointChange` only when one of them differs from the last.  Fires with None."""

    def setpoint_changes(zone, start, end):
        """Fire with the zone's :class:`SetpointChange` in effect at ``start`` (if any) and
        each one made in [``start``, ``end``), oldest first."""

    def run_intervals(zone, start, end):
        """Fire with a :class:`RunInterval` for each run of ``zone`` that overlaps
        [``start``, ``end``), by start time."""

    def put_rule(record):
        """Create or replace the :class:`RuleRecord` with its kind and id; fire with None."""

    def rule(kind, rule_id):
        """Fire with the :class:`RuleRecord` of that kind and id, or None."""

    def rules(kind, zone=None):
        """Fire with every :class:`RuleRecord` of ``kind`` (in ``zone`` if given), by id."""

    def delete_rule(kind, rule_id):
        """Remove that rule; fire with True if it existed, False if not."""

    def put_zone(name, document, changed_at):
        """Create or replace the zone's settings; fire with the stored :class:`ZoneRecord`.

        The document is copied at the call: changing the caller's dict later
        changes nothing stored.
        """

    def zone(name):
        """Fire with the :class:`ZoneRecord` named ``name``, or None."""

    def zones():
        """Fire with every stored :class:`ZoneRecord`, by name."""

    def delete_zone(name):
        """Remove the zone's settings; fire with True if they existed, False if not."""

    def put_relay_unit(host_id, registration, registered_at):
        """Keep ``registration`` as the unit's latest, replacing any earlier one of that host;
        fire with the stored :class:`RelayUnitRecord`."""

    def relay_unit(host_id):
        """Fire with the :class:`RelayUnitRecord` of ``host_id``, or None."""

    def relay_units():
        """Fire with every :class:`RelayUnitRecord`, by host id."""

    def put_output_state(address, on, since, starts):
        """Keep what the output at ``address`` last really did (see :class:`OutputStateRecord`),
        replacing what was kept before; fire with None."""

    def output_states():
        """Fire with every :class:`OutputStateRecord`, by address."""

    def start_run(run):
        """Store the :class:`RunRecord` ``run`` with its samples; fire with None.

        A run already stored under its id is replaced, samples and all (the
        same output switched on in the same second is the same run).
        """

    def add_run_sample(run_id, at, temperature):
        """Append a :class:`RunSample` to the run; fire with True, or False (nothing stored)
        when there is no such run.  Appending never rewrites the samples already stored."""

    def end_run(run_id, ended_at, end_temperature):
        """Mark the run ended; fire with True, or False when there is no such run."""

    def open_runs():
        """Fire with every run not yet ended, with its samples, by run id.

        An engine restarting reads these to continue them; it never reads
        ended runs to find them.
        """

    def runs(zone, limit, start=None, end=None):
        """Fire with the ``limit`` runs of ``zone`` that started last, newest first, with samples;
        with ``start`` (inclusive) and ``end`` (exclusive), only runs that started then.

        Only those runs are read, through an index: never a year of them to
        show the latest.
        """

    def put_token(record):
        """Store the :class:`TokenRecord`; fire with True, or False (nothing stored) when
        a token of that name or hash exists already."""

    def token(name):
        """Fire with the :class:`TokenRecord` named ``name``, or None."""

    def token_by_hash(token_hash):
        """Fire with the :class:`TokenRecord` whose hash is ``token_hash``, or None."""

    def tokens():
        """Fire with every :class:`TokenRecord`, by name."""

    def delete_token(name):
        """Remove the token; fire with True if it existed, False if not."""

    def bind_token_host(name, host_id):
        """Bind an unbound token to ``host_id``; fire with True if the token is now bound to
        ``host_id`` (just now or before), False if it is bound to another host or gone."""

    def put_pairing(record, now):
        """Store the pending :class:`PairingRecord`, first removing requests expired at
        ``now``; fire with True, or False (nothing stored) when a request with that code
        or id is already kept."""

    def pairing(pair_id):
        """Fire with the :class:`PairingRecord` ``pair_id`` (expired or not), or None."""

    def pairings():
        """Fire with every kept :class:`PairingRecord` (expired ones included), oldest first."""

    def approve_pairing(pair_id, token):
        """Store ``token`` (a :class:`TokenRecord`) and mark the request approved as its
        name, in one step; fire with True, or False (nothing changed) when the request is
        gone or approved, or the token's name or hash exists."""

    def delete_pairing(pair_id):
        """Remove the request; fire with True if it existed, False if not."""
