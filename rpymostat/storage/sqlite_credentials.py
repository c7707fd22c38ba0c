"""The SQLite backend's tokens and pairing requests (tables ``tokens`` and ``pairings``).

A token row holds the token's SHA-256, never the token.  Every change that
must not half-happen is one write: approving a pairing stores the token and
marks the request in the same savepoint, and a write that finds its key taken
is rolled back whole and answers False.  The engine and the
``rpymostat-engine token``/``pair`` commands may use the same file at once;
SQLite's own locking (WAL, ``busy_timeout``) serialises them.

:class:`SQLiteCredentials` is a part of :class:`~.sqlite.SQLiteStorage`,
kept apart so each module stays one subject; it uses that class's ``_read``,
``_read_one`` and ``_write``.
"""

import sqlite3

from twisted.python.failure import Failure

from rpymostat.storage.interface import PairingRecord, TokenRecord

_TOKEN_COLUMNS = "name, role, token_hash, created_at, host_id, peer_secret"

_PAIRING_COLUMNS = (
    "pair_id, code, host_id, role, token_hash, peer_secret, address, requested_at, expires_at, approved_as"
)

_PUT_PAIRING = f"INSERT INTO pairings ({_PAIRING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


class _Taken(Exception):
    """A key the write needs is taken: roll the write back and answer False."""


def _token_row(token):
    return (token.name, token.role, token.token_hash, float(token.created_at), token.host_id, token.peer_secret)


def _insert_token(connection, token):
    try:
        connection.execute(f"INSERT INTO tokens ({_TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", _token_row(token))
    except sqlite3.IntegrityError:
        raise _Taken() from None


def _false_when_taken(failure: Failure):
    failure.trap(_Taken)
    return False


def _token(row):
    return TokenRecord(*row)


def _pairing(row):
    return PairingRecord(*row)


class SQLiteCredentials:
    """The token and pairing methods of :class:`~rpymostat.storage.interface.IStorage` on SQLite."""

    def put_token(self, record):
        def store(connection):
            _insert_token(connection, record)
            return True

        return self._write(store).addErrback(_false_when_taken)

    def token(self, name):
        return self._read_one(f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE name = ?", name, parse=_token)

    def token_by_hash(self, token_hash):
        return self._read_one(f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE token_hash = ?", token_hash, parse=_token)

    def tokens(self):
        return self._read(f"SELECT {_TOKEN_COLUMNS} FROM tokens ORDER BY name", parse=_token)

    def delete_token(self, name):
        return self._delete("DELETE FROM tokens WHERE name = ?", name)

    def bind_token_host(self, name, host_id):
        def bind(connection):
            connection.execute("UPDATE tokens SET host_id = ? WHERE name = ? AND host_id IS NULL", (host_id, name))
            row = connection.execute("SELECT host_id FROM tokens WHERE name = ?", (name,)).fetchone()
            return row is not None and row[0] == host_id

        return self._write(bind)

    def put_pairing(self, record, now):
        row = (
            record.pair_id,
            record.code,
            record.host_id,
            record.role,
            record.token_hash,
            record.peer_secret,
            record.address,
            float(record.requested_at),
            float(record.expires_at),
            record.approved_as,
        )

        def store(connection):
            connection.execute("DELETE FROM pairings WHERE expires_at <= ?", (float(now),))
            try:
                connection.execute(_PUT_PAIRING, row)
            except sqlite3.IntegrityError:
                raise _Taken() from None
            return True

        return self._write(store).addErrback(_false_when_taken)

    def pairing(self, pair_id):
        query = f"SELECT {_PAIRING_COLUMNS} FROM pairings WHERE pair_id = ?"
        return self._read_one(query, pair_id, parse=_pairing)

    def pairings(self):
        query = f"SELECT {_PAIRING_COLUMNS} FROM pairings ORDER BY requested_at, pair_id"
        return self._read(query, parse=_pairing)

    def approve_pairing(self, pair_id, token):
        def approve(connection):
            changed = connection.execute(
                "UPDATE pairings SET approved_as = ? WHERE pair_id = ? AND approved_as IS NULL", (token.name, pair_id)
            ).rowcount
            if changed != 1:
                raise _Taken()
            _insert_token(connection, token)
            return True

        return self._write(approve).addErrback(_false_when_taken)

    def delete_pairing(self, pair_id):
        return self._delete("DELETE FROM pairings WHERE pair_id = ?", pair_id)
