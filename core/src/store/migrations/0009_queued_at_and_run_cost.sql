-- When 8x8 queued a message: delivery receipts are asked for up to 48 hours
-- from then, not from when the row was found (a held or quiet-hours row may
-- be queued days later). Messages queued before this version count from
-- their last change, the closest record there is.
ALTER TABLE messages ADD COLUMN queued_at TEXT;
UPDATE messages SET queued_at = updated_at WHERE status = 'queued';

-- What a run's queued messages cost: their segments, and the price when the
-- connection has one; what it left pending for the next run; and rows it left
-- for a later read because they had no phone number yet.
ALTER TABLE runs ADD COLUMN segments INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN cost REAL;
ALTER TABLE runs ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN incomplete INTEGER NOT NULL DEFAULT 0;
-- Whether the run's error goes away by itself (not counted towards a pause).
ALTER TABLE runs ADD COLUMN transient INTEGER NOT NULL DEFAULT 0;

-- Where the time variables sit in a message's text, so a message sent later
-- than it was composed (quiet hours, a held flood, a retry) shows the send time.
ALTER TABLE messages ADD COLUMN time_slots TEXT;
