"""Finds the installed sensor readers and picks the ones this host runs.

Readers are entry points of :data:`~rpymostat_sensor.readers.interface.GROUP`,
so a third party adds one by installing a package.  Each is checked against
:class:`ISensorReader` as it loads: a broken plugin stops the daemon at start,
naming itself, instead of failing at the first read an hour later.
"""

from importlib.metadata import entry_points

from zope.interface.verify import verifyClass

from rpymostat.protocol.settings import ConfigError
from rpymostat_sensor.readers.interface import GROUP, ISensorReader


class BrokenReaderError(RuntimeError):
    """An installed reader cannot be used; the message names its entry point."""


def reader_classes(found=None) -> dict:
    """``{name: reader class}`` for every entry point in ``found`` (default: installed).

    Raises :class:`BrokenReaderError` for the first one that does not import,
    does not provide :class:`ISensorReader`, or whose ``name`` is not its
    entry point's name (``RPYMOSTAT_SENSOR_READERS`` uses the latter).
    """
    if found is None:
        found = entry_points(group=GROUP)
    return {point.name: _load(point) for point in found}


def _load(point):
    try:
        reader_class = point.load()
        verifyClass(ISensorReader, reader_class)
    except Exception as error:  # importing a plugin runs its code: anything can go wrong
        raise BrokenReaderError(
            f"sensor reader {point.name!r} ({point.value}) is broken: {error}"
        ) from error
    if getattr(reader_class, "name", None) != point.name:
        raise BrokenReaderError(
            f"sensor reader {point.name!r} ({point.value}) is broken: its name attribute"
            f" is {getattr(reader_class, 'name', None)!r}, not {point.name!r}"
        )
    return reader_class


def load_readers(config, names=None, found=None) -> list:
    """The readers to run, each built as ``Reader(config)``.

    ``names`` (default: ``config.readers``) picks readers by name, in that
    order, and an unknown name is a :class:`ConfigError` (a ValueError)
    listing the known ones.  With no names, every installed reader is tried
    and those that find sensors now are kept, in name order: a Pi with a
    DS18B20 on its GPIO pin needs no configuration at all.
    """
    classes = reader_classes(found)
    wanted = config.readers if names is None else tuple(names)
    if not wanted:
        readers = [classes[name](config) for name in sorted(classes)]
        return [reader for reader in readers if reader.sensor_ids()]
    unknown = [name for name in wanted if name not in classes]
    if unknown:
        raise ConfigError(
            f"RPYMOSTAT_SENSOR_READERS: unknown sensor reader"
            f" {', '.join(repr(name) for name in unknown)};"
            f" installed readers: {', '.join(sorted(classes)) or 'none'}"
        )
    return [classes[name](config) for name in dict.fromkeys(wanted)]
