"""Finds the installed relay backends and builds the ones this host uses.

Backends are entry points of :data:`~rpymostat_control.relays.interface.GROUP`,
so a third party adds one by installing a package.  Each is checked against
:class:`IRelayBackend` as it loads: a broken plugin stops the daemon at start,
naming itself, instead of failing at the first switch with the heating on.
"""

from rpymostat.protocol.plugins import PluginError, load_plugins, pick_plugins
from rpymostat.protocol.settings import ConfigError
from rpymostat_control.relays.interface import GROUP, IRelayBackend


class BrokenBackendError(PluginError):
    """An installed relay backend cannot be used; the message names its entry point."""


def load_backends(config, names=None, found=None) -> list:
    """The backends to use, each built as ``Backend(config)``.

    The installed backends (or those in ``found``) are loaded by the shared
    :func:`~rpymostat.protocol.plugins.load_plugins`; a broken one is a
    :class:`BrokenBackendError` naming its entry point.

    ``names`` (default: ``config.relays``) picks backends by name, in that
    order, and an unknown name is a :class:`ConfigError` (a ValueError)
    listing the installed ones.  With no names, every installed backend is
    built and those that find relays are kept, in name order (the others are
    closed): a Phidget board plugged into any host needs no configuration.

    Relay ids must be unique across the backends kept, or the engine could
    not tell them apart: a clash is a :class:`ConfigError`.  Whatever goes
    wrong, backends already built are closed before the error propagates, so
    their hardware is free for the next attempt.
    """
    classes = load_plugins(GROUP, IRelayBackend, found, what="relay backend", error=BrokenBackendError)
    wanted = config.relays if names is None else tuple(names)
    chosen = pick_plugins(classes, wanted, "RPYMOSTAT_RELAYS", "relay backend", "backends")
    built = []
    try:
        for name in chosen or sorted(classes):
            built.append(classes[name](config))
        kept = built if wanted else [backend for backend in built if backend.relays()]
        _check_unique(kept)
    except BaseException:
        _close(built)
        raise
    _close([backend for backend in built if backend not in kept])
    return kept


def _check_unique(backends):
    owners = {}
    for backend in backends:
        for relay_id in backend.relays():
            if relay_id in owners:
                raise ConfigError(
                    f"RPYMOSTAT_RELAYS: relay id {relay_id!r} is found by both the"
                    f" {owners[relay_id]!r} and the {backend.name!r} backends;"
                    f" use only one of them"
                )
            owners[relay_id] = backend.name


def _close(backends):
    for backend in backends:
        backend.close()
