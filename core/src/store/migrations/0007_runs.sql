-- One row per run of a connection: what it found and did, for the
-- connections screen ("last run") and for pausing after repeated failures.
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    started_at    TEXT NOT NULL,
    finished_at   TEXT NOT NULL,
    new_rows      INTEGER NOT NULL DEFAULT 0,
    sent          INTEGER NOT NULL DEFAULT 0,
    rejected      INTEGER NOT NULL DEFAULT 0,
    failed        INTEGER NOT NULL DEFAULT 0,
    skipped       INTEGER NOT NULL DEFAULT 0,
    unknown       INTEGER NOT NULL DEFAULT 0,
    held          INTEGER NOT NULL DEFAULT 0,
    waiting       INTEGER NOT NULL DEFAULT 0,
    warning       TEXT,
    -- Set when the run could not do its work (source unreadable, account refused, …).
    error         TEXT
);
CREATE INDEX runs_by_connection ON runs (connection_id, id);
