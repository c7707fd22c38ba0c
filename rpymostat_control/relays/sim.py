"""Simulated relays, for demos and tests on hosts without relay hardware.

They keep the whole :class:`IRelayBackend` contract, faults included, so the
daemon and its tests can exercise every path (a relay that stops answering, a
closed backend) without a Phidget board or a Pi.
"""

from zope.interface import implementer

from rpymostat_control.relays.interface import IRelayBackend, RelayFault


@implementer(IRelayBackend)
class SimRelays:
    """``config.sim_relays`` relays named ``sim-1`` ... ``sim-N``, all off at start.

    ``failing`` names relays whose ``get`` and ``set`` raise :class:`RelayFault`,
    as broken hardware would; it is kept as the mutable set :attr:`failing`, so a
    test may break or mend a relay while the daemon runs.
    """

    name = "sim"

    def __init__(self, config, failing=()):
        self._states = {f"sim-{number}": False for number in range(1, config.sim_relays + 1)}
        self.failing = set(failing)
        self._closed = False

    def relays(self):
        """No aliases: simulated relays are named by their ids."""
        return dict.fromkeys(self._states)

    def get(self, relay_id):
        self._check(relay_id)
        return self._states[relay_id]

    def set(self, relay_id, on):
        self._check(relay_id)
        self._states[relay_id] = bool(on)

    def close(self):
        """Later calls fail, as they do on real hardware once it is released."""
        self._closed = True

    def _check(self, relay_id):
        if relay_id not in self._states:
            raise RelayFault(f"no relay {relay_id!r} in the sim backend")
        if self._closed:
            raise RelayFault(f"{relay_id}: the sim backend is closed")
        if relay_id in self.failing:
            raise RelayFault(f"{relay_id}: simulated fault")
