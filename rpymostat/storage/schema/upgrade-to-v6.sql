-- Version 5 to 6: history in compact series with rollups (issue 16).  The old
-- readings (text id, float time and value) move into integer series; two
-- readings of a sensor in one millisecond keep the first; rollups are summed from
-- them.  rpymostat_local_day() is registered by rpymostat.storage.sqlite_schema
-- with the engine's time zone.
ALTER TABLE readings RENAME TO readings_v5;

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

INSERT INTO series (name) SELECT DISTINCT sensor_id FROM readings_v5 ORDER BY sensor_id;

INSERT OR IGNORE INTO readings (series, t, value)
SELECT series.series, CAST(round(old.timestamp * 1000) AS INTEGER),
       CASE WHEN old.value IS NULL THEN NULL ELSE CAST(round(old.value * 100) AS INTEGER) END
FROM readings_v5 AS old JOIN series ON series.name = old.sensor_id
ORDER BY old.sensor_id, old.timestamp;

-- A reason goes only beside a kept reading without value (of two in one
-- millisecond, the one kept), never beside a value.
INSERT OR IGNORE INTO reading_failures (series, t, reason)
SELECT series.series, kept.t, old.extra
FROM readings_v5 AS old JOIN series ON series.name = old.sensor_id
JOIN readings AS kept ON kept.series = series.series AND kept.t = CAST(round(old.timestamp * 1000) AS INTEGER)
WHERE old.value IS NULL AND old.extra IS NOT NULL AND kept.value IS NULL
ORDER BY old.sensor_id, old.timestamp;

INSERT INTO quarters (series, start, count, low, high, total)
SELECT series, t / 900000 * 900, count(*), min(value), max(value), sum(value)
FROM readings WHERE value IS NOT NULL GROUP BY series, t / 900000;

INSERT INTO days (series, day, count, low, high, total)
SELECT series, rpymostat_local_day(t), count(*), min(value), max(value), sum(value)
FROM readings WHERE value IS NOT NULL GROUP BY series, rpymostat_local_day(t);

DROP TABLE readings_v5;

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

-- A chart's runs are those that ended after its start (or still run) and
-- began before its end: found through when they ended, not by reading every
-- run since the first.
CREATE INDEX runs_by_end ON runs (zone, ended_at);
