-- Version 3 to 4: zones, relay units, output states and runs leave the rules
-- table for tables of their own (see v4.sql).  Every row of those kinds is
-- copied, its JSON document taken apart with SQLite's json functions where the
-- new table has columns, then deleted from rules; schedules, overrides and
-- holds stay.  The upgrader backs the file up first and runs this in one
-- transaction, so a failure leaves the version 3 database untouched.

CREATE TABLE zones (
    name        TEXT PRIMARY KEY NOT NULL,
    document    TEXT NOT NULL,
    changed_at  REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE relay_units (
    host_id        TEXT PRIMARY KEY NOT NULL,
    registration   TEXT NOT NULL,
    registered_at  REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE output_states (
    address  TEXT PRIMARY KEY NOT NULL,
    is_on    INTEGER NOT NULL,
    since    REAL NOT NULL,
    starts   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE runs (
    run_id             TEXT PRIMARY KEY NOT NULL,
    zone               TEXT NOT NULL,
    output             TEXT NOT NULL,
    started_at         REAL NOT NULL,
    start_temperature  REAL,
    target             REAL,
    ended_at           REAL,
    end_temperature    REAL
) WITHOUT ROWID;

CREATE INDEX runs_by_start ON runs (zone, started_at);

CREATE INDEX open_runs ON runs (run_id) WHERE ended_at IS NULL;

CREATE TABLE run_samples (
    run_id       TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    at           REAL NOT NULL,
    temperature  REAL
);

CREATE INDEX run_samples_by_run ON run_samples (run_id);

INSERT INTO zones (name, document, changed_at)
SELECT rule_id, document, changed_at FROM rules WHERE kind = 'zone';

INSERT INTO relay_units (host_id, registration, registered_at)
SELECT rule_id, document, changed_at FROM rules WHERE kind = 'control';

INSERT INTO output_states (address, is_on, since, starts)
SELECT rule_id,
       json_extract(document, '$.on'),
       json_extract(document, '$.since'),
       coalesce(json_extract(document, '$.starts'), '[]')
FROM rules WHERE kind = 'output';

-- A run is open while ended_at is NULL; version 3 also kept a "run.open"
-- pointer to it.  A run left unended without a pointer was abandoned by a
-- crash between the two writes: it ends when it was last written.
INSERT INTO runs (run_id, zone, output, started_at, start_temperature, target, ended_at, end_temperature)
SELECT run.rule_id,
       run.zone,
       json_extract(run.document, '$.output'),
       json_extract(run.document, '$.started_at'),
       json_extract(run.document, '$.start_temperature'),
       json_extract(run.document, '$.target'),
       CASE
           WHEN json_extract(run.document, '$.ended_at') IS NOT NULL
               THEN json_extract(run.document, '$.ended_at')
           WHEN EXISTS (
               SELECT 1 FROM rules AS pointer
               WHERE pointer.kind = 'run.open'
                 AND json_extract(pointer.document, '$.run_id') = run.rule_id
           ) THEN NULL
           ELSE run.changed_at
       END,
       json_extract(run.document, '$.end_temperature')
FROM rules AS run WHERE run.kind = 'run';

-- Samples in their stored order, so rowid order is the order they were taken.
INSERT INTO run_samples (run_id, at, temperature)
SELECT run.rule_id, json_extract(sample.value, '$[0]'), json_extract(sample.value, '$[1]')
FROM rules AS run, json_each(run.document, '$.samples') AS sample
WHERE run.kind = 'run'
ORDER BY run.rule_id, sample.key;

DELETE FROM rules WHERE kind IN ('zone', 'control', 'output', 'run', 'run.open');

-- The newest rules first was only ever asked for runs.
DROP INDEX rules_by_change;
