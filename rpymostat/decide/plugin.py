"""Decision plugins: entry points of ``rpymostat.decision``, verified on load.

A plugin declares a ``name``, a ``description`` and a JSON Schema for its
``config``, and implements a pure ``decide(state, now) -> Decision`` with a
reason a person can read.  It never switches anything: the safety layer
(:mod:`.safety`) reviews every decision afterwards and cannot be bypassed.

Plugins load with the one loader every kind of plugin shares,
``rpymostat.protocol.plugins.load_plugins(GROUP, IDecisionPlugin)``; a plugin
proves it keeps this interface's promises with :mod:`.contract`.
"""

from zope.interface import Attribute, Interface

GROUP = "rpymostat.decision"


class IDecisionPlugin(Interface):
    """Proposes output states for a zone.

    Built with no arguments, once, and shared by every zone: whatever a zone
    needs comes in ``state`` (its settings in ``state.config``), so the
    instance holds nothing that changes.
    """

    name = Attribute("Short name, as in the entry point.")
    description = Attribute("One sentence for people choosing a plugin.")
    config_schema = Attribute("JSON Schema of the plugin's config (an object).")

    def decide(state, now):
        """A :class:`~rpymostat.decide.state.Decision` for ``state`` at ``now`` (epoch s);
        reads nothing but its arguments."""
