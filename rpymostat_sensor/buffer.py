"""Readings waiting for the engine, kept on disk so a restart loses none.

Every reading goes through this buffer: it is appended when taken and
removed only once the engine has acknowledged it (``201``).  While the
engine is away the buffer grows up to ``limit`` readings, then drops the
oldest first, so a long outage keeps the most recent data.  One SQLite file
in the data directory; calls block briefly and run on the daemon's worker
thread.
"""

import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    sensor_id   TEXT NOT NULL,
    sensor_type TEXT NOT NULL,
    value       REAL,
    alias       TEXT,
    extra       TEXT,
    timestamp   TEXT NOT NULL
)
"""


class ReadingBuffer:
    """A bounded FIFO of readings in ``<data_dir>/sensor-buffer.sqlite3``."""

    def __init__(self, data_dir: Path, limit: int):
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        self.path = Path(data_dir) / "sensor-buffer.sqlite3"
        self.limit = limit
        self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(SCHEMA)
        self.dropped = 0

    def append(self, readings):
        """Add ``[(sensor_id, SensorReading, timestamp_iso)]``; drop the oldest beyond the limit."""
        with self._db:
            self._db.executemany(
                "INSERT INTO pending (sensor_id, sensor_type, value, alias, extra, timestamp)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (sensor_id, r.sensor_type, r.value, r.alias, r.extra, timestamp)
                    for sensor_id, r, timestamp in readings
                ],
            )
            dropped = self._db.execute(
                "DELETE FROM pending WHERE seq <= (SELECT max(seq) FROM pending) - ?", (self.limit,)
            ).rowcount
        self.dropped += dropped
        return dropped

    def __len__(self):
        return self._db.execute("SELECT count(*) FROM pending").fetchone()[0]

    def next_batch(self, most=200):
        """The oldest pending readings with each sensor at most once: ``(seqs, sensors)``.

        ``sensors`` is the ``sensors`` object of a ``PUT /v1/sensors/update``.
        This is what an engine older than arrays of readings takes.
        """
        seqs, sensors = [], {}
        for seq, sensor_id, *fields in self._oldest(most):
            if sensor_id in sensors:
                break
            sensors[sensor_id] = _document(*fields)
            seqs.append(seq)
        return seqs, sensors

    def newest_batch(self):
        """The newest pending reading of every sensor, one each: ``(seqs, sensors)``.

        Sent first after an outage, so every zone is current again with one
        request while the backlog follows.
        """
        rows = self._db.execute(
            "SELECT seq, sensor_id, sensor_type, value, alias, extra, timestamp FROM pending"
            " WHERE seq IN (SELECT max(seq) FROM pending GROUP BY sensor_id) ORDER BY sensor_id"
        ).fetchall()
        seqs, sensors = [], {}
        for seq, sensor_id, *fields in rows:
            sensors[sensor_id] = _document(*fields)
            seqs.append(seq)
        return seqs, sensors

    def backlog_batch(self, most=1000):
        """Up to ``most`` of the oldest pending readings, several per sensor: ``(seqs, sensors)``.

        ``sensors`` maps each sensor id to an array of its readings, oldest
        first, as ``PUT /v1/sensors/update`` takes them, so a full buffer
        drains in a few dozen requests rather than one per reading.
        """
        seqs, sensors = [], {}
        for seq, sensor_id, *fields in self._oldest(most):
            sensors.setdefault(sensor_id, []).append(_document(*fields))
            seqs.append(seq)
        return seqs, sensors

    def _oldest(self, most):
        """The ``most`` oldest pending rows: ``(seq, sensor_id, type, value, alias, extra, timestamp)``."""
        return self._db.execute(
            "SELECT seq, sensor_id, sensor_type, value, alias, extra, timestamp FROM pending ORDER BY seq LIMIT ?",
            (most,),
        ).fetchall()

    def remove(self, seqs):
        """Forget readings the engine has (or has refused for good)."""
        with self._db:
            self._db.executemany("DELETE FROM pending WHERE seq = ?", [(seq,) for seq in seqs])

    def close(self):
        self._db.close()


def _document(sensor_type, value, alias, extra, timestamp):
    """One buffered reading as the engine's ``SensorReading`` object."""
    reading = {"type": sensor_type, "value": value, "timestamp": timestamp}
    if alias is not None:
        reading["alias"] = alias
    if extra is not None:
        reading["extra"] = extra
    return reading
