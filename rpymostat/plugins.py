"""Transitional: the engine's old name for :mod:`rpymostat.protocol.plugins`.

Every kind of plugin loads with :func:`rpymostat.protocol.plugins.load_plugins`
and its group's ``GROUP`` and interface constants.  This module goes once
:mod:`rpymostat.api.v1` imports the loader from there.
"""

from rpymostat.protocol.plugins import PluginError, load_plugins

__all__ = ["PluginError", "load_plugins"]
