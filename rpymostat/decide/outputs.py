"""What each relay output really did, and since when, kept across restarts.

The safety layer measures minimum on/off times and starts per hour from an
output's *real* last switch, so this ledger records what the relay units
report (not what the engine asked for) and stores it: an engine restarted a
minute after switching the boiler off still waits out the minimum off time.
Units report how long an output has been in its state (``seconds_in_state``)
rather than a timestamp, because the hosts' clocks need not agree; the
ledger turns that into the engine's own time.
"""

from rpymostat.decide.state import OutputState
from rpymostat.storage.interface import RuleRecord

#: Storage kind of the ledger's records (one per output address).
KIND = "output"

#: Starts older than this no longer count towards "starts per hour".
STARTS_WINDOW_S = 3600.0

#: A reported switch time less than this later than the stored one is the same switch.
SAME_SWITCH_S = 2.0


class OutputLedger:
    """``{address: OutputState}`` of every output the engine has heard of."""

    def __init__(self, storage):
        self._storage = storage
        self._states = {}

    async def load(self):
        """Read every stored output state; call once before the first decision."""
        for record in await self._storage.rules(KIND):
            document = record.document
            self._states[record.rule_id] = OutputState(
                bool(document["on"]), float(document["since"]), tuple(document.get("starts", ()))
            )

    def addresses(self):
        """Every output address heard of, sorted."""
        return sorted(self._states)

    def state(self, address):
        """The output's last known :class:`OutputState`, or None if never reported."""
        return self._states.get(address)

    async def observe(self, address, on, seconds_in_state, now):
        """Record what a unit reported at ``now``; fires with True if the output switched.

        ``now`` is when the engine asked.  A report of the same state keeps
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
        await self._storage.put_rule(RuleRecord(
            KIND, address, "", {"on": on, "since": since, "starts": list(starts)}, now
        ))
        return known is None or known.on != on
