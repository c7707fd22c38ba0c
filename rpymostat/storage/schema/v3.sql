-- RPyMostat SQLite schema, version 3 (a fresh database is created from the
-- newest vN.sql; older ones are brought forward by upgrade-to-vN.sql files).

-- received_at is the engine's own clock when the current value arrived (NULL
-- for rows stored before version 3); last_seen is the sending host's clock.
-- The column is written as ALTER TABLE leaves it, so a fresh and an upgraded
-- database have the same schema text.
CREATE TABLE sensors (
    sensor_id   TEXT PRIMARY KEY NOT NULL,
    host_id     TEXT NOT NULL,
    sensor_type TEXT NOT NULL,
    alias       TEXT,
    extra       TEXT,
    value       REAL,
    last_seen   REAL NOT NULL,
    name        TEXT
, received_at REAL);

-- Every reading ever accepted.  The primary key makes a re-delivered reading
-- (same sensor, same timestamp) a no-op instead of a duplicate.
CREATE TABLE readings (
    sensor_id   TEXT NOT NULL,
    timestamp   REAL NOT NULL,
    value       REAL,
    extra       TEXT,
    PRIMARY KEY (sensor_id, timestamp)
) WITHOUT ROWID;

-- Schedules, overrides, holds and other rules, each the JSON document the user
-- wrote (json.dumps with sorted keys, no NaN), so a new rule field needs no
-- schema change.  Rules are listed per kind and zone.
CREATE TABLE rules (
    kind        TEXT NOT NULL,
    rule_id     TEXT NOT NULL,
    zone        TEXT NOT NULL,
    document    TEXT NOT NULL,
    changed_at  REAL NOT NULL,
    PRIMARY KEY (kind, rule_id)
) WITHOUT ROWID;

CREATE INDEX rules_by_zone ON rules (kind, zone);

-- The newest rules of a kind in a zone first (a zone's latest runs), without
-- reading and sorting all of them.
CREATE INDEX rules_by_change ON rules (kind, zone, changed_at);
