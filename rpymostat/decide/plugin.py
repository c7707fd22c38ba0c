"""Decision plugins: entry points of ``rpymostat.decision``, verified on load.

A plugin declares a ``name``, a ``description`` and a JSON Schema for its
``config``, and implements a pure ``decide(state, now) -> Decision`` with a
reason a person can read.  It never switches anything: the safety layer
(:mod:`.safety`) reviews every decision afterwards and cannot be bypassed.
"""

from zope.interface import Attribute, Interface

GROUP = "rpymostat.decision"


class IDecisionPlugin(Interface):
    """Proposes output states for a zone."""

    name = Attribute("Short name, as in the entry point.")
    description = Attribute("One sentence for people choosing a plugin.")
    config_schema = Attribute("JSON Schema of the plugin's config (an object).")

    def decide(state, now):
        """A :class:`~rpymostat.decide.state.Decision` for ``state`` at ``now`` (epoch s);
        reads nothing but its arguments."""


def load_decision_plugins(found=None):
    """``{name: plugin instance}`` of the installed decision plugins, each verified on load."""
    from rpymostat import plugins

    return {name: plugin_class() for name, plugin_class in plugins.load_plugins(GROUP, IDecisionPlugin, found).items()}
