"""The interface every relay backend implements.

A backend finds the relay outputs of one kind on this host and switches
them.  It knows nothing of leases, minimum on/off times or the engine: the
daemon's switchboard wraps every backend with those, so a new backend cannot
weaken them.  Calls are synchronous and quick (a GPIO write, a Phidget
``setState``); only building a backend may block, for example while a USB
device attaches, and the daemon does that before it serves requests.
"""

from zope.interface import Attribute, Interface

#: The entry point group of relay backends.
GROUP = "rpymostat.relays"


class RelayFault(Exception):
    """The hardware did not do what was asked (detached, I/O error); the message says why."""


class IRelayBackend(Interface):
    """Switches the relays of one kind on this host.

    Built as ``Backend(config)`` with the daemon's
    :class:`~rpymostat_control.config.ControlConfig`.
    """

    name = Attribute("Short name, as in the entry point and RPYMOSTAT_RELAYS.")

    def relays():
        """``{relay_id: alias or None}`` of the outputs found; ids are unique across backends
        (they carry the backend's prefix, e.g. ``sim-1``, ``gpio17``, ``phidget-123456-0``)
        and never contain ``/`` or white space."""

    def get(relay_id):
        """True if the output is on now; raises :class:`RelayFault` if it cannot be read."""

    def set(relay_id, on):
        """Switch the output on (True) or off; raises :class:`RelayFault` if it failed."""

    def close():
        """Release the hardware; outputs are left as they are (the daemon sets safe states first)."""
