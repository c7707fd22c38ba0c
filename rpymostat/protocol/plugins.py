"""Loading plugins from entry points, each verified against its interface.

Every kind of plugin is an entry point group: sensor readers, relay backends,
schedule and decision plugins.  A third party adds one by installing a
package.  Each is checked as it loads, so a broken plugin stops its daemon at
start-up with a message naming it, instead of failing at 3 a.m.

This lives in the protocol package because the sensor and control daemons load
their plugins this way too; it needs nothing but :mod:`zope.interface` and
:mod:`rpymostat.protocol.settings`.
"""

from importlib.metadata import entry_points

from zope.interface.verify import verifyClass

from rpymostat.protocol.settings import ConfigError


class PluginError(RuntimeError):
    """An installed plugin cannot be used; the message names its entry point."""


def load_plugins(group, interface, found=None, what=None, error=PluginError) -> dict:
    """``{name: class}`` for every entry point in ``found`` (default: those installed in ``group``).

    Raises ``error`` (a :class:`PluginError` by default) for the first entry
    point that does not import, does not provide ``interface``, or, when the
    interface declares a ``name``, whose class's ``name`` is not the entry
    point's name (configuration picks plugins by the latter).  The message
    reads ``"<what> '<name>' (<module:attr>) is broken: <why>"``, ``what``
    being, say, ``"sensor reader"``, or ``"<group> plugin"`` by default.
    """
    if found is None:
        found = entry_points(group=group)
    what = what or f"{group} plugin"
    named = "name" in interface.names(all=True)
    return {point.name: _load(point, interface, named, what, error) for point in found}


def _load(point, interface, named, what, error):
    broken = f"{what} {point.name!r} ({point.value}) is broken"
    try:
        plugin = point.load()
        verifyClass(interface, plugin)
    except Exception as why:  # importing a plugin runs its code: anything can go wrong
        raise error(f"{broken}: {why}") from why
    name = getattr(plugin, "name", None)
    if named and name != point.name:
        raise error(f"{broken}: its name attribute is {name!r}, not {point.name!r}")
    return plugin


def pick_plugins(plugins, wanted, setting, what, kinds) -> list:
    """The names in ``wanted`` once each, in order, all keys of ``plugins``.

    An unknown name is a :class:`~rpymostat.protocol.settings.ConfigError`
    (a ValueError) naming ``setting`` and listing the installed ones, e.g.
    ``"RPYMOSTAT_RELAYS: unknown relay backend 'x10'; installed backends: gpio, sim"``
    for ``what="relay backend"`` and ``kinds="backends"``.
    """
    unknown = [name for name in wanted if name not in plugins]
    if unknown:
        raise ConfigError(
            f"{setting}: unknown {what} {', '.join(repr(name) for name in unknown)};"
            f" installed {kinds}: {', '.join(sorted(plugins)) or 'none'}"
        )
    return list(dict.fromkeys(wanted))
