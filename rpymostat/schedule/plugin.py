"""Schedule plugins: where a zone's timeline comes from.

The built-in rules engine (:mod:`rpymostat.schedule.rules_plugin`) is the
entry point ``rules`` of the group ``rpymostat.schedule``; a third party can
add, say, a calendar-driven one by declaring an entry point in that group.
Plugins are checked against :class:`ISchedulePlugin` when loaded, so a broken
one fails at start-up with a clear message instead of at 3 a.m.
"""

from zope.interface import Attribute, Interface

from rpymostat import plugins
from rpymostat.plugins import PluginError  # noqa: F401 - part of this module's API

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


def load_plugins(group=GROUP, interface=ISchedulePlugin, found=None):
    """``{name: class}`` of the installed schedule plugins, each verified."""
    return plugins.load_plugins(group, interface, found)
