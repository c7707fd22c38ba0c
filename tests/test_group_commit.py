"""Group commit: queued writes share a transaction, and each stays all or nothing."""

import sqlite3

import pytest
from twisted.internet.defer import Deferred, fail, succeed

from rpymostat.storage.group_commit import GroupCommitter, commit_group
from rpymostat.storage.interface import StorageError


@pytest.fixture
def connection():
    database = sqlite3.connect(":memory:", isolation_level=None)
    database.execute("CREATE TABLE t (v INTEGER NOT NULL)")
    yield database
    database.close()


def insert(value):
    return lambda connection: connection.execute("INSERT INTO t VALUES (?)", (value,)).rowcount


def stored(connection):
    return [row[0] for row in connection.execute("SELECT v FROM t ORDER BY v")]


class ManualWorker:
    """A database 'thread' that runs each group when the test says so."""

    def __init__(self):
        self.pending = []

    def __call__(self, function):
        result = Deferred()
        self.pending.append((function, result))
        return result

    def finish_one(self):
        function, result = self.pending.pop(0)
        result.callback(function())


def results(deferreds):
    outcomes = []
    for deferred in deferreds:
        deferred.addCallbacks(
            lambda value: outcomes.append(("ok", value)), lambda f: outcomes.append(("error", f.value))
        )
    return outcomes


def test_writes_queued_during_a_commit_share_the_next_transaction(connection):
    worker = ManualWorker()
    committer = GroupCommitter(worker, lambda: connection)
    first = committer.submit(insert(1))
    later = [committer.submit(insert(value)) for value in (2, 3, 4)]
    assert len(worker.pending) == 1  # only the first is being committed
    outcome_first = results([first])
    worker.finish_one()
    assert outcome_first == [("ok", 1)]
    assert len(worker.pending) == 1  # the three queued writes went as one group
    outcome_later = results(later)
    worker.finish_one()
    assert outcome_later == [("ok", 1)] * 3
    assert stored(connection) == [1, 2, 3, 4]
    assert worker.pending == []


def test_a_failing_write_fails_alone(connection):
    outcomes = commit_group(connection, [insert(1), insert(None), insert(3)])
    assert outcomes[0] == (True, 1) and outcomes[2] == (True, 1)
    ok, error = outcomes[1]
    assert not ok and isinstance(error, StorageError)
    assert "NOT NULL" in str(error)
    assert stored(connection) == [1, 3]


def test_a_write_with_a_bug_fails_alone_with_its_own_exception(connection):
    def buggy(connection):
        connection.execute("INSERT INTO t VALUES (99)")
        raise KeyError("bug")

    outcomes = commit_group(connection, [buggy, insert(2)])
    assert outcomes[0][0] is False and isinstance(outcomes[0][1], KeyError)
    assert outcomes[1] == (True, 1)
    assert stored(connection) == [2]


class CommitFails:
    """A connection whose COMMIT fails, as on a full or vanished disk."""

    def __init__(self, connection):
        self.connection = connection

    @property
    def in_transaction(self):
        return self.connection.in_transaction

    def execute(self, sql, *args):
        if sql == "COMMIT":
            raise sqlite3.OperationalError("disk I/O error")
        return self.connection.execute(sql, *args)


def test_a_failed_commit_fails_every_write_of_the_group(connection):
    outcomes = commit_group(CommitFails(connection), [insert(1), insert(2)])
    assert [ok for ok, _ in outcomes] == [False, False]
    assert all("disk I/O error" in str(error) for _, error in outcomes)
    assert stored(connection) == []
    assert not connection.in_transaction


def test_worker_failure_fails_the_group_and_the_next_group_still_runs(connection):
    calls = []

    def worker(function):
        calls.append(function)
        if len(calls) == 1:
            return fail(StorageError("closed"))
        return succeed(function())

    committer = GroupCommitter(worker, lambda: connection)
    first = results([committer.submit(insert(1))])
    second = results([committer.submit(insert(2))])
    assert first[0][0] == "error" and isinstance(first[0][1], StorageError)
    assert second == [("ok", 1)]
    assert stored(connection) == [2]


def test_drained_waits_for_queued_and_committing_writes(connection):
    worker = ManualWorker()
    committer = GroupCommitter(worker, lambda: connection)
    assert committer.drained().called
    committer.submit(insert(1))
    committer.submit(insert(2))
    drained = committer.drained()
    worker.finish_one()
    assert not drained.called
    worker.finish_one()
    assert drained.called
    assert stored(connection) == [1, 2]
