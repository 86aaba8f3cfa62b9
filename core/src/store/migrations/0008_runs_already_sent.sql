-- Rows a run found that already had their SMS (a test send reached them), so
-- "new rows" and what was sent add up for the user.
ALTER TABLE runs ADD COLUMN already_sent INTEGER NOT NULL DEFAULT 0;
