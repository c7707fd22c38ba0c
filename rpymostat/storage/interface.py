"""The one storage interface the engine talks to, and the records it hands back.

Every backend (SQLite, MongoDB, the in-memory fake in :mod:`rpymostat.testing`)
implements :class:`IStorage` and passes the same contract suite
(``tests/test_storage_contract.py``), so the API cannot tell them apart.  All
methods return Deferreds and never block the reactor.

Times are floats of seconds since the epoch (UTC) everywhere below: the API
turns them into ISO 8601 text at its edge.
"""

import dataclasses
from typing import Optional

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
    value: Optional[float]
    timestamp: float
    alias: Optional[str] = None
    extra: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class SensorRecord:
    """What the engine knows about one sensor: the device's data and the user's name."""

    sensor_id: str
    host_id: str
    sensor_type: str
    alias: Optional[str]
    extra: Optional[str]
    value: Optional[float]
    last_seen: float
    name: Optional[str] = None
    received_at: Optional[float] = None
    """When the engine received the current value, by its own clock (None for a
    row stored before the engine kept it).  Freshness is judged on this, not on
    ``last_seen``, which comes from the sending host's clock."""


@dataclasses.dataclass(frozen=True)
class HistoryEntry:
    """One stored reading of a sensor."""

    sensor_id: str
    timestamp: float
    value: Optional[float]
    extra: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class RuleRecord:
    """A stored rule: its kind (``"schedule"``, ``"override"``, ``"hold"``, ...), id, zone,
    the validated JSON document the user wrote, and when it was last written.

    Storage keeps documents as they are, so new rule fields need no schema
    change; :mod:`rpymostat.schedule` turns them into rule objects.
    """

    kind: str
    rule_id: str
    zone: str
    document: dict
    changed_at: float


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
        """Fire with the :class:`HistoryEntry` list of a sensor, oldest first.

        ``start`` is inclusive and ``end`` exclusive; either may be None.
        """

    def put_rule(record):
        """Create or replace the :class:`RuleRecord` with its kind and id; fire with None."""

    def rule(kind, rule_id):
        """Fire with the :class:`RuleRecord` of that kind and id, or None."""

    def rules(kind, zone=None, newest=None):
        """Fire with every :class:`RuleRecord` of ``kind`` (in ``zone`` if given), by id.

        With ``newest`` (a count), only that many, the most recently changed
        first: a zone's latest runs without reading a year of them.
        """

    def delete_rule(kind, rule_id):
        """Remove that rule; fire with True if it existed, False if not."""
