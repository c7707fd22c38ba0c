"""Group commit: writes that queue up while one transaction commits share the next.

A durable commit costs one fsync, which dwarfs the work of a small write.  When
updates arrive faster than the disk syncs, each waiting write joins the next
transaction instead of waiting for a commit of its own, so a busy engine pays
one fsync per group and an idle one still commits each write at once.

Each write runs inside its own SAVEPOINT, so it stays all or nothing: a write
that fails is rolled back alone and fails alone.  A write's Deferred fires only
after the COMMIT of its group, so an acknowledged write is durable; if the
COMMIT itself fails, every write of the group fails and none is stored.
"""

import sqlite3

from twisted.internet.defer import Deferred, succeed

from rpymostat.storage.interface import StorageError


def commit_group(connection, writes):
    """Run each ``write(connection)`` in one transaction; return ``[(ok, result or error)]``.

    Runs on the database thread.
    """
    outcomes = []
    try:
        connection.execute("BEGIN IMMEDIATE")
        for write in writes:
            connection.execute("SAVEPOINT one_write")
            try:
                outcomes.append((True, write(connection)))
            except Exception as error:
                connection.execute("ROLLBACK TO one_write")
                if isinstance(error, sqlite3.Error):
                    error = StorageError(f"SQLite write failed: {error}")
                outcomes.append((False, error))
            connection.execute("RELEASE one_write")
        connection.execute("COMMIT")
    except sqlite3.Error as error:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        failure = StorageError(f"SQLite write failed: {error}")
        return [(False, failure)] * len(writes)
    return outcomes


class GroupCommitter:
    """Queues writes on the reactor thread and hands them to the database thread in groups.

    ``run_on_database_thread(function, *args)`` returns a Deferred of
    ``function(*args)`` run where the connection lives, with the connection as
    ``connection()``.
    """

    def __init__(self, run_on_database_thread, connection):
        self._run = run_on_database_thread
        self._connection = connection
        self._queue = []
        self._committing = False
        self._drained = []

    def submit(self, write) -> Deferred:
        """Fire with ``write(connection)``'s result once its group is committed."""
        done = Deferred()
        self._queue.append((write, done))
        self._next_group()
        return done

    def drained(self) -> Deferred:
        """Fire once every submitted write has been committed or has failed."""
        if not self._committing and not self._queue:
            return succeed(None)
        waiter = Deferred()
        self._drained.append(waiter)
        return waiter

    def _next_group(self):
        if self._committing:
            return
        if not self._queue:
            waiters, self._drained = self._drained, []
            for waiter in waiters:
                waiter.callback(None)
            return
        group, self._queue = self._queue, []
        self._committing = True

        def committed(outcomes):
            for (ok, value), (_, done) in zip(outcomes, group):
                if ok:
                    done.callback(value)
                else:
                    done.errback(value)

        def failed(failure):
            for _, done in group:
                done.errback(failure)

        def next_group(_):
            self._committing = False
            self._next_group()

        writes = [write for write, _ in group]
        running = self._run(lambda: commit_group(self._connection(), writes))
        running.addCallbacks(committed, failed).addBoth(next_group)
