"""Loading plugins from entry points, each verified against its interface.

Schedule and decision plugins (and later others) are found the same way: an
entry point group per kind.  A plugin that does not import or does not
implement its interface stops the engine at start-up with a message naming
it, instead of failing at 3 a.m.
"""

from importlib.metadata import entry_points

from zope.interface.exceptions import Invalid
from zope.interface.verify import verifyClass


class PluginError(Exception):
    """A plugin could not be loaded or does not implement its interface."""


def load_plugins(group, interface, found=None):
    """``{name: class}`` of every entry point in ``group``, each verified against ``interface``."""
    plugins = {}
    for entry in found if found is not None else entry_points(group=group):
        try:
            plugin = entry.load()
            verifyClass(interface, plugin)
        except (Invalid, ImportError, AttributeError) as error:
            raise PluginError(f"plugin {entry.name!r} of {group} is unusable: {error}") from None
        plugins[entry.name] = plugin
    return plugins
