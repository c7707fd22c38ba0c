"""Loading plugins from entry points, each verified against its interface.

Schedule and decision plugins are found the same way as the daemons' sensor
readers and relay backends: an entry point group per kind.  The one
implementation lives in :mod:`rpymostat.protocol.plugins`, which the daemons
may import; this module keeps the engine's name for it.
"""

from rpymostat.protocol.plugins import PluginError, load_plugins

__all__ = ["PluginError", "load_plugins"]
