"""The kinds of rules a user writes, as plain immutable values.

Every rule resolves to intervals of time (its *occurrences*) during which it
asks for setpoints.  Which rule wins at an instant is decided in
:mod:`rpymostat.schedule.timeline`; these classes only hold what the user said.
Times are aware datetimes; ``changed_at`` is when the rule was last written,
the last tie-breaker between otherwise equal rules.
"""

import dataclasses
import datetime
import enum
from collections.abc import Mapping

from rpymostat.schedule.durations import Duration


class Kind(enum.IntEnum):
    """Rule kinds, in order of precedence: a higher value wins."""

    DEFAULT = 0
    SCHEDULE = 1
    OVERRIDE = 2
    HOLD = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class Until(enum.Enum):
    """How an override or hold without a fixed end ends."""

    NEXT_SCHEDULE = "next_schedule"
    PERMANENT = "permanent"


@dataclasses.dataclass(frozen=True)
class Setpoints:
    """What a rule asks for; ``sensors`` maps sensor ids to weights (None: the zone's)."""

    heat: float | None = None
    cool: float | None = None
    sensors: Mapping[str, float] | None = None


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A recurring rule: from each ``start`` cron match until ``end`` (cron) or for ``duration``.

    Cron expressions are evaluated on the wall clock of the engine's time zone;
    a :class:`~rpymostat.schedule.durations.Duration` counts its days on that
    clock too, a plain timedelta is elapsed time.
    """

    id: str
    name: str
    zone: str
    start: str
    setpoints: Setpoints
    changed_at: datetime.datetime
    end: str | None = None
    duration: datetime.timedelta | Duration | None = None
    priority: int = 0
    enabled: bool = True


@dataclasses.dataclass(frozen=True)
class Override:
    """A one-time rule from ``start`` to ``end``, or until the next schedule starts."""

    id: str
    name: str
    zone: str
    start: datetime.datetime
    setpoints: Setpoints
    changed_at: datetime.datetime
    end: datetime.datetime | None = None
    until: Until | None = None


@dataclasses.dataclass(frozen=True)
class Hold:
    """ "Make it X now": from ``start`` to ``end``, the next schedule, or until removed."""

    id: str
    zone: str
    start: datetime.datetime
    setpoints: Setpoints
    changed_at: datetime.datetime
    end: datetime.datetime | None = None
    until: Until | None = None
    name: str = "hold"


@dataclasses.dataclass(frozen=True)
class Source:
    """Which rule a segment of the timeline comes from."""

    kind: Kind
    id: str | None
    name: str | None
