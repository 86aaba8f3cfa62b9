-- New-row detection, per connection (see source::rows). Nothing here is ever
-- marked "gone": a key once seen stays seen, so rows that vanish and come
-- back are not new.

-- What the last committed read found.
CREATE TABLE row_state (
    connection_id    INTEGER PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
    -- 'fingerprint' or 'column:NAME'; a change would make every row look new.
    key_mode         TEXT NOT NULL,
    -- JSON array of the header names fingerprints are made of (empty with an ID column).
    identity_columns TEXT NOT NULL,
    -- Non-blank rows at the last trusted read; NULL once a shrink warning was dismissed.
    last_count       INTEGER,
    -- A warning held for the user (the source shrank sharply), cleared by the next normal read.
    warning          TEXT,
    -- Bumped by every commit; an observation made from an older state is refused.
    generation       INTEGER NOT NULL,
    updated_at       TEXT NOT NULL
);

-- Every row key a connection has seen.
CREATE TABLE seen_rows (
    connection_id INTEGER NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    -- The ID column's value, or a content fingerprint with '#n' for the nth identical row.
    row_key       TEXT NOT NULL,
    -- 'baseline': present when a new_rows connection started, never handed on;
    -- 'new': handed on to the caller, in the same transaction as its own writes.
    origin        TEXT NOT NULL CHECK (origin IN ('baseline', 'new')),
    -- The line it was on when first seen, for the user and for debugging.
    line          INTEGER NOT NULL,
    first_seen_at TEXT NOT NULL,
    PRIMARY KEY (connection_id, row_key)
) WITHOUT ROWID;
