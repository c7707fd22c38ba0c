-- Version 1 to 2: add the rules table (see v2.sql).

CREATE TABLE rules (
    kind        TEXT NOT NULL,
    rule_id     TEXT NOT NULL,
    zone        TEXT NOT NULL,
    document    TEXT NOT NULL,
    changed_at  REAL NOT NULL,
    PRIMARY KEY (kind, rule_id)
) WITHOUT ROWID;

CREATE INDEX rules_by_zone ON rules (kind, zone);
