"""What each relay output really did, and since when, kept across restarts.

The safety layer measures minimum on/off times and starts per hour from an
output's *real* last switch, so this ledger records what the relay units
report (not what the engine asked for) and stores it: an engine restarted a
minute after switching the boiler off still waits out the minimum off time.
Units report how long an output has been in its state (``seconds_in_state``)
rather than a timestamp, because the hosts' clocks need not agree; the
ledger turns that into the engine's own time.

Durations are measured on the engine's monotonic clock: :meth:`OutputLedger.state`
answers on it, so a wall clock stepped back an hour cannot hold heating on for
an hour of "minimum on time".  Storage (the storage's output states) and
display need wall-clock times (:meth:`OutputLedger.shown`); at load each
stored time becomes an age once.
"""

import dataclasses

from rpymostat.decide.state import OutputState

#: Starts older than this no longer count towards "starts per hour".
STARTS_WINDOW_S = 3600.0

#: A reported switch time less than this later than the stored one is the same switch.
SAME_SWITCH_S = 2.0


class OutputLedger:
    """``{address: OutputState}`` of every output the engine has heard of.

    ``clock`` (an IReactorTime) gives wall-clock time, ``monotonic`` (a
    callable) the clock every duration is measured on.
    """

    def __init__(self, storage, clock, monotonic):
        self._storage = storage
        self._clock, self._monotonic = clock, monotonic
        self._states = {}

    async def load(self):
        """Read every stored output state; call once before the first decision."""
        wall_now, monotonic_now = self._clock.seconds(), self._monotonic()

        def on_monotonic(wall):
            return monotonic_now - max(0.0, wall_now - float(wall))  # a clock set back since: just now

        for record in await self._storage.output_states():
            self._states[record.address] = OutputState(
                record.on,
                on_monotonic(record.since),
                tuple(on_monotonic(t) for t in record.starts),
            )

    def addresses(self):
        """Every output address heard of, sorted."""
        return sorted(self._states)

    def state(self, address):
        """The output's last known :class:`OutputState` on the monotonic clock, or None."""
        return self._states.get(address)

    def shown(self, address):
        """The same :class:`OutputState` in wall-clock epoch seconds, for people and storage."""
        known = self._states.get(address)
        if known is None:
            return None
        offset = self._clock.seconds() - self._monotonic()
        return dataclasses.replace(
            known, since=known.since + offset, switched_on_at=tuple(t + offset for t in known.switched_on_at)
        )

    async def observe(self, address, on, seconds_in_state, now):
        """Record what a unit reported; fires with True if the output switched.

        ``now`` is when the engine asked, on the monotonic clock.  A report of the same state keeps
        the stored switch time: a slow answer makes ``now -
        seconds_in_state`` look earlier than the real switch, never later, so
        only a clearly *later* switch time (the relay went off and on again
        between two reports) counts as a new switch and a new start.
        """
        since = now - seconds_in_state
        known = self._states.get(address)
        if known is not None and known.on == on and since < known.since + SAME_SWITCH_S:
            return False
        starts = tuple(t for t in (known.switched_on_at if known else ()) if now - t < STARTS_WINDOW_S)
        if on and now - since < STARTS_WINDOW_S:
            starts += (since,)
        self._states[address] = OutputState(on, since, starts)
        stored = self.shown(address)
        await self._storage.put_output_state(address, on, stored.since, stored.switched_on_at)
        return known is None or known.on != on
