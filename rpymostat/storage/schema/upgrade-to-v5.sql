-- Version 4 to 5: API tokens and daemons' pairing requests, in tables of their own.

-- API tokens: only each token's SHA-256 is kept (docs/security.rst).
CREATE TABLE tokens (
    name         TEXT PRIMARY KEY NOT NULL,
    role         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   REAL NOT NULL,
    host_id      TEXT,
    peer_secret  TEXT
) WITHOUT ROWID;

-- Daemons' requests to pair, waiting for an admin; a code is unique among them.
CREATE TABLE pairings (
    pair_id       TEXT PRIMARY KEY NOT NULL,
    code          TEXT NOT NULL UNIQUE,
    host_id       TEXT NOT NULL,
    role          TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    peer_secret   TEXT NOT NULL,
    address       TEXT NOT NULL,
    requested_at  REAL NOT NULL,
    expires_at    REAL NOT NULL,
    approved_as   TEXT
) WITHOUT ROWID;
