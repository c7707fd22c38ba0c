"""Finds the installed sensor readers and picks the ones this host runs.

Readers are entry points of :data:`~rpymostat_sensor.readers.interface.GROUP`,
so a third party adds one by installing a package.  Each is checked against
:class:`ISensorReader` as it loads: a broken plugin stops the daemon at start,
naming itself, instead of failing at the first read an hour later.
"""

from rpymostat.protocol.plugins import PluginError, load_plugins, pick_plugins
from rpymostat_sensor.readers.interface import GROUP, ISensorReader


class BrokenReaderError(PluginError):
    """An installed reader cannot be used; the message names its entry point."""


def load_readers(config, names=None, found=None) -> list:
    """The readers to run, each built as ``Reader(config)``.

    The installed readers (or those in ``found``) are loaded by the shared
    :func:`~rpymostat.protocol.plugins.load_plugins`; a broken one is a
    :class:`BrokenReaderError` naming its entry point.

    ``names`` (default: ``config.readers``) picks readers by name, in that
    order, and an unknown name is a :class:`~rpymostat.protocol.settings.ConfigError`
    (a ValueError) listing the known ones.  With no names, every installed reader is tried
    and those that find sensors now are kept, in name order: a Pi with a
    DS18B20 on its GPIO pin needs no configuration at all.
    """
    classes = load_plugins(GROUP, ISensorReader, found, what="sensor reader", error=BrokenReaderError)
    wanted = config.readers if names is None else tuple(names)
    if not wanted:
        readers = [classes[name](config) for name in sorted(classes)]
        return [reader for reader in readers if reader.sensor_ids()]
    chosen = pick_plugins(classes, wanted, "RPYMOSTAT_SENSOR_READERS", "sensor reader", "readers")
    return [classes[name](config) for name in chosen]
