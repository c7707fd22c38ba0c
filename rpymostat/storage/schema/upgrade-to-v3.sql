-- Version 2 to 3: when the engine received each sensor's current value (see v3.sql).

ALTER TABLE sensors ADD COLUMN received_at REAL;

-- The newest rules of a kind in a zone first (see v3.sql).
CREATE INDEX rules_by_change ON rules (kind, zone, changed_at);
