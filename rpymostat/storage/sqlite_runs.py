"""The SQLite backend's runs: a ``runs`` row per run and a ``run_samples`` row per sample.

A run that lasts all day gains a sample every few minutes; each is one
appended row, so a sample costs the same at the end of the day as at its
start, where rewriting one growing document would cost more every time.
Reads go through indexes: the few open runs through a partial index on
``ended_at IS NULL``, a zone's latest runs through ``(zone, started_at)``,
and their samples through ``run_id``.

:class:`SQLiteRuns` is a part of :class:`~.sqlite.SQLiteStorage`, kept apart
so each module stays one subject; it uses that class's ``_read`` and
``_write``.
"""

from rpymostat.storage.interface import RunRecord, RunSample

_RUN_COLUMNS = "run_id, zone, output, started_at, start_temperature, target, ended_at, end_temperature"

_PUT_RUN = f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"

_APPEND_SAMPLE = """
INSERT INTO run_samples (run_id, at, temperature)
SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = ?)
"""


def _float_or_none(number):
    return None if number is None else float(number)


class SQLiteRuns:
    """The run methods of :class:`~rpymostat.storage.interface.IStorage` on SQLite."""

    def start_run(self, run):
        row = (
            run.run_id,
            run.zone,
            run.output,
            float(run.started_at),
            _float_or_none(run.start_temperature),
            _float_or_none(run.target),
            _float_or_none(run.ended_at),
            _float_or_none(run.end_temperature),
        )
        samples = [(run.run_id, float(s.at), _float_or_none(s.temperature)) for s in run.samples]

        def store(connection):
            connection.execute("DELETE FROM run_samples WHERE run_id = ?", (run.run_id,))
            connection.execute("DELETE FROM runs WHERE run_id = ?", (run.run_id,))
            connection.execute(_PUT_RUN, row)
            connection.executemany("INSERT INTO run_samples (run_id, at, temperature) VALUES (?, ?, ?)", samples)

        return self._write(store)

    def add_run_sample(self, run_id, at, temperature):
        row = (run_id, float(at), _float_or_none(temperature), run_id)

        def append(connection):
            return connection.execute(_APPEND_SAMPLE, row).rowcount == 1

        return self._write(append)

    def end_run(self, run_id, ended_at, end_temperature):
        row = (float(ended_at), _float_or_none(end_temperature), run_id)

        def end(connection):
            statement = "UPDATE runs SET ended_at = ?, end_temperature = ? WHERE run_id = ?"
            return connection.execute(statement, row).rowcount == 1

        return self._write(end)

    def open_runs(self):
        chosen = f"SELECT {_RUN_COLUMNS} FROM runs WHERE ended_at IS NULL ORDER BY run_id"
        return self._runs_with_samples(chosen)

    def runs(self, zone, limit, start=None, end=None):
        chosen = (
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE zone = ? AND started_at >= ? AND started_at < ?"
            " ORDER BY started_at DESC, run_id DESC LIMIT ?"
        )
        low = float("-inf") if start is None else float(start)
        high = float("inf") if end is None else float(end)
        return self._runs_with_samples(chosen, zone, low, high, int(limit))

    def _runs_with_samples(self, chosen, *params):
        """The runs ``chosen`` selects, in its order, each with its samples in the order taken."""
        samples = (
            f"SELECT sample.run_id, sample.at, sample.temperature FROM ({chosen}) AS chosen"
            " JOIN run_samples AS sample ON sample.run_id = chosen.run_id ORDER BY sample.rowid"
        )

        def assemble(rows):
            runs, sample_rows = rows
            taken = {}
            for run_id, at, temperature in sample_rows:
                taken.setdefault(run_id, []).append(RunSample(at, temperature))
            return [RunRecord(*row, samples=tuple(taken.get(row[0], ()))) for row in runs]

        return self._read_many([(chosen, params), (samples, params)], then=assemble)
