"""Creating and upgrading the SQLite schema from versioned ``.sql`` files.

The newest full schema is ``schema/vN.sql``; a database at an older version is
brought forward by ``schema/upgrade-to-vK.sql`` steps, one transaction for all
of them, after the old file has been copied to ``<db>.v<old>.bak`` with
SQLite's online backup.  A database newer than this code is refused rather
than guessed at.  ``PRAGMA user_version`` holds the version.
"""

import datetime
import re
import sqlite3
from importlib import resources
from pathlib import Path

from rpymostat.storage.interface import StorageError
from rpymostat.storage.timeseries import local_day

SCHEMA_FILES = resources.files("rpymostat.storage") / "schema"

_FULL = re.compile(r"^v(\d+)\.sql$")


def latest_version(schema_files=SCHEMA_FILES) -> int:
    """The highest N with a ``vN.sql`` file."""
    versions = [int(match.group(1)) for match in (_FULL.match(entry.name) for entry in schema_files.iterdir()) if match]
    return max(versions)


def connect(path: Path, schema_files=SCHEMA_FILES, timezone=datetime.UTC) -> sqlite3.Connection:
    """Open ``path`` (creating it), in WAL mode, at the newest schema version.

    ``timezone`` is the engine's, whose days the daily rollups count (the
    upgrade to version 6 sums them with ``rpymostat_local_day``).  Raises
    StorageError when the file is not a usable database.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        # WAL lets readers work while a write commits; synchronous=FULL makes
        # an acknowledged write survive a power cut, not only a crash.
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA busy_timeout=5000")
        connection.create_function("rpymostat_local_day", 1, lambda t: local_day(t, timezone), deterministic=True)
        upgrade(connection, path, schema_files)
    except sqlite3.DatabaseError as e:
        raise StorageError(f"cannot use SQLite database {path}: {e}") from None
    return connection


def upgrade(connection: sqlite3.Connection, path: Path, schema_files=SCHEMA_FILES) -> None:
    """Bring ``connection`` to the newest schema, backing up first when it already has data."""
    target = latest_version(schema_files)
    current = connection.execute("PRAGMA user_version").fetchone()[0]
    if current == target:
        return
    if current > target:
        raise StorageError(
            f"{path} has schema version {current}, newer than this RPyMostat "
            f"understands ({target}); upgrade RPyMostat or restore a backup"
        )
    if current == 0:
        script = (schema_files / f"v{target}.sql").read_text()
    else:
        backup(connection, path.with_name(f"{path.name}.v{current}.bak"))
        script = "".join(
            (schema_files / f"upgrade-to-v{version}.sql").read_text() for version in range(current + 1, target + 1)
        )
    try:
        connection.executescript(f"BEGIN;\n{script}\nPRAGMA user_version={target};\nCOMMIT;")
    except sqlite3.Error:
        if connection.in_transaction:
            connection.rollback()
        raise


def backup(connection: sqlite3.Connection, destination: Path) -> None:
    """Copy the live database to ``destination`` consistently (SQLite online backup)."""
    target = sqlite3.connect(str(destination))
    try:
        connection.backup(target)
    finally:
        target.close()
