-- "One real entry per row, cancelled reminders aside" no longer reads the
-- status: every status change (claimed, then recorded: twice per SMS) had
-- SQLite delete and re-insert the row's entry in this index, scattered by
-- row key. A flag set once, when a reminder is cancelled, carries the same
-- meaning; status = 'cancelled' and cancelled = 1 always go together.
ALTER TABLE messages ADD COLUMN cancelled INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET cancelled = 1 WHERE status = 'cancelled';
DROP INDEX messages_one_per_row;
CREATE UNIQUE INDEX messages_one_per_row ON messages (connection_id, row_key) WHERE is_test = 0 AND cancelled = 0;
