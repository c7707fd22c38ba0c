"""The outputs' last real switch, kept on disk so minimum on/off times survive restarts.

A boiler does not care whether the daemon restarted: if it was switched off a
minute ago it must stay off for the rest of its minimum off time.  So every
switch is written here at once, atomically (a temporary file, fsync, then
``os.replace``), and a power cut leaves either the old file or the new one,
never half of one.  The file is small JSON::

    {"version": 1, "relays": {"sim-1": {"state": true, "since": 1795608000.0}}}

``since`` is wall-clock epoch seconds, the only time that means something
after a restart.  The switchboard turns it into an age once, at start, and
then counts on the monotonic clock, so a clock set while running changes no
minimum time (see :class:`~rpymostat_control.switchboard.Switchboard`).
"""

import json
import math
import os
from pathlib import Path
from typing import NamedTuple

from twisted.logger import Logger

log = Logger()

#: The file's name in the data directory (which the sensor daemon may share).
FILE_NAME = "relay-state.json"
VERSION = 1


class Switched(NamedTuple):
    """An output's state and when (epoch seconds) it last really switched to it."""

    state: bool
    since: float


class StateFile:
    """Reads and atomically rewrites ``<data_dir>/relay-state.json``."""

    def __init__(self, data_dir):
        self.path = Path(data_dir) / FILE_NAME

    def load(self) -> dict[str, Switched]:
        """What was saved last; ``{}`` if nothing was, or if the file is unreadable.

        An unreadable file is logged, not fatal: the switchboard then counts every
        output's minimum time from now, the cautious choice.
        """
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            log.warn("ignoring unreadable {path}: {error}", path=str(self.path), error=error)
            return {}
        relays = document.get("relays") if isinstance(document, dict) else None
        if not isinstance(relays, dict):
            log.warn("ignoring {path}: no relays in it", path=str(self.path))
            return {}
        saved = {}
        for relay_id, entry in relays.items():
            try:
                state, since = entry["state"], entry["since"]
            except (TypeError, KeyError):
                continue
            if isinstance(state, bool) and _is_time(since):
                saved[relay_id] = Switched(state, float(since))
        return saved

    def save(self, switched: dict[str, Switched]) -> None:
        """Replace the file with ``switched``; raises OSError if the disk refuses."""
        document = {
            "version": VERSION,
            "relays": {
                relay_id: {"state": entry.state, "since": entry.since} for relay_id, entry in sorted(switched.items())
            },
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=1)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, self.path)
        _sync_directory(self.path.parent)


def _is_time(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable; some file systems cannot, which is fine."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(descriptor)
    except OSError:  # pragma: no cover - e.g. file systems refusing fsync on directories
        pass
    finally:
        os.close(descriptor)
