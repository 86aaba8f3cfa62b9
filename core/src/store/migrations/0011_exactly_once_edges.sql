-- Exactly once at the edges (see ARCHITECTURE.md, "Invariants").

-- Rows a run left for the next read (still being typed, a number to
-- correct), as a JSON array of {row, line, status, reason}.
ALTER TABLE runs ADD COLUMN rows_to_fix TEXT;
-- Rows without an ID column a run recognised as edits of rows already seen.
ALTER TABLE runs ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;

-- Reconciliation: when Sendrow last asked 8x8 about an `unknown` entry, and
-- what it decided, kept after the entry moves on (sent again, queued).
ALTER TABLE messages ADD COLUMN checked_at TEXT;
ALTER TABLE messages ADD COLUMN check_note TEXT;

-- Following a fingerprinted row through an edit (source::rows): the row's
-- phone digits and a short hash of each identity cell when last seen, and
-- whether it was missing from the last trusted read.
ALTER TABLE seen_rows ADD COLUMN phone TEXT;
ALTER TABLE seen_rows ADD COLUMN cells TEXT;
ALTER TABLE seen_rows ADD COLUMN gone INTEGER NOT NULL DEFAULT 0;

-- A random id of this data folder, so every clientMessageId is unique in the
-- world: two installs on one 8x8 subaccount never take each other's messages
-- for their own when reconciling.
INSERT OR IGNORE INTO settings (key, value) VALUES ('install_id', '"' || lower(hex(randomblob(8))) || '"');
