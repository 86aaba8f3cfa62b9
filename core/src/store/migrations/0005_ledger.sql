-- The send ledger: one entry per message, written before its HTTP request.
-- A row of a source gets at most one real (non-test) entry per connection,
-- which is what makes sending exactly-once across crashes and processes.
CREATE TABLE messages (
    id                INTEGER PRIMARY KEY,
    connection_id     INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    row_key           TEXT NOT NULL,
    row_line          INTEGER,
    phone             TEXT,
    text              TEXT NOT NULL,
    client_message_id TEXT NOT NULL UNIQUE,
    -- pending: ready, not yet claimed; sending: claimed, request may be in
    -- flight; queued: 8x8 took it (umid); rejected: 8x8 refused it; failed:
    -- transient failure, retried next run; unknown: may or may not have gone
    -- out, a person decides; skipped: not sent on purpose (reason); held:
    -- waiting for a person (flood guard); waiting: quiet hours; sent: marked
    -- sent by a person.
    status            TEXT NOT NULL CHECK (status IN
        ('pending', 'sending', 'queued', 'rejected', 'failed', 'unknown', 'skipped', 'held', 'waiting', 'sent')),
    is_test           INTEGER NOT NULL DEFAULT 0,
    reason            TEXT,
    umid              TEXT,
    error_code        INTEGER,
    attempts          INTEGER NOT NULL DEFAULT 0,
    delivery_state    TEXT,
    delivery_error    TEXT,
    delivery_checked_at TEXT,
    not_before        TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE UNIQUE INDEX messages_one_per_row ON messages (connection_id, row_key) WHERE is_test = 0;
CREATE INDEX messages_by_status ON messages (connection_id, status);
-- What a run claims, in order, without scanning what was sent long ago.
CREATE INDEX messages_claimable ON messages (connection_id, id) WHERE status IN ('pending', 'failed', 'waiting');
