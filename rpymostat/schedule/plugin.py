"""Schedule plugins: where a zone's timeline comes from.

The built-in rules engine (:mod:`rpymostat.schedule.rules_plugin`) is the
entry point ``rules`` of the group ``rpymostat.schedule``; a third party can
add, say, a calendar-driven one by declaring an entry point in that group.
Plugins are checked against :class:`ISchedulePlugin` when loaded, so a broken
one fails at start-up with a clear message instead of at 3 a.m.
"""

from importlib.metadata import entry_points

from zope.interface import Attribute, Interface
from zope.interface.exceptions import Invalid
from zope.interface.verify import verifyClass

GROUP = "rpymostat.schedule"


class ISchedulePlugin(Interface):
    """Computes the timeline of a zone: setpoints in force and where they come from.

    Built with ``plugin(storage, zone_info)`` where ``zone_info`` is the
    engine's ``zoneinfo.ZoneInfo``; it must never read the wall clock.
    """

    name = Attribute("Short name, as in the entry point.")
    description = Attribute("One sentence for people choosing a plugin.")
    config_schema = Attribute("JSON Schema of the plugin's settings (an object).")

    def timeline(zone, default, begin, end):
        """Fire with the list of :class:`~rpymostat.schedule.timeline.Segment` of
        ``zone`` tiling ``[begin, end)`` (aware datetimes), ``default`` (a
        :class:`~rpymostat.schedule.rules.Setpoints`) where nothing else applies."""


class PluginError(Exception):
    """A plugin could not be loaded or does not implement its interface."""


def load_plugins(group=GROUP, interface=ISchedulePlugin, found=None):
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
