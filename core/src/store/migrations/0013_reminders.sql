-- Reminders (product.md §9): a message handed to 8x8 with a later send time is
-- `scheduled` until then; one cancelled (the row's date moved, the row was
-- deleted or stopped meeting the conditions) is `cancelled`, and the row may
-- then get a new entry: a cancelled entry no longer counts as the row's one
-- message. `send_at` is when the SMS is to go (RFC 3339, UTC).
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt.
CREATE TABLE messages_v11 (
    id                INTEGER PRIMARY KEY,
    connection_id     INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    row_key           TEXT NOT NULL,
    row_line          INTEGER,
    phone             TEXT,
    text              TEXT NOT NULL,
    client_message_id TEXT NOT NULL UNIQUE,
    status            TEXT NOT NULL CHECK (status IN
        ('pending', 'sending', 'queued', 'rejected', 'failed', 'unknown', 'skipped', 'held', 'waiting', 'sent',
         'scheduled', 'cancelled')),
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
    updated_at        TEXT NOT NULL,
    queued_at         TEXT,
    time_slots        TEXT,
    checked_at        TEXT,
    check_note        TEXT,
    send_at           TEXT
);
INSERT INTO messages_v11 (id, connection_id, row_key, row_line, phone, text, client_message_id, status, is_test,
                          reason, umid, error_code, attempts, delivery_state, delivery_error, delivery_checked_at,
                          not_before, created_at, updated_at, queued_at, time_slots, checked_at, check_note)
    SELECT id, connection_id, row_key, row_line, phone, text, client_message_id, status, is_test,
           reason, umid, error_code, attempts, delivery_state, delivery_error, delivery_checked_at,
           not_before, created_at, updated_at, queued_at, time_slots, checked_at, check_note
    FROM messages;
DROP TABLE messages;
ALTER TABLE messages_v11 RENAME TO messages;
CREATE UNIQUE INDEX messages_one_per_row ON messages (connection_id, row_key) WHERE is_test = 0 AND status <> 'cancelled';
CREATE INDEX messages_by_status ON messages (connection_id, status);
CREATE INDEX messages_claimable ON messages (connection_id, id) WHERE status IN ('pending', 'failed', 'waiting');
