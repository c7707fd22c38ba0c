"""RPyMostat engine.

Importing this package must stay cheap and dependency-free: the sensor, control
and web UI daemons import :mod:`rpymostat.protocol` through it on hosts that
have neither Klein nor a database driver installed.
"""

from rpymostat.version import __version__

__all__ = ["__version__"]
