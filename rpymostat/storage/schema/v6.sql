-- RPyMostat SQLite schema, version 6 (a fresh database is created from the
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

-- History (rpymostat.storage.timeseries): each sensor's, and each zone's
-- effective temperature, series has a small integer key, so a raw reading is
-- three integers: the series, the epoch millisecond, the value in hundredths (NULL
-- when the device could not measure; its reason is in reading_failures).  The
-- primary key makes a re-delivered reading (same series, same millisecond) a no-op.
-- Raw readings are pruned after RPYMOSTAT_HISTORY_RAW_DAYS; the rollups, summed
-- as readings arrive, are kept forever.
CREATE TABLE series (
    series  INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE
);

CREATE TABLE readings (
    series  INTEGER NOT NULL,
    t       INTEGER NOT NULL,
    value   INTEGER,
    PRIMARY KEY (series, t)
) WITHOUT ROWID;

CREATE TABLE reading_failures (
    series  INTEGER NOT NULL,
    t       INTEGER NOT NULL,
    reason  TEXT NOT NULL,
    PRIMARY KEY (series, t)
) WITHOUT ROWID;

-- Count, min, max and sum (hundredths) per series and 15 minutes (start: epoch
-- seconds, a multiple of 900) and per local day (day: the date's ordinal).
CREATE TABLE quarters (
    series  INTEGER NOT NULL,
    start   INTEGER NOT NULL,
    count   INTEGER NOT NULL,
    low     INTEGER NOT NULL,
    high    INTEGER NOT NULL,
    total   INTEGER NOT NULL,
    PRIMARY KEY (series, start)
) WITHOUT ROWID;

CREATE TABLE days (
    series  INTEGER NOT NULL,
    day     INTEGER NOT NULL,
    count   INTEGER NOT NULL,
    low     INTEGER NOT NULL,
    high    INTEGER NOT NULL,
    total   INTEGER NOT NULL,
    PRIMARY KEY (series, day)
) WITHOUT ROWID;

-- Rollups are summed as readings arrive, by this trigger, in the write that
-- stores the reading and only when it was new (INSERT OR IGNORE of a
-- re-delivered one inserts nothing, so fires nothing).  rpymostat_local_day()
-- is the date in the engine's time zone, registered on every connection by
-- rpymostat.storage.sqlite_schema: only the engine writes readings.
CREATE TRIGGER readings_roll_up AFTER INSERT ON readings WHEN NEW.value IS NOT NULL BEGIN
    INSERT INTO quarters (series, start, count, low, high, total)
    VALUES (NEW.series, NEW.t / 900000 * 900, 1, NEW.value, NEW.value, NEW.value)
    ON CONFLICT (series, start) DO UPDATE SET
        count = count + 1, low = min(low, excluded.low), high = max(high, excluded.high),
        total = total + excluded.total;
    INSERT INTO days (series, day, count, low, high, total)
    VALUES (NEW.series, rpymostat_local_day(NEW.t), 1, NEW.value, NEW.value, NEW.value)
    ON CONFLICT (series, day) DO UPDATE SET
        count = count + 1, low = min(low, excluded.low), high = max(high, excluded.high),
        total = total + excluded.total;
END;

-- Each zone's heat and cool setpoints (hundredths) and mode from t (epoch
-- milliseconds), a row only when one of them changed.
CREATE TABLE zone_setpoints (
    zone  TEXT NOT NULL,
    t     INTEGER NOT NULL,
    heat  INTEGER,
    cool  INTEGER,
    mode  TEXT,
    PRIMARY KEY (zone, t)
) WITHOUT ROWID;

-- Schedules, overrides and holds, each the JSON document the user wrote
-- (json.dumps with sorted keys, no NaN), so a new rule field needs no schema
-- change.  Rules are listed per kind and zone.
CREATE TABLE rules (
    kind        TEXT NOT NULL,
    rule_id     TEXT NOT NULL,
    zone        TEXT NOT NULL,
    document    TEXT NOT NULL,
    changed_at  REAL NOT NULL,
    PRIMARY KEY (kind, rule_id)
) WITHOUT ROWID;

CREATE INDEX rules_by_zone ON rules (kind, zone);

-- Each zone's settings, the JSON document the user wrote, kept whole.
CREATE TABLE zones (
    name        TEXT PRIMARY KEY NOT NULL,
    document    TEXT NOT NULL,
    changed_at  REAL NOT NULL
) WITHOUT ROWID;

-- Each relay unit's latest registration (url, relays...), as it posted it.
CREATE TABLE relay_units (
    host_id        TEXT PRIMARY KEY NOT NULL,
    registration   TEXT NOT NULL,
    registered_at  REAL NOT NULL
) WITHOUT ROWID;

-- What each relay output really did, as its unit reported it: on or off since
-- when, and its switch-on times within the last hour (a JSON array).
CREATE TABLE output_states (
    address  TEXT PRIMARY KEY NOT NULL,
    is_on    INTEGER NOT NULL,
    since    REAL NOT NULL,
    starts   TEXT NOT NULL
) WITHOUT ROWID;

-- Each time an output of a zone ran.  A run is open while ended_at is NULL;
-- the partial index finds the few open runs without reading the others, and
-- runs_by_start a zone's latest runs.
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

-- A chart's runs are those that ended after its start (or still run) and
-- began before its end: found through when they ended, not by reading every
-- run since the first.
CREATE INDEX runs_by_end ON runs (zone, ended_at);

-- The temperature while a run lasted: a sample is an appended row, never a
-- rewrite of the run; rowid order is the order they were taken.
CREATE TABLE run_samples (
    run_id       TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    at           REAL NOT NULL,
    temperature  REAL
);

CREATE INDEX run_samples_by_run ON run_samples (run_id);

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
