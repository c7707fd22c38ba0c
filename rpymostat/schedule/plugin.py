"""Schedule plugins: where a zone's timeline comes from.

The built-in rules engine (:mod:`rpymostat.schedule.rules_plugin`) is the
entry point ``rules`` of the group ``rpymostat.schedule``; a third party can
add, say, a calendar-driven one by declaring an entry point in that group.
Plugins load with the one loader every kind of plugin shares,
``rpymostat.protocol.plugins.load_plugins(GROUP, ISchedulePlugin)``, which
checks each against :class:`ISchedulePlugin`, so a broken one fails at
start-up with a clear message instead of at 3 a.m.; a plugin proves it keeps
the interface's promises with :mod:`.contract`.
"""

from zope.interface import Attribute, Interface

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
        :class:`~rpymostat.schedule.rules.Setpoints`) where nothing else applies.

        The segments are in order, the first starting at ``begin``, each
        ending where the next starts, the last ending at ``end``, none empty,
        whatever daylight saving time does inside the window.  A zone the
        plugin has nothing for (no rules, or a name it has never heard of) is
        not an error: its timeline is one segment of ``default``."""
