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
        """
        rows = self._db.execute(
            "SELECT seq, sensor_id, sensor_type, value, alias, extra, timestamp FROM pending"
            " ORDER BY seq LIMIT ?",
            (most,),
        ).fetchall()
        seqs, sensors = [], {}
        for seq, sensor_id, sensor_type, value, alias, extra, timestamp in rows:
            if sensor_id in sensors:
                break
            reading = {"type": sensor_type, "value": value, "timestamp": timestamp}
            if alias is not None:
                reading["alias"] = alias
            if extra is not None:
                reading["extra"] = extra
            sensors[sensor_id] = reading
            seqs.append(seq)
        return seqs, sensors

    def remove(self, seqs):
        """Forget readings the engine has (or has refused for good)."""
        with self._db:
            self._db.executemany("DELETE FROM pending WHERE seq = ?", [(seq,) for seq in seqs])

    def close(self):
        self._db.close()
